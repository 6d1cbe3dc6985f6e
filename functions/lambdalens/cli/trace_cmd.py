"""``lambdalens trace <trace-id | request-id | correlation-id>``: follow one transaction across
functions and name its probable root cause.

Finds every document of the transaction in the daily indices (both trace id spellings, X-Ray
``1-…`` and 32-hex W3C, are looked up), follows it to the invocations that share its trace or
correlation ids, and prints a timeline (one lane per function, a bar per invocation scaled to
its REPORT duration; ✓ success, ✗ error, ⏱ timeout, OOM), the warning and error lines, and
the probable root cause: the earliest hop that showed trouble (docs/trace.md explains the
rule). --json prints the whole transaction, documents included, for machines. With a
Dashboards URL (--dashboards-url or OPENSEARCH_DASHBOARDS_URL) it also links to the
transaction's lines, the root cause's invocation and its function's drill-down in OpenSearch
Dashboards, with the time range set (``dashboards_links`` in --json).

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
from collections.abc import Mapping

import orjson

from lambdalens.cli.connection import (
    OptionError,
    add_connection_arguments,
    add_index_prefix_argument,
    index_prefix,
)
from lambdalens.cli.output import emit, fail, wants_ascii, wants_color, write_json
from lambdalens.cli.search_common import (
    EXIT_USAGE,
    add_dashboards_arguments,
    dashboards_links,
    open_client,
    render_links,
    search_failed,
    search_options,
    transaction_links,
)
from lambdalens.search.errors import SearchError, TransactionNotFound
from lambdalens.search.render import render_timeline
from lambdalens.search.transaction import find_transaction

PROG = "lambdalens trace"


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        config, since = search_options(args, env)
    except OptionError as exc:
        return fail(PROG, exc, EXIT_USAGE)
    prefix = index_prefix(args, env)
    try:
        links = dashboards_links(args, env, prefix)
    except OptionError as exc:
        return fail(PROG, exc, EXIT_USAGE)
    try:
        client = open_client(config)
        tx = find_transaction(client, args.id, index_prefix=prefix, since=since, limit=args.limit)
    except (ValueError, TransactionNotFound, SearchError) as exc:
        return search_failed(PROG, config.endpoint, exc)
    found = transaction_links(links, tx) if links is not None else {}
    if args.json:
        data = tx.as_dict(include_documents=not args.no_documents)
        if found:
            data["dashboards_links"] = found
        write_json(data, orjson.OPT_NON_STR_KEYS)
    else:
        emit(
            render_timeline(tx, ascii=args.ascii or wants_ascii(), color=wants_color(args, env))
            + render_links(found)
        )
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
    add_dashboards_arguments(out)
    p.set_defaults(func=run)
