"""A :class:`~lambdalens.dashboards.model.Catalog` as the saved objects Dashboards 2.x exports.

Each object is ``{"attributes", "id", "migrationVersion", "references", "type"}`` with the
migration versions of the Kibana 7.10 lineage Dashboards 2.x carries (index-pattern 7.6.0,
search 7.9.3, visualization 7.10.0, dashboard 7.9.3: nothing left for its migrations to do);
``visState``, ``uiStateJSON``, ``panelsJSON``, ``optionsJSON``, ``fields``,
``fieldFormatMap`` and ``kibanaSavedObjectMeta.searchSourceJSON`` are JSON in strings. Index
patterns and saved searches are referenced by name (``kibanaSavedObjectMeta.searchSourceJSON.index``,
``search_0``, ``panel_<n>``), never by id inside the JSON, as Dashboards writes them.

:func:`to_ndjson` is the export file: one object per line, then the export summary line
Dashboards appends (``exportedCount``), which its import skips.
"""

from __future__ import annotations

import json
from typing import Any, Final

from lambdalens.dashboards import ids
from lambdalens.dashboards.fields import as_json, field_formats, field_specs
from lambdalens.dashboards.model import Catalog, Dashboard, JsonObject, SavedSearch, Visualization
from lambdalens.dashboards.visparams import CONTROL_INDEX_REF, TIME_FIELD

MIGRATION_VERSIONS: Final[dict[str, str]] = {
    "index-pattern": "7.6.0",
    "search": "7.9.3",
    "visualization": "7.10.0",
    "dashboard": "7.9.3",
}
#: The version Dashboards' dashboard app records on each panel (post-7.3 panel format).
PANEL_VERSION: Final = "7.10.2"
INDEX_REF: Final = "kibanaSavedObjectMeta.searchSourceJSON.index"


def _object(kind: str, id: str, attributes: JsonObject, references: list[JsonObject]) -> JsonObject:
    return {
        "attributes": attributes,
        "id": id,
        "migrationVersion": {kind: MIGRATION_VERSIONS[kind]},
        "references": references,
        "type": kind,
    }


def _search_source(query: str, with_index: bool, **extra: Any) -> str:
    source: JsonObject = {"query": {"query": query, "language": "kuery"}, "filter": [], **extra}
    if with_index:
        source["indexRefName"] = INDEX_REF
    return as_json(source)


def index_pattern(catalog: Catalog) -> JsonObject:
    search_id = ids.object_id
    attributes = {
        "fieldFormatMap": as_json(
            field_formats(
                catalog.scripted_fields,
                search_id("invocation", catalog.prefix),
                search_id("transaction", catalog.prefix),
            )
        ),
        "fields": as_json(field_specs(catalog.scripted_fields)),
        "timeFieldName": TIME_FIELD,
        "title": catalog.index_pattern_title,
    }
    return _object("index-pattern", catalog.index_pattern_id, attributes, [])


def _index_reference(catalog: Catalog, name: str = INDEX_REF) -> JsonObject:
    return {"id": catalog.index_pattern_id, "name": name, "type": "index-pattern"}


def search(catalog: Catalog, s: SavedSearch) -> JsonObject:
    attributes = {
        "columns": list(s.columns),
        "description": s.description,
        "hits": 0,
        "kibanaSavedObjectMeta": {
            "searchSourceJSON": _search_source(s.query, True, highlightAll=True, version=True)
        },
        "sort": [list(pair) for pair in s.sort],
        "title": s.title,
        "version": 1,
    }
    return _object("search", ids.object_id(s.name, catalog.prefix), attributes, [_index_reference(catalog)])


def vis_state(v: Visualization) -> JsonObject:
    return {
        "title": v.title,
        "type": v.vis_type,
        "aggs": [
            {"id": a.id, "enabled": True, "type": a.type, "params": a.vis_params(), "schema": a.schema}
            for a in v.aggs
        ],
        "params": v.params,
    }


def visualization(catalog: Catalog, v: Visualization) -> JsonObject:
    references: list[JsonObject] = []
    if v.uses_index:
        references.append(_index_reference(catalog))
    if v.vis_type == "input_control_vis":
        references.append(_index_reference(catalog, CONTROL_INDEX_REF))
    attributes = {
        "description": v.description,
        "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(v.query, v.uses_index)},
        "title": v.title,
        "uiStateJSON": "{}",
        "version": 1,
        "visState": as_json(vis_state(v)),
    }
    return _object("visualization", ids.object_id(v.name, catalog.prefix), attributes, references)


def _panel_type(catalog: Catalog, name: str) -> str:
    return "search" if any(s.name == name for s in catalog.searches) else "visualization"


def dashboard(catalog: Catalog, d: Dashboard) -> JsonObject:
    panels: list[JsonObject] = []
    references: list[JsonObject] = []
    for n, p in enumerate(d.panels, start=1):
        ref = f"panel_{n - 1}"
        panels.append(
            {
                "embeddableConfig": {},
                "gridData": {"h": p.h, "i": str(n), "w": p.w, "x": p.x, "y": p.y},
                "panelIndex": str(n),
                "version": PANEL_VERSION,
                "panelRefName": ref,
            }
        )
        references.append(
            {
                "id": ids.object_id(p.target, catalog.prefix),
                "name": ref,
                "type": _panel_type(catalog, p.target),
            }
        )
    attributes = {
        "description": d.description,
        "hits": 0,
        "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(d.query, False)},
        "optionsJSON": as_json({"hidePanelTitles": False, "useMargins": True}),
        "panelsJSON": as_json(panels),
        "timeRestore": False,
        "title": d.title,
        "version": 1,
    }
    return _object("dashboard", ids.object_id(d.name, catalog.prefix), attributes, references)


def saved_objects(catalog: Catalog) -> list[JsonObject]:
    """Every object, dependencies first: index pattern, searches, visualisations, dashboards."""
    return [
        index_pattern(catalog),
        *(search(catalog, s) for s in catalog.searches),
        *(visualization(catalog, v) for v in catalog.visualizations),
        *(dashboard(catalog, d) for d in catalog.dashboards),
    ]


def to_ndjson(objects: list[JsonObject]) -> bytes:
    """The export file: one object per line, then the export summary line."""
    summary = {"exportedCount": len(objects), "missingRefCount": 0, "missingReferences": []}
    lines = [json.dumps(o, separators=(",", ":"), ensure_ascii=False) for o in [*objects, summary]]
    return ("\n".join(lines) + "\n").encode("utf-8")


def from_ndjson(data: bytes) -> list[JsonObject]:
    """The objects of an export file (the summary line and blank lines left out), as Dashboards
    reads them; a line that is not JSON raises :class:`ValueError` naming it."""
    objects: list[JsonObject] = []
    for number, line in enumerate(data.decode("utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number} is not JSON: {exc.msg}") from None
        if isinstance(value, dict) and value.get("exportedCount"):
            continue
        objects.append(value)
    return objects
