"""How a document reads to a person: its message without what the columns already show.

The ``body`` keeps the line exactly as the function printed it. In a terminal the time,
request id and level are shown in columns, so :func:`message_of` drops them from the text
runtimes prefix (Python ``[LEVEL]\\t<time>\\t<request id>\\t``, Node.js
``<time>\\t<request id>\\t<LEVEL>\\t``), shows a structured (JSON) line as its ``message`` plus
its own keys, and a ``platform.*`` record as its type and values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from lambdalens.parsing.severity import SEVERITY_NUMBER

_NODE_PREFIX_RE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\t(?:[0-9a-fA-F-]{36}|undefined)\t[A-Z]+\t"
)
_PYTHON_PREFIX_RE = re.compile(r"^\[[A-Z]+\]\t\d{4}-\d\d-\d\dT[\d:.]+Z\t[0-9a-fA-F-]{0,36}\t")

#: Keys of a structured line that repeat what the document (or Powertools) already says.
_QUIET_KEYS = frozenset(
    {
        "message",
        "msg",
        "location",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "functionName",
        "functionVersion",
        "functionMemorySize",
        "functionArn",
        "invokedFunctionArn",
        "awsRequestId",
        "cold_start",
        "coldStart",
        "sampling_rate",
        "samplingRate",
        "xray_trace_id",
        "timestamp",
        "type",
        "exception_name",
    }
)
MAX_EXTRA_KEYS = 6


def severity_rank(doc: Mapping[str, Any]) -> int:
    """``severity.number`` (TRACE 1 … FATAL 21); INFO when the document has none."""
    number = doc.get("severity.number")
    if isinstance(number, int) and not isinstance(number, bool):
        return number
    text = doc.get("severity.text")
    return SEVERITY_NUMBER.get(text, 9) if isinstance(text, str) else 9


def message_of(doc: Mapping[str, Any]) -> str:
    """The readable message of a document (may span several lines)."""
    body = doc.get("body")
    text = body if isinstance(body, str) else ""
    # Lambda's Python runtime indents tracebacks with no-break spaces and ends lines with \r
    # in older runtimes: a terminal reads them as spaces and newlines.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").rstrip("\n")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        structured = _structured_message(doc, stripped)
        if structured is not None:
            return structured
    m = _PYTHON_PREFIX_RE.match(text) or _NODE_PREFIX_RE.match(text)
    if m is not None:
        text = text[m.end() :]
    return text


def first_line(text: str, width: int = 240) -> str:
    """The first non-blank line of ``text``, blanks and tabs squeezed, cut at ``width``
    characters with ``…``."""
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line:
            return line if len(line) <= width else line[: width - 1] + "…"
    return ""


def _structured_message(doc: Mapping[str, Any], text: str) -> str | None:
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    if isinstance(kind, str) and kind.startswith(("platform.", "extension", "telemetry")):
        record = obj.get("record")
        values = _flatten(record) if isinstance(record, Mapping) else []
        shown = " ".join(f"{k}={v}" for k, v in values if k != "requestId")
        return f"{kind} {shown}".rstrip()
    attributes = doc.get("attributes")
    attrs: Mapping[str, Any] = attributes if isinstance(attributes, Mapping) else {}
    message = attrs.get("message", obj.get("message", obj.get("msg")))
    parts: list[str] = []
    if isinstance(message, str) and message:
        parts.append(message)
    extras = [
        f"{k}={_scalar(v)}"
        for k, v in attrs.items()
        if k not in _QUIET_KEYS and isinstance(v, str | int | float | bool) and v is not None
    ]
    if extras:
        parts.append(
            "  " + " ".join(extras[:MAX_EXTRA_KEYS]) + (" …" if len(extras) > MAX_EXTRA_KEYS else "")
        )
    head = "".join(parts)
    error = _error_text(doc)
    if error and error not in head:
        head = f"{head}\n{error}" if head else error
    return head or None


def _error_text(doc: Mapping[str, Any]) -> str:
    kind = doc.get("exception.type")
    message = doc.get("exception.message")
    if isinstance(kind, str) and isinstance(message, str) and message:
        return f"{kind}: {message}"
    if isinstance(kind, str):
        return kind
    return message if isinstance(message, str) else ""


def _flatten(record: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in record.items():
        if isinstance(value, Mapping):
            out.extend(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, str | int | float | bool):
            out.append((f"{prefix}{key}", _scalar(value)))
    return out


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text
