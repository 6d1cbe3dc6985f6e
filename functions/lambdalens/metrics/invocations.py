"""Documents of one batch -> per-invocation summaries (pure, no I/O).

The rules are those of ``docs/document-schema.md`` ("Which event types count what"):

* an **invocation** is a ``report`` document (one per request id);
* a **timeout** is a ``timeout`` document or a report whose ``lambda.outcome`` is ``timeout``;
* an **out-of-memory kill** is an ``oom`` document or a report with outcome ``oom``;
* an **unhandled error** is an ``unhandled_error`` document (or a report with outcome ``error``);
* an **init error** is an ``init_error`` document or an ``init_report`` whose status is
  ``error``/``timeout``;
* a **cold start** is a report with ``faas.coldstart: true``.

Everything is keyed by ``(faas.name, faas.invocation_id)``, so an invocation whose timeout
shows both as a line and in its REPORT counts once. An invocation that timed out or ran out
of memory is not also counted as an error. Init failures are paired per execution
environment (``faas.instance``): an ``init_error`` line and the failing ``INIT_REPORT`` that
follows it are one failure. A document seen twice (same ``log.record.uid``) counts once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Document = Mapping[str, Any]

# Field names of docs/document-schema.md.
F_TIMESTAMP = "@timestamp"
F_UID = "log.record.uid"
F_PARENT_UID = "log.record.parent_uid"
F_FUNCTION = "faas.name"
F_INVOCATION = "faas.invocation_id"
F_INSTANCE = "faas.instance"
F_VERSION = "faas.version"
F_COLDSTART = "faas.coldstart"
F_EVENT_TYPE = "lambda.event_type"
F_STATUS = "lambda.status"
F_OUTCOME = "lambda.outcome"
F_DURATION = "lambda.duration_ms"
F_BILLED = "lambda.billed_duration_ms"
F_INIT_DURATION = "lambda.init_duration_ms"
F_MEMORY_SIZE = "lambda.memory_size_mb"
F_MAX_MEMORY = "lambda.max_memory_used_mb"
F_ACCOUNT = "cloud.account.id"
F_REGION = "cloud.region"
F_LOG_GROUP = "aws.log.group"
F_LOG_STREAM = "aws.log.stream"
F_SEVERITY = "severity.number"
F_EXC_TYPE = "exception.type"
F_EXC_MESSAGE = "exception.message"
F_FINGERPRINT = "exception.fingerprint"
F_BODY = "body"

SEVERITY_ERROR = 17


def epoch_ms(value: object) -> int | None:
    """``@timestamp`` (ISO 8601 string, or epoch milliseconds) -> epoch milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value:
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None


def num(doc: Document, key: str) -> float | None:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def text(doc: Document, key: str) -> str | None:
    value = doc.get(key)
    return value if isinstance(value, str) and value else None


@dataclass(slots=True)
class InvocationSummary:
    """What one batch showed of one invocation ``(function, invocation_id)``.

    ``report`` is its REPORT document when the batch had it; ``failure_doc`` the document that
    best describes how it failed (the ``unhandled_error``, ``timeout`` or ``oom`` line, else the
    report). ``timestamp_ms`` is the report's timestamp, else the earliest document's.
    """

    function: str
    invocation_id: str
    timestamp_ms: int
    report: Document | None = None
    timeout: bool = False
    oom: bool = False
    unhandled_error: bool = False
    failure_doc: Document | None = None
    error_docs: list[Document] = field(default_factory=list)

    @property
    def is_invocation(self) -> bool:
        return self.report is not None

    @property
    def error(self) -> bool:
        """Ended in an unhandled error that was neither a timeout nor an out-of-memory kill."""
        return self.unhandled_error and not (self.timeout or self.oom)

    @property
    def failed(self) -> bool:
        return self.timeout or self.oom or self.unhandled_error

    @property
    def cold_start(self) -> bool:
        return self.report is not None and self.report.get(F_COLDSTART) is True

    @property
    def any_doc(self) -> Document:
        doc = self.report or self.failure_doc or (self.error_docs[0] if self.error_docs else None)
        assert doc is not None
        return doc

    @property
    def outcome(self) -> str:
        if self.oom:
            return "oom"
        if self.timeout:
            return "timeout"
        if self.unhandled_error:
            return "error"
        return "success"

    def value(self, key: str) -> float | None:
        return num(self.report, key) if self.report is not None else None


@dataclass(slots=True)
class InitFailure:
    """One failed init of an execution environment: the ``init_error`` line and/or the failing
    ``INIT_REPORT``. ``key`` is stable across redeliveries (a document uid)."""

    function: str
    instance: str
    key: str
    timestamp_ms: int
    error_doc: Document | None = None
    report: Document | None = None

    @property
    def doc(self) -> Document:
        doc = self.error_doc or self.report
        assert doc is not None
        return doc


@dataclass(slots=True)
class BatchSummary:
    """Invocations and init failures of one batch, plus every (deduplicated) document."""

    invocations: dict[tuple[str, str], InvocationSummary]
    init_failures: list[InitFailure]
    documents: list[Document]

    def functions(self) -> set[str]:
        return {k[0] for k in self.invocations} | {f.function for f in self.init_failures}


def is_logged_error(doc: Document) -> bool:
    """An application log line that reports an error with a fingerprint (not a continuation)."""
    severity = doc.get(F_SEVERITY)
    return (
        doc.get(F_EVENT_TYPE) == "app_log"
        and isinstance(severity, int)
        and severity >= SEVERITY_ERROR
        and bool(text(doc, F_FINGERPRINT))
        and F_PARENT_UID not in doc
    )


def dedupe(documents: Iterable[Document]) -> list[Document]:
    """Drop repeated documents (same log group, stream and ``log.record.uid``), keeping the first."""
    seen: set[tuple[Any, Any, str]] = set()
    out: list[Document] = []
    for doc in documents:
        uid = doc.get(F_UID)
        if isinstance(uid, str) and uid:
            key = (doc.get(F_LOG_GROUP), doc.get(F_LOG_STREAM), uid)
            if key in seen:
                continue
            seen.add(key)
        out.append(doc)
    return out


def summarize(documents: Iterable[Document]) -> BatchSummary:
    """Per-invocation summaries and init failures of a batch (see the module docstring)."""
    docs = dedupe(documents)
    invocations: dict[tuple[str, str], InvocationSummary] = {}
    init_lines: dict[tuple[str, str], list[Document]] = {}
    init_reports: dict[tuple[str, str], list[Document]] = {}

    def summary_for(doc: Document, function: str, invocation: str) -> InvocationSummary:
        key = (function, invocation)
        s = invocations.get(key)
        ts = epoch_ms(doc.get(F_TIMESTAMP)) or 0
        if s is None:
            s = invocations[key] = InvocationSummary(function, invocation, ts)
        elif s.report is None and ts and (not s.timestamp_ms or ts < s.timestamp_ms):
            s.timestamp_ms = ts
        return s

    for doc in docs:
        function = text(doc, F_FUNCTION)
        if function is None:
            continue
        event_type = doc.get(F_EVENT_TYPE)
        invocation = text(doc, F_INVOCATION)
        if event_type == "init_error" or (
            event_type == "init_report" and doc.get(F_STATUS) in ("error", "timeout")
        ):
            stream_key = (function, text(doc, F_INSTANCE) or text(doc, F_LOG_STREAM) or "")
            (init_lines if event_type == "init_error" else init_reports).setdefault(stream_key, []).append(
                doc
            )
            continue
        if invocation is None:
            continue
        if event_type == "report":
            s = summary_for(doc, function, invocation)
            s.report = doc
            s.timestamp_ms = epoch_ms(doc.get(F_TIMESTAMP)) or s.timestamp_ms
            outcome = doc.get(F_OUTCOME)
            if outcome == "timeout":
                s.timeout = True
            elif outcome == "oom":
                s.oom = True
            elif outcome == "error":
                s.unhandled_error = True
            if s.failure_doc is None and outcome in ("timeout", "oom", "error"):
                s.failure_doc = doc
        elif event_type in ("timeout", "oom", "unhandled_error"):
            s = summary_for(doc, function, invocation)
            if event_type == "timeout":
                s.timeout = True
            elif event_type == "oom":
                s.oom = True
            else:
                s.unhandled_error = True
            # A line describes the failure better than the REPORT does.
            if s.failure_doc is None or s.failure_doc.get(F_EVENT_TYPE) == "report":
                s.failure_doc = doc
            if event_type == "unhandled_error":
                s.error_docs.append(doc)
        elif is_logged_error(doc):
            summary_for(doc, function, invocation).error_docs.append(doc)

    init_failures: list[InitFailure] = []
    for stream_key in sorted(set(init_lines) | set(init_reports)):
        lines = init_lines.get(stream_key, [])
        reports = init_reports.get(stream_key, [])
        for i in range(max(len(lines), len(reports))):
            line = lines[i] if i < len(lines) else None
            report = reports[i] if i < len(reports) else None
            first = line or report
            assert first is not None
            uid = text(first, F_UID) or f"{stream_key[1]}@{first.get(F_TIMESTAMP)}"
            init_failures.append(
                InitFailure(
                    stream_key[0], stream_key[1], uid, epoch_ms(first.get(F_TIMESTAMP)) or 0, line, report
                )
            )
    # Invocations made only of logged errors (no report, no failure line) are not invocations
    # nor failures; they stay for the error_docs they carry.
    return BatchSummary(invocations, init_failures, docs)
