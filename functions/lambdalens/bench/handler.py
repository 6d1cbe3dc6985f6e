"""``lambdalens bench --e2e``: the parser handler end to end into a real local OpenSearch node,
against the bulk floor measured in the same run.

* **e2e**: the Pipeline the handler wires at its cold start (:func:`~lambdalens.handlers.parser.build_runtime`
  from the environment: decode, parse, redact, bulk index, dead letters), S3 from moto in-process,
  on the generated workload, one invocation;
* **bulk floor**: the documents of that run, serialised beforehand into the same ``_bulk`` bodies,
  POSTed with as many connections as the handler keeps requests in flight
  (:mod:`lambdalens.bench.bulk_floor`).

Every pass writes to indices of its own, created from the lambdalens templates (bootstrap with a
unique prefix of the same length for both, so both pay the same mapping cost), deleted after the
pass. Rounds interleave floor and e2e (in turns, which goes first) and keep the best of each (a
shared machine only ever slows a pass down); the median of the rounds' own ratios is shown too. A :class:`Variant` is one way of sending the requests (connections, body size,
compression); ``--sweep`` measures several, each against a floor of its own shape.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from lambdalens.config import (
    ENV_BULK_CONCURRENCY,
    ENV_BULK_MAX_BYTES,
    ENV_BULK_MAX_ITEMS,
    ENV_COMPRESS,
    ParserConfig,
)
from lambdalens.parsing.document import Document

TARGET_RATIO: Final = 0.85
WARMUP_PASSES: Final = 2  # of each kind, unmeasured: the node's JIT compiles the indexing path
_BUCKET: Final = "bench-dead-letters"
_AWS_ENV: Final = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_UNITS: Final = {"k": 1024, "m": 1024 * 1024}


class BenchError(RuntimeError):
    """A pass did not index every document: its figure would mean nothing."""


@dataclass(frozen=True)
class Variant:
    """How the handler sends its ``_bulk`` requests: the settings of :class:`ParserConfig` that shape them."""

    concurrency: int
    max_bytes: int
    max_items: int
    compress: bool

    @classmethod
    def shipped(cls) -> Variant:
        """The parser's defaults."""
        config = ParserConfig.from_env(_config_env({}))
        return cls(
            config.bulk_concurrency, config.bulk_max_bytes, config.bulk_max_items, config.opensearch.compress
        )

    @classmethod
    def parse(cls, spec: str) -> Variant:
        """``c=2,bytes=2m,items=2000,gzip`` (each part optional: the shipped default) -> a Variant."""
        base = cls.shipped()
        values: dict[str, Any] = {
            "concurrency": base.concurrency,
            "max_bytes": base.max_bytes,
            "max_items": base.max_items,
            "compress": base.compress,
        }
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, _, raw = part.partition("=")
            if key in ("gzip", "plain") and not raw:
                values["compress"] = key == "gzip"
            elif key in ("c", "bytes", "items") and raw:
                name = {"c": "concurrency", "bytes": "max_bytes", "items": "max_items"}[key]
                values[name] = _size(raw) if key == "bytes" else int(raw)
            else:
                raise ValueError(f"variant part {part!r}: expected c=N, bytes=N[k|m], items=N, gzip or plain")
        variant = cls(**values)
        ParserConfig.from_env(_config_env(variant.environment()))  # refuses what the parser would
        return variant

    @property
    def name(self) -> str:
        size = (
            f"{self.max_bytes / 1048576:g} MiB"
            if self.max_bytes >= 1048576
            else f"{self.max_bytes // 1024} KiB"
        )
        return f"c={self.concurrency} {size}/{self.max_items} {'gzip' if self.compress else 'plain'}"

    def environment(self) -> dict[str, str]:
        return {
            ENV_BULK_CONCURRENCY: str(self.concurrency),
            ENV_BULK_MAX_BYTES: str(self.max_bytes),
            ENV_BULK_MAX_ITEMS: str(self.max_items),
            ENV_COMPRESS: "true" if self.compress else "false",
        }


def sweep_variants() -> list[Variant]:
    """What ``--sweep`` measures: the shipped settings, then one of them changed at a time."""
    shipped = Variant.shipped()
    specs = [
        "c=1,bytes=5m,items=5000,plain",  # the defaults before this bench measured concurrency
        "c=2,bytes=5m,items=5000,plain",
        "c=4,bytes=5m,items=5000,plain",
        "c=3,bytes=2m,items=2000,plain",
        "c=3,bytes=1m,items=1000,plain",
        "c=3,bytes=9m,items=10000,plain",
        "c=1,bytes=5m,items=5000,gzip",
        "c=3,bytes=5m,items=5000,gzip",
    ]
    variants = [shipped]
    for spec in specs:
        variant = Variant.parse(spec)
        if variant not in variants:
            variants.append(variant)
    return variants


def _config_env(settings: dict[str, str]) -> dict[str, str]:
    return {
        "OPENSEARCH_ENDPOINT": "http://127.0.0.1",
        "OPENSEARCH_AUTH": "none",
        "DEAD_LETTER_BUCKET": "b",
        **settings,
    }


def _size(raw: str) -> int:
    unit = _UNITS.get(raw[-1:].lower(), 1)
    return int(float(raw[:-1] if unit != 1 else raw) * unit)


# ---------------------------------------------------------------------- one pass
@dataclass(frozen=True)
class Pass:
    """One timed pass of either kind over the whole workload."""

    events: int
    seconds: float
    requests: int
    body_bytes: int
    parse_seconds: float = 0.0
    http_seconds: float = 0.0
    client_cpu_s: float = 0.0  # this process, every thread
    node_cpu_s: float = 0.0  # the node's JVM, every thread
    wire_bytes: int = 0  # the floor's bodies as sent (compressed or not)

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    def cpu_ms_per_1k(self) -> dict[str, float]:
        """CPU time per 1,000 events: unlike wall time, hardly changed by a busy neighbour."""
        scale = 1e6 / self.events
        return {"client": round(self.client_cpu_s * scale, 1), "node": round(self.node_cpu_s * scale, 1)}


class _CpuMeter:
    """CPU seconds used by this process and by the node between :meth:`start` and :meth:`stop`."""

    def __init__(self, node_pid: int) -> None:
        self.node_pid = node_pid
        self._client = self._node = 0.0

    def start(self) -> None:
        self._client, self._node = _own_cpu(), _process_cpu(self.node_pid)

    def stop(self) -> tuple[float, float]:
        return _own_cpu() - self._client, _process_cpu(self.node_pid) - self._node


def _own_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """utime + stime of ``pid`` (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class _Node:
    """The node of a run, the workload and the documents the handler makes of it."""

    url: str
    admin: Any
    event: dict[str, Any]
    cpu: _CpuMeter
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    docs: list[Document] = field(default_factory=list)
    passes: int = 0

    def prefixes(self) -> tuple[str, str]:
        """Fresh prefixes of one round, of the same length: (floor, e2e)."""
        self.passes += 1
        return f"bench-{self.run_id}-{self.passes:03d}f", f"bench-{self.run_id}-{self.passes:03d}e"

    @contextmanager
    def indices(self, prefix: str) -> Iterator[None]:
        """The lambdalens templates for ``prefix`` (bootstrap), removed with their indices afterwards."""
        from lambdalens.indexing.bootstrap import bootstrap

        bootstrap(self.admin, index_prefix=prefix)
        try:
            yield
        finally:
            self.admin.indices.delete(index=f"{prefix}-*", params={"expand_wildcards": "all"})
            self.admin.indices.delete_index_template(name=prefix)
            for component in (f"{prefix}-settings", f"{prefix}-mappings"):
                self.admin.cluster.delete_component_template(name=component)

    def e2e(self, variant: Variant, prefix: str) -> Pass:
        """The handler's pipeline, wired from the environment as at a cold start, on the whole event."""
        from lambdalens.handlers.parser import build_runtime
        from lambdalens.indexing.client import BulkTransport
        from lambdalens.retry import Deadline

        env = {
            "OPENSEARCH_ENDPOINT": self.url,
            "OPENSEARCH_AUTH": "none",
            "DEAD_LETTER_BUCKET": _BUCKET,
            "INDEX_PREFIX": prefix,
            "AWS_REGION": "us-east-1",
            **variant.environment(),
        }
        with self.indices(prefix):
            runtime = build_runtime(env)
            self.cpu.start()
            started = time.perf_counter()
            outcome = runtime.pipeline.run(self.event["Records"], Deadline.after(900, margin_ms=0))
            seconds = time.perf_counter() - started
            client_cpu, node_cpu = self.cpu.stop()
            transport = runtime.pipeline.indexer.transport
            if isinstance(transport, BulkTransport):
                transport.client.close()
        counts = outcome.counts()
        report = outcome.index_report
        if outcome.failed or report is None or counts["indexed"] != counts["events"]:
            raise BenchError(f"the handler did not index every document: {counts}")
        self.docs = outcome.docs
        return Pass(
            len(outcome.docs),
            seconds,
            report.requests,
            report.body_bytes,
            parse_seconds=outcome.parse_seconds,
            http_seconds=report.http_seconds,
            client_cpu_s=client_cpu,
            node_cpu_s=node_cpu,
        )

    def floor(self, variant: Variant, prefix: str) -> Pass:
        """The same documents in the same bodies, pre-serialised, by a minimal client."""
        from lambdalens.bench.bulk_floor import compressed, prepared_bodies, send_all

        bodies = prepared_bodies(self.docs, prefix, variant.max_bytes, variant.max_items)
        size = sum(map(len, bodies))
        if variant.compress:
            bodies = compressed(bodies)
        with self.indices(prefix):
            self.cpu.start()
            seconds = send_all(self.url, bodies, variant.concurrency, variant.compress)
            client_cpu, node_cpu = self.cpu.stop()
        return Pass(
            len(self.docs),
            seconds,
            len(bodies),
            size,
            http_seconds=seconds,
            client_cpu_s=client_cpu,
            node_cpu_s=node_cpu,
            wire_bytes=sum(map(len, bodies)),
        )


# ---------------------------------------------------------------------- rounds
@dataclass
class _Best:
    """The passes of one variant; the fastest of each kind is its figure."""

    variant: Variant
    floors: list[Pass] = field(default_factory=list)
    e2es: list[Pass] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        pairs = list(zip(self.e2es, self.floors, strict=True))
        e2e = min(self.e2es, key=lambda p: p.seconds)
        floor = min(self.floors, key=lambda p: p.seconds)
        return {
            "variant": self.variant.name,
            "settings": self.variant.environment(),
            "e2e_events_per_s": round(e2e.events_per_s),
            "bulk_floor_events_per_s": round(floor.events_per_s),
            "ratio_to_bulk_floor": round(e2e.events_per_s / floor.events_per_s, 3),
            "parse_share": round(e2e.parse_seconds / e2e.seconds, 3),
            "http_share": round(e2e.http_seconds / e2e.seconds, 3),
            "bulk_requests": e2e.requests,
            "bulk_bytes": e2e.body_bytes,
            "floor_requests": floor.requests,
            "floor_bytes": floor.body_bytes,
            "floor_wire_bytes": floor.wire_bytes,
            "e2e_rates": [round(p.events_per_s) for p in self.e2es],
            "floor_rates": [round(p.events_per_s) for p in self.floors],
            # each round's e2e against the floor passed next to it: less hurt by a noisy minute
            "median_round_ratio": round(statistics.median(f.seconds / e.seconds for e, f in pairs), 3),
            "cpu_ms_per_1k_events": {"e2e": _least_cpu(self.e2es), "floor": _least_cpu(self.floors)},
        }


def _least_cpu(passes: list[Pass]) -> dict[str, float]:
    """Each side's least CPU time over the rounds (a busy neighbour only ever adds to it)."""
    costs = [p.cpu_ms_per_1k() for p in passes]
    return {side: min(c[side] for c in costs) for side in ("client", "node")}


def run(
    events: int = 30_000,
    rounds: int = 5,
    variants: list[Variant] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The ``--e2e`` result object; with several ``variants``, each one's figures under ``variants``.

    Raises :class:`~lambdalens.local_opensearch.EngineUnavailable` (one line) without Java or Maven.
    """
    from lambdalens.bench.runner import cpu_name
    from lambdalens.bench.workload import generate_payloads, kinesis_event
    from lambdalens.local_opensearch import LocalOpenSearch
    from lambdalens.pipeline.memory import tune_allocator

    variants = variants or [Variant.shipped()]
    allocator_tuned = tune_allocator()  # as the parser function runs
    event = kinesis_event(generate_payloads(events=events, seed=5))
    say = log or (lambda message: None)
    with LocalOpenSearch.start(log=log) as node, _moto():
        say(f"{node.engine.name} {node.engine.version} at {node.url}, started in {node.startup_s} s")
        from opensearchpy import OpenSearch

        bench = _Node(node.url, OpenSearch(node.url, timeout=120), event, _CpuMeter(node.pid))
        for _ in range(WARMUP_PASSES):
            floor_prefix, e2e_prefix = bench.prefixes()
            bench.e2e(variants[0], e2e_prefix)
            bench.floor(variants[0], floor_prefix)
        best = [_Best(v) for v in variants]
        for n in range(rounds):
            say(f"round {n + 1} of {rounds}: {len(best)} variant(s), floor and e2e")
            for entry in best:
                floor_prefix, e2e_prefix = bench.prefixes()
                if n % 2:  # every other round the e2e goes first: neither kind always follows the other
                    entry.e2es.append(bench.e2e(entry.variant, e2e_prefix))
                    entry.floors.append(bench.floor(entry.variant, floor_prefix))
                else:
                    entry.floors.append(bench.floor(entry.variant, floor_prefix))
                    entry.e2es.append(bench.e2e(entry.variant, e2e_prefix))
        rss = node.rss_mb()
        machine = {
            "engine": node.engine.as_dict(),
            "node_startup_s": node.startup_s,
            "node_rss_mb": rss,
            "cpu": cpu_name(),
            "cpus": os.cpu_count(),
            "python": _python(),
            "allocator_tuned": allocator_tuned,
        }
    figures = [entry.figures() for entry in best]
    result: dict[str, Any] = {
        **figures[0],
        "events": len(bench.docs),
        "records": len(event["Records"]),
        "rounds": rounds,
        **machine,
        "target": {
            "ratio_to_bulk_floor": TARGET_RATIO,
            "met": figures[0]["ratio_to_bulk_floor"] >= TARGET_RATIO,
        },
    }
    if len(figures) > 1:
        top = max(f["bulk_floor_events_per_s"] for f in figures)
        for f in figures:
            f["ratio_to_best_floor"] = round(f["e2e_events_per_s"] / top, 3)
        result["variants"] = figures
    return result


def _python() -> str:
    import platform

    return platform.python_version()


@contextmanager
def _moto() -> Iterator[None]:
    """S3 (the dead-letter bucket) from moto in-process, with fake credentials; nothing leaves the machine."""
    saved = {k: os.environ.get(k) for k in _AWS_ENV}
    os.environ.update(_AWS_ENV)
    try:
        import boto3
        from moto import mock_aws

        with mock_aws():
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=_BUCKET)
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
