"""Reading a failed batch's records back from Kinesis, as Lambda delivered them.

:class:`RangeReader` opens a shard iterator ``AT_SEQUENCE_NUMBER`` of the range's first
record and follows ``GetRecords`` until it has passed the range's last one, yielding each
record in the shape of a Kinesis event source mapping event record
(:func:`lambda_event_record`): base64 ``data``, ``eventID`` ``<shardId>:<sequenceNumber>``,
``eventSourceARN``, ``awsRegion``. The parser pipeline cannot tell them from a delivery.

Records older than the stream's retention period are gone. The reader says so instead of
guessing: a range whose last record arrived before the retention horizon is not read at all
(:attr:`RangeReader.expired`); a range whose first records are no longer in the shard is
read from the oldest one left and the missing part is reported (:attr:`RangeReader.complete`
is false, :meth:`RangeReader.problem` explains).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdalens.redrive.onfailure import FailedBatch
from lambdalens.redrive.replay import client_error_code

#: GetRecords pages in a row with no record (while the shard is behind) before giving up.
MAX_EMPTY_PAGES = 50
#: Attempts of one GetRecords call throttled with ProvisionedThroughputExceededException.
MAX_THROTTLED = 8


def lambda_event_record(
    record: dict[str, Any],
    shard_id: str,
    stream_arn: str,
    region: str,
    invoke_identity_arn: str | None = None,
) -> dict[str, Any]:
    """A ``GetRecords`` record -> the record as a Kinesis event source mapping delivers it."""
    arrival = record.get("ApproximateArrivalTimestamp")
    arrived = arrival.timestamp() if isinstance(arrival, datetime) else float(arrival or 0)
    data = record.get("Data", b"")
    sequence = str(record["SequenceNumber"])
    out: dict[str, Any] = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": str(record.get("PartitionKey", "")),
            "sequenceNumber": sequence,
            "data": base64.b64encode(data if isinstance(data, bytes) else str(data).encode()).decode(),
            "approximateArrivalTimestamp": round(arrived, 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }
    if invoke_identity_arn:
        out["invokeIdentityArn"] = invoke_identity_arn
    if record.get("EncryptionType") == "KMS":
        out["kinesis"]["encryptionType"] = "KMS"
    return out


class RangeReader:
    """Reads the records of one :class:`FailedBatch` from Kinesis (``kinesis`` is a boto3 client).

    Iterate :meth:`records`; afterwards :attr:`found`, :attr:`first`, :attr:`last`,
    :attr:`complete` and :meth:`problem` describe what was (not) there.
    """

    def __init__(
        self,
        kinesis: Any,
        batch: FailedBatch,
        *,
        retention_hours: int | None = None,
        page_size: int = 1000,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.kinesis = kinesis
        self.batch = batch
        self.retention_hours = retention_hours
        self.page_size = page_size
        self.now = now
        self.sleep = sleep
        self.found = 0
        self.first: int | None = None
        self.last: int | None = None
        self.error: str | None = None  # the stream or shard could not be read

    # ------------------------------------------------------------------
    @property
    def horizon(self) -> datetime | None:
        """Records that arrived before this instant have left the stream."""
        if self.retention_hours is None:
            return None
        return self.now() - timedelta(hours=self.retention_hours)

    @property
    def expired(self) -> bool:
        """The whole range is older than the stream's retention period: nothing to read."""
        horizon = self.horizon
        last = self.batch.last_arrival or self.batch.first_arrival
        return horizon is not None and last is not None and last < horizon

    @property
    def partly_expired(self) -> bool:
        horizon = self.horizon
        first = self.batch.first_arrival
        return horizon is not None and first is not None and first < horizon

    @property
    def complete(self) -> bool:
        """Both ends of the range were read, so every record between them was."""
        return self.error is None and self.first == self.batch.start and self.last == self.batch.end

    @property
    def missing(self) -> int | None:
        """How many records of the range were not found (when the batch size is known)."""
        if self.batch.batch_size <= 0:
            return None
        return max(0, self.batch.batch_size - self.found)

    def problem(self) -> str | None:
        """Why the range could not be read whole, in words; None when it was."""
        if self.complete:
            return None
        batch = self.batch
        retention = f"{self.retention_hours} h" if self.retention_hours is not None else "unknown"
        arrived = batch.first_arrival.strftime("%Y-%m-%dT%H:%M:%SZ") if batch.first_arrival else "unknown"
        if self.expired:
            return (
                f"expired: the records arrived at {arrived}, before the retention horizon of stream "
                f"{batch.stream_name} (retention {retention}); Kinesis no longer has them"
            )
        if self.error is not None:
            return self.error
        missing = self.missing
        count = f"{missing} of {batch.batch_size} records" if missing is not None else "some records"
        if self.first is None:
            where = "none of the range's records are in the shard"
        elif self.first != batch.start:
            where = f"the shard's oldest record in the range is {self.first}"
        else:
            where = f"the shard ends at {self.last}"
        cause = (
            f"expired from the stream (they arrived at {arrived}, retention {retention})"
            if self.partly_expired or (self.first or 0) > batch.start
            else "not found"
        )
        return f"{count} {cause}: {where}"

    # ------------------------------------------------------------------
    def _iterator(self, kind: str, sequence: str) -> str | None:
        try:
            answer = self.kinesis.get_shard_iterator(
                StreamARN=self.batch.stream_arn,
                ShardId=self.batch.shard_id,
                ShardIteratorType=kind,
                StartingSequenceNumber=sequence,
            )
        except Exception as exc:
            code = client_error_code(exc)
            if code == "ResourceNotFoundException":
                self.error = (
                    f"expired: stream {self.batch.stream_name} or its shard {self.batch.shard_id} no longer "
                    f"exists ({exc})"
                )
                return None
            if code == "InvalidArgumentException":
                self.error = f"the shard rejected sequence number {sequence}: {exc}"
                return None
            raise
        iterator = answer.get("ShardIterator")
        return iterator if isinstance(iterator, str) else None

    def _page(self, iterator: str) -> dict[str, Any]:
        for attempt in range(MAX_THROTTLED):
            try:
                page: dict[str, Any] = self.kinesis.get_records(
                    ShardIterator=iterator, Limit=self.page_size, StreamARN=self.batch.stream_arn
                )
                return page
            except Exception as exc:
                if (
                    client_error_code(exc) != "ProvisionedThroughputExceededException"
                    or attempt == MAX_THROTTLED - 1
                ):
                    raise
                self.sleep(min(5.0, 0.2 * 2**attempt))
        raise AssertionError("unreachable")

    def records(self) -> Iterator[dict[str, Any]]:
        """The range's records in shard order, as Lambda delivers them (nothing when expired)."""
        if self.expired:
            return
        batch = self.batch
        start, end = batch.start, batch.end
        iterator = self._iterator("AT_SEQUENCE_NUMBER", batch.start_sequence_number)
        empty = 0
        while iterator:
            try:
                page = self._page(iterator)
            except Exception as exc:
                if client_error_code(exc) != "ExpiredIteratorException":
                    raise
                resume = str(self.last) if self.last is not None else batch.start_sequence_number
                iterator = self._iterator(
                    "AFTER_SEQUENCE_NUMBER" if self.last is not None else "AT_SEQUENCE_NUMBER", resume
                )
                continue
            rows = page.get("Records") or []
            for row in rows:
                sequence = int(row["SequenceNumber"])
                if sequence < start:
                    continue
                if sequence > end:
                    return
                if self.first is None:
                    self.first = sequence
                self.last = sequence
                self.found += 1
                yield lambda_event_record(row, batch.shard_id, batch.stream_arn, batch.region)
                if sequence == end:
                    return
            iterator = page.get("NextShardIterator")
            if rows:
                empty = 0
                continue
            behind = page.get("MillisBehindLatest")
            if not behind:  # caught up with the tip of the shard: the rest of the range is not there
                return
            empty += 1
            if empty >= MAX_EMPTY_PAGES:
                self.error = (
                    f"the shard returned no record in {empty} reads while {behind} ms behind its tip; "
                    "the range's records have most likely expired"
                )
                return
