"""Bulk indexing that loses nothing and duplicates nothing.

* Bodies are cut by bytes and by count; an HTTP 413 splits the body in two and resends.
* Every item's status is read: OpenSearch answers HTTP 200 with ``errors: true`` and
  per-item 429s under load.
* ``create`` with ``_id`` from the event's log group, log stream and CloudWatch event id
  (:func:`~lambdalens.indexing.bulk_body.document_id`): a 409 means already indexed — once the
  stored document has been read back (``_mget``) and is the same event. One that is a different
  event is rejected (dead-lettered), never counted as a duplicate.
* Only failed items are retried — on 429, 502, 503, 504, timeouts and connection errors —
  with full-jitter backoff, while the Lambda has time left.
* A whole request answered 400 by something other than OpenSearch (a proxy or gateway: no
  OpenSearch error object) is not about the documents: it is retried like a transient failure,
  at most :data:`MAX_REFUSALS` times per call, then what is left is pending (redelivered).
* An item rejected for its content (400-class) is resent once in its safe form; if that is
  rejected too, it is returned as rejected for the dead-letter bucket.
* What the deadline leaves undone is returned as pending: the caller reports its records as
  batch item failures and Kinesis redelivers them (``_id`` keeps that idempotent).

Up to ``concurrency`` requests are in flight at once, each on a worker thread that only sends
it; the next body is serialised while they are out. Everything else — reading the answers,
splitting, safe forms, the report — happens on the calling thread, and a retry round starts
(after its backoff) only when every request of the round before has been answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from lambdalens.indexing.bulk_body import (
    DEFAULT_INDEX_PREFIX,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ITEMS,
    IDENTITY_FIELDS,
    build_chunks,
    document_id,
    index_for,
    same_event,
)
from lambdalens.indexing.client import RETRYABLE_STATUSES, BulkRequestError, PayloadTooLarge
from lambdalens.indexing.safe_form import safe_form
from lambdalens.parsing.document import Document
from lambdalens.retry import Backoff, Deadline

logger = logging.getLogger(__name__)

INDEXED = "indexed"
DUPLICATE = "duplicate"
SAFE_FORM = "safe_form"
REJECTED = "rejected"  # rejected even in safe form: dead-letter it
PENDING = "pending"  # not done before the deadline, or OpenSearch refused the request: redeliver

#: Whole-request 400s not from OpenSearch tolerated per :meth:`BulkIndexer.index` call.
MAX_REFUSALS = 3


#: What the caller does to a document before it is sent: ``prepare(position, document)``.
Prepare = Callable[[int, Document], object]


class Transport(Protocol):
    """Sends one ``_bulk`` body; called from several threads at once when ``concurrency`` > 1."""

    def send(self, body: bytes, timeout: float) -> dict[str, object]: ...

    def stored(
        self, refs: list[tuple[str, str]], fields: tuple[str, ...], timeout: float
    ) -> Sequence[Mapping[str, object] | None]:
        """``fields`` of the documents at ``refs`` (``(_index, _id)``); None where there is none."""
        ...


@dataclass
class IndexReport:
    """Outcome of one :meth:`BulkIndexer.index` call; ``status[i]`` is the outcome of ``docs[i]``."""

    status: list[str]
    reasons: dict[int, str] = field(default_factory=dict)
    requests: int = 0
    retried_items: int = 0  # documents sent again after a transient failure, each counted once
    retried_requests: int = 0
    splits: int = 0
    http_seconds: float = 0.0  # wall-clock time with at least one request in flight
    body_bytes: int = 0  # sent, before any compression by the client

    def count(self, outcome: str) -> int:
        return sum(1 for s in self.status if s == outcome)


@dataclass
class BulkIndexer:
    """Indexes documents through ``transport`` (see :class:`~lambdalens.indexing.client.BulkTransport`)."""

    transport: Transport
    index_prefix: str = DEFAULT_INDEX_PREFIX
    max_bytes: int = DEFAULT_MAX_BYTES
    max_items: int = DEFAULT_MAX_ITEMS
    request_timeout: float = 30.0
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.perf_counter
    concurrency: int = 1  # requests in flight at once (the parser's default: BULK_CONCURRENCY)

    def index(self, docs: list[Document], deadline: Deadline, prepare: Prepare | None = None) -> IndexReport:
        """Index ``docs``; ``prepare(i, docs[i])`` (redaction, truncation) runs once for every
        document, on this thread, just before its first serialisation — so while earlier
        requests are out — and, for those never sent, before this returns."""
        report = IndexReport(status=[PENDING] * len(docs))
        with ThreadPoolExecutor(max(1, self.concurrency), thread_name_prefix="lambdalens-bulk") as pool:
            call = _Call(self, docs, deadline, pool, report, prepare)
            call.run()
        call.prepare_rest()
        report.http_seconds = _covered(call.spans)
        return report


@dataclass(frozen=True)
class _Sent:
    """What one request came back with, and when it was out."""

    started: float
    ended: float
    answer: dict[str, object] | None = None
    error: BulkRequestError | None = None


def _send(indexer: BulkIndexer, body: bytes, timeout: float) -> _Sent:
    """Runs on a worker thread: the request and nothing else."""
    started = indexer.clock()
    try:
        answer = indexer.transport.send(body, timeout)
    except BulkRequestError as exc:
        return _Sent(started, indexer.clock(), error=exc)
    return _Sent(started, indexer.clock(), answer=answer)


@dataclass
class _Call:
    """The state of one :meth:`BulkIndexer.index` call; touched by the calling thread only."""

    indexer: BulkIndexer
    docs: list[Document]
    deadline: Deadline
    pool: Executor
    report: IndexReport
    prepare: Prepare | None = None
    prepared: int = 0  # documents before this position have been prepared
    variant: dict[int, Document] = field(default_factory=dict)  # safe forms of content-rejected documents
    retry: list[int] = field(default_factory=list)
    rejected_now: list[int] = field(default_factory=list)
    queue: list[list[int]] = field(default_factory=list)
    in_flight: dict[Future[_Sent], list[int]] = field(default_factory=dict)
    spans: list[tuple[float, float]] = field(default_factory=list)
    refusals: int = 0  # whole-request 400s not from OpenSearch so far

    def run(self) -> None:
        """Rounds until every document is settled, the retries are exhausted or time is up."""
        todo = list(range(len(self.docs)))
        retried: set[int] = set()
        attempt = 0
        while todo:
            self._send_round(todo)
            new_safe_forms: set[int] = set()
            for i in self.rejected_now:
                if i in self.variant:  # the safe form was rejected too
                    self.report.status[i] = REJECTED
                    continue
                self.variant[i] = safe_form(self.docs[i], self.report.reasons[i])
                new_safe_forms.add(i)
                self.retry.append(i)  # resend at once in its safe form
            if not self.retry:
                break
            if not new_safe_forms.issuperset(self.retry):  # something transient failed: back off first
                attempt += 1
                if not self.indexer.backoff.wait(attempt, self.deadline):
                    self._leave_pending(self.retry, "retries exhausted before the deadline")
                    break
                retried.update(i for i in self.retry if i not in new_safe_forms)
                self.report.retried_items = len(retried)
            todo = sorted(self.retry)

    def _send_round(self, todo: list[int]) -> None:
        """Send ``todo`` once; afterwards each item is settled, in ``retry`` or in ``rejected_now``."""
        self.retry, self.rejected_now, self.queue = [], [], [todo]
        while self.queue or self.in_flight:
            if not self.queue:  # what is left is out: its answers may split bodies again
                self._collect()
                continue
            group = self.queue.pop(0)
            if self.deadline.expired():
                while self.in_flight:
                    self._collect()
                self._leave_pending([i for g in [group, *self.queue] for i in g], "deadline")
                self.queue.clear()
                self.retry.clear()
                return
            self._send_group(group)

    def _send_group(self, group: list[int]) -> None:
        """Send ``group`` (indices into ``docs``) in as many bodies as the limits need.

        Each body is cut from the next ``max_items`` documents, as :func:`build_chunks` cuts a
        whole list, and serialised while the requests before it are out.
        """
        indexer = self.indexer
        start = 0
        while start < len(group):
            window = group[start : start + indexer.max_items]
            chunk = next(
                build_chunks(
                    [self._document(i) for i in window],
                    indexer.index_prefix,
                    indexer.max_bytes,
                    indexer.max_items,
                )
            )
            members = window[: len(chunk)]
            start += len(chunk)
            body = bytes(chunk.body)
            while len(self.in_flight) >= max(1, indexer.concurrency):
                self._collect()
            if self.deadline.expired():
                self._leave_pending(group[start - len(chunk) :], "deadline")
                return
            timeout = max(0.5, min(indexer.request_timeout, self.deadline.left_ms() / 1000))
            self.report.requests += 1
            self.report.body_bytes += len(body)
            self.in_flight[self.pool.submit(_send, indexer, body, timeout)] = members

    def _document(self, i: int) -> Document:
        """Document ``i`` as it is sent: its safe form once it has one, prepared before its first sending."""
        safe = self.variant.get(i)
        if safe is not None:
            return safe
        if i >= self.prepared:
            self._prepare_until(i + 1)
        return self.docs[i]

    def _prepare_until(self, end: int) -> None:
        """Prepare the documents up to ``end`` (the first round sends them in order)."""
        if self.prepare is not None:
            for position in range(self.prepared, end):
                self.prepare(position, self.docs[position])
        self.prepared = max(self.prepared, end)

    def prepare_rest(self) -> None:
        """Prepare the documents never sent (the deadline came first): the caller sees every one prepared."""
        self._prepare_until(len(self.docs))

    def _collect(self) -> None:
        """Wait for at least one request in flight and read what came back."""
        done, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            members = self.in_flight.pop(future)
            sent = future.result()
            self.spans.append((sent.started, sent.ended))
            if sent.error is None:
                assert sent.answer is not None
                self._read_items(members, sent.answer)
            else:
                self._failed(members, sent.error)

    def _failed(self, members: list[int], exc: BulkRequestError) -> None:
        report = self.report
        if isinstance(exc, PayloadTooLarge):
            self._split_or_reject(members, str(exc))
        elif exc.refused and self.refusals >= MAX_REFUSALS:
            logger.error(
                "bulk request refused %d times, leaving it for redelivery: %s", self.refusals + 1, exc
            )
            self._leave_pending(members, str(exc))
        elif exc.retryable:
            self.refusals += exc.refused
            report.retried_requests += 1
            self.retry.extend(members)
            for i in members:
                report.reasons[i] = str(exc)
        elif exc.status == 400:  # a body OpenSearch cannot read: isolate the item that breaks it
            self._split_or_reject(members, str(exc))
        else:  # 401/403/404/...: a configuration problem, not the data's: redeliver later
            logger.error("bulk request refused: %s", exc)
            self._leave_pending(members, str(exc))

    def _read_items(self, members: list[int], answer: dict[str, object]) -> None:
        report = self.report
        items = answer.get("items")
        if not isinstance(items, list) or len(items) != len(members):
            # Cannot tell which item is which: resend them all (409s make that safe).
            reason = (
                f"bulk answer had {len(items) if isinstance(items, list) else 'no'} items for {len(members)}"
            )
            for i in members:
                report.reasons[i] = reason
            self.retry.extend(members)
            return
        conflicts: list[int] = []
        for i, item in zip(members, items, strict=True):
            result = next(iter(item.values())) if isinstance(item, dict) and item else {}
            status = result.get("status", 0) if isinstance(result, dict) else 0
            if 200 <= status < 300:
                report.status[i] = SAFE_FORM if i in self.variant else INDEXED
            elif status == 409:
                conflicts.append(i)
            elif status in RETRYABLE_STATUSES:
                report.reasons[i] = f"HTTP {status} {_error_text(result)}"
                self.retry.append(i)
            else:
                report.reasons[i] = f"rejected: HTTP {status} {_error_text(result)}"
                self.rejected_now.append(i)
        if conflicts:
            self._check_conflicts(conflicts)

    def _check_conflicts(self, conflicts: list[int]) -> None:
        """Items answered 409: duplicates when the stored document is the same event; rejected
        when it is a different one; sent again when it cannot be read (or is gone)."""
        report, indexer = self.report, self.indexer
        docs = [self._document(i) for i in conflicts]
        refs = [(index_for(indexer.index_prefix, d["@timestamp"]), document_id(d)) for d in docs]
        timeout = max(0.5, min(indexer.request_timeout, self.deadline.left_ms() / 1000))
        try:
            stored = indexer.transport.stored(refs, IDENTITY_FIELDS, timeout)
        except BulkRequestError as exc:
            for i in conflicts:
                report.reasons[i] = f"409, and the stored document could not be read: {exc}"
            self.retry.extend(conflicts)
            return
        for i, doc, (index, doc_id), source in zip(conflicts, docs, refs, stored, strict=True):
            if source is None:
                report.reasons[i] = f"409, but nothing is stored at {index}/{doc_id}"
                self.retry.append(i)
            elif same_event(doc, source):
                report.status[i] = DUPLICATE
            else:
                report.status[i] = REJECTED
                report.reasons[i] = (
                    f"rejected: _id {doc_id} in {index} is held by a different event "
                    f"({', '.join(f'{k}={source.get(k)!r}' for k in IDENTITY_FIELDS)})"
                )[:1000]

    def _split_or_reject(self, members: list[int], reason: str) -> None:
        if len(members) > 1:
            self.report.splits += 1
            half = len(members) // 2
            self.queue[:0] = [members[:half], members[half:]]
        else:
            self.report.reasons[members[0]] = f"rejected: {reason}"
            self.rejected_now.append(members[0])

    def _leave_pending(self, members: list[int], reason: str) -> None:
        for i in members:
            if self.report.status[i] == PENDING:
                self.report.reasons[i] = reason


def _covered(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one of ``spans`` (overlapping requests count once)."""
    total = 0.0
    end = float("-inf")
    for start, stop in sorted(spans):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def _error_text(result: object) -> str:
    if not isinstance(result, dict):
        return ""
    error = result.get("error")
    if isinstance(error, dict):
        return f"{error.get('type', '')}: {str(error.get('reason', ''))[:300]}"
    return str(error or "")[:300]
