"""Structured (JSON object) application log lines.

Covers Powertools for AWS Lambda (Python, TypeScript, Java, .NET), Lambda's JSON log format
application records (``timestamp``/``level``/``message``/``requestId``), the error objects
runtimes print for unhandled errors (``errorType``/``errorMessage``/``stackTrace``), and any
other JSON object: keys that map to a document field are lifted out, the remaining keys go
to ``attributes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdalens.parsing.document import Document
from lambdalens.parsing.severity import normalize_severity

_LEVEL_KEYS = ("level", "log_level", "levelname", "severity", "lvl", "loglevel", "Level")
_REQUEST_KEYS = (
    "function_request_id",
    "requestId",
    "request_id",
    "aws_request_id",
    "awsRequestId",
    "AWSRequestId",
)
_TRACE_KEYS = ("xray_trace_id", "traceId", "trace_id", "xrayTraceId", "otelTraceID", "dd.trace_id")
_SPAN_KEYS = ("spanId", "span_id", "otelSpanID", "dd.span_id")
_CORRELATION_KEYS = ("correlation_id", "correlationId", "correlationID")
_COLD_START_KEYS = ("cold_start", "coldStart")
_SERVICE_KEYS = ("service", "serviceName", "service_name")
_DROPPED_KEYS = frozenset({"timestamp", "time", "@timestamp"})


def _first_str(obj: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and key in _TRACE_KEYS + _SPAN_KEYS:
            return str(value)
    return None


def stack_text(value: object) -> str | None:
    """A stack trace given as a string or a list of frames (strings or Go frame objects) -> text."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, list) and value:
        lines = []
        for frame in value:
            if isinstance(frame, str):
                lines.append(frame)
            elif isinstance(frame, Mapping):  # aws-lambda-go: {"path", "line", "label"}
                lines.append(f"{frame.get('label', '')}()\n\t{frame.get('path', '')}:{frame.get('line', '')}")
        return "\n".join(lines) or None
    return None


def last_exception_line(trace: str) -> tuple[str | None, str | None]:
    """``Traceback ...\\nValueError: bad`` -> (``ValueError``, ``bad``): the final line of a Python traceback."""
    for line in reversed(trace.strip().splitlines()):
        head, sep, rest = line.partition(": ")
        if head and " " not in head and (head[:1].isalpha() or head[:1] == "_"):
            return head, (rest if sep else None)
        if line and not line.startswith((" ", "\t")) and " " not in line.strip():
            return line.strip(), None
    return None, None


def _apply_error(doc: Document, obj: Mapping[str, Any]) -> bool:
    """Lift the error a structured line reports. True when it is an error object."""
    found = False
    error_type = obj.get("errorType")
    if isinstance(error_type, str) and error_type:
        stack = obj.get("stackTrace")
        if (
            "." not in error_type
            and isinstance(stack, list)
            and stack
            and str(stack[0]).startswith(f"Runtime.{error_type}")
        ):
            error_type = (
                f"Runtime.{error_type}"  # Node.js logs "ImportModuleError" for Runtime.ImportModuleError
            )
        doc["exception.type"] = error_type
        found = True
    error_message = obj.get("errorMessage")
    if isinstance(error_message, str):
        doc["exception.message"] = error_message
        found = True
    trace = stack_text(obj.get("stackTrace")) or stack_text(obj.get("stack"))
    if trace:
        doc["exception.stacktrace"] = trace
    # Powertools for AWS Lambda (Python): "exception" (formatted traceback), "exception_name"
    exception = obj.get("exception")
    if isinstance(exception, str) and exception:
        doc["exception.stacktrace"] = exception
        name = obj.get("exception_name")
        last_type, last_message = last_exception_line(exception)
        doc["exception.type"] = name if isinstance(name, str) and name else (last_type or "Exception")
        if last_message is not None:
            doc["exception.message"] = last_message
        found = True
    # Powertools for AWS Lambda (TypeScript) and most JS loggers: "error": {"name", "message", "stack"}
    error = obj.get("error")
    if isinstance(error, Mapping) and ("message" in error or "stack" in error or "name" in error):
        name = error.get("name") or error.get("type")
        if isinstance(name, str):
            doc["exception.type"] = name
        if isinstance(error.get("message"), str):
            doc["exception.message"] = error["message"]
        trace = stack_text(error.get("stack"))
        if trace:
            doc["exception.stacktrace"] = trace
        found = True
    return found


#: Keys whose string value becomes a document field (first key of a kind wins).
_STRING_FIELD: dict[str, str] = {
    **dict.fromkeys(_REQUEST_KEYS, "faas.invocation_id"),
    **dict.fromkeys(_TRACE_KEYS, "traceId"),
    **dict.fromkeys(_SPAN_KEYS, "spanId"),
    **dict.fromkeys(_CORRELATION_KEYS, "correlation_id"),
    **dict.fromkeys(_SERVICE_KEYS, "service.name"),
}
_LEVELS = frozenset(_LEVEL_KEYS)
_COLD = frozenset(_COLD_START_KEYS)
_ERROR_KEYS = frozenset(
    ("errorType", "errorMessage", "stackTrace", "stack", "exception", "exception_name", "error")
)
_KNOWN = frozenset(_STRING_FIELD) | _LEVELS | _COLD | _ERROR_KEYS | _DROPPED_KEYS


def apply_structured(doc: Document, obj: dict[str, Any]) -> bool:
    """Lift the known keys of a JSON log line into ``doc``; the rest goes to ``attributes``.

    ``obj`` (freshly parsed, owned by the caller) is consumed: the lifted keys are popped
    and what remains becomes ``attributes``. Returns True when the line reports an error
    (an ``errorType``/``exception``/``error`` object); a dict ``message`` (JSON log format
    lets runtimes log objects) is searched for an error object too. This runs for every
    structured line: one set intersection, then only the keys that are there.
    """
    errors: dict[str, Any] | None = None
    obj_rest: dict[str, Any] = {}
    pop = obj.pop
    for key in _KNOWN & obj.keys():
        value = pop(key)
        field = _STRING_FIELD.get(key)
        if field is not None:
            if type(value) is not str:
                if (type(value) is int or type(value) is float) and field in ("traceId", "spanId"):
                    value = str(value)
                else:
                    continue
            if value and (field not in doc or field == "service.name") and value != "service_undefined":
                doc[field] = value
        elif key in _LEVELS:
            level = normalize_severity(value)
            if level and (doc.get("severity.text") is None or key == "level"):
                doc["severity.text"] = level
        elif key in _ERROR_KEYS:
            if key == "error" and not isinstance(value, dict):
                obj_rest[key] = (
                    value  # "error": "SecretUnavailableError" is an attribute, not an error object
                )
                continue
            if errors is None:
                errors = {}
            errors[key] = value
        elif key in _COLD and type(value) is bool:
            doc["faas.coldstart"] = value
    is_error = _apply_error(doc, errors) if errors is not None else False
    message = obj.get("message")
    if type(message) is dict and _apply_error(doc, message):
        is_error = True
        nested_request = _first_str(message, _REQUEST_KEYS)
        if nested_request and "faas.invocation_id" not in doc:
            doc["faas.invocation_id"] = nested_request
    if obj_rest:
        obj.update(obj_rest)
    if obj:
        doc["attributes"] = obj
    return is_error
