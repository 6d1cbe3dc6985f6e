"""A Kinesis event source mapping, emulated: reads the stream and invokes the parser handler
the way Lambda does.

Per shard, in order: up to ``batch_size`` records (waiting up to ``batching_window`` for a
fuller batch), delivered as a Kinesis event to the handler with a context whose deadline is
the function's timeout. With ``ReportBatchItemFailures``, Lambda resumes from the lowest
reported sequence number; after ``max_retry_attempts`` retries, or when a record is older
than ``max_record_age``, the range goes to the on-failure destination (an SQS queue, in the
documented on-failure record format) and the shard moves on. A function error (the handler
raising) splits the batch in two when ``bisect_on_error`` is set.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

Handler = Callable[[dict[str, Any], Any], Any]


class LambdaContext:
    """What the Lambda runtime passes as ``context``: a request id and a deadline."""

    def __init__(self, function_name: str, timeout_s: float, region: str, account: str) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "demo"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class MappingSettings:
    batch_size: int = 500
    batching_window_s: float = 0.2
    max_retry_attempts: int = 3
    bisect_on_error: bool = True
    function_timeout_s: float = 60.0
    max_record_age_s: float = 3600.0


@dataclass
class MappingStats:
    invocations: int = 0
    records: int = 0
    retries: int = 0
    bisects: int = 0
    on_failure: int = 0
    batch_item_failures: int = 0
    errors: list[str] = field(default_factory=list)


class EventSourceMapping:
    def __init__(
        self,
        kinesis: Any,
        stream_name: str,
        handler: Handler,
        settings: MappingSettings | None = None,
        on_failure: Callable[[dict[str, Any]], None] | None = None,
        function_name: str = "lambdalens-parser",
        region: str = "us-east-1",
        account: str = "123456789012",
    ) -> None:
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.handler = handler
        self.settings = settings or MappingSettings()
        self.on_failure = on_failure
        self.function_name = function_name
        self.region = region
        self.account = account
        self.stats = MappingStats()
        summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
        self.stream_arn = summary["StreamARN"]
        self._iterators: dict[str, str] = {}

    def _event_record(self, shard_id: str, record: dict[str, Any]) -> dict[str, Any]:
        arrival: Any = record.get("ApproximateArrivalTimestamp")
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": record["SequenceNumber"],
                "data": base64.b64encode(record["Data"]).decode(),
                "approximateArrivalTimestamp": arrival.timestamp()
                if hasattr(arrival, "timestamp")
                else time.time(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{record['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{self.account}:role/lambdalens-parser",
            "awsRegion": self.region,
            "eventSourceARN": self.stream_arn,
        }

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        iterator = self._iterators.get(shard_id)
        if iterator is None:
            iterator = self.kinesis.get_shard_iterator(
                StreamName=self.stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        records: list[dict[str, Any]] = []
        waited = 0.0
        while True:
            answer = self.kinesis.get_records(
                ShardIterator=iterator, Limit=self.settings.batch_size - len(records)
            )
            iterator = answer["NextShardIterator"]
            records.extend(answer["Records"])
            if len(records) >= self.settings.batch_size or waited >= self.settings.batching_window_s:
                break
            if not answer["Records"]:
                time.sleep(0.05)
                waited += 0.05
        self._iterators[shard_id] = iterator
        return records

    def _invoke(self, records: list[dict[str, Any]]) -> dict[str, Any] | None:
        """One invocation; returns the handler's response, or None when it raised (a function error)."""
        self.stats.invocations += 1
        context = LambdaContext(
            self.function_name, self.settings.function_timeout_s, self.region, self.account
        )
        try:
            response = self.handler({"Records": records}, context)
        except Exception as exc:
            self.stats.errors.append(f"{type(exc).__name__}: {exc}")
            return None
        return response if isinstance(response, dict) else {}

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]], attempt: int = 0) -> None:
        """Deliver ``batch`` until it succeeds, following Lambda's retry, bisect and on-failure rules."""
        while batch:
            response = self._invoke(batch)
            if response is None:
                if (
                    self.settings.bisect_on_error
                    and len(batch) > 1
                    and attempt < self.settings.max_retry_attempts
                ):
                    self.stats.bisects += 1
                    half = len(batch) // 2
                    self._deliver(shard_id, batch[:half], attempt + 1)
                    self._deliver(shard_id, batch[half:], attempt + 1)
                    return
                failed_from = 0
            else:
                failures = response.get("batchItemFailures") or []
                if not failures:
                    return
                self.stats.batch_item_failures += len(failures)
                sequences = [f["itemIdentifier"] for f in failures]
                lowest = min(sequences, key=int)
                failed_from = next(i for i, r in enumerate(batch) if r["kinesis"]["sequenceNumber"] == lowest)
            batch = batch[failed_from:]
            attempt += 1
            if attempt > self.settings.max_retry_attempts:
                self._send_on_failure(shard_id, batch)
                return
            self.stats.retries += 1
            time.sleep(min(1.0, 0.1 * 2**attempt))

    def _send_on_failure(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        self.stats.on_failure += 1
        if self.on_failure is None:
            return
        self.on_failure(
            {
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}",
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": self.settings.max_retry_attempts + 1,
                },
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "version": "1.0",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "KinesisBatchInfo": {
                    "shardId": shard_id,
                    "startSequenceNumber": batch[0]["kinesis"]["sequenceNumber"],
                    "endSequenceNumber": batch[-1]["kinesis"]["sequenceNumber"],
                    "approximateArrivalOfFirstRecord": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "approximateArrivalOfLastRecord": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "batchSize": len(batch),
                    "streamArn": self.stream_arn,
                },
            }
        )

    def drain(self) -> MappingStats:
        """Deliver everything the stream holds now, shard by shard (each shard in order)."""
        shards = [s["ShardId"] for s in self.kinesis.list_shards(StreamName=self.stream_name)["Shards"]]
        progress = True
        while progress:
            progress = False
            for shard_id in shards:
                records = self._read(shard_id)
                if not records:
                    continue
                progress = True
                self.stats.records += len(records)
                self._deliver(shard_id, [self._event_record(shard_id, r) for r in records])
        return self.stats


def on_failure_to_sqs(sqs: Any, queue_url: str) -> Callable[[dict[str, Any]], None]:
    def send(record: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=orjson.dumps(record).decode())

    return send
