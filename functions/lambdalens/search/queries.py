"""Queries and pagination over the daily log indices.

Mappings: with the lambdalens index template ids and names are ``keyword`` fields; an index
created without it (dynamic mapping) has them as ``text`` with a ``.keyword`` sub-field. Every
exact lookup here is a ``bool.should`` of a ``term`` on the field and one on ``field.keyword``:
the first matches under the template, the second under dynamic mapping (an unmapped field
matches nothing and is no error), so the same query works on both and on a mix of daily indices.
A ``term`` on an analysed ``text`` field can match a one-token value loosely (``checkout`` in
``checkout-v2``), so callers check every hit exactly with :func:`has_value` as well.

Pagination (:func:`search_documents`): ``search_after`` on ``@timestamp`` then ``_id`` (the
CloudWatch event id, unique), inside a point in time (PIT) when more than one page is needed
and the cluster offers PIT (OpenSearch 2.4+; without it the pages are read without one).
Should the cluster refuse to sort on ``_id`` (``indices.id_field_data.enabled: false``), a
sorted scroll is used instead. Either way no more than ``limit`` documents are read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lambdalens.search.errors import SearchRequestFailed, SearchUnavailable

#: Documents per request (OpenSearch's ``index.max_result_window`` is 10 000 by default).
DEFAULT_PAGE_SIZE = 2_000
KEEP_ALIVE = "2m"
#: Values per ``terms`` clause; larger sets are split over several requests.
MAX_TERMS = 500

Query = dict[str, Any]


def exact(field: str, values: Iterable[str]) -> Query:
    """Documents whose ``field`` is one of ``values``, under either mapping (see above)."""
    wanted = sorted(set(values))
    if len(wanted) == 1:
        clauses: list[Query] = [{"term": {field: wanted[0]}}, {"term": {f"{field}.keyword": wanted[0]}}]
    else:
        clauses = [{"terms": {field: wanted}}, {"terms": {f"{field}.keyword": wanted}}]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def any_of(*queries: Query) -> Query:
    return {"bool": {"should": list(queries), "minimum_should_match": 1}}


def all_of(*queries: Query, must_not: Iterable[Query] = ()) -> Query:
    body: dict[str, Any] = {"filter": list(queries)}
    excluded = list(must_not)
    if excluded:
        body["must_not"] = excluded
    return {"bool": body}


def time_range(gte: str | None = None, lte: str | None = None) -> Query:
    bounds = {k: v for k, v in (("gte", gte), ("lte", lte)) if v is not None}
    return {"range": {"@timestamp": bounds}}


def has_value(doc: Mapping[str, Any], field: str, values: frozenset[str] | set[str]) -> bool:
    """The exact check behind :func:`exact` (documents are flat: ``doc["faas.name"]``)."""
    value = doc.get(field)
    return isinstance(value, str) and value in values


def chunks(values: Iterable[str], size: int = MAX_TERMS) -> list[list[str]]:
    ordered = sorted(set(values))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


@dataclass(frozen=True, slots=True)
class Hit:
    """One document as read: where it is stored (``_index``/``_id``) and its source."""

    index: str
    id: str
    source: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return self.index, self.id


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[Hit]
    #: More documents matched than ``limit``; ``hits`` holds the first ``limit`` in sort order.
    truncated: bool


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one opensearch-py call; its exceptions become :class:`SearchUnavailable` /
    :class:`SearchRequestFailed` with a one-line message."""
    from opensearchpy.exceptions import ConnectionError as OSConnectionError
    from opensearchpy.exceptions import TransportError

    try:
        return fn(*args, **kwargs)
    except OSConnectionError as exc:  # refused, DNS, TLS, timeout
        cause = exc.info if isinstance(exc.info, BaseException) else exc
        raise SearchUnavailable(_one_line(f"{cause.__class__.__name__}: {cause}")) from None
    except TransportError as exc:
        status = exc.status_code if isinstance(exc.status_code, int) else None
        raise SearchRequestFailed(_one_line(f"HTTP {status}: {_reason(exc)}"), status) from None


def _reason(exc: Any) -> str:
    info = exc.info
    if isinstance(info, Mapping):
        error = info.get("error")
        if isinstance(error, Mapping):
            causes = error.get("root_cause")
            if isinstance(causes, list) and causes and isinstance(causes[0], Mapping):
                return f"{causes[0].get('type', '')}: {causes[0].get('reason', '')}"
            return f"{error.get('type', '')}: {error.get('reason', '')}"
        if error is not None:
            return str(error)
        message = info.get("message") or info.get("Message")
        if message:
            return str(message)
    return str(exc.error)


def _one_line(text: str, width: int = 300) -> str:
    return " ".join(text.split())[:width]


def _refuses_id_sort(exc: SearchRequestFailed) -> bool:
    text = str(exc).lower()
    return exc.status == 400 and "_id" in text and ("fielddata" in text or "field data" in text)


def _hits(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    hits = answer.get("hits", {}).get("hits", [])
    return hits if isinstance(hits, list) else []


def _to_hit(raw: Mapping[str, Any]) -> Hit:
    return Hit(str(raw.get("_index", "")), str(raw.get("_id", "")), dict(raw.get("_source") or {}))


def search_documents(
    client: Any,
    index: str,
    query: Query,
    *,
    limit: int,
    page_size: int = DEFAULT_PAGE_SIZE,
    descending: bool = False,
) -> SearchResult:
    """At most ``limit`` documents matching ``query``, in ``@timestamp`` then ``_id`` order
    (oldest first, or newest first with ``descending``); see the module docstring."""
    if limit < 1:
        return SearchResult([], truncated=False)
    order = "desc" if descending else "asc"
    sort: list[Query] = [{"@timestamp": {"order": order}}, {"_id": {"order": order}}]
    want = limit + 1  # one more than asked tells whether there was more
    size = min(page_size, want)
    body: Query = {"query": query, "sort": sort, "size": size, "track_total_hits": False}
    params = {"ignore_unavailable": "true", "allow_no_indices": "true"}
    try:
        answer = call(client.search, index=index, body=body, params=params)
    except SearchRequestFailed as exc:
        if not _refuses_id_sort(exc):
            raise
        return _scroll(client, index, query, limit=limit, page_size=page_size, order=order)
    page = _hits(answer)
    hits = [_to_hit(h) for h in page]
    if len(page) < size or len(hits) >= want:
        return _result(hits, limit)
    pit = _open_pit(client, index)
    try:
        while len(hits) < want and page:
            body = {
                "query": query,
                "sort": sort,
                "size": min(page_size, want - len(hits)),
                "search_after": page[-1].get("sort"),
                "track_total_hits": False,
            }
            if pit is not None:
                body["pit"] = {"id": pit, "keep_alive": KEEP_ALIVE}
                answer = call(client.search, body=body)
                pit = answer.get("pit_id") or pit
            else:
                answer = call(client.search, index=index, body=body, params=params)
            page = _hits(answer)
            hits.extend(_to_hit(h) for h in page)
            if len(page) < body["size"]:
                break
    finally:
        if pit is not None:
            _close_pit(client, pit)
    return _result(hits, limit)


def _result(hits: list[Hit], limit: int) -> SearchResult:
    return SearchResult(hits[:limit], truncated=len(hits) > limit)


def _open_pit(client: Any, index: str) -> str | None:
    """A PIT over ``index``, or None where PIT is not offered (older OpenSearch, Serverless)."""
    try:
        answer = call(
            client.transport.perform_request,
            "POST",
            f"/{index}/_search/point_in_time",
            params={"keep_alive": KEEP_ALIVE},
        )
    except SearchRequestFailed:
        return None
    pit = answer.get("pit_id") if isinstance(answer, Mapping) else None
    return pit if isinstance(pit, str) and pit else None


def _close_pit(client: Any, pit: str) -> None:
    with contextlib.suppress(SearchRequestFailed, SearchUnavailable):  # it expires after KEEP_ALIVE anyway
        call(client.transport.perform_request, "DELETE", "/_search/point_in_time", body={"pit_id": [pit]})


def _scroll(client: Any, index: str, query: Query, *, limit: int, page_size: int, order: str) -> SearchResult:
    want = limit + 1
    body: Query = {"query": query, "sort": [{"@timestamp": {"order": order}}], "size": min(page_size, want)}
    params = {"ignore_unavailable": "true", "allow_no_indices": "true"}
    answer = call(client.search, index=index, body=body, scroll=KEEP_ALIVE, params=params)
    scroll_id = answer.get("_scroll_id")
    hits = [_to_hit(h) for h in _hits(answer)]
    try:
        while scroll_id and len(hits) < want:
            answer = call(client.scroll, body={"scroll_id": scroll_id, "scroll": KEEP_ALIVE})
            scroll_id = answer.get("_scroll_id") or scroll_id
            page = _hits(answer)
            if not page:
                break
            hits.extend(_to_hit(h) for h in page)
    finally:
        if scroll_id:
            with contextlib.suppress(SearchRequestFailed, SearchUnavailable):
                call(client.clear_scroll, body={"scroll_id": [scroll_id]})
    return _result(hits, limit)
