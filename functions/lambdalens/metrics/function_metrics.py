"""Per-function metrics of one batch, as EMF records (pure: documents in, dicts out).

Invocations are grouped by function, account, region and minute of their timestamp (a batch
usually spans seconds: one record per function). Counts are written once per group;
per-invocation values (Duration, BilledDuration, InitDuration, MaxMemoryUsed,
MemoryUtilization, EstimatedCost) as arrays, split over as many records as needed to keep at
most 100 values per metric per record.

Exactly once: the caller passes only the documents it processed successfully *and for the first
time* in this invocation (see docs/metrics-and-alerts.md); a document repeated within the
list (same ``log.record.uid``) is counted once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lambdalens.metrics.emf import chunks, emf_record
from lambdalens.metrics.functions import FunctionConfig, FunctionConfigCache
from lambdalens.metrics.invocations import (
    F_ACCOUNT,
    F_BILLED,
    F_DURATION,
    F_INIT_DURATION,
    F_MAX_MEMORY,
    F_MEMORY_SIZE,
    F_REGION,
    BatchSummary,
    Document,
    summarize,
    text,
)
from lambdalens.metrics.names import (
    DIM_ACCOUNT,
    DIM_FUNCTION,
    DIM_PIPELINE,
    DIM_REGION,
    FUNCTION_DISTRIBUTIONS,
    FUNCTION_METRICS,
)
from lambdalens.metrics.pricing import invocation_cost
from lambdalens.metrics.settings import MetricsSettings

MINUTE_MS = 60_000
UNKNOWN = "unknown"


@dataclass(slots=True)
class FunctionStats:
    """Aggregates of one (function, account, region, minute)."""

    function: str
    account: str | None
    region: str | None
    timestamp_ms: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FUNCTION_METRICS, 0))
    values: dict[str, list[float]] = field(
        default_factory=lambda: {name: [] for name in FUNCTION_DISTRIBUTIONS}
    )

    def touch(self, ts: int) -> None:
        self.timestamp_ms = max(self.timestamp_ms, ts)


def _round(value: float, digits: int = 3) -> float:
    return round(value, digits)


def function_stats(
    summary: BatchSummary,
    settings: MetricsSettings,
    configs: FunctionConfigCache | None = None,
) -> list[FunctionStats]:
    """Aggregate a batch summary per (function, account, region, minute)."""
    groups: dict[tuple[str, str | None, str | None, int], FunctionStats] = {}

    def group(function: str, doc: Document, ts: int) -> FunctionStats:
        account, region = text(doc, F_ACCOUNT), text(doc, F_REGION)
        key = (function, account, region, ts // MINUTE_MS)
        stats = groups.get(key)
        if stats is None:
            stats = groups[key] = FunctionStats(function, account, region)
        stats.touch(ts)
        return stats

    def config(function: str, account: str | None, region: str | None) -> FunctionConfig:
        if configs is not None:
            return configs.get(function, account, region)
        arch = settings.architectures.get(function)
        return FunctionConfig(function, arch or "x86_64", source="env" if arch else "default")

    for inv in summary.invocations.values():
        if not (inv.is_invocation or inv.failed):
            continue
        stats = group(inv.function, inv.any_doc, inv.timestamp_ms)
        c = stats.counts
        c["Timeouts"] += inv.timeout
        c["OutOfMemory"] += inv.oom
        c["Errors"] += inv.error
        if inv.report is None:
            continue
        c["Invocations"] += 1
        c["ColdStarts"] += inv.cold_start
        v = stats.values
        duration = inv.value(F_DURATION)
        billed = inv.value(F_BILLED)
        init = inv.value(F_INIT_DURATION)
        used = inv.value(F_MAX_MEMORY)
        size = inv.value(F_MEMORY_SIZE)
        cfg = config(inv.function, stats.account, stats.region)
        if size is None and cfg.memory_mb:
            size = float(cfg.memory_mb)
        if duration is not None:
            v["Duration"].append(duration)
        if billed is None and duration is not None:
            billed = float(-(-duration // 1))  # billed in whole milliseconds, rounded up
        if billed is not None:
            v["BilledDuration"].append(billed)
        if init is not None:
            v["InitDuration"].append(init)
        if used is not None:
            v["MaxMemoryUsed"].append(used)
            if size:
                v["MemoryUtilization"].append(_round(used / size * 100, 2))
        if billed is not None and size:
            v["EstimatedCost"].append(float(invocation_cost(billed, size, cfg.architecture, settings.prices)))
    for failure in summary.init_failures:
        group(failure.function, failure.doc, failure.timestamp_ms).counts["InitErrors"] += 1
    return sorted(
        groups.values(), key=lambda s: (s.function, s.account or "", s.region or "", s.timestamp_ms)
    )


def _foreign(stats: FunctionStats, settings: MetricsSettings) -> bool:
    if settings.account_dimensions == "always":
        return True
    if settings.account_dimensions == "never":
        return False
    other_region = bool(stats.region and settings.home_region and stats.region != settings.home_region)
    other_account = bool(stats.account and settings.home_account and stats.account != settings.home_account)
    return other_region or other_account


def stats_to_emf(stats: FunctionStats, settings: MetricsSettings) -> list[dict[str, Any]]:
    """EMF records of one group: counts in the first, value arrays split 100 per record."""
    dimension_sets: list[list[str]] = [[DIM_FUNCTION], [DIM_PIPELINE]]
    dimensions = {DIM_FUNCTION: stats.function, DIM_PIPELINE: settings.pipeline}
    properties: dict[str, Any] = {}
    if _foreign(stats, settings):
        dimension_sets.append([DIM_FUNCTION, DIM_ACCOUNT, DIM_REGION])
        dimensions[DIM_ACCOUNT] = stats.account or UNKNOWN
        dimensions[DIM_REGION] = stats.region or UNKNOWN
    else:
        properties = {k: v for k, v in ((DIM_ACCOUNT, stats.account), (DIM_REGION, stats.region)) if v}
    split = {name: chunks(values) for name, values in stats.values.items() if values}
    n_records = max([1, *(len(parts) for parts in split.values())])
    records = []
    for i in range(n_records):
        metrics: dict[str, tuple[str, Any]] = {}
        for name, unit in FUNCTION_METRICS.items():
            if name in stats.counts and name not in FUNCTION_DISTRIBUTIONS:
                if i == 0:
                    metrics[name] = (unit, stats.counts[name])
            elif name in split and i < len(split[name]):
                metrics[name] = (unit, split[name][i])
        records.append(
            emf_record(
                settings.namespace, dimension_sets, dimensions, metrics, stats.timestamp_ms, properties
            )
        )
    return records


def build_function_metrics(
    documents: Iterable[Document],
    settings: MetricsSettings | None = None,
    configs: FunctionConfigCache | None = None,
    *,
    summary: BatchSummary | None = None,
) -> list[dict[str, Any]]:
    """EMF records of the per-function metrics of one batch.

    Parameters
    ----------
    documents:
        The documents of the records processed successfully (and for the first time) in this
        invocation; ignored when ``summary`` is given.
    settings:
        Namespace, pipeline, prices, dimensions (default: :meth:`MetricsSettings.from_env`).
    configs:
        Cache of function configurations (architecture for ``EstimatedCost``); without it the
        architecture comes from ``settings.architectures``, else x86_64.
    summary:
        A :func:`~lambdalens.metrics.invocations.summarize` result to reuse.

    Example
    -------
    >>> records = build_function_metrics(documents, MetricsSettings.from_env(), cache)  # doctest: +SKIP
    >>> emit(records)  # doctest: +SKIP
    """
    settings = settings or MetricsSettings.from_env()
    summary = summary if summary is not None else summarize(documents)
    records: list[dict[str, Any]] = []
    for stats in function_stats(summary, settings, configs):
        records.extend(stats_to_emf(stats, settings))
    return records
