"""Follow one transaction across functions: :func:`find_transaction`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX
from lambdalens.parsing.document import Document
from lambdalens.search.assemble import INIT_WINDOW, build_invocations, ordered, time_of
from lambdalens.search.errors import TransactionNotFound
from lambdalens.search.ids import normalize_key, trace_id_variants
from lambdalens.search.model import Transaction
from lambdalens.search.queries import (
    DEFAULT_PAGE_SIZE,
    Query,
    all_of,
    any_of,
    chunks,
    exact,
    has_value,
    search_documents,
    time_range,
)
from lambdalens.search.root_cause import find_root_cause
from lambdalens.search.since import iso_ms

TRACE = "traceId"
CORRELATION = "correlation_id"
REQUEST = "faas.invocation_id"
#: Rounds of following trace / correlation ids to further invocations.
DEFAULT_MAX_HOPS = 4
#: New ids followed per round at most (a batch consumer can touch many transactions).
MAX_IDS_PER_ROUND = 200
#: Cold-start instances whose init lines are looked up per request.
_INIT_CLAUSES = 100


@dataclass
class _Collector:
    """Runs the queries of one lookup and keeps every document once."""

    client: Any
    index: str
    since: datetime | None
    limit: int
    page_size: int
    docs: dict[tuple[str, str], Document] = field(default_factory=dict)
    truncated: bool = False

    def fetch(self, query: Query, accept: Callable[[Document], bool]) -> list[Document]:
        """The documents matching ``query`` that pass the exact check ``accept``; new ones are kept."""
        if self.since is not None:
            query = all_of(query, time_range(gte=iso_ms(self.since)))
        result = search_documents(self.client, self.index, query, limit=self.limit, page_size=self.page_size)
        self.truncated = self.truncated or result.truncated
        found = []
        for hit in result.hits:
            if accept(hit.source):
                self.docs.setdefault(hit.key, hit.source)
                found.append(hit.source)
        return found


def _invocation_key(doc: Document) -> tuple[str, str] | None:
    name, request_id = doc.get("faas.name"), doc.get(REQUEST)
    if isinstance(request_id, str) and request_id:
        return (name if isinstance(name, str) else "", request_id)
    return None


def _values(docs: Iterable[Document], field_name: str) -> set[str]:
    return {v for v in (d.get(field_name) for d in docs) if isinstance(v, str) and v}


def find_transaction(
    client: Any,
    key: str,
    *,
    index_prefix: str = DEFAULT_INDEX_PREFIX,
    since: datetime | None = None,
    limit: int = 10_000,
    max_hops: int = DEFAULT_MAX_HOPS,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Transaction:
    """Every document of the transaction ``key`` belongs to, across functions.

    Parameters
    ----------
    client:
        An ``opensearchpy.OpenSearch`` client (:func:`lambdalens.indexing.client.make_client`).
    key:
        A trace id (X-Ray ``1-5e34a614-10bd…`` or the 32-hex W3C form: both spellings are
        looked up), a request id (``faas.invocation_id``) or a Powertools correlation id.
    index_prefix:
        Daily indices ``<prefix>-YYYY.MM.DD`` are searched (``<prefix>-*``).
    since:
        Only documents at or after this instant (faster on large clusters).
    limit:
        At most this many documents in all; beyond it ``Transaction.truncated`` is set.
    max_hops:
        Rounds of following trace / correlation ids from the invocations found to others.

    How: the documents whose ``traceId``, ``correlation_id`` or ``faas.invocation_id`` is the
    key name the invocations (function, request id) it touches; then every document of those
    invocations is read, lines that carry no id included (the parser gives every line of an
    invocation its request id), plus the init lines of cold starts. The trace ids and
    correlation ids those documents carry lead to further invocations (the next hop: an SNS
    consumer, an async invoke), ``max_hops`` rounds at most. The root cause is chosen by
    :func:`lambdalens.search.root_cause.find_root_cause`.

    Raises
    ------
    ValueError
        ``key`` is empty or malformed.
    TransactionNotFound
        No document carries ``key``.
    lambdalens.search.errors.SearchError
        OpenSearch could not be reached or refused a query.

    Example::

        client = make_client(OpenSearchConfig(endpoint="https://search-logs-abc.eu-west-1.es.amazonaws.com"))
        tx = find_transaction(client, "1-66322ec0-96b34cc019d276c3df8f6c82", since=parse_since("2d"))
        if tx.root_cause is not None:
            print(tx.root_cause.function, tx.root_cause.request_id, tx.root_cause.evidence)
    """
    key = normalize_key(key)
    if limit < 1:
        raise ValueError(f"limit must be 1 or more, got {limit}")
    index = f"{index_prefix}-*"
    collector = _Collector(client, index, since, limit, page_size)
    traces = trace_id_variants(key)
    seed = collector.fetch(
        any_of(exact(TRACE, traces), exact(CORRELATION, [key]), exact(REQUEST, [key])),
        lambda d: has_value(d, TRACE, traces) or d.get(CORRELATION) == key or d.get(REQUEST) == key,
    )
    if not seed:
        raise TransactionNotFound(key, index, since)
    matched_by = tuple(
        name
        for name, hit in (
            (TRACE, any(has_value(d, TRACE, traces) for d in seed)),
            (CORRELATION, any(d.get(CORRELATION) == key for d in seed)),
            (REQUEST, any(d.get(REQUEST) == key for d in seed)),
        )
        if hit
    )
    known: set[tuple[str, str]] = set()
    pending = {k for k in map(_invocation_key, seed) if k is not None}
    followed_traces: set[str] = set(traces)
    followed_correlations: set[str] = {key}
    hops = 0
    while pending and not collector.truncated:
        _fetch_invocations(collector, pending)
        known |= pending
        pending = set()
        if hops >= max_hops:
            break
        docs = list(collector.docs.values())
        new_traces = {v for t in _values(docs, TRACE) for v in trace_id_variants(t)} - followed_traces
        new_correlations = _values(docs, CORRELATION) - followed_correlations
        if not new_traces and not new_correlations:
            break
        hops += 1
        new_traces = set(sorted(new_traces)[:MAX_IDS_PER_ROUND])
        new_correlations = set(sorted(new_correlations)[:MAX_IDS_PER_ROUND])
        followed_traces |= new_traces
        followed_correlations |= new_correlations
        clauses = [exact(f, vs) for f, vs in ((TRACE, new_traces), (CORRELATION, new_correlations)) if vs]
        found = collector.fetch(any_of(*clauses), _carries(new_traces, new_correlations))
        pending = {k for k in map(_invocation_key, found) if k is not None} - known
    _fetch_init_lines(collector)
    docs = ordered(collector.docs.values())
    truncated = collector.truncated or len(docs) > limit
    docs = docs[:limit]
    invocations, _ = build_invocations(docs)
    return Transaction(
        key=key,
        matched_by=matched_by,
        trace_ids=tuple(sorted(_values(docs, TRACE))),
        correlation_ids=tuple(sorted(_values(docs, CORRELATION))),
        invocations=tuple(invocations),
        documents=tuple(docs),
        root_cause=find_root_cause(invocations),
        truncated=truncated,
        hops_followed=hops,
    )


def _carries(traces: set[str], correlations: set[str]) -> Callable[[Document], bool]:
    return lambda d: has_value(d, TRACE, traces) or has_value(d, CORRELATION, correlations)


def _fetch_invocations(collector: _Collector, wanted: set[tuple[str, str]]) -> None:
    """Every document of the invocations ``wanted`` (request ids are unique; the function is checked)."""
    for ids in chunks(request_id for _, request_id in wanted):
        collector.fetch(exact(REQUEST, ids), lambda d: _invocation_key(d) in wanted)


def init_windows(docs: Iterable[Document]) -> list[tuple[str, datetime]]:
    """(log stream, START time) of each cold start among ``docs``."""
    windows = set()
    for doc in docs:
        instance = doc.get("faas.instance")
        if (
            doc.get("lambda.event_type") == "start"
            and doc.get("faas.coldstart") is True
            and isinstance(instance, str)
        ):
            windows.add((instance, time_of(doc)))
    return sorted(windows)


def init_lines_query(windows: list[tuple[str, datetime]]) -> Query:
    """Lines without a request id in the minute before each START, in the same log stream."""
    clauses = [
        all_of(exact("faas.instance", [instance]), time_range(iso_ms(at - INIT_WINDOW), iso_ms(at)))
        for instance, at in windows
    ]
    return all_of(any_of(*clauses), must_not=[{"exists": {"field": REQUEST}}])


def is_init_line(windows: list[tuple[str, datetime]]) -> Callable[[Document], bool]:
    """The exact check behind :func:`init_lines_query`."""

    def accept(doc: Document) -> bool:
        if doc.get(REQUEST):
            return False
        at = time_of(doc)
        return any(doc.get("faas.instance") == i and s - INIT_WINDOW <= at <= s for i, s in windows)

    return accept


def _fetch_init_lines(collector: _Collector) -> None:
    windows = init_windows(collector.docs.values())
    for start in range(0, len(windows), _INIT_CLAUSES):
        batch = windows[start : start + _INIT_CLAUSES]
        collector.fetch(init_lines_query(batch), is_init_line(batch))
