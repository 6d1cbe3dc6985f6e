"""A visualisation as the search Dashboards sends, and its answer as table rows.

Dashboards builds a visualisation's request in the browser from its aggregations: the bucket
aggregations nest in the order the visualisation lists them, the metrics sit in the innermost
bucket (and in a ``terms`` bucket ordered by them), a scripted field is aggregated through its
Painless script, and the query is the visualisation's KQL, the dashboard's (or a link's) KQL and
the time range, all as filters. :func:`request` does the same; :func:`rows` reads the answer the
way Dashboards tabulates it: one row per innermost bucket, its bucket keys and metric values.

Example::

    vis = catalog.visualization("failures-by-function")
    body = request(catalog, vis, time_range=("now-24h", "now"))
    table = rows(vis, client.search(index="lambda-logs-*", body=body))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from lambdalens.dashboards.kql import to_dsl
from lambdalens.dashboards.model import Agg, Catalog, JsonObject, Visualization
from lambdalens.dashboards.visparams import TIME_FIELD

#: Fixed intervals a date histogram may use, as Dashboards' auto interval rounds them.
_INTERVALS: Final = (
    ("1s", 1), ("5s", 5), ("10s", 10), ("30s", 30), ("1m", 60), ("5m", 300), ("10m", 600), ("30m", 1800),
    ("1h", 3600), ("3h", 10800), ("12h", 43200), ("1d", 86400), ("7d", 604800), ("30d", 2592000),
)  # fmt: skip
MAX_BARS: Final = 100


def auto_interval(span_seconds: float, max_bars: int = MAX_BARS) -> str:
    """The smallest interval that keeps ``span_seconds`` under ``max_bars`` buckets."""
    for name, seconds in _INTERVALS:
        if span_seconds / seconds <= max_bars:
            return name
    return _INTERVALS[-1][0]


def _field_source(catalog: Catalog, name: str) -> JsonObject:
    scripted = catalog.scripted(name)
    if scripted is not None:
        return {"script": {"source": scripted.script, "lang": "painless"}}
    return {"field": name}


def metric_dsl(catalog: Catalog, agg: Agg) -> JsonObject | None:
    """The OpenSearch aggregation of a metric (``None`` for ``count``: the bucket's doc_count)."""
    if agg.type == "count":
        return None
    assert agg.field is not None
    body = _field_source(catalog, agg.field)
    if agg.type == "percentiles":
        body["percents"] = list(agg.params["percents"])
    return {agg.type: body}


def _bucket_dsl(agg: Agg, interval: str) -> JsonObject:
    if agg.type == "date_histogram":
        return {"date_histogram": {"field": agg.field, "fixed_interval": interval, "time_zone": "UTC",
                                   "min_doc_count": 1}}  # fmt: skip
    if agg.type == "terms":
        order_by = str(agg.params.get("orderBy", "_count"))
        return {"terms": {"field": agg.field, "size": int(agg.params["size"]),
                          "order": {order_by: agg.params.get("order", "desc")}}}  # fmt: skip
    return {"filters": {"filters": {label: to_dsl(query) for label, query in agg.filters}}}


def _metric_aggs(catalog: Catalog, metrics: Sequence[Agg]) -> JsonObject:
    out: JsonObject = {}
    for m in metrics:
        dsl = metric_dsl(catalog, m)
        if dsl is not None:
            out[m.id] = dsl
    return out


def aggregations(catalog: Catalog, vis: Visualization, interval: str) -> JsonObject:
    """The nested ``aggs`` of ``vis`` (metrics in the innermost bucket)."""
    metrics = vis.metrics()
    by_id = {m.id: m for m in metrics}
    inner = _metric_aggs(catalog, metrics)
    for bucket in reversed(vis.buckets()):
        dsl = _bucket_dsl(bucket, interval)
        if bucket.type == "terms":
            order_by = str(bucket.params.get("orderBy"))
            metric = by_id.get(order_by)
            if metric is None or metric.type == "count":
                dsl["terms"]["order"] = {"_count": bucket.params.get("order", "desc")}
            elif order_by not in inner:
                inner = {**inner, **_metric_aggs(catalog, [metric])}
        if inner:
            dsl["aggs"] = inner
        inner = {bucket.id: dsl}
    return inner


def request(
    catalog: Catalog,
    vis: Visualization,
    *,
    query: str = "",
    time_range: tuple[str, str] | None = None,
    interval: str | None = None,
) -> JsonObject:
    """The ``_search`` body for ``vis`` with a dashboard/link ``query`` and a time range
    (``now-24h``-style or ISO times); ``interval`` for date histograms (default: from the range,
    else 1h)."""
    filters = [to_dsl(vis.query)] if vis.query else []
    if query:
        filters.append(to_dsl(query))
    if time_range is not None:
        start, end = time_range
        filters.append(
            {"range": {TIME_FIELD: {"gte": start, "lte": end, "format": "strict_date_optional_time"}}}
        )
    if interval is None:
        interval = _interval_of(time_range)
    return {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"filter": filters}},
        "aggs": aggregations(catalog, vis, interval),
    }


def _interval_of(time_range: tuple[str, str] | None) -> str:
    if time_range is None:
        return "1h"
    try:
        start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in time_range)
    except ValueError:
        return "1h"
    return auto_interval((end - start).total_seconds())


@dataclass(frozen=True)
class Row:
    """One innermost bucket: its bucket keys (by agg id, a filter's label, a term, a time in
    epoch ms) and metric values (by agg id; percentiles as ``{percent: value}``)."""

    keys: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def _metric_value(agg: Agg, bucket: Mapping[str, Any]) -> Any:
    if agg.type == "count":
        return bucket.get("doc_count", 0)
    answer = bucket.get(agg.id) or {}
    if agg.type == "percentiles":
        return {float(k): v for k, v in (answer.get("values") or {}).items()}
    return answer.get("value")


def _children(agg: Agg, answer: Mapping[str, Any]) -> list[tuple[Any, Mapping[str, Any]]]:
    buckets = answer.get("buckets")
    if isinstance(buckets, dict):  # filters
        return [(label, buckets[label]) for label, _ in agg.filters if label in buckets]
    return [(b.get("key"), b) for b in buckets or []]


def _walk(
    vis: Visualization, buckets: Sequence[Agg], level: Mapping[str, Any], keys: dict[str, Any]
) -> list[Row]:
    if not buckets:
        return [Row(dict(keys), {m.id: _metric_value(m, level) for m in vis.metrics()})]
    head, rest = buckets[0], buckets[1:]
    out: list[Row] = []
    for key, child in _children(head, level.get(head.id) or {}):
        out += _walk(vis, rest, child, {**keys, head.id: key})
    return out


def rows(vis: Visualization, response: Mapping[str, Any]) -> list[Row]:
    """The answer to :func:`request` as rows (one per innermost bucket)."""
    top = {"doc_count": (response.get("hits") or {}).get("total", {}).get("value", 0),
           **(response.get("aggregations") or {})}  # fmt: skip
    return _walk(vis, vis.buckets(), top, {})


def run(
    client: Any,
    catalog: Catalog,
    vis: Visualization,
    *,
    query: str = "",
    time_range: tuple[str, str] | None = None,
    interval: str | None = None,
) -> list[Row]:
    """Search ``<prefix>-*`` with ``vis``'s request and return its rows."""
    body = request(catalog, vis, query=query, time_range=time_range, interval=interval)
    return rows(vis, client.search(index=catalog.index_pattern_title, body=body))


def totals(found: Sequence[Row], key_id: str, metric_id: str) -> dict[Any, float]:
    """Sum of ``metric_id`` per value of the bucket ``key_id`` (over the other buckets)."""
    out: dict[Any, float] = {}
    for row in found:
        key = row.keys.get(key_id)
        out[key] = out.get(key, 0) + float(row.values.get(metric_id) or 0)
    return out
