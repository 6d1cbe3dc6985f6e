"""``lambdalens bench``: parser throughput against the raw decode floor, and peak memory."""

from __future__ import annotations

import argparse

import orjson

TARGET_RATIO = 0.25
TARGET_RSS_MB = 256


def run(args: argparse.Namespace) -> int:
    from lambdalens.bench.runner import run as run_bench

    result = run_bench(
        input_path=args.input, events=args.events, rounds=args.rounds, handler=not args.no_handler
    )
    result["targets"] = {
        "ratio_to_floor": TARGET_RATIO,
        "peak_rss_mb": TARGET_RSS_MB,
        "met": result["ratio_to_floor"] >= TARGET_RATIO and result["peak_rss_mb"] <= TARGET_RSS_MB,
    }
    if args.json:
        print(orjson.dumps(result).decode())
        return 0
    print(f"machine      {result['cpu']}, Python {result['python']}, 1 core")
    allocator = (
        "as the parser function runs it" if result["allocator_tuned"] else "default (mallopt unavailable)"
    )
    print(f"allocator    {allocator}")
    print(f"input        {result['input']}: {result['records']} records, {result['events']} events")
    print(f"parser       {result['events_per_s']:>10,} events/s  (decode + parse + bulk body)")
    print(
        f"floor        {result['floor_events_per_s']:>10,} events/s  (base64 + gunzip + orjson.loads + 1 dumps/event)"
    )
    print(f"ratio        {result['ratio_to_floor']:>10}          (target >= {TARGET_RATIO})")
    b = result["peak_rss_batch"]
    print(
        f"peak RSS     {result['peak_rss_mb']:>10} MB       (target <= {TARGET_RSS_MB}; batch of {b['batch_records']} records,"
        f" {b['batch_bytes'] / 1048576:.1f} MB, {b['batch_events']} events)"
    )
    r = result["redaction"]
    print(
        f"redaction    {r['events_per_s_with']:>10,} events/s with, {r['events_per_s_without']:,} without"
        f" (+{r['overhead_pct']}% time; ratio with redaction {r['events_per_s_with'] / result['floor_events_per_s']:.3f})"
    )
    if "handler" in result:
        h = result["handler"]
        print(
            f"handler      {h['events_per_s']:>10,} events/s end to end into the local OpenSearch stand-in"
            f" ({h['events']} events, {h['bulk_requests']} bulk requests; parsing {h['parse_share']:.0%}, HTTP {h['http_share']:.0%})"
        )
    print("targets met" if result["targets"]["met"] else "TARGETS MISSED")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("bench", help="measure parser throughput and memory", description=__doc__)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--input", help="a Kinesis event JSON file to measure instead of the generated workload")
    p.add_argument(
        "--events", type=int, default=30_000, help="events in the generated workload (default 30000)"
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="timed rounds, each the floor then the parser; the best of each is kept (default 10)",
    )
    p.add_argument(
        "--no-handler",
        action="store_true",
        help="skip the end-to-end run against the local OpenSearch stand-in",
    )
    p.set_defaults(func=run)
