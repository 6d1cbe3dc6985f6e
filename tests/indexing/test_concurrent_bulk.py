"""Several ``_bulk`` requests in flight at once (``BULK_CONCURRENCY``), for real: the pipeline
against the real node behind the fault-injecting proxy, with small bodies so that one batch is
many requests. Whatever goes wrong — 429 items, 5xx, resets and timeouts, 413, content
rejections, the deadline — every event is indexed exactly once or dead-lettered, and counted once.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import boto3
import pytest
from opensearchpy import OpenSearch

from indexing.fault_proxy import FaultProxy
from indexing.test_faults import BUCKET, batch, dead_letters, event_ids, indexed_ids, run
from lambdalens.bench.workload import generate_payloads, kinesis_event
from lambdalens.config import ENV_BULK_CONCURRENCY, OpenSearchConfig
from lambdalens.decoding import iter_kinesis_event
from lambdalens.handlers import parser as parser_handler
from lambdalens.indexing.client import BulkTransport, make_client
from lambdalens.indexing.dead_letter import DeadLetterWriter
from lambdalens.indexing.indexer import BulkIndexer
from lambdalens.parsing import Document, parse_payloads
from lambdalens.pipeline import BatchOutcome, Pipeline
from lambdalens.redaction import Redactor
from lambdalens.retry import Backoff
from lambdalens.settings import SettingsError

CONCURRENCY = 3
ITEMS = 40  # documents per request: a batch of 600 events is 15 requests


class CountingTransport:
    """The production transport, counting the requests in flight; the first ``meet`` requests
    wait for each other, so they are provably out at the same time (or the barrier breaks)."""

    def __init__(self, inner: BulkTransport, meet: int) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.in_flight = self.most = self.sent = 0
        self.barrier = threading.Barrier(meet, timeout=60)
        self.meet = meet

    def send(self, body: bytes, timeout: float) -> dict[str, Any]:
        with self.lock:
            self.in_flight += 1
            self.sent += 1
            self.most = max(self.most, self.in_flight)
            first = self.sent <= self.meet
        try:
            if first:
                self.barrier.wait()
            return self.inner.send(body, timeout)
        finally:
            with self.lock:
                self.in_flight -= 1

    def stored(
        self, refs: list[tuple[str, str]], fields: tuple[str, ...], timeout: float
    ) -> list[dict[str, Any] | None]:
        return self.inner.stored(refs, fields, timeout)


@pytest.fixture
def proxy(opensearch_node: Any) -> Iterator[FaultProxy]:
    with FaultProxy(opensearch_node.url) as p:
        yield p


@pytest.fixture
def prefix() -> str:
    return f"concurrent-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def s3(aws_env: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def make_pipeline(
    url: str,
    prefix: str,
    s3: Any,
    timeout: float = 5.0,
    compress: bool = False,
    hook: Callable[[Document], Mapping[str, int]] | None = None,
) -> tuple[Pipeline, CountingTransport]:
    config = OpenSearchConfig(endpoint=url, auth="none", timeout_seconds=timeout, compress=compress)
    transport = CountingTransport(BulkTransport(make_client(config, connections=CONCURRENCY)), CONCURRENCY)
    indexer = BulkIndexer(
        transport,
        index_prefix=prefix,
        max_items=ITEMS,
        request_timeout=timeout,
        backoff=Backoff(base_ms=10, max_ms=50, rng=random.Random(1)),
        concurrency=CONCURRENCY,
    )
    pipeline = Pipeline(
        indexer=indexer, dead_letters=DeadLetterWriter(s3, BUCKET), region="us-east-1", document_hook=hook
    )
    return pipeline, transport


def assert_exactly_once(url: str, prefix: str, event: dict[str, Any], outcome: BatchOutcome) -> None:
    ids = indexed_ids(url, prefix)
    assert len(ids) == len(set(ids)), "no duplicates"
    assert set(ids) == event_ids(event), "nothing lost"
    assert outcome.failed == []
    counts = outcome.counts()
    assert counts["indexed"] + counts["safe_form"] == counts["events"] == len(ids)


def test_requests_are_in_flight_together_and_never_more_than_the_setting(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event = batch(600)
    pipeline, transport = make_pipeline(proxy.url, prefix, s3)
    outcome = run(pipeline, event)
    assert_exactly_once(proxy.url, prefix, event, outcome)
    assert transport.most == CONCURRENCY  # the first three met at the barrier
    report = outcome.index_report
    assert report is not None and report.requests == transport.sent == len(proxy.calls) > CONCURRENCY
    assert report.body_bytes > 0 and report.http_seconds > 0


def test_gzip_compressed_bodies_are_indexed_once(proxy: FaultProxy, prefix: str, s3: Any) -> None:
    event = batch(600)
    proxy.faults.reject_if = lambda doc_id: int(doc_id) % 5 == 0
    pipeline, _ = make_pipeline(proxy.url, prefix, s3, compress=True)
    outcome = run(pipeline, event)
    assert_exactly_once(proxy.url, prefix, event, outcome)
    assert outcome.counts()["retried"] > 0


def test_item_429s_and_whole_request_failures_while_others_are_out(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event = batch(600)
    proxy.faults.reject_if = lambda doc_id: int(doc_id) % 4 == 0
    proxy.faults.statuses = [503, 429, 502]
    pipeline, _ = make_pipeline(proxy.url, prefix, s3)
    outcome = run(pipeline, event)
    assert_exactly_once(proxy.url, prefix, event, outcome)
    sends: dict[str, int] = {}
    for call in proxy.calls:
        for doc_id in call.ids:
            sends[doc_id] = sends.get(doc_id, 0) + 1
    resent = {doc_id for doc_id, n in sends.items() if n > 1}
    assert resent, "the proxy made some documents fail"
    assert outcome.counts()["retried"] == len(resent), "each document sent again counted once"
    assert dead_letters(s3) == []


def test_resets_timeouts_and_413_splits_while_others_are_out(proxy: FaultProxy, prefix: str, s3: Any) -> None:
    event = batch(600)
    proxy.faults.resets = 2
    proxy.faults.delay_seconds, proxy.faults.delays = 2.5, 1
    proxy.faults.max_body_bytes = 30_000  # about 25 documents: every 40-document body is split
    pipeline, _ = make_pipeline(proxy.url, prefix, s3, timeout=1.0)
    outcome = run(pipeline, event)
    assert_exactly_once(proxy.url, prefix, event, outcome)
    answers = [c.answered for c in proxy.calls]
    assert None in answers and 413 in answers
    assert outcome.index_report is not None and outcome.index_report.splits > 0


def test_content_rejections_go_to_safe_form_or_dead_letters_once(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event = batch(600)
    ids = sorted(event_ids(event))
    once, twice = ids[::97], ids[5::151]
    proxy.faults.content_rejects = {**dict.fromkeys(once, 1), **dict.fromkeys(twice, 2)}
    pipeline, _ = make_pipeline(proxy.url, prefix, s3)
    outcome = run(pipeline, event)
    assert outcome.failed == []
    counts = outcome.counts()
    assert counts["safe_form"] == len(once) and counts["dead_lettered"] == len(twice)
    letters = dead_letters(s3)
    assert sorted(letter.document["log.record.uid"] for letter in letters if letter.document) == sorted(twice)
    indexed = indexed_ids(proxy.url, prefix)
    assert len(indexed) == len(set(indexed)) and set(indexed) == set(ids) - set(twice)


def test_deadline_leaves_the_rest_pending_and_redelivery_completes_without_duplicates(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event = batch(600)
    proxy.faults.statuses = [503] * 10_000  # down for the whole invocation
    pipeline, _ = make_pipeline(proxy.url, prefix, s3)
    outcome = run(pipeline, event, seconds=1.0)
    assert {str(r.record_id.sequence_number) for r in outcome.failed} == {
        r["kinesis"]["sequenceNumber"] for r in event["Records"]
    }
    assert outcome.countable_docs == [] and dead_letters(s3) == []
    proxy.faults.statuses = []
    again, _ = make_pipeline(proxy.url, prefix, s3)
    assert_exactly_once(proxy.url, prefix, event, run(again, event))


SECRET = "hunter2-Secret"


def leaky_batch() -> dict[str, Any]:
    """600 real-format events, the application's lines logging a password, one of them 40,000
    characters long."""
    payloads = generate_payloads(events=600, seed=3, functions=6)
    for payload in payloads:
        for event in payload["logEvents"]:
            if "processed order" in event["message"]:
                event["message"] = event["message"].replace("processed order", f"password={SECRET} order")
    payloads[5]["logEvents"][0]["message"] = f"password={SECRET} " + "x" * 40_000
    return kinesis_event(payloads)


def redacted_first(event: dict[str, Any]) -> dict[str, int]:
    """The redaction counts of redacting every document of the batch before indexing any."""
    payloads = [p for r in iter_kinesis_event(event) if hasattr(r, "payloads") for p in r.payloads]
    counts: Counter[str] = Counter()
    redactor = Redactor()
    for doc in parse_payloads(payloads, region="us-east-1"):
        counts.update(parser_handler.redact_parsed(redactor, doc))
    return dict(counts)


class CountingHook:
    """The handler's redaction, counting the documents it sees."""

    def __init__(self) -> None:
        self.redactor = Redactor()
        self.seen: Counter[str] = Counter()

    def __call__(self, doc: Document) -> Mapping[str, int]:
        self.seen[str(doc["log.record.uid"])] += 1
        return parser_handler.redact_parsed(self.redactor, doc)


def test_every_document_is_redacted_once_before_it_is_sent(proxy: FaultProxy, prefix: str, s3: Any) -> None:
    event, hook = leaky_batch(), CountingHook()
    pipeline, _ = make_pipeline(proxy.url, prefix, s3, hook=hook)
    outcome = run(pipeline, event)
    assert_exactly_once(proxy.url, prefix, event, outcome)
    assert set(hook.seen.values()) == {1} and len(hook.seen) == len(outcome.docs)
    assert outcome.redactions == redacted_first(event) and outcome.redactions["password"] > 200
    hits = OpenSearch(proxy.url).search(index=f"{prefix}-*", body={"size": 10_000})["hits"]["hits"]
    assert len(hits) == len(outcome.docs) and SECRET not in json.dumps(hits)
    (letter,) = dead_letters(s3)  # the long one: indexed cut, whole (and redacted) in the bucket
    assert letter.reason == "truncated" and SECRET not in json.dumps(letter.document)


def test_documents_the_deadline_leaves_unsent_are_redacted_and_counted_too(
    proxy: FaultProxy, prefix: str, s3: Any
) -> None:
    event, hook = leaky_batch(), CountingHook()
    proxy.faults.statuses = [503] * 10_000
    pipeline, _ = make_pipeline(proxy.url, prefix, s3, hook=hook)
    outcome = run(pipeline, event, seconds=1.0)
    assert len(outcome.failed) == len(event["Records"])
    assert set(hook.seen.values()) == {1} and len(hook.seen) == len(outcome.docs)
    assert outcome.redactions == redacted_first(event)
    assert outcome.counts()["truncated"] == 1 and [d.reason for d in dead_letters(s3)] == ["truncated"]


def test_the_handler_sends_as_many_requests_at_once_as_bulk_concurrency_says(aws_env: None) -> None:
    env = {
        "OPENSEARCH_ENDPOINT": "http://127.0.0.1:9",
        "OPENSEARCH_AUTH": "none",
        "DEAD_LETTER_BUCKET": BUCKET,
        "AWS_REGION": "us-east-1",
    }
    rt = parser_handler.build_runtime({**env, ENV_BULK_CONCURRENCY: "3"})
    assert rt.pipeline.indexer.concurrency == 3
    for bad in ("0", "17", "two"):
        with pytest.raises(SettingsError, match=ENV_BULK_CONCURRENCY):
            parser_handler.build_runtime({**env, ENV_BULK_CONCURRENCY: bad})
