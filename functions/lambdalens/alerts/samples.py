"""A sample alert of each kind, made from real-shaped documents (``lambdalens alerts test``,
the documentation's sample messages)."""

from __future__ import annotations

from typing import Any

from lambdalens.alerts.kinds import AlertKind
from lambdalens.alerts.message import Alert
from lambdalens.metrics.invocations import (
    F_ACCOUNT,
    F_EXC_MESSAGE,
    F_EXC_TYPE,
    F_FINGERPRINT,
    F_INVOCATION,
    F_LOG_GROUP,
    F_LOG_STREAM,
    F_REGION,
    F_TIMESTAMP,
    F_VERSION,
    Document,
    epoch_ms,
)
from lambdalens.metrics.samples import SampleLog


def _from_doc(
    kind: AlertKind,
    doc: Document,
    *,
    count: int = 1,
    digest: bool = False,
    details: dict[str, Any] | None = None,
) -> Alert:
    def s(key: str) -> str | None:
        value = doc.get(key)
        return value if isinstance(value, str) else None

    return Alert(
        kind=kind,
        function=str(doc["faas.name"]),
        time_ms=epoch_ms(doc.get(F_TIMESTAMP)) or 0,
        account=s(F_ACCOUNT),
        region=s(F_REGION),
        request_id=s(F_INVOCATION),
        error_type=s(F_EXC_TYPE),
        message=s(F_EXC_MESSAGE),
        fingerprint=s(F_FINGERPRINT),
        log_group=s(F_LOG_GROUP),
        log_stream=s(F_LOG_STREAM),
        version=s(F_VERSION),
        count=count,
        digest=digest,
        details=details or {},
    )


def sample_alerts(
    function: str = "orders-api", account: str = "123456789012", region: str = "us-east-1"
) -> list[Alert]:
    """One alert of each kind (plus a digest), as the engine would send them."""
    log = SampleLog(function, account=account, region=region, memory_mb=512)
    by_type = {d["lambda.event_type"]: d for d in log.invocation(outcome="timeout", duration_ms=3000.0)}
    timeout = _from_doc(
        AlertKind.TIMEOUT, by_type["timeout"], count=2, details={"duration_ms": 3000.0, "memory_mb": 512.0}
    )
    oom_doc = next(
        d for d in log.invocation(outcome="oom", duration_ms=812.0) if d["lambda.event_type"] == "oom"
    )
    oom = _from_doc(
        AlertKind.OUT_OF_MEMORY,
        oom_doc,
        details={"duration_ms": 812.0, "memory_mb": 512.0, "max_memory_mb": 512.0},
    )
    init_doc = next(d for d in log.init_failure() if d["lambda.event_type"] == "init_error")
    init = _from_doc(AlertKind.INIT_ERROR, init_doc)
    err_doc = next(d for d in log.invocation(outcome="error") if d["lambda.event_type"] == "unhandled_error")
    t = epoch_ms(err_doc[F_TIMESTAMP]) or 0
    new = _from_doc(
        AlertKind.NEW_ERROR, err_doc, details={"first_seen_ms": t, "total_count": 1, "rearmed": False}
    )
    burst = _from_doc(AlertKind.ERROR_BURST, err_doc, count=4, details={"window_count": 12})
    near_doc = log.invocation(duration_ms=2874.31)[-1]
    near = _from_doc(
        AlertKind.NEAR_TIMEOUT,
        near_doc,
        details={"duration_ms": 2874.31, "timeout_ms": 3000.0, "ratio": 2874.31 / 3000},
    )
    slow_doc = log.invocation(duration_ms=1840.5)[-1]
    slow = _from_doc(
        AlertKind.DURATION_REGRESSION,
        slow_doc,
        details={
            "duration_ms": 1840.5,
            "median_ms": 212.0,
            "samples": 240,
            "factor": 1840.5 / 212.0,
            "memory_mb": 512.0,
        },
    )
    digest = _from_doc(AlertKind.TIMEOUT, by_type["timeout"], count=37, digest=True)
    return [timeout, oom, init, new, burst, near, slow, digest]
