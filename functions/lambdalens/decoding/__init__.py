"""Decoding: what the parser Lambda receives -> CloudWatch Logs subscription payloads."""

from lambdalens.decoding.errors import DecodeError, RecordId
from lambdalens.decoding.payload import (
    CONTROL_MESSAGE,
    DATA_MESSAGE,
    LogEvent,
    SubscriptionPayload,
    decode_payload,
    payload_from_json,
)
from lambdalens.decoding.sources import (
    DecodedRecord,
    decode_awslogs_event,
    decode_kinesis_record,
    iter_any_event,
    iter_kinesis_event,
    kinesis_arrival_ms,
    kinesis_record_id,
)

__all__ = [
    "CONTROL_MESSAGE",
    "DATA_MESSAGE",
    "DecodeError",
    "DecodedRecord",
    "LogEvent",
    "RecordId",
    "SubscriptionPayload",
    "decode_awslogs_event",
    "decode_kinesis_record",
    "decode_payload",
    "iter_any_event",
    "iter_kinesis_event",
    "kinesis_arrival_ms",
    "kinesis_record_id",
    "payload_from_json",
]
