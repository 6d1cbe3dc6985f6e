"""``lambdalens demo``: run the whole pipeline locally (moto and a local OpenSearch) and report."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

import orjson

from lambdalens.demo.servers import ENGINES


def start_time(text: str) -> int:
    """``--start``: an ISO 8601 time with its offset (``2026-01-05T12:00:00Z``), as epoch ms."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a time such as 2026-01-05T12:00:00Z, got {text!r}"
        ) from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the time's offset (Z or +01:00), got {text!r}")
    return int(when.timestamp() * 1000)


start_time.__name__ = "_start"


def run(args: argparse.Namespace) -> int:
    from lambdalens.demo.report import build_report, render_html, render_text
    from lambdalens.demo.runner import run_demo
    from lambdalens.local_opensearch import EngineUnavailable

    def say(message: str) -> None:
        if not args.quiet:
            print(f"· {message}", file=sys.stderr, flush=True)

    try:
        result = run_demo(args.scale, args.seed, say, engine=args.engine, start_ms=args.start)
    except EngineUnavailable as exc:
        print(f"lambdalens demo: --engine opensearch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lambdalens demo: interrupted; servers stopped", file=sys.stderr)
        return 130
    report = build_report(result)
    if result.transaction is not None:
        from lambdalens.search import render_timeline

        report["_timeline"] = render_timeline(result.transaction, color=False)
    if args.report_json:
        data = {k: v for k, v in report.items() if not k.startswith("_")}
        with open(args.report_json, "wb") as out:
            out.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    if args.html:
        with open(args.html, "w", encoding="utf-8") as page:
            page.write(render_html(report, result))
    print(render_text(report))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "demo", help="run the whole pipeline locally (no AWS account) and print a report", description=__doc__
    )
    p.add_argument("--report-json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page with charts")
    p.add_argument("--scale", choices=("small", "full"), default="full", help="workload size (default full)")
    p.add_argument("--seed", type=int, default=42, help="workload seed (default 42)")
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="OpenSearch to run on: the real local node (opensearch: Java 17+, Maven on first use), the"
        " in-memory stand-in, or auto (default): the real node when it can run here",
    )
    p.add_argument(
        "--start",
        type=start_time,
        metavar="TIME",
        help="time of the workload's first log line, e.g. 2026-01-05T12:00:00Z (default: 30 minutes ago);"
        " the same --seed and --start give the same report on either engine",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)
