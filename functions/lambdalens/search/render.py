"""A transaction as a terminal timeline (what ``lambdalens trace`` prints).

::

    Transaction 1-6650a1b2-0c1d2e3f4a5b6c7d8e9f0a1b  (found by traceId)
    3 functions · 4 invocations · 2024-05-24 10:00:00.120Z → 10:01:02.680Z (62.560 s)

                                  +0 s                                          +62.6 s
    new-post
      3f2a7c1e  cold  +0.000 s    │█                                               │   182 ms  ✓
    …

One lane per function (in the order they first ran), one row per invocation: its request id
(short), its start offset, a bar placed and sized on the transaction's time axis (duration
from the REPORT; at least one cell), and its status: ✓ success, ✗ error, ⏱ timeout, OOM, ?
no REPORT yet. Then the warnings and errors in time order (✗ error, ! warning), then the
probable root cause. ``ascii=True`` draws with ASCII characters only; ``color=True`` adds ANSI
colours (failures red, timeouts and warnings yellow, successes green).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lambdalens.search.assemble import function_of, is_continuation, time_of
from lambdalens.search.display import first_line, message_of, severity_rank
from lambdalens.search.model import Invocation, Transaction
from lambdalens.search.root_cause import ERROR, WARN
from lambdalens.search.since import iso_ms

BAR_WIDTH = 48
MAX_KEY_LINES = 40
SHORT_ID = 8
_LABEL_WIDTH = 2 + SHORT_ID + 2 + 4 + 2 + 12  # "  <id>  cold  +1.234 s    "


@dataclass(frozen=True)
class Glyphs:
    bar: str
    edge: str
    arrow: str
    dot: str
    success: str
    error: str
    timeout: str
    oom: str
    unknown: str
    warn_mark: str
    error_mark: str


UNICODE = Glyphs("█", "│", "→", "·", "✓", "✗", "⏱", "OOM", "?", "!", "✗")
ASCII = Glyphs("#", "|", "->", "-", "ok", "X", "TIMEOUT", "OOM", "?", "!", "X")


RED, YELLOW, GREEN, BOLD = "31", "33", "32", "1"
_OUTCOME_COLOR = {"success": GREEN, "error": RED, "oom": RED, "timeout": YELLOW}


def paint(text: str, code: str | None, on: bool) -> str:
    """``text`` in an ANSI colour when ``on`` (and a colour is given)."""
    return f"\x1b[{code}m{text}\x1b[0m" if on and code else text


def severity_color(rank: int) -> str | None:
    return RED if rank >= ERROR else YELLOW if rank >= WARN else None


def status_mark(outcome: str | None, glyphs: Glyphs = UNICODE) -> str:
    return {
        "success": glyphs.success,
        "error": glyphs.error,
        "timeout": glyphs.timeout,
        "oom": glyphs.oom,
    }.get(outcome or "", glyphs.unknown)


def short_id(request_id: str) -> str:
    return request_id[:SHORT_ID]


def _seconds(seconds: float) -> str:
    return f"{seconds:.3f} s"


def _clock(moment: datetime) -> str:
    return iso_ms(moment)[11:23]


def _duration(ms: float) -> str:
    return f"{ms:,.0f} ms" if ms >= 10 else f"{ms:.2f} ms"


def render_timeline(
    tx: Transaction, *, width: int = BAR_WIDTH, ascii: bool = False, color: bool = False
) -> str:
    """The timeline, key lines and root cause of ``tx`` as text (ends with a newline)."""
    g = ASCII if ascii else UNICODE
    start, end = tx.start, tx.end
    lines: list[str] = []
    found_by = ", ".join(tx.matched_by) or "-"
    lines.append(f"Transaction {tx.key}  (found by {found_by})")
    if start is None or end is None:
        lines.append("no invocations: the documents found carry no request id")
        return "\n".join(lines) + "\n"
    span = max((end - start).total_seconds(), 0.001)
    lines.append(
        f"{len(tx.functions)} function{'s' if len(tx.functions) != 1 else ''} {g.dot} "
        f"{len(tx.invocations)} invocation{'s' if len(tx.invocations) != 1 else ''} {g.dot} "
        f"{iso_ms(start).replace('T', ' ')} {g.arrow} {_clock(end)}Z ({_seconds(span)})"
    )
    if tx.trace_ids:
        lines.append(f"trace ids: {', '.join(tx.trace_ids)}")
    if tx.correlation_ids:
        lines.append(f"correlation ids: {', '.join(tx.correlation_ids)}")
    if tx.truncated:
        lines.append("(truncated: the document limit was reached; later hops may be missing)")
    lines.append("")
    axis_right = f"+{span:.1f} s"
    lines.append(" " * (_LABEL_WIDTH + 1) + "+0 s".ljust(width - len(axis_right)) + axis_right)
    for function in tx.functions:
        lines.append(function)
        for inv in (i for i in tx.invocations if i.function == function):
            lines.append(_row(inv, start, span, width, g, color))
    lines.append("")
    lines.extend(_key_lines(tx, g, color))
    lines.append("")
    lines.extend(_root_cause_lines(tx, color))
    text = "\n".join(lines) + "\n"
    return text.replace("…", "...") if ascii else text


def _row(inv: Invocation, start: datetime, span: float, width: int, g: Glyphs, color: bool) -> str:
    offset = (inv.start - start).total_seconds()
    first = min(width - 1, max(0, int(offset / span * width)))
    length = max(1, round(inv.elapsed_ms / 1000 / span * width))
    length = min(length, width - first)
    tint = _OUTCOME_COLOR.get(inv.outcome or "")
    bar = " " * first + paint(g.bar * length, tint, color) + " " * (width - first - length)
    duration = _duration(inv.duration_ms) if inv.duration_ms is not None else "no REPORT"
    notes: list[str] = []
    if inv.errors:
        notes.append(inv.errors[0].type or first_line(inv.errors[0].line, 60))
    if inv.attempt > 1:
        notes.append(f"attempt {inv.attempt}")
    if inv.memory_size_mb and inv.max_memory_used_mb:
        notes.append(f"{inv.max_memory_used_mb}/{inv.memory_size_mb} MB")
    cold = "cold" if inv.cold_start else ""
    label = f"  {short_id(inv.request_id):<{SHORT_ID}}  {cold:<4}  {'+' + _seconds(offset):<12}"
    mark = paint(f"{status_mark(inv.outcome, g):<3}", tint, color)
    return f"{label}{g.edge}{bar}{g.edge} {duration:>10}  {mark} {'  '.join(notes)}".rstrip()


def _key_lines(tx: Transaction, g: Glyphs, color: bool) -> list[str]:
    """Warnings and errors in time order; the root cause's evidence is always among them."""
    uid = tx.root_cause.log_record_uid if tx.root_cause else None
    picked = [
        d
        for d in tx.documents
        if not is_continuation(d) and (severity_rank(d) >= WARN or d.get("log.record.uid") == uid)
    ]
    if not picked:
        return ["Key log lines: no warnings or errors"]
    lines = ["Key log lines (warnings and errors)"]
    name_width = max(len(f) for f in (function_of(d) for d in picked))
    for doc in picked[:MAX_KEY_LINES]:
        rank = severity_rank(doc)
        mark = g.error_mark if rank >= ERROR else g.warn_mark if rank >= WARN else " "
        request = str(doc.get("faas.invocation_id") or "init")
        severity = str(doc.get("severity.text", ""))
        tint = severity_color(rank)
        lines.append(
            f"{paint(mark, tint, color)} {_clock(time_of(doc))}  {function_of(doc):<{name_width}}  "
            f"{short_id(request):<{SHORT_ID}}  {paint(f'{severity:<5}', tint, color)}  "
            f"{first_line(message_of(doc), 160)}"
        )
    if len(picked) > MAX_KEY_LINES:
        lines.append(f"  ... and {len(picked) - MAX_KEY_LINES} more (--json shows every document)")
    return lines


def _root_cause_lines(tx: Transaction, color: bool) -> list[str]:
    rc = tx.root_cause
    if rc is None:
        return ["No failure in this transaction: no invocation failed and no line has ERROR severity."]
    head = paint("Probable root cause:", BOLD, color)
    lines = [f"{head} {rc.function} request {rc.request_id} at {iso_ms(rc.time)}: {rc.evidence}"]
    lines.append(f"  why: {rc.reason}")
    if rc.failure is not None and (rc.failure.function, rc.failure.request_id) != (
        rc.function,
        rc.request_id,
    ):
        f = rc.failure
        lines.append(f"  failed: {f.function} request {f.request_id} at {iso_ms(f.time)}: {f.error}")
    return lines
