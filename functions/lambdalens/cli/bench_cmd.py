"""``lambdalens bench``: parser throughput against the raw decode floor, and peak memory.

``--e2e``: the parser handler end to end into a real local OpenSearch node (started for the
run, Java 17+ needed) against the bulk floor — the same documents in the same ``_bulk``
bodies, pre-serialised, sent with the same number of connections by a minimal client.
``--sweep`` measures several ways of sending them (connections, body size, gzip).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

TARGET_RATIO = 0.25
TARGET_RSS_MB = 256


def run(args: argparse.Namespace) -> int:
    if args.e2e or args.sweep or args.variant:
        return run_e2e(args)
    from lambdalens.bench.runner import run as run_bench

    result = run_bench(input_path=args.input, events=args.events, rounds=args.rounds or 10)
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
    print("end to end   lambdalens bench --e2e (the handler into a real OpenSearch node)")
    print("targets met" if result["targets"]["met"] else "TARGETS MISSED")
    return 0


def run_e2e(args: argparse.Namespace) -> int:
    from lambdalens.bench.handler import BenchError, Variant, run, sweep_variants
    from lambdalens.local_opensearch import EngineUnavailable

    if args.input:
        print("lambdalens bench: --input measures the parser only (not with --e2e)", file=sys.stderr)
        return 2
    try:
        variants = [Variant.parse(spec) for spec in args.variant] or (
            sweep_variants() if args.sweep else [Variant.shipped()]
        )
    except ValueError as exc:
        print(f"lambdalens bench: --variant: {exc}", file=sys.stderr)
        return 2
    try:
        result = run(
            events=args.events,
            rounds=args.rounds or (3 if len(variants) > 1 else 5),
            variants=variants,
            log=lambda message: print(f"· {message}", file=sys.stderr, flush=True),
        )
    except EngineUnavailable as exc:
        print(f"lambdalens bench: {exc}", file=sys.stderr)
        return 1
    except BenchError as exc:
        print(f"lambdalens bench: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(orjson.dumps(result).decode())
    else:
        print_e2e(result)
    return 0


def print_e2e(result: dict[str, Any]) -> None:
    engine = result["engine"]
    print(f"machine      {result['cpu']}, {result['cpus']} CPUs, Python {result['python']}")
    print(
        f"engine       {engine['name']} {engine['version']} (build {engine['build_hash'][:12]}), local node:"
        f" started in {result['node_startup_s']} s, RSS {result['node_rss_mb']:,.0f} MB"
    )
    requests = result["bulk_requests"]
    print(
        f"workload     generated: {result['records']:,} records, {result['events']:,} events, one invocation;"
        f" {requests} bulk requests of {result['bulk_bytes'] / requests / 1048576:.1f} MB on average"
    )
    print(f"rounds       {result['rounds']}, floor and e2e interleaved, the best of each kept")
    if "variants" in result:
        print_variants(result["variants"])
        return
    settings = " ".join(f"{k}={v}" for k, v in result["settings"].items())
    print(f"settings     {settings}")
    print(
        f"e2e          {result['e2e_events_per_s']:>10,} events/s  (the handler's pipeline: decode, parse, redact, bulk index)"
    )
    print(
        f"bulk floor   {result['bulk_floor_events_per_s']:>10,} events/s  (the same bodies, pre-serialised,"
        f" {result['settings']['BULK_CONCURRENCY']} connection(s))"
    )
    print(
        f"ratio        {result['ratio_to_bulk_floor']:>10}          (target >= {result['target']['ratio_to_bulk_floor']};"
        f" the median of each round's own ratio: {result['median_round_ratio']})"
    )
    print(
        f"e2e time     parsing {result['parse_share']:.0%} (decode + parse, before the first request;"
        f" redaction runs while requests are out), HTTP {result['http_share']:.0%} (a request out)"
    )
    cpu = result["cpu_ms_per_1k_events"]
    print(
        f"CPU          e2e {cpu['e2e']['client']} ms client + {cpu['e2e']['node']} ms node per 1,000 events;"
        f" floor {cpu['floor']['client']} + {cpu['floor']['node']} (least of the rounds)"
    )
    print("target met" if result["target"]["met"] else "TARGET MISSED")


def print_variants(variants: list[dict[str, Any]]) -> None:
    print()
    print(
        f"{'variant':<26} {'e2e ev/s':>9} {'floor ev/s':>10} {'ratio':>6} {'median':>6} {'vs best':>7} {'parse':>6}"
        f" {'HTTP':>5} {'reqs':>5}  CPU ms/1k events: e2e client+node, floor node"
    )
    for v in variants:
        cpu = v["cpu_ms_per_1k_events"]
        print(
            f"{v['variant']:<26} {v['e2e_events_per_s']:>9,} {v['bulk_floor_events_per_s']:>10,}"
            f" {v['ratio_to_bulk_floor']:>6.3f} {v['median_round_ratio']:>6.3f} {v['ratio_to_best_floor']:>7.3f}"
            f" {v['parse_share']:>6.0%} {v['http_share']:>5.0%} {v['bulk_requests']:>5}"
            f"  {cpu['e2e']['client']:>5} + {cpu['e2e']['node']:<5}  {cpu['floor']['node']:>5}"
        )
    print(
        "(first row: the headline, the shipped default with --sweep; each floor has its variant's shape;"
        " median: of each round's own ratio; 'vs best': e2e against the fastest floor of any variant)"
    )


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
        default=None,
        help="timed rounds, each the floor then the measured code; the best of each is kept"
        " (default 10; --e2e 5, --sweep 3)",
    )
    p.add_argument(
        "--e2e",
        action="store_true",
        help="the handler end to end into a real local OpenSearch node, against the bulk floor",
    )
    p.add_argument(
        "--sweep",
        action="store_true",
        help="--e2e for several ways of sending the bulk requests; prints a table",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="SPEC",
        help="--e2e with these settings instead (repeatable), e.g. c=2,bytes=1m,items=1000,gzip",
    )
    p.set_defaults(func=run)
