"""The X-Ray trace header: ``Root=1-<epoch>-<id>;Parent=<segment>;Sampled=1;Lineage=1:<hash>:0``.

Lambda hands it to every invocation (``_X_AMZN_TRACE_ID``, ``Lambda-Runtime-Trace-Id``), its JSON
platform records carry it as ``tracing.value``, and loggers write it where a trace id belongs:
the .NET runtime's JSON log format puts the whole header in ``"traceId"``. A document keeps the
trace id itself, the ``Root``, so that one query finds every line of a trace.
"""

from __future__ import annotations


def read_trace_header(value: str) -> tuple[str | None, str | None]:
    """``(Root, Parent)`` of a trace header value; None for a part it does not have.

    Other parts (``Self`` that load balancers add, ``Sampled``, ``Lineage``) are skipped; the
    first of a repeated part wins.
    """
    root: str | None = None
    parent: str | None = None
    for part in value.split(";"):
        name, _, text = part.partition("=")
        name = name.strip()
        text = text.strip()
        if not text:
            continue
        if name == "Root":
            root = root or text
        elif name == "Parent":
            parent = parent or text
    return root, parent


def trace_id_of(value: str) -> str:
    """The trace id a document keeps for ``value``: the ``Root`` of a trace header, any other
    value as it is (an X-Ray or W3C id, or an application's own)."""
    if "Root=" in value:
        root, _ = read_trace_header(value)
        if root:
            return root
    return value
