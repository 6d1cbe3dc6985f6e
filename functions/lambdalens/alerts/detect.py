"""Batch summary -> signals: the occurrences alerts are made of (pure, apart from the cached
function configuration lookup for ``near_timeout``).

A :class:`Signal` is one occurrence with a key that is stable across redeliveries (the request
id, or the document uid when there is none), so the engine can claim it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambdalens.metrics.functions import FunctionConfigCache
from lambdalens.metrics.invocations import (
    F_ACCOUNT,
    F_BODY,
    F_DURATION,
    F_EVENT_TYPE,
    F_EXC_MESSAGE,
    F_EXC_TYPE,
    F_FINGERPRINT,
    F_INVOCATION,
    F_LOG_GROUP,
    F_LOG_STREAM,
    F_MAX_MEMORY,
    F_MEMORY_SIZE,
    F_REGION,
    F_TIMESTAMP,
    F_UID,
    F_VERSION,
    BatchSummary,
    Document,
    epoch_ms,
    is_logged_error,
    num,
    text,
)

# Signal kinds (not all are alert kinds: ``error`` and ``logged_error`` feed new_error and
# error_burst).
TIMEOUT = "timeout"
OUT_OF_MEMORY = "out_of_memory"
INIT_ERROR = "init_error"
ERROR = "error"
LOGGED_ERROR = "logged_error"
NEAR_TIMEOUT = "near_timeout"
DURATION_REGRESSION = "duration_regression"

#: Signals that are failed invocations (counted by error_burst).
FAILURES = frozenset({TIMEOUT, OUT_OF_MEMORY, INIT_ERROR, ERROR})
#: Signals whose fingerprint can make a new_error.
NEW_ERROR_SOURCES = frozenset({ERROR, LOGGED_ERROR})


@dataclass(slots=True)
class Signal:
    """One occurrence: ``kind`` (above), ``function``, ``key`` (request id or document uid),
    event time, the document that shows it best, its fingerprint, kind-specific numbers."""

    kind: str
    function: str
    key: str
    timestamp_ms: int
    doc: Document
    fingerprint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def claim_key(self) -> tuple[str, str]:
        return (f"seen#{self.function}", f"{self.kind}#{self.key}")

    @property
    def request_id(self) -> str | None:
        return text(self.doc, F_INVOCATION)

    def occurrence(self, max_chars: int = 500) -> dict[str, Any]:
        """What a gate or fingerprint item remembers of the latest occurrence (message truncated)."""
        d = self.doc
        message = text(d, F_EXC_MESSAGE)
        if message is None and d.get(F_EVENT_TYPE) not in ("report", "init_report"):
            message = text(d, F_BODY)
        return {
            "last_request_id": self.request_id,
            "last_time": self.timestamp_ms,
            "account": text(d, F_ACCOUNT),
            "region": text(d, F_REGION),
            "log_group": text(d, F_LOG_GROUP),
            "log_stream": text(d, F_LOG_STREAM),
            "version": text(d, F_VERSION),
            "error_type": text(d, F_EXC_TYPE),
            "message": message[:max_chars] if message else None,
            "fingerprint": self.fingerprint,
        }


def _report_details(report: Document | None) -> dict[str, Any]:
    if report is None:
        return {}
    out = {}
    for name, key in (
        ("duration_ms", F_DURATION),
        ("memory_mb", F_MEMORY_SIZE),
        ("max_memory_mb", F_MAX_MEMORY),
    ):
        value = num(report, key)
        if value is not None:
            out[name] = value
    return out


def _ts(doc: Document, default: int) -> int:
    return epoch_ms(doc.get(F_TIMESTAMP)) or default


def detect_signals(
    summary: BatchSummary,
    configs: FunctionConfigCache | None = None,
    timeout_ratio: float = 0.9,
    logged_errors: bool = True,
) -> list[Signal]:
    """Every occurrence in the batch that an alert may be made of.

    ``near_timeout`` needs the function's configured timeout (``configs``); without it (no
    client, access denied) no near-timeout signal is made.
    """
    signals: list[Signal] = []
    for inv in summary.invocations.values():
        details = _report_details(inv.report)
        rid = inv.invocation_id
        failure = inv.failure_doc or inv.report
        if inv.timeout and failure is not None:
            signals.append(
                Signal(
                    TIMEOUT,
                    inv.function,
                    rid,
                    _ts(failure, inv.timestamp_ms),
                    failure,
                    text(failure, F_FINGERPRINT),
                    details,
                )
            )
        if inv.oom and failure is not None:
            signals.append(
                Signal(
                    OUT_OF_MEMORY,
                    inv.function,
                    rid,
                    _ts(failure, inv.timestamp_ms),
                    failure,
                    text(failure, F_FINGERPRINT),
                    details,
                )
            )
        if inv.unhandled_error:
            unhandled = [d for d in inv.error_docs if d.get(F_EVENT_TYPE) == "unhandled_error"]
            doc = next((d for d in unhandled if text(d, F_FINGERPRINT)), None) or (
                unhandled[0] if unhandled else failure
            )
            if doc is not None:
                # A REPORT's "Error Type" (Runtime.ExitError, Runtime.ImportModuleError...) names no
                # bug of its own: only an unhandled_error line's fingerprint can be a new error.
                fingerprint = text(doc, F_FINGERPRINT) if doc.get(F_EVENT_TYPE) == "unhandled_error" else None
                signals.append(
                    Signal(ERROR, inv.function, rid, _ts(doc, inv.timestamp_ms), doc, fingerprint, details)
                )
        if logged_errors:
            for doc in inv.error_docs:
                if is_logged_error(doc):
                    key = text(doc, F_UID) or f"{rid}@{doc.get(F_TIMESTAMP)}"
                    signals.append(
                        Signal(
                            LOGGED_ERROR,
                            inv.function,
                            key,
                            _ts(doc, inv.timestamp_ms),
                            doc,
                            text(doc, F_FINGERPRINT),
                        )
                    )
        report = inv.report
        duration = details.get("duration_ms")
        if (
            configs is not None
            and report is not None
            and not (inv.timeout or inv.oom)
            and duration is not None
        ):
            config = configs.get(inv.function, text(report, F_ACCOUNT), text(report, F_REGION))
            if config.timeout_s:
                timeout_ms = config.timeout_s * 1000
                if duration > timeout_ratio * timeout_ms:
                    signals.append(
                        Signal(
                            NEAR_TIMEOUT,
                            inv.function,
                            rid,
                            inv.timestamp_ms,
                            report,
                            None,
                            {**details, "timeout_ms": timeout_ms, "ratio": duration / timeout_ms},
                        )
                    )
    for init in summary.init_failures:
        doc = init.doc
        signals.append(
            Signal(INIT_ERROR, init.function, init.key, init.timestamp_ms, doc, text(doc, F_FINGERPRINT))
        )
    return signals
