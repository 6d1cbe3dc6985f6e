"""Back-pressure, for real: a dedicated OpenSearch node with one write thread and a write queue of
one rejects shard writes with 429, and the pipeline must still index every event exactly once.

No proxy fakes anything here (tests/indexing/test_faults.py keeps the faults a node cannot be
made to produce: resets, timeouts, 5xx, 413). The rejections are made certain by construction:
the indices of these tests have 8 shards, so one ``_bulk`` request becomes 8 shard writes
submitted at once to a pool that holds 2 (one running, one queued) — every first request is
answered HTTP 200 with ``errors: true`` and 429 ``rejected_execution_exception`` items
(Elasticsearch's ``es_rejected_execution_exception``), and concurrent pipelines make more. Every ``_bulk`` request is recorded at the HTTP connection,
under the production client, with its status, items and times.
"""

from __future__ import annotations

import gzip
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from opensearchpy import OpenSearch
from opensearchpy.exceptions import TransportError

from handlers.test_parser_handler import emf_lines, value
from indexing.test_faults import BUCKET, dead_letters, event_ids, indexed_ids
from lambdalens.bench.workload import generate_payloads, kinesis_event
from lambdalens.config import OpenSearchConfig
from lambdalens.handlers import parser as parser_handler
from lambdalens.indexing.bulk_body import event_id_of
from lambdalens.indexing.client import BulkTransport, make_client
from lambdalens.indexing.dead_letter import DeadLetterWriter
from lambdalens.indexing.indexer import BulkIndexer
from lambdalens.local_opensearch import EngineUnavailable, LocalOpenSearch
from lambdalens.pipeline import BatchOutcome, Pipeline
from lambdalens.retry import Backoff, Deadline
from testing_support import FakeContext

pytestmark = pytest.mark.integration

SHARDS = 8
PIPELINES = 4
BASE_MS, MAX_MS = 20, 400


@pytest.fixture(scope="module")
def busy_node() -> Iterator[LocalOpenSearch]:
    """A node of its own: 1 write thread, a write queue of 1 (stopped at the end of the module)."""
    try:
        node = LocalOpenSearch.start(
            settings={"thread_pool.write.size": 1, "thread_pool.write.queue_size": 1}, heap="512m"
        )
    except EngineUnavailable as exc:
        pytest.fail(f"the back-pressure tests need the local OpenSearch: {exc}", pytrace=False)
    with node:
        yield node


@pytest.fixture
def prefix(busy_node: LocalOpenSearch) -> str:
    """A prefix of this test's own, whose indices get 8 shards and no replica."""
    name = f"backpressure-{uuid.uuid4().hex[:8]}"
    OpenSearch(busy_node.url).indices.put_index_template(
        name=name,
        body={
            "index_patterns": [f"{name}-*"],
            "priority": 500,
            "template": {"settings": {"number_of_shards": SHARDS, "number_of_replicas": 0}},
        },
    )
    return name


@pytest.fixture
def s3(aws_env: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


# ---------------------------------------------------------------------- recording
@dataclass
class BulkCall:
    """One ``_bulk`` request as it went over HTTP."""

    pipeline: str
    started: float
    ended: float
    http_status: int | None
    ids: list[str]
    statuses: list[int] = field(default_factory=list)
    errors: bool | None = None
    error_types: set[str] = field(default_factory=set)

    def answered(self, doc_id: str) -> int | None:
        """The status this request gave the document: its item's, or the whole request's."""
        if not self.statuses:
            return self.http_status
        return self.statuses[self.ids.index(doc_id)]


class BulkLog:
    """Every ``_bulk`` request of the clients it wraps, recorded at their HTTP connection."""

    def __init__(self) -> None:
        self.calls: list[BulkCall] = []
        self._lock = threading.Lock()

    def wrap(self, client: Any, pipeline: str) -> None:
        for connection in client.transport.connection_pool.connections:
            connection.perform_request = self._recording(connection.perform_request, pipeline)

    def _recording(self, send: Callable[..., Any], pipeline: str) -> Callable[..., Any]:
        def perform_request(method: str, url: str, params: Any = None, body: Any = None, **kw: Any) -> Any:
            if not url.endswith("/_bulk"):
                return send(method, url, params, body, **kw)
            call = BulkCall(pipeline, time.monotonic(), 0.0, None, _body_ids(body))
            try:
                status, headers, data = send(method, url, params, body, **kw)
            except TransportError as exc:
                call.http_status = exc.status_code if isinstance(exc.status_code, int) else None
                raise
            else:
                call.http_status = status
                _read_answer(call, data)
            finally:
                call.ended = time.monotonic()
                with self._lock:
                    self.calls.append(call)
            return status, headers, data

        return perform_request

    def rejections(self) -> int:
        """Rejected documents: 429 items, and the documents of requests answered HTTP 429."""
        with self._lock:
            return sum(len(c.ids) if c.http_status == 429 else c.statuses.count(429) for c in self.calls)

    def sends_of(self, pipeline: str) -> dict[str, list[BulkCall]]:
        """Each document's requests, in the order they were sent."""
        out: dict[str, list[BulkCall]] = {}
        for call in sorted((c for c in self.calls if c.pipeline == pipeline), key=lambda c: c.started):
            for doc_id in call.ids:
                out.setdefault(doc_id, []).append(call)
        return out


def _body_ids(body: bytes | str | None) -> list[str]:
    data = body.encode() if isinstance(body, str) else body or b""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    lines = data.splitlines()
    return [event_id_of(str(next(iter(json.loads(line).values()))["_id"])) for line in lines[0::2]]


def _read_answer(call: BulkCall, data: bytes | str) -> None:
    answer = json.loads(data)
    call.errors = answer.get("errors")
    for item in answer.get("items", []):
        result = next(iter(item.values()))
        call.statuses.append(int(result.get("status", 0)))
        if "error" in result:
            call.error_types.add(str(result["error"].get("type")))


def write_rejected(url: str) -> int:
    """The node's own count of rejected write tasks."""
    nodes = OpenSearch(url).nodes.stats(metric="thread_pool")["nodes"]
    return sum(int(n["thread_pool"]["write"]["rejected"]) for n in nodes.values())


# ---------------------------------------------------------------------- pipelines
@dataclass
class Run:
    """One concurrent pipeline: its batch, the sleeps its backoff chose, its outcome."""

    name: str
    event: dict[str, Any]
    sleeps: list[float] = field(default_factory=list)
    outcome: BatchOutcome | None = None
    error: BaseException | None = None


def make_pipeline(url: str, prefix: str, s3: Any, run: Run, log: BulkLog) -> Pipeline:
    client = make_client(OpenSearchConfig(endpoint=url, auth="none", timeout_seconds=10))
    log.wrap(client, run.name)

    def sleep(seconds: float) -> None:
        run.sleeps.append(seconds)
        time.sleep(seconds)

    backoff = Backoff(BASE_MS, MAX_MS, max_attempts=40, rng=random.Random(run.name), sleep=sleep)
    indexer = BulkIndexer(BulkTransport(client), index_prefix=prefix, max_items=500, backoff=backoff)
    return Pipeline(indexer=indexer, dead_letters=DeadLetterWriter(s3, BUCKET), region="us-east-1")


def run_concurrently(runs: list[Run], pipelines: list[Pipeline], seconds: float) -> None:
    start = threading.Barrier(len(runs))

    def work(run: Run, pipeline: Pipeline) -> None:
        try:
            start.wait()
            run.outcome = pipeline.run(run.event["Records"], Deadline.after(seconds))
        except BaseException as exc:  # re-raised in the test's thread
            run.error = exc

    threads = [
        threading.Thread(target=work, args=pair, name=pair[0].name)
        for pair in zip(runs, pipelines, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for run in runs:
        if run.error is not None:
            raise run.error


def batches(count: int) -> list[Run]:
    """Batches of real-format Kinesis records, each its own events (ids disjoint, checked)."""
    runs = [
        Run(f"shard-{n}", kinesis_event(generate_payloads(events=300, seed=101 + n, functions=6)))
        for n in range(count)
    ]
    ids = [event_ids(r.event) for r in runs]
    assert sum(map(len, ids)) == len(set().union(*ids)), "the batches share no event"
    return runs


# ---------------------------------------------------------------------- tests
def test_concurrent_pipelines_index_everything_once_through_real_429s(
    busy_node: LocalOpenSearch, prefix: str, s3: Any
) -> None:
    runs, log = batches(PIPELINES), BulkLog()
    pipelines = [make_pipeline(busy_node.url, prefix, s3, run, log) for run in runs]
    rejected_before = write_rejected(busy_node.url)
    run_concurrently(runs, pipelines, seconds=60)

    outcomes = [r.outcome for r in runs if r.outcome is not None]
    assert len(outcomes) == len(runs)
    assert [o.failed for o in outcomes] == [[]] * len(runs), "no batch item failures"
    assert dead_letters(s3) == [] and sum(o.counts()["dead_lettered"] for o in outcomes) == 0
    ids = indexed_ids(busy_node.url, prefix)
    sent = set().union(*(event_ids(r.event) for r in runs))
    assert len(ids) == len(set(ids)), "no duplicates"
    assert set(ids) == sent, "nothing lost"
    assert sum(o.counts()["indexed"] for o in outcomes) == len(sent), "each document counted indexed once"
    assert sum(o.counts()["duplicates"] for o in outcomes) == 0

    # The node itself rejected, inside HTTP 200 answers with errors: true (what Vector missed).
    assert write_rejected(busy_node.url) > rejected_before
    rejecting = [c for c in log.calls if 429 in c.statuses]
    assert rejecting, "the node answered 429 items"
    assert all(c.http_status == 200 and c.errors is True for c in rejecting)
    assert set().union(*(c.error_types for c in rejecting)) == {"rejected_execution_exception"}
    # Every rejected document was sent again, and counted Retried once however often it was.
    resent = {d for run in runs for d, calls in log.sends_of(run.name).items() if len(calls) > 1}
    assert sum(o.counts()["retried"] for o in outcomes) == len(resent) > 0
    for run in runs:
        assert_backed_off(run, log)


def assert_backed_off(run: Run, log: BulkLog) -> None:
    """Before retry ``n`` the pipeline slept the backoff's delay for attempt ``n`` (full jitter
    under a cap that doubles from BASE_MS to MAX_MS), and a document's ``n``-th resend left at
    least that long after the answer that rejected it."""
    sends = log.sends_of(run.name)
    rounds = max(len(calls) for calls in sends.values()) - 1
    schedule = Backoff(BASE_MS, MAX_MS, rng=random.Random(run.name))
    assert run.sleeps == [schedule.delay_ms(n) / 1000 for n in range(1, rounds + 1)]
    for doc_id, calls in sends.items():
        for n in range(1, len(calls)):
            before, after = calls[n - 1], calls[n]
            assert before.answered(doc_id) == 429, "only rejected documents are sent again"
            assert after.started - before.ended >= run.sleeps[n - 1]
        assert calls[-1].answered(doc_id) == 201


class TimeRunsOutAtFirstRejection(FakeContext):
    """A Lambda invocation whose time is up as soon as the node has rejected a write."""

    def __init__(self, log: BulkLog) -> None:
        super().__init__()
        self.log = log

    def get_remaining_time_in_millis(self) -> int:
        return 0 if self.log.rejections() else super().get_remaining_time_in_millis()


def test_rejected_past_the_deadline_is_redelivered_and_indexed_once(
    busy_node: LocalOpenSearch, prefix: str, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = kinesis_event(generate_payloads(events=300, seed=201, functions=6))
    env = {
        "OPENSEARCH_ENDPOINT": busy_node.url,
        "OPENSEARCH_AUTH": "none",
        "DEAD_LETTER_BUCKET": BUCKET,
        "INDEX_PREFIX": prefix,
        "AWS_REGION": "us-east-1",
        "DEADLINE_MARGIN_MS": "0",
        "RETRY_BASE_MS": str(BASE_MS),
        "RETRY_MAX_MS": str(MAX_MS),
        "FUNCTION_ARCHITECTURES": "{}",
    }
    rt = parser_handler.build_runtime(env)
    log = BulkLog()
    log.wrap(rt.pipeline.indexer.transport.client, "handler")
    rejected_before = write_rejected(busy_node.url)

    response = parser_handler.handle(event, TimeRunsOutAtFirstRejection(log), rt)
    first = set(indexed_ids(busy_node.url, prefix))
    incomplete = [r for r in event["Records"] if not event_ids({"Records": [r]}) <= first]
    assert first and incomplete, "the node took some documents and rejected others"
    assert write_rejected(busy_node.url) > rejected_before
    assert response == {
        "batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in incomplete]
    }
    assert dead_letters(s3) == [], "back-pressure is never dead-lettered"
    stats = pipeline_stats(capsys)
    assert stats["Indexed"] == len(first) and stats["BatchItemFailures"] == len(incomplete)
    assert stats["Retried"] == 0, "time ran out before any document was sent again"

    # Kinesis redelivers from the lowest failed sequence number, with time to spare.
    redelivered = {"Records": event["Records"][event["Records"].index(incomplete[0]) :]}
    again = parser_handler.handle(redelivered, FakeContext(), rt)
    assert again == {"batchItemFailures": []}
    ids = indexed_ids(busy_node.url, prefix)
    assert len(ids) == len(set(ids)) and set(ids) == event_ids(event)
    stats = pipeline_stats(capsys)
    assert stats["Duplicates"] == len(event_ids(redelivered) & first)
    assert stats["Indexed"] == len(event_ids(event) - first)


def pipeline_stats(capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    """The pipeline health metrics of the last invocation (EMF on stdout)."""
    records = [r for r in emf_lines(capsys.readouterr().out) if "Pipeline" in r and "Indexed" in r]
    assert len(records) == 1
    return {
        name: value(records[0], name) for name in ("Indexed", "Duplicates", "Retried", "BatchItemFailures")
    }
