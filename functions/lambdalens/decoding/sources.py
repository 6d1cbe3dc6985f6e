"""The event shapes that carry subscription payloads to lambdalens.

* a Kinesis event — ``{"Records": [{"kinesis": {"data": <base64 gzip>, "sequenceNumber": ...},
  "eventID": "shardId-...:<seq>", "eventSourceARN": ..., "awsRegion": ...}]}``;
* the direct CloudWatch Logs -> Lambda event — ``{"awslogs": {"data": <base64 gzip>}}``;
* an already decoded subscription payload (``{"messageType": ..., "logEvents": [...]}``),
  accepted by the CLI.

Every function here is pure: bytes and dicts in, payloads or :class:`DecodeError` out.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from lambdalens.decoding.errors import DecodeError, RecordId
from lambdalens.decoding.payload import SubscriptionPayload, decode_payload, payload_from_json


@dataclass(slots=True)
class DecodedRecord:
    """A record that decoded: its identity and its payloads (data and control messages)."""

    record_id: RecordId
    payloads: list[SubscriptionPayload]


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    # JSON gives plain dicts: check that before the (much slower) abstract Mapping check
    return type(value) is dict or isinstance(value, Mapping)


def kinesis_record_id(record: Mapping[str, Any]) -> RecordId:
    """The identity of a Kinesis event record (tolerant of missing keys)."""
    kinesis = record.get("kinesis")
    seq = kinesis.get("sequenceNumber", "") if kinesis and _is_mapping(kinesis) else ""
    event_id = record.get("eventID", "")
    arn = record.get("eventSourceARN", "")
    if type(seq) is not str:
        seq = str(seq)
    if type(event_id) is not str:
        event_id = str(event_id)
    return RecordId(  # (positional: made once per record)
        event_id.partition(":")[0] or "unknown-shard", seq, arn if type(arn) is str else str(arn)
    )


def kinesis_arrival_ms(record: Mapping[str, Any]) -> int | None:
    """When the record reached Kinesis (``approximateArrivalTimestamp``, epoch seconds), in
    epoch milliseconds: the same on every delivery of the record. None when absent or not a number."""
    kinesis = record.get("kinesis")
    arrived = kinesis.get("approximateArrivalTimestamp") if kinesis and _is_mapping(kinesis) else None
    if not isinstance(arrived, int | float) or isinstance(arrived, bool):
        return None
    if not 0 <= arrived < 32_503_680_000:  # (before the year 3000)
        return None
    return int(arrived * 1000)


def b64decode(data: object, record_id: RecordId) -> bytes:
    """Strict base64 -> bytes, or :class:`DecodeError` ``not_base64`` carrying the input."""
    if isinstance(data, str):
        try:  # ASCII text decodes as it is: no copy of a record's whole payload to bytes first
            return binascii.a2b_base64(data, strict_mode=True)
        except (binascii.Error, ValueError):
            raw = data.encode("utf-8", "surrogateescape")
    elif isinstance(data, bytes | bytearray):
        raw = bytes(data)
    else:
        raise DecodeError(
            "not_base64", f"data is {type(data).__name__}, not a string", record_id, repr(data).encode()
        )
    try:
        return binascii.a2b_base64(raw, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError("not_base64", str(exc), record_id, raw) from None


def decode_kinesis_record(record: Mapping[str, Any]) -> DecodedRecord:
    """One Kinesis event record -> its subscription payloads. Raises :class:`DecodeError`."""
    record_id = kinesis_record_id(record)
    kinesis = record.get("kinesis")
    if not _is_mapping(kinesis) or "data" not in kinesis:
        raise DecodeError("not_subscription_payload", "record has no kinesis.data", record_id, b"")
    data = b64decode(kinesis["data"], record_id)
    region = record.get("awsRegion")
    return DecodedRecord(
        record_id, decode_payload(data, record_id, region if isinstance(region, str) else None)
    )


def iter_kinesis_event(event: Mapping[str, Any]) -> Iterator[DecodedRecord | DecodeError]:
    """Each record of a Kinesis event, decoded, or the :class:`DecodeError` it raised."""
    for record in event.get("Records") or []:
        try:
            yield decode_kinesis_record(record)
        except DecodeError as exc:
            yield exc


def decode_awslogs_event(event: Mapping[str, Any], position: str = "awslogs") -> DecodedRecord:
    """The direct CloudWatch Logs -> Lambda event ``{"awslogs": {"data": ...}}``."""
    record_id = RecordId(shard_id="awslogs", sequence_number=position)
    awslogs = event.get("awslogs")
    if not isinstance(awslogs, Mapping) or "data" not in awslogs:
        raise DecodeError("not_subscription_payload", "event has no awslogs.data", record_id, b"")
    data = b64decode(awslogs["data"], record_id)
    return DecodedRecord(record_id, decode_payload(data, record_id))


def iter_any_event(obj: Any, position: str = "input") -> Iterator[DecodedRecord | DecodeError]:
    """Any accepted input form -> decoded records. Used by the CLI.

    Accepts a Kinesis event, an ``awslogs`` event, a decoded subscription payload, or a
    single Kinesis record; anything else yields a :class:`DecodeError`.
    """
    if isinstance(obj, Mapping):
        if isinstance(obj.get("Records"), list):
            yield from iter_kinesis_event(obj)
            return
        if "awslogs" in obj:
            try:
                yield decode_awslogs_event(obj, position)
            except DecodeError as exc:
                yield exc
            return
        if "kinesis" in obj:
            try:
                yield decode_kinesis_record(obj)
            except DecodeError as exc:
                yield exc
            return
        if "messageType" in obj:
            record_id = RecordId(shard_id="payload", sequence_number=position)
            try:
                yield DecodedRecord(record_id, [payload_from_json(obj, record_id, b"")])
            except DecodeError as exc:
                yield exc
            return
    record_id = RecordId(shard_id="input", sequence_number=position)
    yield DecodeError(
        "not_subscription_payload",
        "expected a Kinesis event, an awslogs event or a subscription payload",
        record_id,
        repr(obj)[:4096].encode(),
    )
