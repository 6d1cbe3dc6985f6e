"""``lambdalens fingerprints [--table NAME] [--function NAME] [--json]``: the error
fingerprints lambdalens knows, with their counts and first / last seen times (from the alert
state table, ``ALERT_STATE_TABLE`` by default)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from lambdalens.alerts.escape import clean
from lambdalens.alerts.settings import ENV_STATE_TABLE
from lambdalens.alerts.state import AlertState


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fingerprints", help="list known error fingerprints with counts", description=__doc__
    )
    parser.add_argument("--table", default=None, help=f"alert state table (default: ${ENV_STATE_TABLE})")
    parser.add_argument("--function", help="only this function (a Query instead of a Scan)")
    parser.add_argument("--region", help="AWS region of the table")
    parser.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
    parser.add_argument("--json", action="store_true", help="JSON array instead of a table")
    parser.set_defaults(func=run)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ms else "-"


def format_table(rows: list[dict[str, Any]]) -> str:
    """A fixed-width table: function, fingerprint, count, first / last seen, error."""
    header = ("FUNCTION", "FINGERPRINT", "COUNT", "FIRST SEEN", "LAST SEEN", "ERROR")
    lines = [
        (
            clean(r["function"], 40),
            clean(r["fingerprint"], 16),
            str(r["count"]),
            _iso(r["first_seen"]),
            _iso(r["last_seen"]),
            clean(f"{r.get('error_type') or ''}: {r.get('message') or ''}".strip(": "), 60),
        )
        for r in rows
    ]
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)
    ]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    table_name = args.table or os.environ.get(ENV_STATE_TABLE)
    if not table_name:
        print(f"lambdalens fingerprints: give --table or set {ENV_STATE_TABLE}", file=sys.stderr)
        return 2
    import boto3

    table = boto3.resource("dynamodb", region_name=args.region).Table(table_name)
    try:
        rows = AlertState(table).list_fingerprints(args.function, limit=args.limit)
    except Exception as exc:
        print(f"lambdalens fingerprints: cannot read {table_name}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        for r in rows:
            r["first_seen"] = _iso(r["first_seen"]) if r["first_seen"] else None
            r["last_seen"] = _iso(r["last_seen"]) if r["last_seen"] else None
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif rows:
        print(format_table(rows))
    else:
        print("no fingerprints" + (f" for {args.function}" if args.function else ""), file=sys.stderr)
    return 0
