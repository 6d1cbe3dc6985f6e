"""Helpers for the redrive tests: a Kinesis stream holding real-shaped CloudWatch Logs
records (moto), on-failure messages as Lambda writes them, a pipeline against the local
OpenSearch stand-in, and what OpenSearch holds afterwards."""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from opensearchpy import OpenSearch

from lambdalens.bench.workload import generate_payloads
from lambdalens.config import OpenSearchConfig
from lambdalens.indexing.bulk_body import event_id_of
from lambdalens.indexing.client import BulkTransport, make_client
from lambdalens.indexing.dead_letter import DeadLetter, DeadLetterWriter, decode_dead_letters
from lambdalens.indexing.indexer import BulkIndexer
from lambdalens.indexing.retry import Backoff
from lambdalens.pipeline import Pipeline

BUCKET = "lambdalens-dead-letters"
REGION = "us-east-1"
ACCOUNT = "123456789012"
STREAM = "lambdalens-logs"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:lambdalens-parser"


@dataclass
class PutRecord:
    sequence_number: str
    payload: dict[str, Any]
    data: bytes

    @property
    def event_ids(self) -> set[str]:
        return {e["id"] for e in self.payload["logEvents"]}


@dataclass
class Stream:
    """A moto Kinesis stream and the records put in it, in shard order."""

    kinesis: Any
    arn: str
    shard_id: str
    records: list[PutRecord] = field(default_factory=list)

    def put_payloads(self, payloads: list[dict[str, Any]]) -> list[PutRecord]:
        """Put each payload as CloudWatch Logs does: one gzip JSON record per payload."""
        out = []
        for payload in payloads:
            data = gzip.compress(orjson.dumps(payload), compresslevel=6)
            out.append(self.put_bytes(data, payload))
        return out

    def put_bytes(self, data: bytes, payload: dict[str, Any] | None = None) -> PutRecord:
        answer = self.kinesis.put_record(
            StreamARN=self.arn, Data=data, PartitionKey=(payload or {}).get("logStream", "poison")
        )
        assert answer["ShardId"] == self.shard_id
        record = PutRecord(answer["SequenceNumber"], payload or {"logEvents": []}, data)
        self.records.append(record)
        return record


def make_stream(kinesis: Any, name: str = STREAM, retention_hours: int | None = None) -> Stream:
    kinesis.create_stream(StreamName=name, ShardCount=1)
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    if retention_hours is not None and retention_hours > 24:
        kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=retention_hours)
    shard = kinesis.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    return Stream(kinesis, summary["StreamARN"], shard)


def workload(events: int = 200, seed: int = 5) -> list[dict[str, Any]]:
    return generate_payloads(events=events, seed=seed, functions=6)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def on_failure_message(
    stream: Stream,
    records: list[PutRecord],
    *,
    condition: str = "RetryAttemptsExhausted",
    arrived: datetime | None = None,
    invoke_count: int = 4,
) -> str:
    """The body Lambda sends to the on-failure SQS destination for a skipped batch."""
    first = arrived or datetime.now(UTC) - timedelta(minutes=10)
    body = {
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4a3e-af9c-0c604cde93a5",
            "functionArn": FUNCTION_ARN,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": iso(first + timedelta(minutes=5)),
        "KinesisBatchInfo": {
            "shardId": stream.shard_id,
            "startSequenceNumber": records[0].sequence_number,
            "endSequenceNumber": records[-1].sequence_number,
            "approximateArrivalOfFirstRecord": iso(first),
            "approximateArrivalOfLastRecord": iso(first + timedelta(seconds=1)),
            "batchSize": len(records),
            "streamArn": stream.arn,
        },
    }
    return orjson.dumps(body).decode()


def make_pipeline(
    url: str, index_prefix: str, s3: Any, bucket: str, *, max_body_chars: int = 32_768, timeout: float = 5.0
) -> Pipeline:
    """The parser's pipeline with a quick backoff (as in the fault tests)."""
    transport = BulkTransport(
        make_client(OpenSearchConfig(endpoint=url, auth="none", timeout_seconds=timeout))
    )
    indexer = BulkIndexer(
        transport,
        index_prefix=index_prefix,
        max_items=500,
        request_timeout=timeout,
        backoff=Backoff(base_ms=10, max_ms=50, max_attempts=3, rng=random.Random(1)),
    )
    return Pipeline(
        indexer=indexer,
        dead_letters=DeadLetterWriter(s3, bucket),
        region=REGION,
        max_body_chars=max_body_chars,
    )


def indexed(url: str, index_prefix: str) -> dict[str, dict[str, Any]]:
    """``_id`` -> ``_source`` of every document under ``<index_prefix>-*`` (asserts no duplicate)."""
    client = OpenSearch(url)
    if not client.indices.exists(index=f"{index_prefix}-*"):
        return {}
    client.indices.refresh(index=f"{index_prefix}-*")
    hits = client.search(index=f"{index_prefix}-*", body={"size": 10_000, "query": {"match_all": {}}})
    out: dict[str, dict[str, Any]] = {}
    for hit in hits["hits"]["hits"]:
        uid = event_id_of(hit["_id"])
        assert uid not in out, f"duplicate document {hit['_id']}"
        out[uid] = hit["_source"]
    return out


def dead_letter_objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, list[DeadLetter]]:
    out = {}
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        out[obj["Key"]] = list(decode_dead_letters(body))
    return out


def as_one_object(s3: Any, bucket: str, prefix: str = "dead-letter/") -> str:
    """The dead letters under ``prefix`` moved into one object, as versions before per-record
    objects wrote them (one object per invocation); returns its key."""
    found = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))
    lines = b"".join(gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in found)
    for k in found:
        s3.delete_object(Bucket=bucket, Key=k)
    key = found[0].rsplit("-", 2)[0] + "-0a1b2c3d4e5f60718293a4b5c6d7e8f9.jsonl.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(lines), ContentEncoding="gzip")
    return key


def queue_messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message visible in the queue (made visible again right after)."""
    seen: dict[str, dict[str, Any]] = {}
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
            "Messages", []
        )
        new = [m for m in got if m["MessageId"] not in seen]
        if not new:
            break
        for m in new:
            seen[m["MessageId"]] = m
    for m in seen.values():
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
        )
    return list(seen.values())
