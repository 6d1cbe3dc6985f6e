"""Lambda extensions' own output, told apart from the function's by what it looks like.

An extension writes to its function's log stream. Lambda marks only its registration (the
``EXTENSION`` / ``TELEMETRY`` / ``LOGS`` lines and ``platform.extension`` records: see
:mod:`lambdalens.parsing.platform`); everything else it prints looks like the function's own
output, and used to be read as such: an ``app_log`` at INFO whatever its level, or worse an
error of the function when an extension echoes one of the function's lines. The lines below are
``extension`` documents, with their level.

:data:`KNOWN_EXTENSIONS` is the one table of what gives an extension away, each entry checked by a
test (tests/parsing/test_extensions.py) on a line of that extension as published. To teach the
parser another extension, add its entry there (and its line to the test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lambdalens.parsing.severity import EXACT_SEVERITY

#: Where an entry's text is looked for.
LINE = "line"  # the line starts with it (after a timestamp of Go's log package or of Datadog's)
TRACING_TARGET = "tracing target"  # a Rust tracing line's message starts with it (the event's target)
JSON_LOGGER = "logger"  # zap's "logger" of a JSON line starts with it
JSON_MESSAGE = "msg"  # zap's "msg" of a JSON line starts with it
ZAP_CALLER = "caller"  # zap's "caller" (a JSON line's key, a console line's third field) starts with it


@dataclass(frozen=True, slots=True)
class KnownExtension:
    where: str  # one of the constants above
    text: str
    name: str  # the extension, for people (and test ids)


_OTEL = "OpenTelemetry Lambda collector (ADOT)"
KNOWN_EXTENSIONS: tuple[KnownExtension, ...] = (
    KnownExtension(
        LINE, "[AWS Parameters and Secrets Lambda Extension] ", "AWS Parameters and Secrets Lambda Extension"
    ),
    KnownExtension(LINE, "[appconfig agent] ", "AWS AppConfig Agent Lambda extension"),
    KnownExtension(LINE, "[NR_EXT", "New Relic Lambda extension"),
    KnownExtension(LINE, "DD_EXTENSION | ", "Datadog Lambda extension"),
    KnownExtension(LINE, "\u26a1\ufe0f TELEMETRY: ", "a Telemetry API extension echoing what it receives"),
    KnownExtension(LINE, "TELEMETRY: ", "a Telemetry API extension echoing what it receives"),
    KnownExtension(LINE, "[collector] ", _OTEL),
    KnownExtension(LINE, "[opentelemetry-lambda-extension] ", _OTEL),
    KnownExtension(TRACING_TARGET, "lambda_web_adapter", "AWS Lambda Web Adapter"),
    KnownExtension(JSON_LOGGER, "telemetryAPI.", _OTEL),
    KnownExtension(JSON_LOGGER, "lifecycle.manager", _OTEL),
    KnownExtension(JSON_LOGGER, "NewCollector", _OTEL),
    KnownExtension(JSON_MESSAGE, "Launching OpenTelemetry Lambda extension", _OTEL),
    KnownExtension(ZAP_CALLER, "service@v", _OTEL),
    KnownExtension(ZAP_CALLER, "service/telemetry.go:", _OTEL),
    KnownExtension(ZAP_CALLER, "service/service.go:", _OTEL),
    KnownExtension(ZAP_CALLER, "otlpreceiver", _OTEL),
    KnownExtension(ZAP_CALLER, "localhostgate/", _OTEL),
    KnownExtension(ZAP_CALLER, "builder/receivers_builder.go:", _OTEL),
    KnownExtension(ZAP_CALLER, "builder/exporters_builder.go:", _OTEL),
)


def _texts(where: str) -> tuple[str, ...]:
    return tuple(known.text for known in KNOWN_EXTENSIONS if known.where == where)


def _common_start(texts: tuple[str, ...]) -> str:
    start = texts[0] if texts else ""
    for text in texts[1:]:
        while not text.startswith(start):
            start = start[:-1]
    return start


#: The line prefixes, for a caller's cheap ``startswith`` before :func:`text_extension`
EXTENSION_PREFIXES = _texts(LINE)
#: The first characters of the line prefixes
EXTENSION_FIRST_CHARS = frozenset(prefix[0] for prefix in EXTENSION_PREFIXES)
TRACING_TARGETS = _texts(TRACING_TARGET)
#: What all of them start with: a caller asks ``in`` first, cheaper than the ``startswith`` of a tuple
TRACING_TARGETS_START = _common_start(TRACING_TARGETS)
ZAP_CALLERS = _texts(ZAP_CALLER)
#: zap's level names (its console encoder writes them in the second field)
ZAP_LEVELS = frozenset({"debug", "info", "warn", "error", "dpanic", "panic", "fatal"})

# Go's log package ("2024/06/26 02:34:50 ") and the Datadog Go agent ("2022-05-20 21:16:10 UTC | ")
_TIMESTAMP = re.compile(r"\d{4}[/-]\d\d[/-]\d\d \d\d:\d\d:\d\d(?:\.\d++)?+ (?:UTC \| )?+")
# the level word after a prefix: "2024/06/26 02:34:50 INFO ...", " DEBUG] ...", "DEBUG | ..."
_LEVEL_AFTER = re.compile(
    r"\s*+(?:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d++)?+ )?+[\[|]?+\s*+([A-Za-z]{4,8})\b"
)


def level_after(text: str) -> str | None:
    """The severity named right after an extension's prefix, if any."""
    m = _LEVEL_AFTER.match(text)
    return EXACT_SEVERITY.get(m.group(1)) if m is not None else None


def text_extension(message: str) -> tuple[str, str | None] | None:
    """(extension, severity or None) of a text line an extension printed; None for another line."""
    text = message
    if message[:1].isdigit():
        m = _TIMESTAMP.match(message)
        if m is None:
            return None
        text = message[m.end() :]
    if not text.startswith(EXTENSION_PREFIXES):
        return None
    for known in KNOWN_EXTENSIONS:
        if known.where == LINE and text.startswith(known.text):
            return known.name, level_after(text[len(known.text) :])
    return None  # (unreachable: EXTENSION_PREFIXES are the LINE entries)


_JSON_KEYS = {JSON_LOGGER: "logger", ZAP_CALLER: "caller", JSON_MESSAGE: "msg"}
_JSON_ENTRIES = tuple(
    (_JSON_KEYS[k.where], k.text, k.name) for k in KNOWN_EXTENSIONS if k.where in _JSON_KEYS
)


def json_extension(obj: dict[str, Any]) -> str | None:
    """The extension that wrote a JSON line (zap's ``level``, ``ts``, ``logger``/``caller``,
    ``msg``), None for another. Callers ask only for a line with ``ts`` and ``msg``."""
    for key, text, name in _JSON_ENTRIES:
        value = obj.get(key)
        if type(value) is str and value.startswith(text):
            return name
    return None


def named(where: str, text: str) -> str | None:
    """The extension whose ``where`` entry ``text`` starts with (a tracing target, a zap caller)."""
    for known in KNOWN_EXTENSIONS:
        if known.where == where and text.startswith(known.text):
            return known.name
    return None
