"""``redrive --from-sqs`` end to end: Kinesis stream and on-failure queue in moto, documents in
the local OpenSearch stand-in (behind the fault proxy where OpenSearch must fail)."""

from __future__ import annotations

import binascii
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from indexing.fault_proxy import FaultProxy
from lambdalens.bench.workload import kinesis_record
from lambdalens.indexing.retry import Deadline
from lambdalens.redrive import RedriveReport, SqsRedrive
from lambdalens.redrive.report import DONE, EXPIRED, FAILED, INVALID, KEPT, NOT_ATTEMPTED
from redrive.redrive_support import (
    BUCKET,
    PutRecord,
    Stream,
    dead_letter_objects,
    indexed,
    make_pipeline,
    on_failure_message,
    queue_messages,
    workload,
)
from testing_support import load_event


def redrive(url: str, index_prefix: str, s3: Any, sqs: Any, queue_url: str, **options: Any) -> RedriveReport:
    options.setdefault("wait_seconds", 0)
    return SqsRedrive(
        sqs=sqs,
        queue_url=queue_url,
        pipeline=make_pipeline(url, index_prefix, s3, BUCKET),
        kinesis_for=lambda region: __import__("boto3").client("kinesis", region_name=region),
        **options,
    ).run()


def without_observed(docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The documents without ``observedTimestamp`` (when lambdalens read them: now)."""
    return {k: {f: v for f, v in d.items() if f != "observedTimestamp"} for k, d in docs.items()}


def ids_of(records: list[PutRecord]) -> set[str]:
    return {i for r in records for i in r.event_ids}


def test_replays_exactly_the_documents_of_the_lost_batches(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, stream: Stream
) -> None:
    stream.put_payloads(workload(600))
    first, second, untouched = stream.records[:10], stream.records[10:25], stream.records[25:]
    assert untouched, "records after the lost batches stay out of it"
    for batch in (first, second):
        sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, batch))

    report = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url, batch_size=1000)

    got = indexed(opensearch_node.url, index_prefix)
    assert set(got) == ids_of(first + second)
    # The same batches, delivered to the parser by Lambda the first time, make the same documents.
    reference = f"ref-{index_prefix}"
    pipeline = make_pipeline(opensearch_node.url, reference, s3, BUCKET)
    for batch in (first, second):
        pipeline.run([kinesis_record(r.payload, i) for i, r in enumerate(batch)], Deadline.after(60))
    assert without_observed(got) == without_observed(indexed(opensearch_node.url, reference))

    assert [s.status for s in report.sources] == [DONE, DONE]
    assert queue_messages(sqs, queue_url) == []
    c = report.counts
    assert (c.records, c.documents, c.indexed, c.already_present) == (25, len(got), len(got), 0)
    assert (c.dead_lettered, c.failed, c.failed_records, c.expired_records) == (0, 0, 0, 0)
    assert report.ok and "re-indexed" in report.render()


def test_small_batches_and_overlapping_ranges_index_each_event_once(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, stream: Stream
) -> None:
    stream.put_payloads(workload(500))
    records = stream.records[:20]
    # With partial batch responses Lambda can give up on overlapping ranges of one shard.
    for batch in (records[:12], records[5:20]):
        sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, batch))
    report = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url, batch_size=4)
    assert set(indexed(opensearch_node.url, index_prefix)) == ids_of(records)
    assert report.counts.records == 27
    assert report.counts.already_present == len(ids_of(records[5:12]))
    assert queue_messages(sqs, queue_url) == []


def test_a_message_is_deleted_only_when_its_whole_range_was_indexed(
    proxy: FaultProxy, index_prefix: str, s3: Any, sqs: Any, queue_url: str, stream: Stream
) -> None:
    stream.put_payloads(workload(400))
    good, bad = stream.records[:8], stream.records[8:16]
    for batch in (good, bad):
        sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, batch))
    stuck = sorted(ids_of(bad[3:4]))[0]
    proxy.faults.reject_items = {stuck: 1000}  # answered 429 until the retries run out

    report = redrive(proxy.url, index_prefix, s3, sqs, queue_url, keep_going=True, batch_seconds=5)

    assert [s.status for s in report.sources] == [DONE, FAILED]
    assert "not indexed" in report.sources[1].detail and "left in the queue" in report.sources[1].detail
    left = queue_messages(sqs, queue_url)  # visible again at once, not after the visibility timeout
    assert len(left) == 1 and left[0]["MessageId"] == report.sources[1].source
    assert report.counts.failed == 1 and not report.ok
    assert set(indexed(proxy.url, index_prefix)) == ids_of(good + bad) - {stuck}

    proxy.faults.reject_items = {}
    again = redrive(proxy.url, index_prefix, s3, sqs, queue_url)
    assert [s.status for s in again.sources] == [DONE]
    assert again.counts.indexed == 1 and again.counts.already_present == len(ids_of(bad)) - 1
    assert queue_messages(sqs, queue_url) == []
    assert set(indexed(proxy.url, index_prefix)) == ids_of(good + bad)


def test_opensearch_down_stops_the_run_and_leaves_every_message(
    proxy: FaultProxy, index_prefix: str, s3: Any, sqs: Any, queue_url: str, stream: Stream
) -> None:
    stream.put_payloads(workload(300))
    for batch in (stream.records[:4], stream.records[4:8], stream.records[8:12]):
        sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, batch))
    proxy.faults.statuses = [503] * 10_000
    report = redrive(proxy.url, index_prefix, s3, sqs, queue_url, batch_seconds=1.0)
    assert [s.status for s in report.sources] == [FAILED, NOT_ATTEMPTED, NOT_ATTEMPTED]
    assert report.stopped and "--keep-going" in report.stopped
    assert len(queue_messages(sqs, queue_url)) == 3
    assert dead_letter_objects(s3, BUCKET) == {}  # transient trouble is never dead-lettered


def test_expired_ranges_are_reported_and_kept_unless_discarded(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, stream: Stream
) -> None:
    stream.put_payloads(workload(100))
    long_ago = datetime.now(UTC) - timedelta(days=2)
    sqs.send_message(
        QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[:3], arrived=long_ago)
    )
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[3:6]))

    report = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url)
    expired = report.by_status(EXPIRED)
    assert len(expired) == 1 and report.by_status(DONE)
    assert "expired: the records arrived at" in expired[0].detail
    assert "retention 24 h" in expired[0].detail and "left in the queue" in expired[0].detail
    assert report.counts.expired_records == 3 and not report.ok
    assert "expired from the stream" in report.render()
    assert len(queue_messages(sqs, queue_url)) == 1
    assert set(indexed(opensearch_node.url, index_prefix)) == ids_of(stream.records[3:6])

    dropped = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url, discard_expired=True)
    assert [s.status for s in dropped.sources] == [EXPIRED]
    assert "message deleted (--discard-expired)" in dropped.sources[0].detail
    assert queue_messages(sqs, queue_url) == []


def test_a_second_run_finds_everything_already_present(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, stream: Stream
) -> None:
    stream.put_payloads(workload(300))
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[:12]))
    first = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url, keep=True)
    assert [s.status for s in first.sources] == [KEPT] and len(queue_messages(sqs, queue_url)) == 1
    second = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url)
    assert second.counts.documents == first.counts.documents == first.counts.indexed > 0
    assert second.counts.already_present == second.counts.documents and second.counts.indexed == 0
    assert [s.status for s in second.sources] == [DONE] and queue_messages(sqs, queue_url) == []
    assert set(indexed(opensearch_node.url, index_prefix)) == ids_of(stream.records[:12])


def poison_bytes() -> list[bytes]:
    """The records of events/kinesis/poison-batch.json as bytes in the stream."""
    out = []
    for record in load_event("kinesis/poison-batch.json")["Records"]:
        data = record["kinesis"].get("data", "")
        try:
            out.append(binascii.a2b_base64(data.encode(), strict_mode=True))
        except binascii.Error:
            out.append(data.encode())
    return out


def test_poison_records_in_a_range_are_dead_lettered_and_the_message_deleted(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, stream: Stream
) -> None:
    for data in poison_bytes():
        stream.put_bytes(data)
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records))
    report = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url)
    letters = [x for xs in dead_letter_objects(s3, BUCKET).values() for x in xs]
    expect = load_event("kinesis/poison-batch.expect.json")
    bad = sum(1 for r in expect if r["result"] not in ("ok", "control"))
    assert len(letters) == bad == report.counts.dead_lettered
    assert all(x.kind == "record" and x.record_id.stream_arn == stream.arn for x in letters)
    assert [s.status for s in report.sources] == [DONE] and report.ok
    ok = [r for r in expect if r["result"] == "ok"]
    assert len(indexed(opensearch_node.url, index_prefix)) == sum(
        len(load_event(r["payload"])["logEvents"]) for r in ok
    )


def test_messages_that_are_not_on_failure_records_are_left(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, stream: Stream
) -> None:
    stream.put_payloads(workload(60))
    sqs.send_message(QueueUrl=queue_url, MessageBody='{"hello": "world"}')
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[:2]))
    report = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url)
    assert sorted(s.status for s in report.sources) == sorted([INVALID, DONE])
    assert "no KinesisBatchInfo" in report.by_status(INVALID)[0].detail
    assert [m["Body"] for m in queue_messages(sqs, queue_url)] == ['{"hello": "world"}']


def test_dry_run_reads_and_parses_but_writes_and_deletes_nothing(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, stream: Stream
) -> None:
    for data in poison_bytes()[:3]:
        stream.put_bytes(data)
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records))
    report = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url, dry_run=True)
    assert [s.status for s in report.sources] == [KEPT] and "dry run" in report.sources[0].detail
    assert report.counts.would_index > 0 and report.counts.dead_lettered == 1
    assert indexed(opensearch_node.url, index_prefix) == {}
    assert dead_letter_objects(s3, BUCKET) == {} and len(queue_messages(sqs, queue_url)) == 1
    assert "dry run" in report.render() and "would be indexed" in report.render()


@pytest.mark.parametrize("max_messages", [1, 2])
def test_max_messages(
    opensearch_node: Any,
    index_prefix: str,
    s3: Any,
    sqs: Any,
    queue_url: str,
    stream: Stream,
    max_messages: int,
) -> None:
    stream.put_payloads(workload(100))
    for i in range(3):
        sqs.send_message(
            QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[i : i + 1])
        )
    report = redrive(opensearch_node.url, index_prefix, s3, sqs, queue_url, max_messages=max_messages)
    assert len(report.sources) == max_messages
    assert len(queue_messages(sqs, queue_url)) == 3 - max_messages
