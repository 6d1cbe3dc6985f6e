"""Search: read logs back from OpenSearch and follow one transaction across functions.

* :func:`find_transaction` — every document of the transaction a trace id, request id or
  correlation id belongs to, its invocations and the probable root cause (:class:`Transaction`).
* :func:`render_timeline` — the terminal timeline of ``lambdalens trace``.
* :func:`find_logs` / :func:`render_logs` — the lines of one function or invocation
  (``lambdalens logs``).
* :func:`find_root_cause` — the root-cause rule on its own (see its module docstring).

Queries work with the lambdalens index template and with dynamic mapping alike.
"""

from lambdalens.search.errors import (
    SearchError,
    SearchRequestFailed,
    SearchUnavailable,
    TransactionNotFound,
)
from lambdalens.search.ids import normalize_key, trace_id_variants
from lambdalens.search.logs import LogGroup, LogView, find_logs, render_logs
from lambdalens.search.model import ErrorInfo, FailurePoint, Invocation, RootCause, Transaction
from lambdalens.search.render import render_timeline
from lambdalens.search.root_cause import find_root_cause
from lambdalens.search.since import parse_since
from lambdalens.search.transaction import find_transaction

__all__ = [
    "ErrorInfo",
    "FailurePoint",
    "Invocation",
    "LogGroup",
    "LogView",
    "RootCause",
    "SearchError",
    "SearchRequestFailed",
    "SearchUnavailable",
    "Transaction",
    "TransactionNotFound",
    "find_logs",
    "find_root_cause",
    "find_transaction",
    "normalize_key",
    "parse_since",
    "render_logs",
    "render_timeline",
    "trace_id_variants",
]
