"""The CloudWatch Logs subscription payload: bytes -> :class:`SubscriptionPayload`.

CloudWatch Logs delivers to a subscription destination (Kinesis, Lambda, Firehose) the
gzip of a JSON object::

    {"messageType": "DATA_MESSAGE", "owner": "123456789012",
     "logGroup": "/aws/lambda/orders", "logStream": "2024/05/01/[$LATEST]3f1e...",
     "subscriptionFilters": ["lambdalens"],
     "logEvents": [{"id": "3819...", "timestamp": 1714550400123, "message": "START ..."}]}

``CONTROL_MESSAGE`` payloads are sent when a subscription is created, to check the
destination; they carry no log events and are skipped by the caller.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, TypedDict

import orjson

from lambdalens.decoding.errors import DecodeError, RecordId

DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"


class LogEvent(TypedDict):
    """One CloudWatch Logs event: its id, timestamp (epoch milliseconds) and message.

    Kept as the dict the payload's JSON gave: building or validating an object per event
    would cost more than parsing it. The parser checks each event as it reads it and keeps
    a malformed one as a document that says what was wrong (nothing is dropped). CloudWatch
    gives ids as strings of digits; moto and LocalStack give integers, which the parser takes
    as their string.
    """

    id: str
    timestamp: int
    message: str


@dataclass(slots=True)
class SubscriptionPayload:
    """A decoded subscription payload: log events of one log stream, oldest first."""

    message_type: str
    owner: str
    log_group: str
    log_stream: str
    log_events: list[LogEvent]
    subscription_filters: list[str] = field(default_factory=list)
    region: str | None = None
    record_id: RecordId | None = None

    @property
    def is_control(self) -> bool:
        return self.message_type == CONTROL_MESSAGE


def gunzip_members(data: bytes, record_id: RecordId) -> list[bytes]:
    """Decompress gzip ``data``; several concatenated gzip members give several documents."""
    out: list[bytes] = []
    rest = data
    while rest:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out.append(d.decompress(rest) + d.flush())
        except zlib.error as exc:
            raise DecodeError("not_gzip", str(exc), record_id, data) from None
        if not d.eof:
            raise DecodeError("not_gzip", "truncated gzip stream", record_id, data)
        rest = d.unused_data
    return out


def payload_from_json(
    obj: Any, record_id: RecordId, raw: bytes, region: str | None = None
) -> SubscriptionPayload:
    """Validate a parsed JSON object as a subscription payload.

    Raises :class:`DecodeError` (``not_subscription_payload``) naming the first thing wrong.
    """

    if type(obj) is not dict:
        raise _not_a_payload(f"expected a JSON object, got {type(obj).__name__}", record_id, raw)
    message_type = obj.get("messageType")
    if message_type != DATA_MESSAGE and message_type != CONTROL_MESSAGE:
        raise _not_a_payload(
            f"messageType is {message_type!r}, expected DATA_MESSAGE or CONTROL_MESSAGE", record_id, raw
        )
    events: list[LogEvent] = obj.get("logEvents", [])
    if type(events) is not list:
        raise _not_a_payload("logEvents is not a list", record_id, raw)
    log_group = obj.get("logGroup", "")
    if type(log_group) is not str or not log_group:
        if message_type == DATA_MESSAGE:
            raise _not_a_payload("logGroup is missing", record_id, raw)
        log_group = str(log_group)
    log_stream = obj.get("logStream", "")
    owner = obj.get("owner", "")
    filters = obj.get("subscriptionFilters")
    return SubscriptionPayload(  # (positional: the hot path builds one per record)
        message_type,
        owner if type(owner) is str else str(owner),
        log_group,
        log_stream if type(log_stream) is str else str(log_stream),
        events,
        list(map(str, filters)) if type(filters) is list else [],
        region,
        record_id,
    )


def _not_a_payload(detail: str, record_id: RecordId, raw: bytes) -> DecodeError:
    return DecodeError("not_subscription_payload", detail, record_id, raw)


def decode_payload(data: bytes, record_id: RecordId, region: str | None = None) -> list[SubscriptionPayload]:
    """gzip bytes -> subscription payloads (usually one; one per concatenated gzip member)."""
    payloads = []
    for member in gunzip_members(data, record_id):
        try:
            obj = orjson.loads(member)
        except orjson.JSONDecodeError as exc:
            raise DecodeError("not_json", str(exc), record_id, data) from None
        payloads.append(payload_from_json(obj, record_id, data, region))
    return payloads
