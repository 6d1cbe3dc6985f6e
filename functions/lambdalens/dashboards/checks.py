"""Checks of an export file: what Dashboards 2.x needs to import it, and the fields it uses.

:func:`problems` lists, one line each, anything that would make an object fail to import or
a panel fail to render:

* an object without ``type``/``id``/``attributes``, of a type lambdalens does not ship, with
  an attribute its saved-object type does not map (the saved-objects index is strict), a
  ``migrationVersion`` beyond the Kibana 7.10 lineage, or a ``coreMigrationVersion`` (8.x);
* a JSON-in-string attribute that is not JSON;
* a reference to an object that is not in the file, or a ``…RefName`` without its reference;
* a field not in the index template (:mod:`lambdalens.indexing.templates`), or aggregated
  (an aggregation, a sort, a control, a scripted field's ``doc[...]``) when not aggregatable;
* a query outside the KQL subset of :mod:`lambdalens.dashboards.kql`.

:func:`used_fields` tells which fields the objects use and whether they aggregate on them; the
integration tests compare it with ``_field_caps`` of a real node.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from lambdalens.dashboards.fields import AGGREGATABLE_TYPES, flat_fields, script_fields
from lambdalens.dashboards.kql import KqlError, fields_of
from lambdalens.dashboards.model import JsonObject

#: The attributes each saved-object type maps in Dashboards 2.x (its ``mappings.properties``).
TYPE_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = {
    "index-pattern": frozenset({"title", "type", "typeMeta", "timeFieldName", "intervalName", "fields",
                                "sourceFilters", "fieldFormatMap"}),
    "search": frozenset({"columns", "description", "hits", "kibanaSavedObjectMeta", "sort", "title", "version"}),
    "visualization": frozenset({"description", "kibanaSavedObjectMeta", "savedSearchRefName", "title",
                                "uiStateJSON", "version", "visState"}),
    "dashboard": frozenset({"description", "hits", "kibanaSavedObjectMeta", "optionsJSON", "panelsJSON",
                            "refreshInterval", "timeFrom", "timeRestore", "timeTo", "title", "version"}),
}  # fmt: skip
JSON_ATTRIBUTES: Final = ("visState", "uiStateJSON", "panelsJSON", "optionsJSON", "fields", "fieldFormatMap")
MAX_MIGRATION: Final = (7, 10, 2)
#: Aggregation types that read no field.
_FIELDLESS: Final = frozenset({"count", "filters"})


@dataclass(frozen=True)
class FieldUse:
    """A field an object uses; ``aggregated`` when an aggregation, sort or control needs doc values."""

    field: str
    aggregated: bool
    where: str


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _loads(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _structure(obj: Mapping[str, Any]) -> list[str]:
    where = f"{obj.get('type')} {obj.get('id')}"
    out: list[str] = []
    kind, attributes = obj.get("type"), obj.get("attributes")
    if kind not in TYPE_ATTRIBUTES or not isinstance(obj.get("id"), str) or not isinstance(attributes, dict):
        return [f"{where}: needs a shipped type, a string id and attributes"]
    if "coreMigrationVersion" in obj:
        out.append(f"{where}: coreMigrationVersion is Kibana 8; Dashboards 2.x does not have it")
    versions = obj.get("migrationVersion") or {}
    if not isinstance(versions, dict) or any(_version(str(v)) > MAX_MIGRATION for v in versions.values()):
        out.append(f"{where}: migrationVersion {versions} is beyond the 7.10 lineage of Dashboards 2.x")
    unknown = set(attributes) - TYPE_ATTRIBUTES[str(kind)]
    if unknown:
        out.append(f"{where}: attributes the {kind} type does not map: {', '.join(sorted(unknown))}")
    if not isinstance(attributes.get("title"), str) or not attributes["title"]:
        out.append(f"{where}: no title")
    for name in (*JSON_ATTRIBUTES, "searchSourceJSON"):
        text = (
            (attributes.get("kibanaSavedObjectMeta") or {}).get(name)
            if name == "searchSourceJSON"
            else attributes.get(name)
        )
        if text is None:
            continue
        try:
            json.loads(text)
        except (TypeError, json.JSONDecodeError):
            out.append(f"{where}: {name} is not JSON in a string")
    return out


def _ref_names(obj: Mapping[str, Any]) -> set[str]:
    """Every ``…RefName`` the object's JSON-in-string attributes name."""
    attributes = obj["attributes"]
    names: set[str] = set()
    source = _loads((attributes.get("kibanaSavedObjectMeta") or {}).get("searchSourceJSON")) or {}
    if source.get("indexRefName"):
        names.add(source["indexRefName"])
    for panel in _loads(attributes.get("panelsJSON")) or []:
        names.add(panel.get("panelRefName"))
    for control in ((_loads(attributes.get("visState")) or {}).get("params") or {}).get("controls") or []:
        names.add(control.get("indexPatternRefName"))
    if attributes.get("savedSearchRefName"):
        names.add(attributes["savedSearchRefName"])
    return names


def _references(obj: Mapping[str, Any], present: set[tuple[str, str]]) -> list[str]:
    where = f"{obj['type']} {obj['id']}"
    out: list[str] = []
    refs = obj.get("references") or []
    for ref in refs:
        if (ref.get("type"), ref.get("id")) not in present:
            out.append(
                f"{where}: reference {ref.get('name')} -> {ref.get('type')} {ref.get('id')} is not in the file"
            )
    missing = _ref_names(obj) - {ref.get("name") for ref in refs}
    out += [f"{where}: {name} has no reference" for name in sorted(missing, key=str)]
    return out


def _scripted(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    scripts: dict[str, str] = {}
    for obj in objects:
        if obj.get("type") == "index-pattern":
            for spec in _loads(obj["attributes"].get("fields")) or []:
                if spec.get("scripted"):
                    scripts[spec["name"]] = spec.get("script", "")
    return scripts


def _query_uses(query: str, where: str) -> list[FieldUse]:
    return [FieldUse(f, False, where) for f in sorted(fields_of(query))]


def _vis_uses(obj: Mapping[str, Any], where: str) -> list[FieldUse]:
    state = _loads(obj["attributes"]["visState"])
    uses: list[FieldUse] = []
    for agg in state.get("aggs") or []:
        params = agg.get("params") or {}
        if agg.get("type") not in _FIELDLESS:
            uses.append(
                FieldUse(params.get("field", ""), True, f"{where} agg {agg.get('id')} ({agg.get('type')})")
            )
        for f in params.get("filters") or []:
            uses += _query_uses(f["input"]["query"], f"{where} filter {f.get('label')!r}")
    for control in (state.get("params") or {}).get("controls") or []:
        uses.append(FieldUse(control.get("fieldName", ""), True, f"{where} control {control.get('label')!r}"))
    return uses


def used_fields(objects: Iterable[Mapping[str, Any]]) -> list[FieldUse]:
    """Every field the searches, visualisations, dashboards and scripted fields use."""
    uses: list[FieldUse] = []
    for obj in objects:
        attributes, where = obj.get("attributes") or {}, f"{obj.get('type')} {obj.get('id')}"
        source = _loads((attributes.get("kibanaSavedObjectMeta") or {}).get("searchSourceJSON")) or {}
        uses += _query_uses(str((source.get("query") or {}).get("query") or ""), f"{where} query")
        if obj.get("type") == "search":
            uses += [FieldUse(c, False, f"{where} column") for c in attributes.get("columns") or []]
            uses += [FieldUse(f, True, f"{where} sort") for f, _ in attributes.get("sort") or []]
        elif obj.get("type") == "visualization":
            uses += _vis_uses(obj, where)
    for name, script in _scripted(objects).items():
        uses += [FieldUse(f, True, f"scripted field {name}") for f in sorted(script_fields(script))]
    return uses


def _field_problems(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    mapped = flat_fields()
    scripted = _scripted(objects)
    out: list[str] = []
    try:
        uses = used_fields(objects)
    except KqlError as exc:
        return [f"query: {exc}"]
    for use in uses:
        if use.field in scripted:
            continue
        if use.field not in mapped:
            out.append(f"{use.where}: field {use.field!r} is not in the index template")
        elif use.aggregated and mapped[use.field] not in AGGREGATABLE_TYPES:
            out.append(f"{use.where}: field {use.field!r} ({mapped[use.field]}) is not aggregatable")
    return out


def problems(objects: list[JsonObject]) -> list[str]:
    """Everything wrong with ``objects`` (an export's objects), one line each; empty when fine."""
    out: list[str] = []
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        key = (str(obj.get("type")), str(obj.get("id")))
        if key in seen:
            out.append(f"{key[0]} {key[1]}: twice in the file (Dashboards refuses non-unique objects)")
        seen.add(key)
        out += _structure(obj)
    if out:
        return out
    for obj in objects:
        out += _references(obj, seen)
    return out + _field_problems(objects)
