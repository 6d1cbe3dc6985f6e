"""``lambdalens logs --function NAME [--request-id ID] [--since 1h] [--query TEXT]``: read the
log lines of one function, or of one invocation, the way you would in a terminal.

One line per event (time, short request id, severity, message; multi-line messages such as
stack traces indented below), grouped by invocation with a separator, and the REPORT summary
(duration, billed duration, memory, init, outcome) under each. The newest --limit lines are
shown, oldest first. --query keeps the lines that match (words, "a phrase", -excluded,
a | b) in the body or the error. --raw prints bodies exactly as the function wrote them;
--json prints JSON Lines of the documents. With a Dashboards URL (--dashboards-url or
OPENSEARCH_DASHBOARDS_URL) it also links to the same lines in OpenSearch Dashboards (the
invocation, or the function's logs and drill-down) with the time range set.

--since defaults to 1h, or to all time with --request-id. Connection options as for
``lambdalens trace``. Exit status: 0 lines printed, 1 no lines, 2 invalid options or
OpenSearch unreachable or refusing.

examples:
  lambdalens logs --function post-analysis --since 30m --endpoint http://127.0.0.1:9200
  lambdalens logs --function new-post --request-id 3f2a7c1e-8d4b-4c55-9a01-6e2f0b7d9c13
  lambdalens logs --function checkout --query '"payment declined" -retry' --since 2d
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

import orjson

from lambdalens.cli.connection import (
    OptionError,
    add_connection_arguments,
    add_index_prefix_argument,
    index_prefix,
)
from lambdalens.cli.output import emit, fail, wants_ascii, wants_color
from lambdalens.cli.search_common import (
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    add_dashboards_arguments,
    dashboards_links,
    logs_links,
    open_client,
    render_links,
    search_failed,
    search_options,
)
from lambdalens.search.errors import SearchError
from lambdalens.search.logs import DEFAULT_LIMIT, find_logs, render_logs

PROG = "lambdalens logs"
DEFAULT_SINCE = "1h"


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    if args.since is None and args.request_id is None:
        args.since = DEFAULT_SINCE
    try:
        config, since = search_options(args, env)
        links = dashboards_links(args, env, index_prefix(args, env))
    except OptionError as exc:
        return fail(PROG, exc, EXIT_USAGE)
    try:
        client = open_client(config)
        view = find_logs(
            client,
            args.function,
            request_id=args.request_id,
            since=since,
            query=args.query,
            limit=args.limit,
            index_prefix=index_prefix(args, env),
        )
    except (ValueError, SearchError) as exc:
        return search_failed(PROG, config.endpoint, exc)
    if not view.documents:
        what = f"request {args.request_id} of {args.function}" if args.request_id else args.function
        when = f" since {args.since}" if args.since else ""
        matching = f" matching {args.query!r}" if args.query else ""
        return fail(PROG, f"no log lines for {what}{when}{matching}", EXIT_NOT_FOUND)
    if args.json:
        out = sys.stdout.buffer
        for doc in view.documents:
            out.write(orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS) + b"\n")
        out.flush()
    else:
        found = logs_links(links, view, datetime.now(UTC)) if links is not None else {}
        text = render_logs(
            view, ascii=args.ascii or wants_ascii(), raw=args.raw, color=wants_color(args, env)
        )
        emit(text + render_links(found))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "logs",
        help="read the log lines of one function or invocation, grouped by invocation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--function", required=True, metavar="NAME", help="the function name (faas.name)")
    p.add_argument("--request-id", metavar="ID", help="only this invocation")
    p.add_argument(
        "--since",
        metavar="WHEN",
        help="30m, 1h, 2d, 1w or an ISO time (default 1h; all time with --request-id)",
    )
    p.add_argument("--query", metavar="TEXT", help="only lines matching TEXT (body and error)")
    p.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, metavar="N", help=f"the newest N lines ({DEFAULT_LIMIT})"
    )
    conn = p.add_argument_group("connection")
    add_connection_arguments(conn)
    add_index_prefix_argument(conn)
    out = p.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="JSON Lines: one document per line")
    out.add_argument("--raw", action="store_true", help="print bodies as written instead of the message")
    out.add_argument("--ascii", action="store_true", help="ASCII characters only")
    out.add_argument(
        "--no-color", action="store_true", help="no ANSI colours (default: colours on a terminal)"
    )
    add_dashboards_arguments(out)
    p.set_defaults(func=run)
