"""Pipeline health metrics: one EMF record per parser invocation, dimension ``Pipeline``."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from lambdalens.metrics.emf import emf_record
from lambdalens.metrics.invocations import F_TIMESTAMP, Document, epoch_ms
from lambdalens.metrics.names import DIM_PIPELINE, PIPELINE_METRICS
from lambdalens.metrics.settings import MetricsSettings


class AlertCounts(Protocol):
    published: int
    failed: int


@dataclass(slots=True)
class PipelineStats:
    """What one invocation of the parser did; the handler fills it in.

    ``lag_newest_ms`` / ``lag_oldest_ms``: processing time minus the newest / oldest event
    timestamp of the batch (see :meth:`add_lag`).
    """

    records: int = 0
    events: int = 0
    indexed: int = 0
    duplicates: int = 0
    retried: int = 0
    safe_form: int = 0
    dead_lettered: int = 0
    parse_failures: int = 0
    batch_item_failures: int = 0
    control_messages: int = 0
    alerts_published: int = 0
    alert_publish_failures: int = 0
    lag_newest_ms: float | None = None
    lag_oldest_ms: float | None = None

    def add_lag(self, documents: Iterable[Document], now_ms: int | None = None) -> None:
        """Set the lag metrics from the documents' ``@timestamp`` (never negative)."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        stamps = [t for t in (epoch_ms(d.get(F_TIMESTAMP)) for d in documents) if t is not None]
        if stamps:
            self.lag_newest_ms = float(max(0, now - max(stamps)))
            self.lag_oldest_ms = float(max(0, now - min(stamps)))

    def add_alerts(self, outcome: AlertCounts) -> None:
        """Count an :class:`~lambdalens.alerts.engine.AlertOutcome`."""
        self.alerts_published += outcome.published
        self.alert_publish_failures += outcome.failed


_FIELDS = {
    "Records": "records",
    "Events": "events",
    "Indexed": "indexed",
    "Duplicates": "duplicates",
    "Retried": "retried",
    "SafeForm": "safe_form",
    "DeadLettered": "dead_lettered",
    "ParseFailures": "parse_failures",
    "BatchItemFailures": "batch_item_failures",
    "ControlMessages": "control_messages",
    "AlertsPublished": "alerts_published",
    "AlertPublishFailures": "alert_publish_failures",
    "LagNewestMs": "lag_newest_ms",
    "LagOldestMs": "lag_oldest_ms",
}


def pipeline_metric_values(stats: PipelineStats) -> dict[str, tuple[str, Any]]:
    """Name -> (unit, value) of every pipeline-health metric that has a value (lag only when known)."""
    metrics: dict[str, tuple[str, Any]] = {}
    for name, unit in PIPELINE_METRICS.items():
        value = getattr(stats, _FIELDS[name])
        if value is not None:
            metrics[name] = (unit, value)
    return metrics


def build_pipeline_metrics(
    stats: PipelineStats, settings: MetricsSettings | None = None, now_ms: int | None = None
) -> dict[str, Any]:
    """The EMF record of one parser invocation's pipeline health (lag metrics only when known)."""
    settings = settings or MetricsSettings.from_env()
    metrics = pipeline_metric_values(stats)
    ts = now_ms if now_ms is not None else int(time.time() * 1000)
    return emf_record(settings.namespace, [[DIM_PIPELINE]], {DIM_PIPELINE: settings.pipeline}, metrics, ts)
