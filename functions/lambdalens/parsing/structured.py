"""Structured (JSON object) application log lines.

Covers Powertools for AWS Lambda (Python, TypeScript, Java, .NET), Lambda's JSON log format
application records (``timestamp``/``level``/``message``/``requestId``), the error objects
runtimes print for unhandled errors (``errorType``/``errorMessage``/``stackTrace``), and any
other JSON object: keys that map to a document field are lifted out, the remaining keys go
to ``attributes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdalens.parsing.document import Document
from lambdalens.parsing.severity import EXACT_SEVERITY, normalize_severity
from lambdalens.parsing.text_formats import split_error_text
from lambdalens.parsing.trace_header import trace_id_of

# Elastic Common Schema loggers (ecs-logging for Java, Node.js, Python, .NET, Go; Powertools for
# Java's LambdaEcsLayout) write dotted keys: "log.level", "faas.execution", "trace.id",
# "error.type", ... (the names OpenTelemetry used before "faas.invocation_id").
_LEVEL_KEYS = ("level", "log_level", "levelname", "severity", "lvl", "loglevel", "Level", "log.level")
# Powertools for AWS Lambda (.NET) writes its keys in the case POWERTOOLS_LOGGER_CASE names:
# snake_case (the default, as the other Powertools), camelCase or PascalCase ("FunctionRequestId").
_REQUEST_KEYS = (
    "function_request_id",
    "requestId",
    "request_id",
    "aws_request_id",
    "awsRequestId",
    "AWSRequestId",
    "functionRequestId",
    "FunctionRequestId",
    "faas.execution",
    "faas.invocation_id",
)
_TRACE_KEYS = (
    "xray_trace_id",
    "traceId",
    "trace_id",
    "xrayTraceId",
    "XrayTraceId",
    "otelTraceID",
    "dd.trace_id",
    "trace.id",
)
_SPAN_KEYS = ("spanId", "span_id", "otelSpanID", "dd.span_id", "span.id")
_CORRELATION_KEYS = ("correlation_id", "correlationId", "correlationID", "CorrelationId", "correlation.id")
_COLD_START_KEYS = ("cold_start", "coldStart", "ColdStart", "faas.coldstart")
_SERVICE_KEYS = ("service", "serviceName", "service_name", "Service", "service.name")
_DROPPED_KEYS = frozenset({"timestamp", "time", "@timestamp", "Timestamp"})
#: The tracing crate's JSON format (Rust; aws-lambda-rust-runtime's default subscriber when
#: AWS_LAMBDA_LOG_FORMAT=JSON): the spans the event is in, the current one in "span" and all of
#: them in "spans". The runtime runs every invocation in a span that names the request and its
#: X-Ray trace header: {"requestId", "xrayTraceId", "name": "Lambda runtime invoke"}.
_TRACING_SPAN_KEYS = frozenset({"span", "spans"})
#: An exception as text (Powertools for Python: the formatted traceback) or as an object
#: (Powertools for .NET: {"type", "message", "stack_trace", ...} in its key case)
_EXCEPTION_KEYS = ("exception", "Exception")
#: An error logged as an object (JavaScript loggers); as text, only a name: an attribute
_ERROR_OBJECT_KEYS = ("error", "err")
_ECS_ERROR_KEYS = ("error.type", "error.message", "error.stack_trace")


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
    text_trace = trace is not None and type(obj.get("stack")) is str
    if not trace:
        for key in _TRACE_TEXT_KEYS:
            trace = stack_text(obj.get(key))
            if trace:
                text_trace = True
                break
    if trace:
        doc["exception.stacktrace"] = trace
        if not found and text_trace:
            # a trace as text at the top of the line, the error named in it: winston's
            # format.errors() ("message" and "stack"), logstash-logback-encoder ("stack_trace"),
            # python-json-logger ("exc_info"), zap ("stacktrace": frames only)
            exc_type, exc_message, _ = split_error_text(trace)
            if exc_type is not None:
                doc["exception.type"] = exc_type
                if exc_message is not None:
                    doc["exception.message"] = exc_message
                found = True
    # Powertools for AWS Lambda (Python): "exception" (formatted traceback), "exception_name"
    exception = obj.get("exception")
    if exception is None:
        exception = obj.get("Exception")
    if isinstance(exception, Mapping):  # Powertools for AWS Lambda (.NET)
        found = _apply_error_object(doc, exception) or found
    elif isinstance(exception, str) and exception:
        doc["exception.stacktrace"] = exception
        name = obj.get("exception_name")
        last_type, last_message = last_exception_line(exception)
        doc["exception.type"] = name if isinstance(name, str) and name else (last_type or "Exception")
        if last_message is not None:
            doc["exception.message"] = last_message
        found = True
    # Elastic Common Schema: "error.type", "error.message", "error.stack_trace"
    ecs_type, ecs_message, ecs_stack = (obj.get(key) for key in _ECS_ERROR_KEYS)
    if ecs_type is not None or ecs_message is not None or ecs_stack is not None:
        found = (
            _apply_error_object(doc, {"name": ecs_type, "message": ecs_message, "stack": ecs_stack}) or found
        )
    # Powertools for AWS Lambda (TypeScript) and most JS loggers: "error": {"name", "message", "stack"};
    # pino and bunyan: "err": {"type" (pino) or "name" (bunyan), "message", "stack"}
    for key in _ERROR_OBJECT_KEYS:
        error = obj.get(key)
        if isinstance(error, Mapping):
            found = _apply_error_object(doc, error) or found
    return found


def _first_of(obj: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


_OBJECT_NAME_KEYS = ("name", "Name")
_OBJECT_TYPE_KEYS = ("type", "Type")
_OBJECT_MESSAGE_KEYS = ("message", "Message")
_OBJECT_STACK_KEYS = ("stack", "stackTrace", "stack_trace", "StackTrace")
#: Stack traces as text at the top of a line, besides "stack": logstash-logback-encoder (Java),
#: python-json-logger, zap (Go)
_TRACE_TEXT_KEYS = ("stack_trace", "exc_info", "stacktrace")
_OBJECT_KEYS = _OBJECT_NAME_KEYS + _OBJECT_MESSAGE_KEYS + _OBJECT_STACK_KEYS
#: The keys of an error object that become exception.* fields (its others stay in attributes:
#: pino's "code", "errno", "syscall"; Powertools' "location")
_ERROR_OBJECT_FIELDS = frozenset(_OBJECT_KEYS + _OBJECT_TYPE_KEYS)


def _is_error_object(value: Mapping[str, Any]) -> bool:
    """Does an ``error``/``exception`` object describe an error (a name, message or stack)?"""
    return any(value.get(key) is not None for key in _OBJECT_KEYS)


def _apply_error_object(doc: Document, error: Mapping[str, Any]) -> bool:
    """An error logged as an object: ``{"name", "message", "stack"}`` (JavaScript loggers) or a
    .NET exception (``{"type", "message", "stack_trace"}`` in any key case). False for an object
    with no name, message or stack (``{"type": "validation", "field": "email"}``)."""
    if not _is_error_object(error):
        return False
    name = _first_of(error, _OBJECT_NAME_KEYS)
    message = _first_of(error, _OBJECT_MESSAGE_KEYS)
    stack = _first_of(error, _OBJECT_STACK_KEYS)
    if not name:
        name = _first_of(error, _OBJECT_TYPE_KEYS)
    if isinstance(name, str) and name:
        doc["exception.type"] = name
    if isinstance(message, str):
        doc["exception.message"] = message
    trace = stack_text(stack)
    if trace:
        doc["exception.stacktrace"] = trace
    return True


#: Keys whose string value becomes a document field (the first such key of the line wins).
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
    (
        "errorType",
        "errorMessage",
        "stackTrace",
        "stack",
        *_TRACE_TEXT_KEYS,
        "exception_name",
        *_ERROR_OBJECT_KEYS,
        *_EXCEPTION_KEYS,
        *_ECS_ERROR_KEYS,
    )
)
_KNOWN = frozenset(_STRING_FIELD) | _LEVELS | _COLD | _ERROR_KEYS | _DROPPED_KEYS | _TRACING_SPAN_KEYS

# What a known key does to the document: the actions of a :data:`_Step`.
_FIELD = 0  # a string value becomes ``field`` unless the document has it already
_ID_FIELD = 1  # the same, numbers accepted too (trace and span ids)
_SERVICE = 2  # a string value becomes ``service.name``, replacing the function name
_LEVEL = 3  # "level": the severity
_OTHER_LEVEL = 4  # "log_level", "severity", ...: the severity unless one is known already
_ERROR = 5  # part of an error object, read once all keys are in
_ERROR_OBJECT = 6  # "error", "err", "exception": an error object ("exception": or text), else an attribute
_COLD_START = 7  # a boolean cold start flag
_DROP = 8  # a timestamp: the event's own is kept
_TRACING_SPANS = 9  # "span", "spans": the request and trace of the span they name (kept in attributes)

#: (key, action, document field or "") for one known key of a line.
_Step = tuple[str, int, str]


def _step(key: str) -> _Step:
    field = _STRING_FIELD.get(key)
    if field == "service.name":
        return key, _SERVICE, field
    if field in ("traceId", "spanId"):
        return key, _ID_FIELD, field
    if field is not None:
        return key, _FIELD, field
    if key in _LEVELS:
        return key, _LEVEL if key == "level" else _OTHER_LEVEL, ""
    if key in _ERROR_OBJECT_KEYS or key in _EXCEPTION_KEYS:
        return key, _ERROR_OBJECT, ""
    if key in _ERROR_KEYS:
        return key, _ERROR, ""
    if key in _COLD:
        return key, _COLD_START, ""
    if key in _TRACING_SPAN_KEYS:
        return key, _TRACING_SPANS, ""
    return key, _DROP, ""


# Lines of one logger share their keys, in the same order (a Powertools line is always
# level, location, message, timestamp, service, cold_start, ...): what to do with a line is
# worked out once per key shape rather than with a set operation and several lookups per key
# per line.
@dataclass(frozen=True, slots=True)
class _Shape:
    """The plan for the JSON lines that have one key shape."""

    steps: tuple[_Step, ...]  # the known keys, in the line's order
    # Plain shapes (no error keys, no "type", at most one key per document field and one
    # severity key: most application lines) have a shorter plan, by action; see apply_plain.
    plain: bool
    fields: tuple[tuple[str, str], ...] = ()  # _FIELD steps: (key, field)
    ids: tuple[tuple[str, str], ...] = ()  # _ID_FIELD steps
    service: str | None = None  # the _SERVICE key
    level: str | None = None  # the severity key
    cold_start: str | None = None  # the _COLD_START key
    drops: tuple[str, ...] = ()  # _DROP keys


def _plan(shape: tuple[str, ...]) -> _Shape:
    steps = tuple(_step(key) for key in shape if key in _KNOWN)
    actions = [action for _, action, _ in steps]
    targets = [field for _, action, field in steps if action in (_FIELD, _ID_FIELD, _SERVICE)]
    plain = (
        "type" not in shape
        # zap's lines ("ts", "msg") take the general reader: they may be an extension's (the parser
        # asks lambdalens.parsing.extensions there, so that other lines do not pay for it)
        and not ("ts" in shape and "msg" in shape)
        and not any(action in (_ERROR, _ERROR_OBJECT, _TRACING_SPANS) for action in actions)
        and len(set(targets)) == len(targets)
        and actions.count(_LEVEL) + actions.count(_OTHER_LEVEL) <= 1
        and actions.count(_COLD_START) <= 1
    )
    if not plain:
        return _Shape(steps, plain=False)
    first = {action: key for key, action, _ in reversed(steps)}
    return _Shape(
        steps,
        plain=True,
        fields=tuple((key, field) for key, action, field in steps if action == _FIELD),
        ids=tuple((key, field) for key, action, field in steps if action == _ID_FIELD),
        service=first.get(_SERVICE),
        level=first.get(_LEVEL, first.get(_OTHER_LEVEL)),
        cold_start=first.get(_COLD_START),
        drops=tuple(key for key, action, _ in steps if action == _DROP),
    )


_shapes: dict[tuple[str, ...], _Shape] = {}
_MAX_SHAPES = 2048  # arbitrary JSON can have any keys: bound the memo


def _shape_of(obj: dict[str, Any]) -> _Shape:
    shape = tuple(obj)
    plan = _shapes.get(shape)
    if plan is None:
        if len(_shapes) >= _MAX_SHAPES:
            _shapes.clear()
        plan = _shapes[shape] = _plan(shape)
    return plan


def apply_plain(doc: Document, obj: dict[str, Any]) -> bool:
    """:func:`apply_structured` for a plain application line, the commonest JSON line: no
    error keys, no ``type``, a ``message`` that is not an object. Same result, fewer steps.
    False, ``obj`` untouched, for any other line (which is then not an error by its keys).

    ``doc`` is fresh from the parser (the stream's fields, the event's own, no severity): a
    plain shape lifts each document field from one key only, so no field it sets is there yet.
    """
    shape = tuple(obj)
    plan = _shapes.get(shape)
    if plan is None:
        plan = _shape_of(obj)
    if not plan.plain or type(obj.get("message")) is dict:
        return False
    pop = obj.pop
    for key, field in plan.fields:
        value = pop(key)
        if type(value) is str and value and value != "service_undefined":
            doc[field] = value
    for key, field in plan.ids:
        value = pop(key)
        if type(value) is str:
            if value and value != "service_undefined":
                doc[field] = trace_id_of(value) if "Root=" in value and field == "traceId" else value
        elif type(value) is int or type(value) is float:
            doc[field] = str(value)
    if plan.service is not None:
        value = pop(plan.service)
        # (most lines name the function: the document keeps its one string of the name)
        if type(value) is str and value and value != "service_undefined" and value != doc.get("service.name"):
            doc["service.name"] = value
    if plan.level is not None:
        value = pop(plan.level)
        level = EXACT_SEVERITY.get(value) if type(value) is str else None
        if level is None:
            level = normalize_severity(value)
        if level:
            doc["severity.text"] = level
    if plan.cold_start is not None:
        value = pop(plan.cold_start)
        if type(value) is bool:
            doc["faas.coldstart"] = value
    for key in plan.drops:
        del obj[key]
    if obj:
        doc["attributes"] = obj
    return True


def _apply_tracing_spans(doc: Document, spans: Any) -> None:
    """The request id and trace of a Rust tracing line, from the runtime's span among ``spans``
    (one span object or a list of them); a field the line set already is kept."""
    for span in spans if type(spans) is list else (spans,):
        if type(span) is not dict:
            continue
        request_id = span.get("requestId")
        if type(request_id) is str and request_id and "faas.invocation_id" not in doc:
            doc["faas.invocation_id"] = request_id
        header = span.get("xrayTraceId")
        if type(header) is str and header and "traceId" not in doc:
            doc["traceId"] = trace_id_of(header)


def apply_structured(doc: Document, obj: dict[str, Any]) -> bool:
    """Lift the known keys of a JSON log line into ``doc``; the rest goes to ``attributes``.

    ``obj`` (freshly parsed, owned by the caller) is consumed: the lifted keys are popped
    and what remains becomes ``attributes``. Keys are read in the line's order, so when a
    line has two keys of one kind (``requestId`` and ``request_id``) the first one wins
    (the last one for ``service``; ``level`` wins over other severity keys). Returns True
    when the line reports an error (an ``errorType``/``exception``/``error`` object); a dict
    ``message`` (JSON log format lets runtimes log objects) is searched for an error object
    too. This runs for every structured line: see :func:`_shape_of`.
    """
    errors: dict[str, Any] | None = None
    kept_attributes: dict[str, Any] | None = None
    pop = obj.pop
    for key, action, field in _shape_of(obj).steps:
        value = pop(key)
        if action <= _SERVICE:  # _FIELD, _ID_FIELD, _SERVICE
            if type(value) is not str:
                if action == _ID_FIELD and (type(value) is int or type(value) is float):
                    value = str(value)
                else:
                    continue
            if value and (action == _SERVICE or field not in doc) and value != "service_undefined":
                doc[field] = trace_id_of(value) if "Root=" in value and field == "traceId" else value
        elif action <= _OTHER_LEVEL:  # _LEVEL, _OTHER_LEVEL
            level = EXACT_SEVERITY.get(value) if type(value) is str else None
            if level is None:
                level = normalize_severity(value)
            if level and (action == _LEVEL or doc.get("severity.text") is None):
                doc["severity.text"] = level
        elif action <= _ERROR_OBJECT:  # _ERROR, _ERROR_OBJECT
            if action == _ERROR_OBJECT and not (
                _is_error_object(value)
                if type(value) is dict
                else key in _EXCEPTION_KEYS and type(value) is str and value
            ):
                # "error": "SecretUnavailableError" is an attribute, not an error object
                if kept_attributes is None:
                    kept_attributes = {}
                kept_attributes[key] = value
                continue
            if (key == "stack" or key in _TRACE_TEXT_KEYS) and type(value) is str and "\n" not in value:
                # one line is no stack trace: "stack": "orders-prod" names a deployment
                if kept_attributes is None:
                    kept_attributes = {}
                kept_attributes[key] = value
                continue
            if errors is None:
                errors = {}
            errors[key] = value
            if type(value) is dict:  # an error object: what it says beyond the exception.* fields stays
                extra = {k: v for k, v in value.items() if k not in _ERROR_OBJECT_FIELDS}
                if extra:
                    if kept_attributes is None:
                        kept_attributes = {}
                    kept_attributes[key] = extra
        elif action == _COLD_START:
            if type(value) is bool:
                doc["faas.coldstart"] = value
        elif action == _TRACING_SPANS:
            _apply_tracing_spans(doc, value)
            if kept_attributes is None:
                kept_attributes = {}
            kept_attributes[key] = value  # (the spans' other fields stay searchable)
    is_error = _apply_error(doc, errors) if errors is not None else False
    if (
        kept_attributes is not None
        and "exception.stacktrace" in doc
        and "exception.type" not in doc
        and "exception.message" not in doc
        and type(kept_attributes.get("error")) is str
    ):  # zap: zap.Error(err) writes "error": err.Error() beside the frames of "stacktrace"
        doc["exception.message"] = kept_attributes["error"]
    message = obj.get("message")
    if type(message) is dict and _apply_error(doc, message):
        is_error = True
        nested_request = _first_str(message, _REQUEST_KEYS)
        if nested_request and "faas.invocation_id" not in doc:
            doc["faas.invocation_id"] = nested_request
    if kept_attributes is not None:
        obj.update(kept_attributes)
    if obj:
        doc["attributes"] = obj
    return is_error
