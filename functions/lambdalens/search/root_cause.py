"""The probable root cause of a transaction: the earliest hop that showed trouble.

A failure downstream is often only the place where bad data finally breaks something: an
API function accepts a malformed token with a warning and succeeds, two hops later the
consumer of its message fails on the missing field. Naming the failing function would send
the reader to the wrong code. The rule (deterministic: ties go to the earlier event id):

1. **Failure time.** An invocation *failed* when its outcome is ``error``, ``timeout`` or
   ``oom``. Its failure time is its first *failure signal*: a line of ERROR or FATAL
   severity, or a ``timeout`` / ``oom`` / ``init_error`` / ``unhandled_error`` event; when
   only the REPORT says it failed, the REPORT's time. The *first failure* is the failed
   invocation with the earliest failure time; its failure time is the *bound*. When nothing
   failed, the bound is the earliest ERROR/FATAL line, and with no such line there is no root
   cause (the transaction is healthy).
2. **Root hop.** Among the lines at or before the bound, the earliest *suspect* line: WARN
   severity or above, a failure event, a line that reports an exception, or the REPORT of a
   failed invocation (stack-trace continuation lines do not count: their first line does).
   Its invocation is the root hop. A warning the API function logged about its input before
   anything failed therefore wins over the consumer's error.
3. **Evidence.** The root hop's most severe suspect line at or before the bound (the earliest
   of equals): a hop that warned and then logged an error is shown by its error; Python's
   ``LAMBDA_WARNING`` before an import error is shown by the import error.

``hops_downstream`` counts the invocations that started after the root hop, up to and
including the first failure (0 when the root hop is the first failure).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lambdalens.parsing.document import FAILURE_TYPES, REPORT, Document
from lambdalens.search.assemble import event_order, is_continuation, time_of
from lambdalens.search.display import first_line, message_of, severity_rank
from lambdalens.search.model import FailurePoint, Invocation, RootCause

WARN = 13
ERROR = 17


def is_failure_signal(doc: Document) -> bool:
    if is_continuation(doc):
        return False
    return severity_rank(doc) >= ERROR or doc.get("lambda.event_type") in FAILURE_TYPES


def is_suspect(doc: Document, invocation: Invocation) -> bool:
    if is_continuation(doc):
        return False
    return (
        severity_rank(doc) >= WARN
        or doc.get("lambda.event_type") in FAILURE_TYPES
        or "exception.type" in doc
        or "exception.message" in doc
        or (invocation.failed and doc.get("lambda.event_type") == REPORT)
    )


def failure_time(invocation: Invocation) -> datetime:
    signals = [d for d in invocation.documents if is_failure_signal(d)]
    if signals:
        return time_of(min(signals, key=event_order))
    report = next((d for d in invocation.documents if d.get("lambda.event_type") == REPORT), None)
    return time_of(report) if report is not None else invocation.end


def find_root_cause(invocations: Sequence[Invocation]) -> RootCause | None:
    """The probable root cause among ``invocations`` (ordered by start), or None; see above."""
    failed = [inv for inv in invocations if inv.failed]
    first_failure: Invocation | None = None
    if failed:
        first_failure = min(
            failed, key=lambda inv: (failure_time(inv), inv.start, inv.function, inv.request_id, inv.attempt)
        )
        bound = failure_time(first_failure)
    else:
        errors = [d for inv in invocations for d in inv.documents if is_failure_signal(d)]
        if not errors:
            return None
        bound = time_of(min(errors, key=event_order))
    suspects: list[tuple[tuple[Any, ...], Invocation, Document]] = [
        (event_order(doc), inv, doc)
        for inv in invocations
        for doc in inv.documents
        if time_of(doc) <= bound and is_suspect(doc, inv)
    ]
    if not suspects:  # a failed invocation whose signals all come after its own bound: none
        return None
    _, root, _ = min(suspects, key=lambda s: s[0])
    own = [(order, doc) for order, inv, doc in suspects if inv is root]
    _, evidence = min(own, key=lambda s: (-severity_rank(s[1]), s[0]))
    position = {id(inv): i for i, inv in enumerate(invocations)}
    failure: FailurePoint | None = None
    hops = 0
    if first_failure is not None:
        failure = FailurePoint(
            function=first_failure.function,
            request_id=first_failure.request_id,
            attempt=first_failure.attempt,
            time=bound,
            outcome=first_failure.outcome,
            error=_error_summary(first_failure),
        )
        hops = max(0, position[id(first_failure)] - position[id(root)])
    severity = str(evidence.get("severity.text", "INFO"))
    if first_failure is None:
        reason = "no invocation failed; the earliest hop that logged a warning or an error up to the first ERROR line"
    elif root is first_failure:
        reason = f"the first invocation that failed ({first_failure.outcome})"
    else:
        plural = "hop" if hops == 1 else "hops"
        reason = (
            f"logged {severity} before {first_failure.function} failed "
            f"({first_failure.outcome}) {hops} {plural} downstream"
        )
    error_type = evidence.get("exception.type")
    fingerprint = evidence.get("exception.fingerprint")
    return RootCause(
        function=root.function,
        request_id=root.request_id,
        attempt=root.attempt,
        time=time_of(evidence),
        severity=severity,
        evidence=first_line(message_of(evidence)),
        error_type=error_type if isinstance(error_type, str) else None,
        fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        log_record_uid=str(evidence.get("log.record.uid", "")),
        reason=reason,
        hops_downstream=hops,
        failure=failure,
    )


def _error_summary(invocation: Invocation) -> str:
    for error in invocation.errors:
        if error.type and error.message:
            return f"{error.type}: {first_line(error.message, 160)}"
        if error.type:
            return error.type
    return invocation.outcome or "failed"
