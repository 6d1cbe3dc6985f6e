"""Severity names of every runtime and logging library -> OpenTelemetry severity."""

from __future__ import annotations

#: OpenTelemetry SeverityNumber of each normalised severity text.
SEVERITY_NUMBER: dict[str, int] = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}

_ALIASES: dict[str, str] = {
    # Python logging, Lambda runtimes, Powertools, Node, log4j, .NET, Ruby, Go, syslog
    "trace": "TRACE", "trce": "TRACE", "verbose": "TRACE", "finest": "TRACE", "finer": "TRACE", "t": "TRACE",
    "debug": "DEBUG", "dbug": "DEBUG", "fine": "DEBUG", "d": "DEBUG",
    "info": "INFO", "information": "INFO", "informational": "INFO", "notice": "INFO", "i": "INFO", "config": "INFO",
    "warn": "WARN", "warning": "WARN", "w": "WARN",
    "error": "ERROR", "err": "ERROR", "fail": "ERROR", "failure": "ERROR", "severe": "ERROR", "e": "ERROR",
    "fatal": "FATAL", "critical": "FATAL", "crit": "FATAL", "emerg": "FATAL", "emergency": "FATAL",
    "alert": "FATAL", "panic": "FATAL", "f": "FATAL", "a": "FATAL",
}  # fmt: skip


#: The spellings seen most, looked up before any string work (callers on the hot path look a
#: string up here before calling :func:`normalize_severity`).
EXACT_SEVERITY: dict[str, str] = {**{k.upper(): v for k, v in _ALIASES.items()}, **_ALIASES}
_EXACT = EXACT_SEVERITY


def normalize_severity(value: object) -> str | None:
    """``"warning"`` -> ``"WARN"``, ``"fail"`` -> ``"ERROR"``, ``30`` (pino) -> ``"INFO"``; unknown -> ``None``."""
    if isinstance(value, str):
        exact = _EXACT.get(value)
        if exact is not None:
            return exact
        return _ALIASES.get(value.strip().lower())
    if isinstance(value, int) and not isinstance(value, bool):
        # pino / bunyan numeric levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal
        return {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}.get(value)
    return None
