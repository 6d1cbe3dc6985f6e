"""The document type and the values of ``lambda.event_type`` (see docs/document-schema.md)."""

from __future__ import annotations

from typing import Any

#: One OpenSearch document per log event: a flat dict with dotted keys.
Document = dict[str, Any]

START = "start"
END = "end"
REPORT = "report"
INIT_START = "init_start"
INIT_REPORT = "init_report"
TIMEOUT = "timeout"
OOM = "oom"
INIT_ERROR = "init_error"
UNHANDLED_ERROR = "unhandled_error"
APP_LOG = "app_log"
PLATFORM = "platform"
EXTENSION = "extension"

EVENT_TYPES: frozenset[str] = frozenset(
    {
        START,
        END,
        REPORT,
        INIT_START,
        INIT_REPORT,
        TIMEOUT,
        OOM,
        INIT_ERROR,
        UNHANDLED_ERROR,
        APP_LOG,
        PLATFORM,
        EXTENSION,
    }
)

#: Event types that report a failure of the invocation (or of the init) they belong to.
FAILURE_TYPES: frozenset[str] = frozenset({TIMEOUT, OOM, INIT_ERROR, UNHANDLED_ERROR})

#: ``errorType`` values the runtimes use for a failed initialisation.
INIT_ERROR_TYPES: frozenset[str] = frozenset(
    {
        "Runtime.ImportModuleError",
        "Runtime.HandlerNotFound",
        "Runtime.UserCodeSyntaxError",
        "Runtime.MalformedHandlerName",
        "Runtime.InvalidEntrypoint",
        "Runtime.InvalidWorkingDirectory",
        "Runtime.NoSuchHandler",
        "Runtime.InitError",
        "Extension.InitError",
    }
)
