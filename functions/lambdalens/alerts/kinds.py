"""The kinds of alert lambdalens sends, their severity and their human titles."""

from __future__ import annotations

from enum import StrEnum


class AlertKind(StrEnum):
    """What happened. The value is the ``kind`` message attribute subscribers filter on."""

    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out_of_memory"
    INIT_ERROR = "init_error"
    NEW_ERROR = "new_error"
    ERROR_BURST = "error_burst"
    NEAR_TIMEOUT = "near_timeout"
    DURATION_REGRESSION = "duration_regression"


class Severity(StrEnum):
    """The ``severity`` message attribute (maps onto PagerDuty / Opsgenie priorities)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY: dict[AlertKind, Severity] = {
    AlertKind.TIMEOUT: Severity.HIGH,
    AlertKind.OUT_OF_MEMORY: Severity.HIGH,
    AlertKind.INIT_ERROR: Severity.CRITICAL,
    AlertKind.NEW_ERROR: Severity.MEDIUM,
    AlertKind.ERROR_BURST: Severity.HIGH,
    AlertKind.NEAR_TIMEOUT: Severity.LOW,
    AlertKind.DURATION_REGRESSION: Severity.LOW,
}

TITLE: dict[AlertKind, str] = {
    AlertKind.TIMEOUT: "Timeout",
    AlertKind.OUT_OF_MEMORY: "Out of memory",
    AlertKind.INIT_ERROR: "Init error",
    AlertKind.NEW_ERROR: "New error",
    AlertKind.ERROR_BURST: "Error burst",
    AlertKind.NEAR_TIMEOUT: "Near timeout",
    AlertKind.DURATION_REGRESSION: "Duration regression",
}

#: Plural nouns for digests ("and 37 more timeouts in the last 15 min").
PLURAL: dict[AlertKind, str] = {
    AlertKind.TIMEOUT: "timeouts",
    AlertKind.OUT_OF_MEMORY: "out-of-memory kills",
    AlertKind.INIT_ERROR: "init errors",
    AlertKind.NEW_ERROR: "occurrences of this error",
    AlertKind.ERROR_BURST: "failed invocations",
    AlertKind.NEAR_TIMEOUT: "invocations near the timeout",
    AlertKind.DURATION_REGRESSION: "slow invocations",
}
