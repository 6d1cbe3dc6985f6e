"""Lambda's platform records: text (``START``/``END``/``REPORT``/``INIT_*``/``RESTORE_*``/
``EXTENSION``) and JSON (``platform.*`` records of the JSON log format / Telemetry API).

Each function fills the fields it finds into a document and returns the event type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from lambdalens.parsing import document as et
from lambdalens.parsing.document import Document
from lambdalens.parsing.trace_header import read_trace_header

# "Key: value" pairs of platform lines; alternatives longest first so that
# "Billed Duration" is never read as "Duration".
_KV = re.compile(
    r"(?<![A-Za-z])(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used"
    r"|Memory Size|Duration|RequestId|Runtime Version ARN|Runtime Version|Version|Status|Error Type"
    r"|TraceId|SegmentId|Sampled|Phase|Name|State|Events|Types): ?(\[[^\]\n]{0,256}\]|[^\t\n ]+)"
)

_FLOAT_FIELDS = {
    "Duration": "lambda.duration_ms",
    "Init Duration": "lambda.init_duration_ms",
    "Restore Duration": "lambda.restore_duration_ms",
    "Billed Restore Duration": "lambda.billed_restore_duration_ms",
}
_INT_FIELDS = {
    "Billed Duration": "lambda.billed_duration_ms",
    "Memory Size": "lambda.memory_size_mb",
    "Max Memory Used": "lambda.max_memory_used_mb",
}
# What Lambda prints fits an index integer; a number beyond (a function's imitation of a
# platform line: "Billed Duration: 99999999999999999999 ms") stays out of the numeric
# fields, where it could not even be serialised (orjson writes 64-bit integers at most).
_MAX_INT = 2**31 - 1
_STR_FIELDS = {
    "RequestId": "faas.invocation_id",
    "Version": "faas.version",
    "Status": "lambda.status",
    "Error Type": "exception.type",
    "TraceId": "traceId",
    "SegmentId": "spanId",
    "Phase": "lambda.phase",
    "Runtime Version": "lambda.runtime_version",
    "Runtime Version ARN": "lambda.runtime_version_arn",
}

# The REPORT line as Lambda prints it, up to the optional Init Duration; the rest (Restore
# Duration, Status, Error Type, XRAY) goes through the generic "Key: value" reader, and so
# does a line whose numbers Lambda would not print (not numbers, more than 9 digits).
_REPORT = re.compile(
    r"REPORT RequestId: (\S+)\tDuration: (\d++(?:\.\d++)?) ms\tBilled Duration: (\d{1,9}) ms\tMemory Size: (\d{1,9}) MB\t"
    r"Max Memory Used: (\d{1,9}) MB\t(?:Init Duration: (\d++(?:\.\d++)?) ms\t)?(?:Status: (\w+)\t(?:Error Type: ([\w.]+)\t)?)?"
    r"\s*+(?:XRAY TraceId: ([\w-]+)\tSegmentId: (\w+)\tSampled: (\w+)\t?)?\s*$"
)

#: Text platform line prefix -> event type.
TEXT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("START RequestId:", et.START),
    ("END RequestId:", et.END),
    ("REPORT RequestId:", et.REPORT),
    ("INIT_START ", et.INIT_START),
    ("INIT_REPORT ", et.INIT_REPORT),
    ("RESTORE_START ", et.PLATFORM),
    ("RESTORE_REPORT ", et.PLATFORM),
    ("EXTENSION\t", et.EXTENSION),
    ("EXTENSION ", et.EXTENSION),
    ("LOGS\t", et.EXTENSION),
    ("LOGS ", et.EXTENSION),
    ("TELEMETRY\t", et.EXTENSION),
    ("TELEMETRY ", et.EXTENSION),
)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_start(doc: Document, message: str) -> str | None:
    """``START RequestId: <36-char id> Version: <version>``: fill ``doc``, return the request id.

    The caller has matched the ``START RequestId:`` prefix. None (``doc`` untouched) for
    another layout. With END, the most common line of all: read by position.
    """
    if not message.startswith(" Version: ", 53):
        return None
    request_id = message[17:53]
    doc["faas.invocation_id"] = request_id
    version = message[63:].rstrip()
    # (the version is nearly always the one the stream's name gave: keep that one string)
    if version and version != doc.get("faas.version"):
        doc["faas.version"] = version
    return request_id


def read_end(doc: Document, message: str) -> str | None:
    """``END RequestId: <id>``: fill ``doc``, return the request id.

    The caller has matched the ``END RequestId:`` prefix. None (``doc`` untouched) for
    another layout.
    """
    if len(message) > 53 or message[15:16] == " ":
        return None
    request_id = message[15:].rstrip()
    doc["faas.invocation_id"] = request_id
    return request_id


def read_report(doc: Document, message: str) -> str | None:
    """A REPORT line as Lambda prints it: fill ``doc``, return the request id.

    None (``doc`` untouched) when the line does not have the usual layout (the generic
    "Key: value" reader of :func:`apply_platform_text` takes those).
    """
    m = _REPORT.match(message)
    if m is None:
        return None
    request_id, duration, billed, memory, used, init, status, error_type, trace, segment, sampled = m.groups()
    doc["faas.invocation_id"] = request_id
    doc["lambda.duration_ms"] = float(duration)
    doc["lambda.billed_duration_ms"] = int(billed)
    doc["lambda.memory_size_mb"] = int(memory)
    doc["lambda.max_memory_used_mb"] = int(used)
    if init is not None:
        doc["lambda.init_duration_ms"] = float(init)
    if status is not None:
        doc["lambda.status"] = status.lower()
        if error_type is not None:
            doc["exception.type"] = error_type
    if trace is not None:
        doc["traceId"] = trace
        doc["spanId"] = segment
        doc["attributes"] = {"sampled": sampled}
    return str(request_id)


def apply_platform_text(doc: Document, message: str, event_type: str) -> str:
    """Fill the fields of a text platform line (its prefix already matched ``event_type``)."""
    if event_type == et.END and read_end(doc, message) is not None:
        return event_type
    if event_type == et.START and read_start(doc, message) is not None:
        return event_type
    if event_type == et.REPORT and read_report(doc, message) is not None:
        return event_type
    attrs: dict[str, Any] | None = None
    if (
        "\t" in message
    ):  # as Lambda prints it: "Key: value" pairs separated by tabs (and a newline before XRAY)
        pairs = []
        for part in message.replace("\n", "\t").split("\t"):
            if part.count(": ") > 1:  # several pairs: spaces where Lambda prints tabs (a copied line)
                pairs.extend(_KV.findall(part))
                continue
            key, sep, value = part.partition(": ")
            if sep:
                if key.startswith(
                    (
                        "START ",
                        "END ",
                        "REPORT ",
                        "INIT_START ",
                        "INIT_REPORT ",
                        "RESTORE_START ",
                        "RESTORE_REPORT ",
                        "XRAY ",
                    )
                ):
                    key = key.split(" ", 1)[1]
                pairs.append(
                    (key, value.split(" ", 1)[0] if key not in ("Events", "Types") else value.strip())
                )
    else:  # the same with spaces (copied from the console, some fixtures)
        pairs = _KV.findall(message)
    for key, value in pairs:
        if key in _STR_FIELDS:
            doc[_STR_FIELDS[key]] = value.lower() if key == "Status" else value
        elif key in _FLOAT_FIELDS:
            n = _number(value)
            if n is not None and math.isfinite(n):
                doc[_FLOAT_FIELDS[key]] = n
        elif key in _INT_FIELDS:
            n = _number(value)
            if n is not None and 0 <= n <= _MAX_INT:
                doc[_INT_FIELDS[key]] = int(n) if n.is_integer() else n
        elif event_type == et.EXTENSION or key == "Sampled":
            if attrs is None:
                attrs = {}
            attrs[key.lower()] = value
    if attrs:
        doc["attributes"] = attrs
    if message.startswith("RESTORE_"):
        doc["lambda.phase"] = "restore"
    return event_type


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    # records come from orjson: a plain dict is checked before the slower abstract Mapping check
    return type(value) is dict or isinstance(value, Mapping)


def _tracing(doc: Document, tracing: object) -> None:
    if tracing is None or not _is_mapping(tracing):
        return
    value = tracing.get("value")
    if isinstance(value, str):
        root, parent = read_trace_header(value)
        if root is not None:
            doc["traceId"] = root
        if parent is not None and "spanId" not in doc:
            doc["spanId"] = parent
    span = tracing.get("spanId")
    if isinstance(span, str) and span:
        doc["spanId"] = span


_METRIC_FIELDS = {
    "durationMs": "lambda.duration_ms",
    "billedDurationMs": "lambda.billed_duration_ms",
    "memorySizeMB": "lambda.memory_size_mb",
    "maxMemoryUsedMB": "lambda.max_memory_used_mb",
    "initDurationMs": "lambda.init_duration_ms",
    "restoreDurationMs": "lambda.restore_duration_ms",
    "billedRestoreDurationMs": "lambda.billed_restore_duration_ms",
}

_JSON_TYPES = {
    "platform.start": et.START,
    "platform.report": et.REPORT,
    "platform.initStart": et.INIT_START,
    "platform.initReport": et.INIT_REPORT,
    "platform.runtimeDone": et.END,
    "platform.extension": et.EXTENSION,
    "platform.telemetrySubscription": et.EXTENSION,
}


_START_RECORD_KEYS = frozenset({"requestId", "version", "tracing"})
_REPORT_RECORD_KEYS = frozenset({"requestId", "metrics", "status", "errorType", "tracing"})


def _record_request_id(record: dict[str, Any]) -> str | None:
    request_id = record.get("requestId")
    if type(request_id) is str and request_id and request_id != "undefined":
        return request_id
    return None


def read_platform_start(doc: Document, record: dict[str, Any]) -> str | None:
    """The record of a ``platform.start`` as Lambda writes it (``requestId``, ``version``,
    ``tracing``): fill ``doc`` as :func:`apply_platform_json` would, return the request id.

    None (``doc`` untouched) for any other record, which :func:`apply_platform_json` reads.
    With ``platform.report``, the commonest JSON platform record: read without its generic steps.
    """
    request_id = _record_request_id(record)
    if request_id is None or not _START_RECORD_KEYS.issuperset(record):
        return None
    doc["faas.invocation_id"] = request_id
    version = record.get("version")
    if type(version) is str and version:
        doc["faas.version"] = version
    if "tracing" in record:
        _tracing(doc, record["tracing"])
    return request_id


def read_platform_report(doc: Document, record: dict[str, Any]) -> str | None:
    """The record of a ``platform.report`` as Lambda writes it (``requestId``, ``metrics``,
    ``status``, ``errorType``, ``tracing``): fill ``doc`` as :func:`apply_platform_json` would,
    return the request id. None (``doc`` untouched) for any other record."""
    request_id = _record_request_id(record)
    if request_id is None or not _REPORT_RECORD_KEYS.issuperset(record):
        return None
    metrics = record.get("metrics")
    if metrics is not None and type(metrics) is not dict:
        return None
    doc["faas.invocation_id"] = request_id
    status = record.get("status")
    if type(status) is str and status:
        doc["lambda.status"] = status.lower()
    error_type = record.get("errorType")
    if type(error_type) is str and error_type:
        doc["exception.type"] = error_type
    if metrics is not None:
        for key, field in _METRIC_FIELDS.items():
            value = metrics.get(key)
            if type(value) is int or type(value) is float:
                doc[field] = value
    if "tracing" in record:
        _tracing(doc, record["tracing"])
    return request_id


def apply_platform_json(doc: Document, obj: Mapping[str, Any]) -> str:
    """Fill the fields of a ``{"time", "type": "platform.*", "record"}`` object; return the event type."""
    kind = str(obj.get("type"))
    record = obj.get("record")
    if not _is_mapping(record):
        record = {}
    event_type = _JSON_TYPES.get(kind, et.PLATFORM)
    request_id = record.get("requestId")
    if isinstance(request_id, str) and request_id:
        doc["faas.invocation_id"] = request_id
    version = record.get("version") or record.get("functionVersion")
    if isinstance(version, str) and version:
        doc["faas.version"] = version
    status = record.get("status")
    if isinstance(status, str) and status:
        doc["lambda.status"] = status.lower()
    error_type = record.get("errorType")
    if isinstance(error_type, str) and error_type:
        doc["exception.type"] = error_type
    phase = record.get("phase")
    if isinstance(phase, str) and phase:
        doc["lambda.phase"] = phase
    elif kind.startswith("platform.restore"):
        doc["lambda.phase"] = "restore"
    runtime_version = record.get("runtimeVersion")
    if isinstance(runtime_version, str):
        doc["lambda.runtime_version"] = runtime_version
    runtime_arn = record.get("runtimeVersionArn")
    if isinstance(runtime_arn, str):
        doc["lambda.runtime_version_arn"] = runtime_arn
    metrics = record.get("metrics")
    if metrics is not None and _is_mapping(metrics):
        for key, field in _METRIC_FIELDS.items():
            value = metrics.get(key)
            if type(value) is int or type(value) is float:
                if kind in ("platform.initReport", "platform.restoreReport") and key == "durationMs":
                    field = (
                        "lambda.restore_duration_ms"
                        if kind == "platform.restoreReport"
                        else "lambda.init_duration_ms"
                    )
                doc[field] = value
    _tracing(doc, record.get("tracing"))
    if kind == "platform.runtimeDone":
        if doc.get("lambda.status") == "timeout":
            event_type = et.TIMEOUT
        elif error_type == "Runtime.OutOfMemory":
            event_type = et.OOM
    if event_type in (et.PLATFORM, et.EXTENSION) and kind != "platform.restoreReport":
        doc["attributes"] = {"type": kind, "record": dict(record)}
    return event_type
