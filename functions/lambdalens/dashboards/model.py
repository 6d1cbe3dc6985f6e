"""What the shipped Dashboards objects are made of, before they become saved objects.

A :class:`Visualization` is a list of :class:`Agg` (Dashboards' "aggregation configs": a metric
or a bucket, with its schema) over the index pattern, narrowed by a KQL query; a
:class:`SavedSearch` is a Discover view (query, columns, sort); a :class:`Dashboard` lays
panels out on Dashboards' 48-column grid. :mod:`lambdalens.dashboards.catalog` defines the
objects, :mod:`lambdalens.dashboards.saved_objects` writes them the way Dashboards 2.x exports
them, :mod:`lambdalens.dashboards.dsl` turns a visualisation into the query Dashboards sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any, Final, Literal

JsonObject = dict[str, Any]

#: Aggregations that compute a value from a field (the field must be aggregatable).
METRIC_TYPES: Final = frozenset({"count", "avg", "sum", "min", "max", "percentiles", "cardinality"})
BUCKET_TYPES: Final = frozenset({"date_histogram", "terms", "filters"})
Schema = Literal["metric", "segment", "group", "bucket", "split", "radius"]


@dataclass(frozen=True)
class Agg:
    """One aggregation of a visualisation, as Dashboards' visState lists it.

    ``field`` is the index pattern field (a scripted field included); ``filters`` the labelled
    KQL queries of a ``filters`` bucket; ``params`` everything else Dashboards stores.
    """

    id: str
    type: str
    schema: Schema
    field: str | None = None
    label: str | None = None
    params: JsonObject = _field(default_factory=dict)
    filters: tuple[tuple[str, str], ...] = ()

    @property
    def is_metric(self) -> bool:
        return self.type in METRIC_TYPES

    def vis_params(self) -> JsonObject:
        """The ``params`` of this aggregation in visState."""
        out: JsonObject = {}
        if self.field is not None:
            out["field"] = self.field
        if self.type == "filters":
            out["filters"] = [
                {"input": {"query": q, "language": "kuery"}, "label": label} for label, q in self.filters
            ]
        out.update(self.params)
        if self.label:
            out["customLabel"] = self.label
        return out


@dataclass(frozen=True)
class Visualization:
    """A saved visualisation: ``name`` makes its id, ``vis_type`` is Dashboards' type name
    (``line``, ``histogram``, ``horizontal_bar``, ``table``, ``metric``, ``markdown``,
    ``input_control_vis``), ``params`` the type's visState params."""

    name: str
    title: str
    vis_type: str
    aggs: tuple[Agg, ...]
    params: JsonObject
    query: str = ""
    description: str = ""
    uses_index: bool = True

    def metrics(self) -> tuple[Agg, ...]:
        return tuple(a for a in self.aggs if a.is_metric)

    def buckets(self) -> tuple[Agg, ...]:
        return tuple(a for a in self.aggs if not a.is_metric)


@dataclass(frozen=True)
class SavedSearch:
    """A Discover view: the documents ``query`` matches, ``columns`` shown, sorted by ``sort``."""

    name: str
    title: str
    query: str
    columns: tuple[str, ...]
    sort: tuple[tuple[str, str], ...] = (("@timestamp", "desc"),)
    description: str = ""


@dataclass(frozen=True)
class Panel:
    """A dashboard panel: the visualisation or saved search ``target`` (by name) on the grid."""

    target: str
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Dashboard:
    name: str
    title: str
    panels: tuple[Panel, ...]
    description: str = ""
    query: str = ""
    time_from: str = "now-24h"
    time_to: str = "now"


@dataclass(frozen=True)
class ScriptedField:
    """An index pattern field computed at query time (Painless) from aggregatable fields."""

    name: str
    script: str
    format: JsonObject
    description: str = ""


@dataclass(frozen=True)
class Catalog:
    """Everything shipped for one index prefix."""

    prefix: str
    index_pattern_id: str
    index_pattern_title: str
    scripted_fields: tuple[ScriptedField, ...]
    searches: tuple[SavedSearch, ...]
    visualizations: tuple[Visualization, ...]
    dashboards: tuple[Dashboard, ...]

    def search(self, name: str) -> SavedSearch:
        return next(s for s in self.searches if s.name == name)

    def visualization(self, name: str) -> Visualization:
        return next(v for v in self.visualizations if v.name == name)

    def dashboard(self, name: str) -> Dashboard:
        return next(d for d in self.dashboards if d.name == name)

    def scripted(self, name: str) -> ScriptedField | None:
        return next((f for f in self.scripted_fields if f.name == name), None)
