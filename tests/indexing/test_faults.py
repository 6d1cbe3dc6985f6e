"""Faults, for real: the pipeline against the local OpenSearch stand-in behind a fault-injecting
proxy (429 items, 5xx, timeouts, connection resets, 413), redelivery, poison records, content
rejections and a missing dead-letter bucket. Each test asserts what OpenSearch holds, what was
reported as batch item failures and what was dead-lettered: events in = indexed +
dead-lettered, and zero duplicates."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from opensearchpy import OpenSearch

from indexing.fault_proxy import FaultProxy
from lambdalens.bench.workload import generate_payloads, kinesis_event
from lambdalens.config import OpenSearchConfig
from lambdalens.decoding import iter_kinesis_event
from lambdalens.indexing.bulk_body import event_id_of
from lambdalens.indexing.client import BulkTransport, make_client
from lambdalens.indexing.dead_letter import DeadLetterWriter, decode_dead_letters
from lambdalens.indexing.indexer import MAX_REFUSALS, BulkIndexer
from lambdalens.indexing.retry import Backoff, Deadline
from lambdalens.pipeline import BatchOutcome, Pipeline
from testing_support import load_event

BUCKET = "lambdalens-dead-letters"


@pytest.fixture
def proxy(opensearch_node: Any) -> Iterator[FaultProxy]:
    with FaultProxy(opensearch_node.url) as p:
        yield p


@pytest.fixture
def prefix() -> str:
    return f"faults-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def s3(aws_env: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def make_pipeline(
    url: str, prefix: str, s3: Any, *, timeout: float = 5.0, max_bytes: int = 5 * 1024 * 1024
) -> Pipeline:
    transport = BulkTransport(
        make_client(OpenSearchConfig(endpoint=url, auth="none", timeout_seconds=timeout))
    )
    indexer = BulkIndexer(
        transport,
        index_prefix=prefix,
        max_bytes=max_bytes,
        max_items=500,
        request_timeout=timeout,
        backoff=Backoff(base_ms=10, max_ms=50, rng=random.Random(1)),
    )
    return Pipeline(indexer=indexer, dead_letters=DeadLetterWriter(s3, BUCKET), region="us-east-1")


def batch(events: int = 400, seed: int = 3) -> dict[str, Any]:
    return kinesis_event(generate_payloads(events=events, seed=seed, functions=6))


def event_ids(event: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    for result in iter_kinesis_event(event):
        if hasattr(result, "payloads"):
            for payload in result.payloads:
                ids.update(e["id"] for e in payload.log_events)
    return ids


def indexed_ids(url: str, prefix: str) -> list[str]:
    client = OpenSearch(url)
    client.indices.refresh(index=f"{prefix}-*")
    hits = client.search(
        index=f"{prefix}-*", body={"size": 10_000, "query": {"match_all": {}}, "_source": False}
    )
    return [event_id_of(h["_id"]) for h in hits["hits"]["hits"]]


def dead_letters(s3: Any) -> list[Any]:
    out = []
    for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        out.extend(decode_dead_letters(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()))
    return out


def run(pipeline: Pipeline, event: dict[str, Any], seconds: float = 60) -> BatchOutcome:
    return pipeline.run(event["Records"], Deadline.after(seconds))


def assert_all_indexed_once(url: str, prefix: str, event: dict[str, Any], outcome: BatchOutcome) -> None:
    ids = indexed_ids(url, prefix)
    assert len(ids) == len(set(ids)), "no duplicates"
    assert set(ids) == event_ids(event)
    assert outcome.failed == []


def test_item_level_429s_are_retried_until_indexed(proxy: FaultProxy, prefix: str, s3: Any) -> None:
    event = batch()
    proxy.faults.reject_if = lambda doc_id: int(doc_id) % 3 == 0
    outcome = run(make_pipeline(proxy.url, prefix, s3), event)
    assert_all_indexed_once(proxy.url, prefix, event, outcome)
    first = proxy.calls[0]
    rejected = {i for i, s in zip(first.ids, first.item_statuses, strict=True) if s == 429}
    assert rejected, "the proxy rejected items inside an HTTP 200"
    retried = set(itertools.chain.from_iterable(c.ids for c in proxy.calls[1:]))
    assert retried == rejected, "only the failed items are sent again"
    assert outcome.index_report is not None and outcome.index_report.retried_items == len(rejected)
    assert dead_letters(s3) == []


@pytest.mark.parametrize("statuses", [[503], [502, 504], [429, 503, 502]])
def test_whole_request_5xx_and_429_are_retried(
    proxy: FaultProxy, prefix: str, s3: Any, statuses: list[int]
) -> None:
    event = batch(200)
    proxy.faults.statuses = list(statuses)
    outcome = run(make_pipeline(proxy.url, prefix, s3), event)
    assert_all_indexed_once(proxy.url, prefix, event, outcome)
    assert [c.answered for c in proxy.calls[: len(statuses) + 1]] == [*statuses, 200]


def test_timeouts_and_connection_resets_are_retried(proxy: FaultProxy, prefix: str, s3: Any) -> None:
    event = batch(200)
    proxy.faults.delay_seconds, proxy.faults.delays = 2.5, 1
    proxy.faults.resets = 1
    outcome = run(make_pipeline(proxy.url, prefix, s3, timeout=1.0), event)
    assert_all_indexed_once(proxy.url, prefix, event, outcome)
    assert proxy.calls[0].answered is None  # reset
    assert len(proxy.calls) >= 3  # reset, timed out, then indexed


def test_413_splits_the_body_and_resends(proxy: FaultProxy, prefix: str, s3: Any) -> None:
    event = batch(300)
    proxy.faults.max_body_bytes = 40_000
    outcome = run(make_pipeline(proxy.url, prefix, s3), event)
    assert_all_indexed_once(proxy.url, prefix, event, outcome)
    assert outcome.index_report is not None and outcome.index_report.splits > 0
    assert 413 in [c.answered for c in proxy.calls]


def test_deadline_reports_unindexed_records_and_redelivery_completes_without_duplicates(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event = batch(300)
    proxy.faults.statuses = [503] * 1000  # OpenSearch down for the whole invocation
    outcome = run(make_pipeline(proxy.url, prefix, s3), event, seconds=1.0)
    assert {str(r.record_id.sequence_number) for r in outcome.failed} == {
        r["kinesis"]["sequenceNumber"] for r in event["Records"]
    }
    assert outcome.countable_docs == []  # nothing counted: all of it comes back
    assert dead_letters(s3) == []  # transient trouble is never dead-lettered
    proxy.faults.statuses = []
    redelivered = run(make_pipeline(proxy.url, prefix, s3), event)
    assert_all_indexed_once(proxy.url, prefix, event, redelivered)


def test_partial_indexing_then_redelivery_counts_duplicates_and_counts_metrics_once(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event = batch(300)
    first = run(make_pipeline(proxy.url, prefix, s3), event)
    assert first.failed == [] and len(first.countable_docs) == len(first.docs)
    again = run(make_pipeline(proxy.url, prefix, s3), event)
    assert again.counts()["duplicates"] == len(again.docs)
    assert again.countable_docs == []  # a redelivered batch is not counted twice
    assert_all_indexed_once(proxy.url, prefix, event, again)


def test_poison_records_are_dead_lettered_and_the_rest_indexed(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event = load_event("kinesis/poison-batch.json")
    outcome = run(make_pipeline(proxy.url, prefix, s3), event)
    assert outcome.failed == []
    letters = dead_letters(s3)
    expect = load_event("kinesis/poison-batch.expect.json")
    bad = {
        str(r["sequenceNumber"]) if isinstance(r, dict) and "sequenceNumber" in r else None for r in expect
    }
    assert letters and all(letter.kind == "record" for letter in letters)
    assert {letter.reason for letter in letters} >= {
        "not_base64",
        "not_gzip",
        "not_json",
        "not_subscription_payload",
    }
    for letter in letters:
        assert letter.record_id.shard_id.startswith("shardId-")
        assert letter.record_id.sequence_number
        assert letter.data  # the record's bytes, kept for replay
    assert bad  # the expectation file names the records
    ids = indexed_ids(proxy.url, prefix)
    assert set(ids) == event_ids(event)
    assert outcome.counts()["dead_lettered"] == len(letters)


def test_content_rejection_is_indexed_in_safe_form_or_dead_lettered(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event = batch(100)
    ids = sorted(event_ids(event))
    once, twice = ids[:3], ids[3:5]
    proxy.faults.content_rejects = {**dict.fromkeys(once, 1), **dict.fromkeys(twice, 2)}
    outcome = run(make_pipeline(proxy.url, prefix, s3), event)
    assert outcome.failed == []
    client = OpenSearch(proxy.url)
    client.indices.refresh(index=f"{prefix}-*")
    for doc_id in once:
        hit = client.search(index=f"{prefix}-*", body={"query": {"term": {"log.record.uid": doc_id}}})[
            "hits"
        ]["hits"]
        assert len(hit) == 1 and "mapper_parsing_exception" in hit[0]["_source"]["lambda.rejection"]
        assert "body" in hit[0]["_source"]
    letters = dead_letters(s3)
    assert sorted(letter.document["log.record.uid"] for letter in letters if letter.document) == sorted(twice)
    assert set(indexed_ids(proxy.url, prefix)) | set(twice) == set(ids)
    counts = outcome.counts()
    assert counts["safe_form"] == 3 and counts["dead_lettered"] == 2


def test_real_mapping_conflict_goes_to_safe_form(opensearch_node: Any, prefix: str, s3: Any) -> None:
    event = batch(60)
    client = OpenSearch(opensearch_node.url)
    days = {d["@timestamp"][:10].replace("-", ".") for d in []} or {"2024.05.01"}
    for day in days:  # an index where "attributes" is a number: every structured line conflicts
        client.indices.create(
            index=f"{prefix}-{day}", body={"mappings": {"properties": {"attributes": {"type": "long"}}}}
        )
    outcome = run(make_pipeline(opensearch_node.url, prefix, s3), event)
    assert outcome.failed == []
    counts = outcome.counts()
    assert counts["safe_form"] > 0
    assert counts["indexed"] + counts["safe_form"] + counts["dead_lettered"] == counts["events"]
    assert set(indexed_ids(opensearch_node.url, prefix)) == event_ids(event)


def test_dead_letter_bucket_unavailable_fails_the_records_instead_of_losing_them(
    proxy: FaultProxy, prefix: str, aws_env: None
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")  # the bucket does not exist
    event = load_event("kinesis/poison-batch.json")
    outcome = run(make_pipeline(proxy.url, prefix, s3), event)
    failed = {r.record_id.sequence_number for r in outcome.failed}
    assert failed and all("dead-letter write failed" in (r.reason or "") for r in outcome.failed)
    assert len(failed) == sum(1 for r in outcome.records if r.dead_letters == 0 and not r.ok)


def test_dead_letter_objects_are_gzip_json_lines(proxy: FaultProxy, prefix: str, s3: Any) -> None:
    run(make_pipeline(proxy.url, prefix, s3), load_event("kinesis/poison-batch.json"))
    obj = s3.list_objects_v2(Bucket=BUCKET)["Contents"][0]
    assert obj["Key"].startswith("dead-letter/") and obj["Key"].endswith(".jsonl.gz")
    lines = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()).splitlines()
    first = json.loads(lines[0])
    assert {
        "kind",
        "reason",
        "detail",
        "shard_id",
        "sequence_number",
        "dead_lettered_at",
        "data_base64",
    } <= set(first)


# -- document identity: (log group, log stream, event id) ----------------------------------------


def stored_events(url: str, prefix: str) -> list[tuple[str, str, str]]:
    """(log group, log stream, event id) of every document under ``prefix``, one per document."""
    client = OpenSearch(url)
    client.indices.refresh(index=f"{prefix}-*")
    body = {"size": 10_000, "query": {"match_all": {}}, "_source": ["aws.*", "log.record.uid"]}
    hits = client.search(index=f"{prefix}-*", body=body)["hits"]["hits"]
    return sorted(
        (h["_source"]["aws.log.group"], h["_source"]["aws.log.stream"], h["_source"]["log.record.uid"])
        for h in hits
    )


def test_the_same_event_id_in_another_log_group_or_stream_is_another_document(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    """Cross-account destinations, replays, producers with their own ids: the same CloudWatch
    event id in another log group or log stream is another event. Each is indexed once under its
    own _id, and a redelivery of all of them is nothing but duplicates."""
    payloads = generate_payloads(events=60, seed=5, functions=2)
    first = payloads[0]
    other_group = {**first, "owner": "210987654321", "logGroup": f"{first['logGroup']}-replica"}
    other_stream = {**first, "logStream": first["logStream"].replace("[$LATEST]", "[$LATEST]0")}
    event = kinesis_event([*payloads, other_group, other_stream])
    sent = sorted(
        (p["logGroup"], p["logStream"], e["id"])
        for p in [*payloads, other_group, other_stream]
        for e in p["logEvents"]
    )

    outcome = run(make_pipeline(proxy.url, prefix, s3), event)

    assert outcome.failed == [] and dead_letters(s3) == []
    assert outcome.counts()["duplicates"] == 0
    assert stored_events(proxy.url, prefix) == sent
    again = run(make_pipeline(proxy.url, prefix, s3), event)
    assert again.failed == [] and again.counts()["duplicates"] == len(sent)
    assert stored_events(proxy.url, prefix) == sent


def test_a_409_for_a_different_stored_event_is_dead_lettered_never_a_duplicate(
    opensearch_node: Any, prefix: str, s3: Any
) -> None:
    """Whatever holds an event's _id (a hash collision, a document written by something else),
    a 409 counts as "already indexed" only when the stored document is that event."""
    event = batch(60)
    assert run(make_pipeline(opensearch_node.url, prefix, s3), event).failed == []
    client = OpenSearch(opensearch_node.url)
    client.indices.refresh(index=f"{prefix}-*")
    body = {"size": 1, "query": {"match_all": {}}}
    (hit,) = client.search(index=f"{prefix}-*", body=body)["hits"]["hits"]
    foreign = {**hit["_source"], "aws.log.group": "/aws/lambda/someone-else", "body": "another event"}
    client.index(index=hit["_index"], id=hit["_id"], body=foreign, refresh=True)

    again = run(make_pipeline(opensearch_node.url, prefix, s3), event)

    assert again.failed == []
    (letter,) = dead_letters(s3)
    assert (letter.kind, letter.reason) == ("document", "rejected")
    assert (
        letter.document is not None and letter.document["log.record.uid"] == hit["_source"]["log.record.uid"]
    )
    assert "held by a different event" in letter.detail and "someone-else" in letter.detail
    counts = again.counts()
    assert (counts["duplicates"], counts["dead_lettered"]) == (len(again.docs) - 1, 1)
    assert client.get(index=hit["_index"], id=hit["_id"])["_source"] == foreign  # left as it was


# -- dead letters: one object per record, the same on every delivery -----------------------------


def test_a_poison_record_redelivered_writes_the_same_dead_letter_not_a_new_one(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    """Kinesis (or an operator's replay) delivers the same poison records again: each record's
    dead letters are one object whose key is the record's arrival time, shard and sequence
    number, written again in place."""
    event = load_event("kinesis/poison-batch.json")
    first = run(make_pipeline(proxy.url, prefix, s3), event)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    letters = dead_letters(s3)
    poisoned = {(letter.record_id.shard_id, letter.record_id.sequence_number) for letter in letters}
    assert len(keys) == len(poisoned) == first.counts()["dead_lettered"]
    for key in keys:  # each object holds the letters of one record, named in its key
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        (record,) = {(x.record_id.shard_id, x.record_id.sequence_number) for x in decode_dead_letters(body)}
        assert record[0] in key and (record[1] in key or "~" in key)

    for _ in range(2):
        again = run(make_pipeline(proxy.url, prefix, s3), event)
        assert again.failed == [] and sorted(again.dead_letter_keys) == keys
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]) == keys
    assert sorted(map(_letter_identity, dead_letters(s3))) == sorted(map(_letter_identity, letters))


def _letter_identity(letter: Any) -> tuple[str, str, str, str, bytes]:
    rid = letter.record_id
    return (letter.kind, letter.reason, rid.shard_id, rid.sequence_number, letter.data or b"")


# -- a whole-request 400 that is not OpenSearch's -------------------------------------------------


def test_a_gateway_answering_400_to_every_request_fails_the_records_and_dead_letters_nothing(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    """A proxy or gateway in front of OpenSearch answering 400 (its own page, no OpenSearch error)
    to every request says nothing about the documents: a few tries, then Kinesis redelivers."""
    event = batch(200)
    proxy.faults.gateway_400s = 1000

    outcome = run(make_pipeline(proxy.url, prefix, s3), event)

    assert {str(r.record_id.sequence_number) for r in outcome.failed} == {
        r["kinesis"]["sequenceNumber"] for r in event["Records"]
    }
    assert dead_letters(s3) == [] and outcome.countable_docs == []
    assert [c.answered for c in proxy.calls] == [400] * (MAX_REFUSALS + 1)  # one body, never split
    proxy.faults.gateway_400s = 0
    assert_all_indexed_once(proxy.url, prefix, event, run(make_pipeline(proxy.url, prefix, s3), event))


def test_a_gateway_400_now_and_then_is_retried_and_everything_indexed(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event = batch(200)
    proxy.faults.gateway_400s = 2
    outcome = run(make_pipeline(proxy.url, prefix, s3), event)
    assert_all_indexed_once(proxy.url, prefix, event, outcome)
    assert dead_letters(s3) == []
    assert [c.answered for c in proxy.calls] == [400, 400, 200]
