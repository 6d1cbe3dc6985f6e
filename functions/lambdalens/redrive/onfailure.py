"""The on-failure invocation record of a Kinesis event source mapping.

When the parser Lambda keeps failing a batch until its retries are exhausted
(``RetryAttemptsExhausted``) or its records are older than the mapping's maximum record age
(``RecordAgeExceeded``), Lambda skips the batch and sends one JSON document to the mapping's
on-failure destination. For a Kinesis source it names the records, without their data::

    {"requestContext": {"requestId": "c9b8fa9f-...", "functionArn": "arn:aws:lambda:...:function:parser",
                        "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
     "version": "1.0", "timestamp": "2019-11-14T00:38:06.021Z",
     "KinesisBatchInfo": {"shardId": "shardId-000000000001",
                          "startSequenceNumber": "4960118965842235937883629852182763847532018901230970472",
                          "endSequenceNumber": "4960118965842235937883629852290237352895759434862349518",
                          "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04.835Z",
                          "approximateArrivalOfLastRecord": "2019-11-14T00:38:05.580Z",
                          "batchSize": 500, "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/logs"}}

The records themselves must be read back from the stream (``lambdalens redrive --from-sqs``)
before the stream's retention period drops them. An SQS destination receives this document
as the message body; an SNS topic subscribed by the queue without raw delivery wraps it in an
SNS notification, which is unwrapped here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

CONDITIONS = ("RetryAttemptsExhausted", "RecordAgeExceeded", "MaximumPayloadSizeExceeded")


class NotAnOnFailureRecord(ValueError):
    """A message that is not the on-failure record of a Kinesis event source mapping."""


@dataclass(frozen=True)
class FailedBatch:
    """The records of one skipped batch: a contiguous range of one shard."""

    stream_arn: str
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    batch_size: int
    first_arrival: datetime | None = None
    last_arrival: datetime | None = None
    condition: str = ""
    request_id: str = ""
    function_arn: str = ""
    invoke_count: int = 0
    timestamp: str = ""

    @property
    def region(self) -> str:
        """The stream's region, from its ARN (``arn:aws:kinesis:<region>:<account>:stream/<name>``)."""
        parts = self.stream_arn.split(":")
        return parts[3] if len(parts) > 5 else ""

    @property
    def stream_name(self) -> str:
        return self.stream_arn.rsplit("/", 1)[-1]

    @property
    def start(self) -> int:
        return int(self.start_sequence_number)

    @property
    def end(self) -> int:
        return int(self.end_sequence_number)

    def describe(self) -> str:
        """``logs shardId-000000000001 [4960...4722 .. 4960...5186] (500 records)``."""
        return (
            f"{self.stream_name} {self.shard_id} [{self.start_sequence_number} .. "
            f"{self.end_sequence_number}] ({self.batch_size} record{'' if self.batch_size == 1 else 's'})"
        )


def _arrival(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _digits(info: dict[str, Any], key: str) -> str:
    value = info.get(key)
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isdigit():
        raise NotAnOnFailureRecord(f"KinesisBatchInfo.{key} is {value!r}, not a sequence number")
    return text


def parse_on_failure(body: str | bytes | dict[str, Any]) -> FailedBatch:
    """An SQS message body (or the decoded JSON) -> :class:`FailedBatch`.

    Raises :class:`NotAnOnFailureRecord` naming what is missing or wrong.
    """
    obj: Any = body
    if isinstance(body, str | bytes):
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise NotAnOnFailureRecord(f"the message is not JSON ({exc})") from None
    if isinstance(obj, dict) and obj.get("Type") == "Notification" and isinstance(obj.get("Message"), str):
        return parse_on_failure(obj["Message"])  # delivered through SNS without raw message delivery
    if not isinstance(obj, dict):
        raise NotAnOnFailureRecord("the message is not a JSON object")
    info = obj.get("KinesisBatchInfo")
    if not isinstance(info, dict):
        other = [k for k in obj if k.endswith("BatchInfo") and k != "KinesisBatchInfo"]
        what = f"it has {other[0]}, not KinesisBatchInfo" if other else "it has no KinesisBatchInfo"
        raise NotAnOnFailureRecord(f"not a Kinesis on-failure record: {what}")
    stream_arn = info.get("streamArn")
    shard_id = info.get("shardId")
    if not isinstance(stream_arn, str) or not stream_arn.startswith("arn:") or ":stream/" not in stream_arn:
        raise NotAnOnFailureRecord(f"KinesisBatchInfo.streamArn is {stream_arn!r}, not a stream ARN")
    if not isinstance(shard_id, str) or not shard_id:
        raise NotAnOnFailureRecord("KinesisBatchInfo.shardId is missing")
    start = _digits(info, "startSequenceNumber")
    end = _digits(info, "endSequenceNumber")
    if int(end) < int(start):
        raise NotAnOnFailureRecord(f"endSequenceNumber {end} is before startSequenceNumber {start}")
    size = info.get("batchSize")
    try:
        batch_size = int(size) if size is not None and not isinstance(size, bool) else 0
    except (TypeError, ValueError):
        batch_size = 0
    raw_context = obj.get("requestContext")
    context: dict[str, Any] = raw_context if isinstance(raw_context, dict) else {}
    count = context.get("approximateInvokeCount")
    return FailedBatch(
        stream_arn=stream_arn,
        shard_id=shard_id,
        start_sequence_number=start,
        end_sequence_number=end,
        batch_size=batch_size,
        first_arrival=_arrival(info.get("approximateArrivalOfFirstRecord")),
        last_arrival=_arrival(info.get("approximateArrivalOfLastRecord")),
        condition=str(context.get("condition", "")),
        request_id=str(context.get("requestId", "")),
        function_arn=str(context.get("functionArn", "")),
        invoke_count=count if isinstance(count, int) and not isinstance(count, bool) else 0,
        timestamp=str(obj.get("timestamp", "")),
    )
