"""What ``lambdalens trace`` and ``lambdalens logs`` share: their options (connection,
--since, --limit), the OpenSearch client, and how a failed search becomes a one-line error
and an exit status (0 found, 1 nothing found, 2 invalid options or OpenSearch unreachable
or refusing).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lambdalens.cli.connection import OptionError, opensearch_config
from lambdalens.cli.output import fail, one_line
from lambdalens.config import OpenSearchConfig
from lambdalens.indexing import client as client_module
from lambdalens.search.errors import SearchUnavailable, TransactionNotFound
from lambdalens.search.since import parse_since

EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 2


def since_of(args: argparse.Namespace) -> datetime | None:
    if not args.since:
        return None
    try:
        return parse_since(args.since)
    except ValueError as exc:
        raise OptionError(f"--since: {exc}") from None


def search_options(
    args: argparse.Namespace, env: Mapping[str, str]
) -> tuple[OpenSearchConfig, datetime | None]:
    """The connection and --since the options describe; :class:`OptionError` for a bad one
    (--limit included)."""
    config = opensearch_config(args, env, positive_timeout=True)
    since = since_of(args)
    if args.limit < 1:
        raise OptionError(f"--limit must be 1 or more, got {args.limit}")
    return config, since


def open_client(config: OpenSearchConfig) -> Any:
    """``make_client(config)``; no credentials, region or secret -> :class:`SearchUnavailable`."""
    try:
        return client_module.make_client(config)
    except Exception as exc:  # no AWS credentials / region; the basic-auth secret cannot be read
        raise SearchUnavailable(f"cannot create the OpenSearch client: {one_line(exc)}") from None


def search_failed(prog: str, endpoint: str, exc: Exception) -> int:
    """Print the one-line error for ``exc`` — a ValueError (invalid options),
    :class:`TransactionNotFound`, or a :class:`~lambdalens.search.errors.SearchError` — and
    return the exit status."""
    if isinstance(exc, ValueError):
        return fail(prog, exc, EXIT_USAGE)
    if isinstance(exc, TransactionNotFound):
        return fail(prog, exc, EXIT_NOT_FOUND)
    if isinstance(exc, SearchUnavailable):
        return fail(prog, f"cannot connect to {endpoint}: {exc}", EXIT_UNAVAILABLE)
    return fail(prog, f"{endpoint} refused the search: {exc}", EXIT_UNAVAILABLE)
