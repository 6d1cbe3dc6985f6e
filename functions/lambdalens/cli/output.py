"""How the commands print: one-line errors on standard error, JSON reports and text on
standard output, and whether the terminal takes colours and the timeline's characters.

Example
-------
>>> one_line(RuntimeError("no such\\n  queue"))
'RuntimeError: no such queue'
>>> one_line(RuntimeError())
'RuntimeError'
>>> one_line(RuntimeError(), name_alone=False)
'RuntimeError: '
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

import orjson

#: What an error message keeps of an exception's text.
MAX_DETAIL_CHARS = 300


def flat(exc: BaseException) -> str:
    """The text of ``exc`` on one line (runs of whitespace become one space), cut short."""
    return " ".join(str(exc).split())[:MAX_DETAIL_CHARS]


def one_line(exc: BaseException, *, name_alone: bool = True) -> str:
    """``"ClassName: text"`` with :func:`flat` text; just ``"ClassName"`` when the text is
    empty, or ``"ClassName: "`` with ``name_alone=False``."""
    text = flat(exc)
    return f"{exc.__class__.__name__}: {text}" if text or not name_alone else exc.__class__.__name__


def fail(prog: str, message: object, status: int) -> int:
    """Print ``prog: message`` to standard error and return the exit ``status``."""
    print(f"{prog}: {message}", file=sys.stderr)
    return status


def write_json(data: Any, option: int = 0) -> None:
    """Write ``data`` as indented JSON (plus the orjson ``option`` flags) to standard output."""
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | option) + b"\n")
    sys.stdout.flush()


def emit(text: str) -> None:
    """Write ``text`` to standard output; characters its encoding lacks become ``?``."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "ascii"
        sys.stdout.write(text.encode(encoding, errors="replace").decode(encoding))
    sys.stdout.flush()


def wants_color(args: argparse.Namespace, env: Mapping[str, str], stream: Any = None) -> bool:
    """ANSI colours on a terminal, unless --no-color or NO_COLOR (https://no-color.org)."""
    if args.no_color or env.get("NO_COLOR"):
        return False
    isatty = getattr(stream if stream is not None else sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def wants_ascii(stream: Any = None) -> bool:
    """True when the output cannot encode the timeline's characters (a Latin-1 terminal)."""
    encoding = getattr(stream if stream is not None else sys.stdout, "encoding", None) or "ascii"
    try:
        "█│✓✗⏱─·→…".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return True
    return False
