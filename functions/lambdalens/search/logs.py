"""The log lines of one function (or one invocation), read the way a person reads a terminal:
:func:`find_logs` and :func:`render_logs` (what ``lambdalens logs`` prints).

::

    ── payment-collector · request 04b33bf1-b5c3-45b1-abc2-29c8223857f0 · 2024-05-01 · cold start ──
    12:00:01.221  04b33bf1  INFO   Collecting payment  order_id=A-1042 amount=49.9
    12:00:03.336  04b33bf1  ERROR  Payment declined  order_id=A-1042
                                   CardDeclined: insufficient_funds
       REPORT 2,126 ms · billed 2,126 ms · memory 91/256 MB · init 899 ms · ✓ success

Lines are grouped by invocation (groups in the order they began, lines in time order);
``START`` / ``END`` lines are left out (the separator and the REPORT summary say the same)
and the ``REPORT`` line becomes the summary. The init lines of a cold start (no request id)
open the group of the invocation they delayed; other lines without a request id are grouped
per log stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX
from lambdalens.parsing.document import END, REPORT, START, Document
from lambdalens.search.assemble import build_invocations, event_order, function_of, ordered, time_of
from lambdalens.search.display import message_of, severity_rank
from lambdalens.search.ids import normalize_key
from lambdalens.search.model import Invocation
from lambdalens.search.queries import (
    DEFAULT_PAGE_SIZE,
    Query,
    all_of,
    exact,
    has_value,
    search_documents,
    time_range,
)
from lambdalens.search.render import ASCII, UNICODE, paint, severity_color, short_id, status_mark
from lambdalens.search.since import iso_ms
from lambdalens.search.transaction import init_lines_query, init_windows, is_init_line

DEFAULT_LIMIT = 500
#: Fields ``--query`` searches (``simple_query_string``: words, "phrases", -exclusions, OR with |).
QUERY_FIELDS = ("body", "exception.message", "exception.type")


@dataclass(frozen=True)
class LogGroup:
    """The lines of one invocation attempt (or the init lines of one log stream)."""

    function: str
    request_id: str | None
    instance: str | None
    lines: tuple[Document, ...]
    #: Summary of the invocation (REPORT and outcome); None for init lines.
    invocation: Invocation | None


@dataclass(frozen=True)
class LogView:
    function: str
    request_id: str | None
    since: datetime | None
    query: str | None
    #: The lines read, oldest first (the newest ``limit`` of those that matched).
    documents: tuple[Document, ...]
    groups: tuple[LogGroup, ...]
    #: More lines matched than ``limit``: the oldest were left out.
    truncated: bool


def find_logs(
    client: Any,
    function: str,
    *,
    request_id: str | None = None,
    since: datetime | None = None,
    query: str | None = None,
    limit: int = DEFAULT_LIMIT,
    index_prefix: str = DEFAULT_INDEX_PREFIX,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> LogView:
    """The newest ``limit`` lines of ``function`` (of one request with ``request_id``),
    at or after ``since``, matching ``query`` if given, grouped by invocation.

    With ``request_id`` the init lines of a cold start (which carry no request id) are read
    too. With ``query`` only the matching lines are shown; the REPORT of each invocation they
    belong to is read as well, for its summary. Raises :class:`ValueError` for a malformed
    name or id and :class:`~lambdalens.search.errors.SearchError` when OpenSearch fails.
    """
    function = normalize_key(function)
    request_id = normalize_key(request_id) if request_id is not None else None
    if limit < 1:
        raise ValueError(f"limit must be 1 or more, got {limit}")
    index = f"{index_prefix}-*"
    scope: list[Query] = [exact("faas.name", [function])]
    if request_id is not None:
        scope.append(exact("faas.invocation_id", [request_id]))
    if since is not None:
        scope.append(time_range(gte=iso_ms(since)))
    filters = list(scope)
    if query:
        filters.append(
            {
                "simple_query_string": {
                    "query": query,
                    "fields": list(QUERY_FIELDS),
                    "default_operator": "and",
                    "lenient": True,
                }
            }
        )
    names, ids = frozenset({function}), frozenset({request_id} if request_id else ())

    def accept(doc: Document) -> bool:
        return has_value(doc, "faas.name", names) and (not ids or has_value(doc, "faas.invocation_id", ids))

    result = search_documents(
        client, index, all_of(*filters), limit=limit, page_size=page_size, descending=True
    )
    docs = ordered(h.source for h in result.hits if accept(h.source))
    windows = init_windows(docs) if request_id is not None and not query else []
    if windows:  # the init that delayed this invocation printed lines without its request id
        found = search_documents(
            client, index, init_lines_query(windows[:100]), limit=limit, page_size=page_size
        )
        docs = ordered([*docs, *(h.source for h in found.hits if is_init_line(windows)(h.source))])
    reports: list[Document] = []
    if query:
        shown = {d.get("faas.invocation_id") for d in docs} - {None}
        if shown:
            wanted = frozenset(str(s) for s in shown)
            found = search_documents(
                client,
                index,
                all_of(*scope[:1], exact("faas.invocation_id", wanted), exact("lambda.event_type", [REPORT])),
                limit=len(wanted) * 3,
                page_size=page_size,
            )
            reports = [
                h.source
                for h in found.hits
                if accept(h.source) and has_value(h.source, "faas.invocation_id", wanted)
            ]
    return LogView(
        function=function,
        request_id=request_id,
        since=since,
        query=query,
        documents=tuple(docs),
        groups=tuple(group_lines(docs, reports)),
        truncated=result.truncated,
    )


def group_lines(docs: Sequence[Document], extra_reports: Sequence[Document] = ()) -> list[LogGroup]:
    """Ordered lines -> one group per invocation attempt, the init lines of a cold start in the
    group of the invocation they delayed; other lines without a request id grouped per stream.

    ``extra_reports`` complete the summaries of invocations whose REPORT is not among ``docs``.
    """
    shown = {id(d) for d in docs}
    known = {str(d.get("log.record.uid")) for d in docs}
    extra = [r for r in extra_reports if str(r.get("log.record.uid")) not in known]
    invocations, loose = build_invocations(ordered([*docs, *extra]))
    groups = [
        LogGroup(inv.function, inv.request_id, inv.instance, lines, inv)
        for inv in invocations
        if (lines := tuple(d for d in inv.documents if id(d) in shown))
    ]
    by_stream: dict[tuple[str, str | None], list[Document]] = {}
    for doc in loose:
        instance = doc.get("faas.instance")
        by_stream.setdefault((function_of(doc), instance if isinstance(instance, str) else None), []).append(
            doc
        )
    groups += [LogGroup(f, None, i, tuple(lines), None) for (f, i), lines in by_stream.items()]
    groups.sort(key=lambda g: (event_order(g.lines[0]), g.function, g.request_id or ""))
    return groups


def _summary(inv: Invocation, ascii: bool) -> str:
    parts: list[str] = []
    if inv.duration_ms is None:
        return "   no REPORT yet (the invocation is running, or its REPORT is not indexed)"
    parts.append(f"REPORT {inv.duration_ms:,.0f} ms")
    if inv.billed_duration_ms is not None:
        parts.append(f"billed {inv.billed_duration_ms:,.0f} ms")
    if inv.memory_size_mb is not None:
        used = inv.max_memory_used_mb if inv.max_memory_used_mb is not None else "?"
        parts.append(f"memory {used}/{inv.memory_size_mb} MB")
    if inv.init_duration_ms is not None:
        parts.append(f"init {inv.init_duration_ms:,.0f} ms")
    glyphs = ASCII if ascii else UNICODE
    parts.append(f"{status_mark(inv.outcome, glyphs)} {inv.outcome or 'unknown'}")
    return "   " + f" {glyphs.dot} ".join(parts)


def render_logs(view: LogView, *, ascii: bool = False, raw: bool = False, color: bool = False) -> str:
    """``view`` as text: a separator per invocation, one line per event, the REPORT summary.

    ``raw`` prints each body as the function wrote it instead of the readable message;
    ``color`` adds ANSI colours (ERROR/FATAL red, WARN yellow, separators bold).
    """
    glyphs = ASCII if ascii else UNICODE
    rule = "-" if ascii else "─"
    out: list[str] = []
    if view.truncated:
        out.append(f"(only the newest {len(view.documents)} lines; use --limit or --since for more)")
    for group in view.groups:
        day = iso_ms(time_of(group.lines[0]))[:10]
        if group.request_id is None:
            title = f"{group.function} {glyphs.dot} init {glyphs.dot} {group.instance or 'unknown stream'} {glyphs.dot} {day}"
        else:
            title = f"{group.function} {glyphs.dot} request {group.request_id}"
            if group.invocation is not None and group.invocation.attempt > 1:
                title += f" (attempt {group.invocation.attempt})"
            title += f" {glyphs.dot} {day}"
            if group.invocation is not None and group.invocation.cold_start:
                title += f" {glyphs.dot} cold start"
        out.append(paint(f"{rule * 2} {title} {rule * max(2, 96 - len(title))}", "1", color))
        for doc in group.lines:
            event_type = doc.get("lambda.event_type")
            if event_type in (START, END) or (event_type == REPORT and group.invocation is not None):
                continue
            out.append(_line(doc, raw, color))
        if group.invocation is not None:
            out.append(_summary(group.invocation, ascii))
    text = "\n".join(out) + ("\n" if out else "")
    return text.replace("…", "...") if ascii else text


def _line(doc: Document, raw: bool, color: bool) -> str:
    request_id = doc.get("faas.invocation_id")
    rid = short_id(request_id) if isinstance(request_id, str) and request_id else "init"
    severity = str(doc.get("severity.text", ""))
    head = f"{iso_ms(time_of(doc))[11:23]}  {rid:<8}  {severity:<5}  "
    indent = " " * len(head)
    if color and severity:
        head = head.replace(severity, paint(severity, severity_color(severity_rank(doc)), color), 1)
    body = doc.get("body") if raw else message_of(doc)
    text = (body if isinstance(body, str) else "").replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    text = text.expandtabs(4)
    first, *rest = text.split("\n") if text else [""]
    return "\n".join([head + first, *(indent + line for line in rest)])
