"""Errors raised while decoding what the parser receives."""

from __future__ import annotations

from typing import NamedTuple


class RecordId(NamedTuple):
    """Where a record came from: enough to find it again and to report it as a batch item failure.

    ``sequence_number`` is the Kinesis sequence number (the ``itemIdentifier`` of a
    partial batch response); for inputs that are not Kinesis records it is a position
    such as ``line:12``. (A named tuple: one is made per record, and a frozen dataclass
    costs several times as much to make.)
    """

    shard_id: str
    sequence_number: str
    stream_arn: str = ""

    def __str__(self) -> str:
        return f"{self.shard_id}/{self.sequence_number}"


class DecodeError(Exception):
    """A record could not be decoded into a CloudWatch Logs subscription payload.

    Carries the record's identity and its raw bytes so the caller can dead-letter it
    and go on with the other records.

    Attributes
    ----------
    reason:
        One of ``not_base64``, ``not_gzip``, ``not_json``, ``not_subscription_payload``.
    record_id:
        The record's shard and sequence number.
    raw:
        The record's bytes as received (base64-decoded where that step succeeded).
    """

    def __init__(self, reason: str, detail: str, record_id: RecordId, raw: bytes) -> None:
        super().__init__(f"{reason}: {detail} (record {record_id})")
        self.reason = reason
        self.detail = detail
        self.record_id = record_id
        self.raw = raw
