"""Documents -> invocations: pure functions, no I/O.

* Documents are ordered by ``@timestamp`` then event id (CloudWatch event ids are numeric
  strings that grow with time, so they order events of the same millisecond).
* An invocation is the documents of one ``(faas.name, faas.invocation_id)``. Lambda retries
  an asynchronous event with the same request id, so a group is split into attempts at each
  ``START`` that follows an earlier ``START`` or ``REPORT`` of the same request.
* Lines printed during the init of a cold start carry no request id (``INIT_START``, import
  errors, ``INIT_REPORT``): those of the same log stream in the minute before the attempt's
  ``START`` are attached to that attempt, where an init error explains a failed invocation.
* The outcome is the REPORT's ``lambda.outcome``, raised by failure lines of the same request
  the REPORT's own batch did not hold (oom > timeout > error > success).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdalens.parsing.document import (
    INIT_ERROR,
    INIT_REPORT,
    INIT_START,
    OOM,
    PLATFORM,
    REPORT,
    START,
    TIMEOUT,
    UNHANDLED_ERROR,
    Document,
)
from lambdalens.search.display import first_line, message_of
from lambdalens.search.model import ErrorInfo, Invocation
from lambdalens.search.since import parse_timestamp

#: How long before its START an init line may be, to be attached to a cold-start attempt.
INIT_WINDOW = timedelta(seconds=60)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: A line of the same request this long after its REPORT belongs to a retry (Lambda retries
#: asynchronous events after a minute or more, with the same request id).
RETRY_GAP = timedelta(seconds=2)
#: A REPORT duration reaching this far before the START includes an init run in the invoke phase.
INVOKE_PHASE_INIT = timedelta(milliseconds=50)

_FAILURE_OF = {TIMEOUT: "timeout", OOM: "oom", UNHANDLED_ERROR: "error", INIT_ERROR: "error"}
_OUTCOME_RANK = {None: 0, "success": 1, "error": 2, "timeout": 3, "oom": 4}
_INIT_TYPES = frozenset({INIT_START, INIT_REPORT, INIT_ERROR})
#: Platform summaries repeat the error an application line already reported.
_SUMMARY_TYPES = frozenset({REPORT, INIT_REPORT, PLATFORM, "end"})
_OUTCOME_LABEL = {"timeout": "Timeout", "oom": "OutOfMemory", "error": "Error"}


def time_of(doc: Mapping[str, Any]) -> datetime:
    return parse_timestamp(doc.get("@timestamp")) or EPOCH


def event_order(doc: Mapping[str, Any]) -> tuple[datetime, int, int, str]:
    """Sort key: ``@timestamp``, then the event id (numerically when it is digits)."""
    uid = str(doc.get("log.record.uid", ""))
    if uid.isdigit():
        return time_of(doc), 0, len(uid.lstrip("0")), uid.lstrip("0")
    return time_of(doc), 1, 0, uid


def ordered(docs: Iterable[Document]) -> list[Document]:
    return sorted(docs, key=event_order)


def function_of(doc: Mapping[str, Any]) -> str:
    for field in ("faas.name", "service.name", "aws.log.group"):
        value = doc.get(field)
        if isinstance(value, str) and value:
            return value
    return "unknown"


def is_continuation(doc: Mapping[str, Any]) -> bool:
    """A later line of a stack trace printed as several events (its first line is the error)."""
    return bool(doc.get("log.record.parent_uid"))


def _str(doc: Mapping[str, Any], field: str) -> str | None:
    value = doc.get(field)
    return value if isinstance(value, str) and value else None


def _number(doc: Mapping[str, Any] | None, field: str) -> float | None:
    if doc is None:
        return None
    value = doc.get(field)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(doc: Mapping[str, Any] | None, field: str) -> int | None:
    value = _number(doc, field)
    return int(value) if value is not None else None


def split_attempts(docs: Sequence[Document]) -> list[list[Document]]:
    """Ordered documents of one request id -> one list per attempt.

    A new attempt begins at a ``START`` that follows a ``START`` or ``REPORT`` of the request,
    or at any line more than :data:`RETRY_GAP` after a ``REPORT`` (when the ``START`` is not
    among the documents, e.g. lines chosen by a query). Lines right after the REPORT, such as
    the legacy ``Task timed out`` line, stay with it.
    """
    attempts: list[list[Document]] = []
    current: list[Document] = []
    started = False
    reported: datetime | None = None
    for doc in docs:
        event_type = doc.get("lambda.event_type")
        new_start = event_type == START and started
        late = reported is not None and time_of(doc) - reported > RETRY_GAP
        if current and (new_start or late):
            attempts.append(current)
            current = []
            started = False
            reported = None
        if event_type in (START, REPORT):
            started = True
        if event_type == REPORT:
            reported = time_of(doc)
        current.append(doc)
    if current:
        attempts.append(current)
    return attempts


def _errors(docs: Sequence[Document], outcome: str | None, report: Document | None) -> tuple[ErrorInfo, ...]:
    found: dict[tuple[Any, ...], ErrorInfo] = {}
    summaries: list[Document] = []
    for doc in docs:
        if is_continuation(doc):
            continue
        event_type = str(doc.get("lambda.event_type", ""))
        has_exception = "exception.type" in doc or "exception.message" in doc
        if not has_exception and event_type not in _FAILURE_OF:
            continue
        if event_type in _SUMMARY_TYPES:
            summaries.append(doc)
            continue
        _add_error(found, doc)
    types = {e.type for e in found.values()}
    for doc in summaries:
        if doc.get("exception.type") not in types and doc.get("lambda.event_type") != REPORT:
            _add_error(found, doc)
            types.add(doc.get("exception.type"))  # type: ignore[arg-type]
    if not found and outcome in _OUTCOME_LABEL and report is not None:
        error_type = _str(report, "exception.type") or _OUTCOME_LABEL[outcome]
        _add_error(found, report, error_type=error_type)
    return tuple(found.values())


def _add_error(found: dict[tuple[Any, ...], ErrorInfo], doc: Document, error_type: str | None = None) -> None:
    kind = error_type or _str(doc, "exception.type")
    message = _str(doc, "exception.message")
    fingerprint = _str(doc, "exception.fingerprint")
    event_type = str(doc.get("lambda.event_type", ""))
    key: tuple[Any, ...] = (fingerprint,) if fingerprint else (event_type, kind, message)
    if key in found:
        previous = found[key]
        found[key] = replace(previous, count=previous.count + 1)
        return
    found[key] = ErrorInfo(
        time=time_of(doc),
        type=kind,
        message=message,
        fingerprint=fingerprint,
        event_type=event_type,
        severity=str(doc.get("severity.text", "ERROR")),
        line=first_line(message_of(doc)),
        log_record_uid=str(doc.get("log.record.uid", "")),
    )


def _first(docs: Iterable[Document], field: str) -> str | None:
    return next((v for v in (_str(d, field) for d in docs) if v), None)


def make_invocation(
    function: str, request_id: str, attempt: int, own: Sequence[Document], init: Sequence[Document] = ()
) -> Invocation:
    """One attempt from its own documents (ordered) and the init lines attached to it."""
    report = next((d for d in reversed(own) if d.get("lambda.event_type") == REPORT), None)
    start_doc = next((d for d in own if d.get("lambda.event_type") == START), None)
    duration = _number(report, "lambda.duration_ms")
    # The REPORT's duration counts from the START, or from earlier when the init ran again
    # in the invoke phase after a failed init (its time is billed to the invocation).
    start = time_of(start_doc) if start_doc is not None else time_of(own[0])
    if report is not None and duration is not None:
        from_report = time_of(report) - timedelta(milliseconds=duration)
        if start_doc is None or from_report < start - INVOKE_PHASE_INIT:
            start = from_report
    end = max(time_of(report) if report is not None else EPOCH, time_of(own[-1]), start)
    outcome = report.get("lambda.outcome") if report is not None else None
    outcome = outcome if isinstance(outcome, str) else None
    # Init lines decide the outcome only when no REPORT says how the invocation ended: an
    # init error followed by a successful init in the invoke phase is no failed invocation.
    for doc in [*own, *(init if report is None else ())]:
        failure = _FAILURE_OF.get(str(doc.get("lambda.event_type")))
        if failure is not None and _OUTCOME_RANK[failure] > _OUTCOME_RANK.get(outcome, 0):
            outcome = failure
    everything = ordered([*init, *own])
    cold = (
        any(d.get("faas.coldstart") is True for d in own)
        or _number(report, "lambda.init_duration_ms") is not None
    )
    return Invocation(
        function=function,
        request_id=request_id,
        attempt=attempt,
        start=start,
        end=end,
        duration_ms=duration,
        billed_duration_ms=_number(report, "lambda.billed_duration_ms"),
        init_duration_ms=_number(report, "lambda.init_duration_ms"),
        memory_size_mb=_int(report, "lambda.memory_size_mb"),
        max_memory_used_mb=_int(report, "lambda.max_memory_used_mb"),
        outcome=outcome,
        cold_start=cold,
        instance=_str(start_doc or own[0], "faas.instance"),
        trace_id=_first(everything, "traceId"),
        correlation_id=_first(everything, "correlation_id"),
        errors=_errors(everything, outcome, report),
        documents=tuple(everything),
    )


def build_invocations(docs: Sequence[Document]) -> tuple[list[Invocation], list[Document]]:
    """Ordered documents -> (invocations ordered by start, documents of no invocation)."""
    groups: dict[tuple[str, str], list[Document]] = {}
    without_id: list[Document] = []
    for doc in docs:
        request_id = _str(doc, "faas.invocation_id")
        if request_id is None:
            without_id.append(doc)
        else:
            groups.setdefault((function_of(doc), request_id), []).append(doc)
    attempts: list[tuple[str, str, int, list[Document]]] = []
    for (function, request_id), group in groups.items():
        for number, own in enumerate(split_attempts(group), start=1):
            attempts.append((function, request_id, number, own))
    # Where each attempt started, per log stream, to attach init lines to the next START.
    starts: dict[str, list[tuple[datetime, int, bool]]] = {}
    for position, (_, _, _, own) in enumerate(attempts):
        start_doc = next((d for d in own if d.get("lambda.event_type") == START), None)
        instance = _str(start_doc, "faas.instance") if start_doc is not None else None
        if start_doc is not None and instance is not None:
            cold = any(d.get("faas.coldstart") is True for d in own)
            starts.setdefault(instance, []).append((time_of(start_doc), position, cold))
    init_of: dict[int, list[Document]] = {}
    loose: list[Document] = []
    for doc in without_id:
        owner = _init_owner(doc, starts)
        if owner is None:
            loose.append(doc)
        else:
            init_of.setdefault(owner, []).append(doc)
    invocations = [
        make_invocation(function, request_id, number, own, init_of.get(position, ()))
        for position, (function, request_id, number, own) in enumerate(attempts)
    ]
    invocations.sort(key=lambda inv: (inv.start, inv.function, inv.request_id, inv.attempt))
    return invocations, loose


def _init_owner(doc: Document, starts: Mapping[str, list[tuple[datetime, int, bool]]]) -> int | None:
    instance = _str(doc, "faas.instance")
    if instance is None or instance not in starts:
        return None
    at = time_of(doc)
    following = [s for s in starts[instance] if at <= s[0] <= at + INIT_WINDOW]
    if not following:
        return None
    _, position, cold = min(following)
    is_init_line = doc.get("lambda.event_type") in _INIT_TYPES or "lambda.init_id" in doc
    return position if cold or is_init_line else None
