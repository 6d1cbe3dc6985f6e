"""Error signatures: the same bug gets the same ``exception.fingerprint`` everywhere.

The fingerprint hashes the exception type, the message with its variable parts replaced
(numbers, UUIDs, request and trace ids, hex, quoted values, timestamps, paths' line
numbers) and the names of the application frames nearest to where the error happened
(function and file names, never line numbers): the first ones of a trace printed
innermost first (Java, Node.js, .NET, Go, Ruby), the last ones of a Python traceback. So it survives new invocations, new containers and
redeploys that move code around, and differs when the type, the message's shape or the
code path differs.
"""

from __future__ import annotations

import hashlib
import re

_NORMALISERS: tuple[tuple[re.Pattern[str], str], ...] = (
    # ISO 8601 timestamps, extended (2024-05-01T09:41:12.503Z) and basic (20240501T094112Z, SigV4)
    (
        re.compile(r"(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d|\b\d{8}T\d{6})(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"),
        "<ts>",
    ),
    (re.compile(r"\b1-[0-9a-f]{8}-[0-9a-f]{24}\b", re.I), "<trace>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\barn:aws[\w-]*:[^\s'\"]+"), "<arn>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.I), "<hex>"),
    (re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"|`[^`\n]{0,200}`"), "<str>"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "<n>"),
    (re.compile(r"\s+"), " "),
)

# Python:  File "/var/task/app.py", line 12, in handler   (printed innermost LAST)
_PYTHON_FRAME = re.compile(r'File "(?P<file>[^"\n]+)", line \d+, in (?P<func>[^\s]+)')
# Frame patterns of the other runtimes (innermost first); groups ``func`` and ``file``. They run
# on whole stack traces (up to 256 KB): each stays on one line and takes linear time.
# Java:    at com.example.Handler.handleRequest(Handler.java:20)
# Node:    at Runtime.handler (/var/task/index.js:3:20)
# .NET:    at MyFunc.Function.Handler(String input) in /src/Function.cs:line 20
_AT_FRAME = re.compile(r"^[^\S\n]*+at (?:async )?(?P<func>[^\s(]++)[^\S\n]?\((?P<file>[^)\n]*+)\)", re.M)
_FRAME_PATTERNS: tuple[re.Pattern[str], ...] = (
    _AT_FRAME,
    # Node:    at /var/task/index.js:3:20
    re.compile(r"^[^\S\n]*+at (?P<file>(?:file://)?/[^\s:]++):\d+:\d+", re.M),
    # Ruby:    /var/task/lambda_function.rb:3:in `lambda_handler'   (also 'Foo#bar' in Ruby 3.4);
    #          the path starts where a word does (tried once per word, not at every character)
    re.compile(r"(?<![^\s:\"\[])(?P<file>[^\s:\"\[]+\.rb):\d+:in [`'](?P<func>[^'`\n]+)'"),
)
# Go:      main.handler(...)  /  github.com/x/y.(*T).Method(0xc000...), then "\t<file>:<line> +0x..";
#          aws-lambda-go's stackTrace objects (rendered by structured.stack_text) label a frame
#          without its package ("handle", "(*T).Method") and give the file on the next line
_GO_FRAME = re.compile(
    r"^(?P<func>(?:[\w/-]++\.)*+(?:\(\*?\w++\)\.)?+\w++(?:\.\w++)*+)\([^\n]*\)$"
    r"(?:\n\t(?P<file>[^\s:]++):\d)?",
    re.M,
)
# Files of Go's runtime and of aws-lambda-go (a stackTrace path may carry a module version:
# github.com/aws/aws-lambda-go@v1.47.0/lambda/errors.go; the standard library's is runtime/panic.go)
_GO_RUNTIME_FILES = ("aws-lambda-go", "/src/runtime/", "/src/reflect/")
_GO_STDLIB_PREFIXES = ("runtime/", "reflect/")

_RUNTIME_FRAME_MARKERS = (
    "/var/runtime/",
    "/var/lang/",
    "node:internal",
    "internal/",
    "awslambdaric",
    "bootstrap.py",
    "java.base/",
    "jdk.internal.",
    "sun.reflect.",
    "java.lang.reflect.",
    "lambdainternal.",
    "aws-lambda-go/lambda",
    "runtime/panic.go",
    "runtime.gopanic",
    "runtime.panic",
    "Amazon.Lambda.RuntimeSupport",
    "lambda_method",
    "aws_lambda_ric",
)

MAX_FRAMES = 6


def normalize_message(message: str) -> str:
    """The message with its variable parts replaced, at most 300 characters."""
    text = message[:1000]
    for pattern, repl in _NORMALISERS:
        text = pattern.sub(repl, text)
    return text.strip()[:300]


def _application(func: str, file: str) -> bool:
    where = f"{func} {file}"
    return not any(marker in where for marker in _RUNTIME_FRAME_MARKERS)


def _name(func: str, file: str) -> str:
    base = file.rsplit("/", 1)[-1].split(":", 1)[0] if file else ""
    return f"{base}:{func}" if base and func else (func or base)


def frame_names(stacktrace: str) -> list[str]:
    """The (at most ``MAX_FRAMES``) application frames of a stack trace nearest to where the
    error happened, as ``file:function`` / ``function``, in the order the trace prints them."""
    if 'File "' in stacktrace:
        python = [
            _name(m["func"], m["file"])
            for m in _PYTHON_FRAME.finditer(stacktrace)
            if _application(m["func"], m["file"])
        ]
        if python:  # a Python traceback: the innermost frames are the last ones
            return python[-MAX_FRAMES:]
    found: list[tuple[int, str]] = []
    for pattern in _FRAME_PATTERNS:
        for m in pattern.finditer(stacktrace):
            groups = m.groupdict()
            func = groups.get("func") or ""
            file = groups.get("file") or ""
            where = f"{func} {file}"
            if any(marker in where for marker in _RUNTIME_FRAME_MARKERS):
                continue
            base = file.rsplit("/", 1)[-1].split(":", 1)[0] if file else ""
            if pattern is _AT_FRAME and "." in func and not base.endswith((".js", ".mjs", ".cjs", ".ts")):
                base = ""  # Java / .NET: the qualified method name says it all
            found.append((m.start(), f"{base}:{func}" if base and func else (func or base)))
    for m in _GO_FRAME.finditer(stacktrace):
        func, file = m["func"], m["file"] or ""
        if "." not in func and not file:
            continue  # "word(...)" alone is no Go frame
        if any(marker in func for marker in _RUNTIME_FRAME_MARKERS) or (
            file
            and (any(marker in file for marker in _GO_RUNTIME_FILES) or file.startswith(_GO_STDLIB_PREFIXES))
        ):
            continue
        # a package-qualified name says it all; a bare label is named with its file
        found.append((m.start(), func if "." in func else _name(func, file)))
    found.sort()
    return [name for _, name in found[:MAX_FRAMES]]


def fingerprint(exc_type: str | None, message: str | None, stacktrace: str | None) -> str:
    """A 16-hex-character signature of an error; see the module docstring."""
    parts = [exc_type or "", normalize_message(message or "")]
    if stacktrace:
        parts.extend(frame_names(stacktrace))
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "replace"), usedforsecurity=False).hexdigest()[:16]
