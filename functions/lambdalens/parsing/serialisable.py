"""Documents that can always be written: orjson writes at most 254 levels of nesting and
integers of at most 64 bits, and one document it cannot write would fail a whole bulk body.

Text a function prints can exceed both: a JSON line nested 300 deep (orjson *reads* 1024
levels), an imitation of a REPORT line with a 20-digit number. The parser keeps its documents
within the limits where such input enters them (numbers: :mod:`lambdalens.parsing.platform`;
nesting: :func:`too_deep` / :func:`depth_limited` on JSON lines); :func:`writable` is the last
resort of the bulk encoder for any document that still cannot be written.
"""

from __future__ import annotations

from typing import Any

import orjson

#: Levels of nesting ``attributes`` keeps; a deeper part is kept as its JSON text. Well below
#: orjson's 254, so that whatever wraps a document (the document itself, an alert) stays writable.
MAX_ATTRIBUTES_DEPTH = 128
#: A JSON text nested deeper than ``MAX_ATTRIBUTES_DEPTH`` is longer than this (``[[[...]]]``:
#: two characters a level) ...
DEEP_JSON_MIN_CHARS = 2 * MAX_ATTRIBUTES_DEPTH
#: ... and without a ``[``, longer than this (objects only, ``{"":{"":...}}``: five characters a level).
DEEP_OBJECTS_MIN_CHARS = 5 * MAX_ATTRIBUTES_DEPTH
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1


def too_deep(text: str, limit: int = MAX_ATTRIBUTES_DEPTH) -> bool:
    """Might the JSON object ``text`` nest more than ``limit`` levels? False is certain; True
    asks for :func:`depth_limited`. Cheap: the length bounds and the tests that run at memory
    speed come first, the brackets are counted only in a text that can hold enough of them."""
    n = len(text)
    return (
        n > 2 * limit
        and ("[" in text or (n > 5 * limit and text.find("{", 1) >= 0))
        and text.count("{") + text.count("[") > limit
    )


def depth_limited(value: Any, limit: int = MAX_ATTRIBUTES_DEPTH) -> Any:
    """``value`` (as JSON gives it: dicts, lists, scalars) with every container below ``limit``
    levels replaced by its JSON text. A copy where containers are concerned."""
    if type(value) is dict:
        if limit <= 0:
            return json_text(value)
        return {key: depth_limited(item, limit - 1) for key, item in value.items()}
    if type(value) is list:
        if limit <= 0:
            return json_text(value)
        return [depth_limited(item, limit - 1) for item in value]
    return value


def writable(value: Any, limit: int = MAX_ATTRIBUTES_DEPTH) -> Any:
    """A copy of ``value`` orjson can write, whatever it holds: keys become strings, integers
    beyond 64 bits and objects orjson does not know become text, containers below ``limit``
    levels become their JSON text. Never raises (for the bulk encoder's fallback)."""
    kind = type(value)
    if kind is str or kind is float or kind is bool or value is None:
        return value
    if kind is int:
        return value if _INT64_MIN <= value <= _UINT64_MAX else str(value)
    if kind is dict or kind is list or kind is tuple:
        if limit <= 0:
            return json_text(value)
        if kind is dict:
            return {
                key if type(key) is str else str(key): writable(item, limit - 1)
                for key, item in value.items()
            }
        return [writable(item, limit - 1) for item in value]
    return str(value)


class _Json(str):
    """A piece of JSON text already written (``json_text``'s work list holds values and these)."""


def json_text(value: Any) -> str:
    """The JSON text of ``value`` however deep it nests (an explicit work list, no recursion:
    only for the rare value too deep for orjson, so plain Python is fast enough)."""
    out: list[str] = []
    todo: list[Any] = [value]
    while todo:
        item = todo.pop()
        kind = type(item)
        if kind is _Json:
            out.append(item)
        elif kind is dict:
            todo.append(_Json("}"))
            entries = list(item.items())
            for i in range(len(entries) - 1, -1, -1):
                key, member = entries[i]
                todo.append(member)
                todo.append(_Json(("," if i else "") + _scalar(key if type(key) is str else str(key)) + ":"))
            todo.append(_Json("{"))
        elif kind is list or kind is tuple:
            todo.append(_Json("]"))
            for i in range(len(item) - 1, -1, -1):
                todo.append(item[i])
                if i:
                    todo.append(_Json(","))
            todo.append(_Json("["))
        else:
            out.append(_scalar(item))
    return "".join(out)


def _scalar(value: Any) -> str:
    if type(value) is int:
        return str(value)  # any size: JSON numbers have no limit
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return orjson.dumps(str(value)).decode()
