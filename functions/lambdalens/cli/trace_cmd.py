"""``lambdalens trace <trace-id | request-id | correlation-id>``: follow one transaction across
functions and name its probable root cause.

Finds every document of the transaction in the daily indices (both trace id spellings, X-Ray
``1-…`` and 32-hex W3C, are looked up), follows it to the invocations that share its trace or
correlation ids, and prints a timeline (one lane per function, a bar per invocation scaled to
its REPORT duration; ✓ success, ✗ error, ⏱ timeout, OOM), the warning and error lines, and
the probable root cause: the earliest hop that showed trouble (docs/trace.md explains the
rule). --json prints the whole transaction, documents included, for machines.

Connection options default to the parser's environment variables (OPENSEARCH_ENDPOINT,
OPENSEARCH_AUTH, OPENSEARCH_SECRET_ARN, INDEX_PREFIX, AWS_REGION). --auth defaults to aoss
for a Serverless endpoint, sigv4 for any other https endpoint and none for http. Exit
status: 0 found, 1 no documents for the id, 2 invalid options or OpenSearch unreachable or
refusing.

examples:
  lambdalens trace 1-6650a1b2-0c1d2e3f4a5b6c7d8e9f0a1b \\
      --endpoint https://search-logs-abc.eu-west-1.es.amazonaws.com --since 2d
  lambdalens trace 3f2a7c1e-8d4b-4c55-9a01-6e2f0b7d9c13 --endpoint http://127.0.0.1:9200 --json
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from lambdalens.cli.connection import (
    OptionError,
    add_connection_arguments,
    add_index_prefix_argument,
    index_prefix,
    opensearch_config,
)
from lambdalens.config import OpenSearchConfig
from lambdalens.indexing import client as client_module
from lambdalens.search.errors import SearchError, SearchUnavailable, TransactionNotFound
from lambdalens.search.render import render_timeline
from lambdalens.search.since import parse_since
from lambdalens.search.transaction import find_transaction

PROG = "lambdalens trace"
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 2


# ---------------------------------------------------------------- shared with ``logs``
def since_of(args: argparse.Namespace) -> datetime | None:
    if not args.since:
        return None
    try:
        return parse_since(args.since)
    except ValueError as exc:
        raise OptionError(f"--since: {exc}") from None


def open_client(config: OpenSearchConfig) -> Any:
    """``make_client(config)``; no credentials, region or secret -> :class:`SearchUnavailable`."""
    try:
        return client_module.make_client(config)
    except Exception as exc:  # no AWS credentials / region; the basic-auth secret cannot be read
        raise SearchUnavailable(f"cannot create the OpenSearch client: {one_line(exc)}") from None


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def write_json(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
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


# ---------------------------------------------------------------- trace
def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        config = opensearch_config(args, env, positive_timeout=True)
        since = since_of(args)
        if args.limit < 1:
            raise OptionError(f"--limit must be 1 or more, got {args.limit}")
    except OptionError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    prefix = index_prefix(args, env)
    try:
        client = open_client(config)
        tx = find_transaction(client, args.id, index_prefix=prefix, since=since, limit=args.limit)
    except ValueError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TransactionNotFound as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except SearchUnavailable as exc:
        print(f"{PROG}: cannot connect to {config.endpoint}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except SearchError as exc:
        print(f"{PROG}: {config.endpoint} refused the search: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if args.json:
        write_json(tx.as_dict(include_documents=not args.no_documents))
    else:
        emit(render_timeline(tx, ascii=args.ascii or wants_ascii(), color=wants_color(args, env)))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "trace",
        help="follow one transaction across functions and name its probable root cause",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("id", help="an X-Ray or W3C trace id, a request id, or a correlation id")
    conn = p.add_argument_group("connection")
    add_connection_arguments(conn)
    add_index_prefix_argument(conn)
    p.add_argument(
        "--since", metavar="WHEN", help="only documents since 30m, 1h, 2d, 1w or an ISO time (default: all)"
    )
    p.add_argument("--limit", type=int, default=10_000, metavar="N", help="read at most N documents (10000)")
    out = p.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print the transaction as JSON")
    out.add_argument("--no-documents", action="store_true", help="with --json: leave the documents out")
    out.add_argument("--ascii", action="store_true", help="draw the timeline with ASCII characters only")
    out.add_argument(
        "--no-color", action="store_true", help="no ANSI colours (default: colours on a terminal)"
    )
    p.set_defaults(func=run)
