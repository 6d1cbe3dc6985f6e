"""``lambdalens demo``: run the whole pipeline locally against embedded stand-ins and report."""

from __future__ import annotations

import argparse
import sys

import orjson


def run(args: argparse.Namespace) -> int:
    from lambdalens.demo.report import build_report, render_html, render_text
    from lambdalens.demo.runner import run_demo

    def say(message: str) -> None:
        if not args.quiet:
            print(f"· {message}", file=sys.stderr, flush=True)

    try:
        result = run_demo(scale=args.scale, seed=args.seed, progress=say)
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
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)
