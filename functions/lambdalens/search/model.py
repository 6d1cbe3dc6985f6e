"""What a reconstructed transaction is made of: invocations, their errors, the root cause.

Times are timezone-aware UTC datetimes; :meth:`Transaction.as_dict` spells them as documents
do (``2024-05-01T12:00:01.218Z``) and is what ``lambdalens trace --json`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lambdalens.parsing.document import Document
from lambdalens.search.since import iso_ms

#: ``lambda.outcome`` values of a failed invocation.
FAILED_OUTCOMES = frozenset({"error", "timeout", "oom"})


@dataclass(frozen=True)
class ErrorInfo:
    """One error an invocation reported (repeats of the same fingerprint are counted)."""

    time: datetime
    type: str | None
    message: str | None
    fingerprint: str | None
    event_type: str
    severity: str
    line: str  # the first line of the message, as a person reads it
    log_record_uid: str
    count: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": iso_ms(self.time),
            "type": self.type,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "event_type": self.event_type,
            "severity": self.severity,
            "line": self.line,
            "log_record_uid": self.log_record_uid,
            "count": self.count,
        }


@dataclass(frozen=True)
class Invocation:
    """One run of a function for one request (an async retry with the same request id is a
    second :class:`Invocation` with ``attempt`` 2)."""

    function: str
    request_id: str
    attempt: int
    start: datetime
    end: datetime
    #: From the REPORT; None while the REPORT has not been indexed.
    duration_ms: float | None
    billed_duration_ms: float | None
    init_duration_ms: float | None
    memory_size_mb: int | None
    max_memory_used_mb: int | None
    #: ``success``, ``error``, ``timeout``, ``oom``; None without a REPORT or a failure line.
    outcome: str | None
    cold_start: bool
    instance: str | None
    trace_id: str | None
    correlation_id: str | None
    errors: tuple[ErrorInfo, ...]
    #: Its documents in order, init-phase lines of a cold start included.
    documents: tuple[Document, ...] = field(repr=False)

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES

    @property
    def elapsed_ms(self) -> float:
        """The REPORT duration, else the time between its first and last line."""
        if self.duration_ms is not None:
            return self.duration_ms
        return max(0.0, (self.end - self.start).total_seconds() * 1000)

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "request_id": self.request_id,
            "attempt": self.attempt,
            "start": iso_ms(self.start),
            "end": iso_ms(self.end),
            "duration_ms": self.duration_ms,
            "billed_duration_ms": self.billed_duration_ms,
            "init_duration_ms": self.init_duration_ms,
            "memory_size_mb": self.memory_size_mb,
            "max_memory_used_mb": self.max_memory_used_mb,
            "outcome": self.outcome,
            "cold_start": self.cold_start,
            "instance": self.instance,
            "trace_id": self.trace_id,
            "correlation_id": self.correlation_id,
            "errors": [e.as_dict() for e in self.errors],
            "document_count": len(self.documents),
        }


@dataclass(frozen=True)
class FailurePoint:
    """The first invocation that failed: where the transaction visibly broke."""

    function: str
    request_id: str
    attempt: int
    time: datetime
    outcome: str | None
    error: str  # ``KeyError: 'author_id'``, or the outcome when no error line says more

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "request_id": self.request_id,
            "attempt": self.attempt,
            "time": iso_ms(self.time),
            "outcome": self.outcome,
            "error": self.error,
        }


@dataclass(frozen=True)
class RootCause:
    """The probable root cause (see :func:`lambdalens.search.root_cause.find_root_cause`)."""

    function: str
    request_id: str
    attempt: int
    time: datetime
    severity: str
    evidence: str
    error_type: str | None
    fingerprint: str | None
    log_record_uid: str
    reason: str
    #: Invocations started after the root hop up to the failing one (0: it is the failing one).
    hops_downstream: int
    failure: FailurePoint | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "request_id": self.request_id,
            "attempt": self.attempt,
            "time": iso_ms(self.time),
            "severity": self.severity,
            "evidence": self.evidence,
            "error_type": self.error_type,
            "fingerprint": self.fingerprint,
            "log_record_uid": self.log_record_uid,
            "reason": self.reason,
            "hops_downstream": self.hops_downstream,
            "failure": self.failure.as_dict() if self.failure is not None else None,
        }


@dataclass(frozen=True)
class Transaction:
    """Everything lambdalens found of one transaction, in time order."""

    key: str
    #: Which fields the key was found in: ``traceId``, ``correlation_id``, ``faas.invocation_id``.
    matched_by: tuple[str, ...]
    trace_ids: tuple[str, ...]
    correlation_ids: tuple[str, ...]
    invocations: tuple[Invocation, ...]
    #: Every document, ordered by ``@timestamp`` then event id.
    documents: tuple[Document, ...]
    root_cause: RootCause | None
    #: ``limit`` documents were reached: later documents (or hops) may be missing.
    truncated: bool
    #: Rounds of following trace / correlation ids to other invocations.
    hops_followed: int

    @property
    def functions(self) -> tuple[str, ...]:
        """Function names in the order they first ran (the timeline's lanes)."""
        seen: dict[str, None] = {}
        for inv in self.invocations:
            seen.setdefault(inv.function, None)
        return tuple(seen)

    @property
    def start(self) -> datetime | None:
        times = [inv.start for inv in self.invocations]
        return min(times) if times else None

    @property
    def end(self) -> datetime | None:
        times = [inv.end for inv in self.invocations]
        return max(times) if times else None

    def as_dict(self, include_documents: bool = True) -> dict[str, Any]:
        start, end = self.start, self.end
        data: dict[str, Any] = {
            "key": self.key,
            "matched_by": list(self.matched_by),
            "trace_ids": list(self.trace_ids),
            "correlation_ids": list(self.correlation_ids),
            "start": iso_ms(start) if start else None,
            "end": iso_ms(end) if end else None,
            "duration_ms": round((end - start).total_seconds() * 1000, 3) if start and end else None,
            "functions": list(self.functions),
            "invocations": [inv.as_dict() for inv in self.invocations],
            "root_cause": self.root_cause.as_dict() if self.root_cause is not None else None,
            "truncated": self.truncated,
            "hops_followed": self.hops_followed,
            "document_count": len(self.documents),
        }
        if include_documents:
            data["documents"] = list(self.documents)
        return data
