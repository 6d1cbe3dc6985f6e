"""``lambdalens redrive --from-sqs``: replay the batches Lambda gave up on.

Each message of the event source mapping's on-failure queue names a range of one shard
(:mod:`lambdalens.redrive.onfailure`). For each message the range is read back from Kinesis
(:mod:`lambdalens.redrive.stream`) and run through the parser's own pipeline in batches —
decoding, parsing, redaction, indexing with ``_id`` = the CloudWatch event id (so what an
earlier delivery indexed is answered 409), safe form and dead letters. The message is
deleted only when its whole range was read and every record succeeded; otherwise it is
made visible again at once for the next run, and the report says why.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lambdalens.pipeline import Pipeline
from lambdalens.redrive.onfailure import FailedBatch, NotAnOnFailureRecord, parse_on_failure
from lambdalens.redrive.progress import Progress
from lambdalens.redrive.replay import chunked, client_error_code, dry_run_pipeline, error_text
from lambdalens.redrive.report import (
    DONE,
    EXPIRED,
    FAILED,
    INVALID,
    KEPT,
    NOT_ATTEMPTED,
    RedriveReport,
    SourceResult,
)
from lambdalens.redrive.stream import RangeReader
from lambdalens.retry import Deadline

logger = logging.getLogger(__name__)


@dataclass
class SqsRedrive:
    """Replays the ranges named by the messages of ``queue_url``.

    ``kinesis_for(region)`` returns a boto3 Kinesis client for a stream's region.
    """

    sqs: Any
    queue_url: str
    pipeline: Pipeline
    kinesis_for: Callable[[str], Any]
    batch_size: int = 200
    batch_seconds: float = 300.0
    visibility_timeout: int = 900
    wait_seconds: int = 1
    max_messages: int | None = None
    dry_run: bool = False
    keep: bool = False
    keep_going: bool = False
    discard_expired: bool = False
    progress: Progress | None = None
    reader_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._retention: dict[str, int | None] = {}
        self._to_release: list[str] = []  # receipt handles to make visible again

    # ------------------------------------------------------------------
    def run(self) -> RedriveReport:
        report = RedriveReport("sqs", self.queue_url, dry_run=self.dry_run)
        pipeline = dry_run_pipeline(self.pipeline) if self.dry_run else self.pipeline
        progress = self.progress
        if progress is not None and progress.total is None:
            progress.total = self._approximate_messages()
        seen: set[str] = set()
        try:
            while report.stopped is None:
                wanted = 10
                if self.max_messages is not None:
                    wanted = min(10, self.max_messages - len(seen))
                    if wanted <= 0:
                        break
                answer = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=wanted,
                    VisibilityTimeout=self.visibility_timeout,
                    WaitTimeSeconds=self.wait_seconds,
                    AttributeNames=["All"],
                )
                messages = [m for m in answer.get("Messages") or [] if m["MessageId"] not in seen]
                if not messages:
                    break
                for message in messages:
                    seen.add(message["MessageId"])
                    if report.stopped is not None:
                        report.sources.append(SourceResult(message["MessageId"], NOT_ATTEMPTED))
                        self._to_release.append(message["ReceiptHandle"])
                        continue
                    result = self._one(message, pipeline, report)
                    report.sources.append(result)
                    if result.status == FAILED and not self.keep_going:
                        report.stopped = (
                            f"message {result.source} failed ({result.detail}); fix the cause and run "
                            "again (replaying is idempotent), or use --keep-going"
                        )
                    if progress is not None:
                        c = report.counts
                        progress.update(
                            len(report.sources),
                            f"{c.records:,} records  {c.documents:,} docs  {c.failed} failed",
                        )
        finally:
            self._release()
            if progress is not None:
                progress.close()
        return report

    # ------------------------------------------------------------------
    def _one(self, message: dict[str, Any], pipeline: Pipeline, report: RedriveReport) -> SourceResult:
        message_id = message["MessageId"]
        receipt = message["ReceiptHandle"]
        try:
            batch = parse_on_failure(message.get("Body", ""))
        except NotAnOnFailureRecord as exc:
            self._to_release.append(receipt)
            return SourceResult(message_id, INVALID, f"{exc}; left in the queue")
        result = SourceResult(message_id, FAILED, range=batch.describe())
        counts = report.counts
        try:
            kinesis = self.kinesis_for(batch.region)
            reader = RangeReader(
                kinesis, batch, retention_hours=self._retention_hours(kinesis, batch), **self.reader_options
            )
            if reader.expired:
                counts.expired_records += batch.batch_size
                result.status, result.detail = EXPIRED, reader.problem() or "expired"
                return self._expired(result, receipt)
            for chunk in chunked(reader.records(), self.batch_size):
                outcome = pipeline.run(
                    chunk, Deadline.after(self.batch_seconds), request_id=f"redrive-{uuid.uuid4().hex[:12]}"
                )
                counts.add_outcome(outcome)
                result.records += len(outcome.records)
                result.documents += len(outcome.docs)
                if outcome.failed:
                    first = outcome.failed[0]
                    result.detail = (
                        f"{len(outcome.failed)} record(s) not indexed, first {first.record_id}: {first.reason}; "
                        "left in the queue"
                    )
                    self._to_release.append(receipt)
                    return result
        except Exception as exc:  # Kinesis unreadable (permissions, throttling past retries...)
            logger.debug("redrive of message %s failed", message_id, exc_info=True)
            result.detail = f"could not read the range: {error_text(exc)}; left in the queue"
            self._to_release.append(receipt)
            return result
        if not reader.complete:
            counts.expired_records += reader.missing or 0
            result.status = EXPIRED
            result.detail = reader.problem() or "incomplete"
            if result.records:
                result.detail += f"; the {result.records} records still there were replayed"
            return self._expired(result, receipt)
        if self.dry_run or self.keep:
            self._to_release.append(receipt)
            result.status = KEPT
            result.detail = "dry run: would be deleted" if self.dry_run else "replayed; kept (--keep)"
            return result
        try:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
        except Exception as exc:
            result.detail = f"replayed, but the message could not be deleted: {error_text(exc)}"
            return result
        result.status = DONE
        return result

    def _expired(self, result: SourceResult, receipt: str) -> SourceResult:
        if self.discard_expired and not self.dry_run and not self.keep:
            try:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
                result.detail += "; message deleted (--discard-expired)"
                return result
            except Exception as exc:
                result.detail += f"; could not delete the message: {error_text(exc)}"
        self._to_release.append(receipt)
        result.detail += "; left in the queue" + (
            "" if self.discard_expired else " (--discard-expired drops it)"
        )
        return result

    def _retention_hours(self, kinesis: Any, batch: FailedBatch) -> int | None:
        if batch.stream_arn not in self._retention:
            hours: int | None = None
            try:
                summary = kinesis.describe_stream_summary(StreamARN=batch.stream_arn)
                value = summary["StreamDescriptionSummary"].get("RetentionPeriodHours")
                hours = int(value) if value is not None else None
            except Exception as exc:
                if client_error_code(exc) not in ("ResourceNotFoundException", "AccessDeniedException"):
                    raise
                logger.debug("no retention period for %s: %s", batch.stream_arn, exc)
            self._retention[batch.stream_arn] = hours
        return self._retention[batch.stream_arn]

    def _approximate_messages(self) -> int | None:
        try:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            total = int(attributes["ApproximateNumberOfMessages"])
        except Exception:
            return None
        if self.max_messages is not None:
            total = min(total, self.max_messages)
        return total or None

    def _release(self) -> None:
        """Make the messages left in the queue visible again now (not after the visibility timeout)."""
        for receipt in self._to_release:
            try:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
                )
            except Exception as exc:  # they become visible after the timeout anyway
                logger.debug("could not release a message: %s", exc)
        self._to_release.clear()
