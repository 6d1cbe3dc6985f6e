"""The export file: what Dashboards 2.x needs to import it, stable ids, fields of the template."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from lambdalens.dashboards import build, export_ndjson, saved_objects
from lambdalens.dashboards.checks import problems, used_fields
from lambdalens.dashboards.fields import flat_fields
from lambdalens.dashboards.kql import KqlError, parse, to_dsl
from lambdalens.dashboards.saved_objects import from_ndjson
from lambdalens.indexing.templates import FIELD_TYPES

JsonObject = dict[str, Any]


def _objects(prefix: str = "lambda-logs") -> list[JsonObject]:
    return from_ndjson(export_ndjson(prefix))


def _by_id(objects: list[JsonObject], object_id: str) -> JsonObject:
    return next(o for o in objects if o["id"] == object_id)


def test_the_export_is_one_object_per_line_ending_with_dashboards_export_summary() -> None:
    data = export_ndjson()
    lines = data.decode().splitlines()
    summary = json.loads(lines[-1])
    assert summary == {"exportedCount": len(lines) - 1, "missingRefCount": 0, "missingReferences": []}
    objects = [json.loads(line) for line in lines[:-1]]
    assert {o["type"] for o in objects} == {"index-pattern", "search", "visualization", "dashboard"}
    assert all(set(o) == {"attributes", "id", "migrationVersion", "references", "type"} for o in objects)


def test_every_object_is_valid_and_every_reference_resolves() -> None:
    assert problems(_objects()) == []
    assert problems(_objects("prod-lambda")) == []


def test_objects_are_written_the_way_dashboards_2x_exports_them() -> None:
    objects = _objects()
    versions = {o["type"]: o["migrationVersion"] for o in objects}
    assert versions == {
        "index-pattern": {"index-pattern": "7.6.0"},
        "search": {"search": "7.9.3"},
        "visualization": {"visualization": "7.10.0"},
        "dashboard": {"dashboard": "7.9.3"},
    }
    overview = _by_id(objects, "lambdalens-lambda-logs-overview")
    assert overview["attributes"]["title"] == "Lambda overview"
    panels = json.loads(overview["attributes"]["panelsJSON"])
    refs = {r["name"]: r for r in overview["references"]}
    assert all(
        "id" not in p and refs[p["panelRefName"]]["id"].startswith("lambdalens-lambda-logs-") for p in panels
    )
    timeouts = _by_id(objects, "lambdalens-lambda-logs-timeouts")
    source = json.loads(timeouts["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert "index" not in source and source["indexRefName"] == "kibanaSavedObjectMeta.searchSourceJSON.index"
    assert timeouts["references"] == [
        {
            "id": "lambdalens-lambda-logs",
            "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
            "type": "index-pattern",
        }
    ]
    vis = _by_id(objects, "lambdalens-lambda-logs-failures-by-function")
    state = json.loads(vis["attributes"]["visState"])
    assert state["type"] == "horizontal_bar" and [a["schema"] for a in state["aggs"]] == [
        "metric",
        "segment",
        "group",
    ]


def test_ids_are_stable_and_follow_the_prefix_so_a_second_pipeline_does_not_overwrite_the_first() -> None:
    assert export_ndjson() == export_ndjson()
    default, other = _objects(), _objects("prod-lambda")
    assert {o["id"] for o in default}.isdisjoint({o["id"] for o in other})
    pattern = _by_id(other, "lambdalens-prod-lambda")
    assert pattern["attributes"]["title"] == "prod-lambda-*"
    assert pattern["attributes"]["timeFieldName"] == "@timestamp"
    assert (
        _by_id(other, "lambdalens-prod-lambda-overview")["attributes"]["title"]
        == "Lambda overview [prod-lambda]"
    )


def test_the_index_pattern_lists_every_template_field_with_formats_for_durations_memory_and_cost() -> None:
    pattern = _by_id(_objects(), "lambdalens-lambda-logs")
    fields = {f["name"]: f for f in json.loads(pattern["attributes"]["fields"])}
    assert set(flat_fields()) <= set(fields)
    assert fields["body"]["aggregatable"] is False and fields["body.keyword"]["subType"] == {
        "multi": {"parent": "body"}
    }
    assert fields["lambda.duration_ms"]["type"] == "number" and fields["faas.coldstart"]["type"] == "boolean"
    formats = json.loads(pattern["attributes"]["fieldFormatMap"])
    assert formats["lambda.duration_ms"]["id"] == "duration"
    assert formats["lambda.duration_ms"]["params"]["inputFormat"] == "milliseconds"
    assert formats["lambdalens.memory_used"] == {"id": "bytes", "params": {"pattern": "0,0.[0]b"}}
    assert formats["lambdalens.estimated_cost_usd"]["params"]["pattern"].startswith("$")
    assert formats["body"]["id"] == "string"
    link = formats["faas.invocation_id"]["params"]
    assert link["labelTemplate"] == "{{value}}"
    assert link["urlTemplate"].startswith("discover#/view/lambdalens-lambda-logs-invocation?")
    scripted = [f for f in fields.values() if f["scripted"]]
    assert {f["name"] for f in scripted} == {
        "lambdalens.cold_start",
        "lambdalens.memory_utilization",
        "lambdalens.memory_used",
        "lambdalens.estimated_cost_usd",
    }
    assert all(f["lang"] == "painless" and f["aggregatable"] for f in scripted)


def test_every_field_used_is_in_the_template_and_aggregatable_where_aggregated() -> None:
    mapped = flat_fields()
    scripted = {s.name for s in build().scripted_fields}
    uses = used_fields(_objects())
    assert {u.field for u in uses if u.aggregated} >= {"faas.name", "@timestamp", "lambda.duration_ms"}
    for use in uses:
        assert use.field in mapped or use.field in scripted, use
        if use.aggregated and use.field not in scripted:
            assert FIELD_TYPES.get(use.field, {}).get("type") not in ("text", "flat_object"), use


def _break(objects: list[JsonObject], object_id: str, change: Any) -> list[str]:
    broken = copy.deepcopy(objects)
    change(_by_id(broken, object_id))
    return problems(broken)


def _vis_state(obj: JsonObject, edit: Any) -> None:
    state = json.loads(obj["attributes"]["visState"])
    edit(state)
    obj["attributes"]["visState"] = json.dumps(state)


@pytest.mark.parametrize(
    ("object_id", "change", "complaint"),
    [
        ("lambdalens-lambda-logs-overview", lambda o: o["references"].pop(0), "panel_0 has no reference"),
        (
            "lambdalens-lambda-logs-timeouts",
            lambda o: o["references"][0].update(id="nope"),
            "index-pattern nope is not in the file",
        ),
        ("lambdalens-lambda-logs-totals", lambda o: o["attributes"].update(visState="{nope"), "not JSON"),
        ("lambdalens-lambda-logs-totals", lambda o: o["attributes"].update(tags=[]), "does not map: tags"),
        (
            "lambdalens-lambda-logs-totals",
            lambda o: o.update(migrationVersion={"visualization": "8.5.0"}),
            "beyond the 7.10 lineage",
        ),
        ("lambdalens-lambda-logs-totals", lambda o: o.update(coreMigrationVersion="8.8.0"), "Kibana 8"),
        (
            "lambdalens-lambda-logs-duration-table",
            lambda o: _vis_state(o, lambda s: s["aggs"][3]["params"].update(field="body")),
            "'body' (text) is not aggregatable",
        ),
        (
            "lambdalens-lambda-logs-duration-table",
            lambda o: _vis_state(o, lambda s: s["aggs"][3]["params"].update(field="faas.function")),
            "'faas.function' is not in the index template",
        ),
        (
            "lambdalens-lambda-logs-errors",
            lambda o: o["attributes"].update(columns=["exception.kind"]),
            "'exception.kind' is not in the index template",
        ),
    ],
)
def test_the_checks_catch_what_would_break_an_import_or_a_panel(
    object_id: str, change: Any, complaint: str
) -> None:
    found = _break(_objects(), object_id, change)
    assert any(complaint in p for p in found), found


def test_a_duplicated_object_is_refused_as_dashboards_refuses_it() -> None:
    objects = _objects()
    assert any("twice in the file" in p for p in problems([*objects, objects[3]]))


def test_the_kql_subset_translates_as_dashboards_does_and_refuses_the_rest() -> None:
    assert to_dsl("") == {"match_all": {}}
    assert to_dsl('faas.name:"orders api" and not lambda.outcome:(error or oom)') == {
        "bool": {
            "filter": [
                {"match_phrase": {"faas.name": "orders api"}},
                {
                    "bool": {
                        "must_not": [
                            {
                                "bool": {
                                    "should": [
                                        {"match": {"lambda.outcome": "error"}},
                                        {"match": {"lambda.outcome": "oom"}},
                                    ],
                                    "minimum_should_match": 1,
                                }
                            }
                        ]
                    }
                },
            ]
        }
    }
    assert to_dsl("severity.number >= 17") == {"range": {"severity.number": {"gte": "17"}}}
    assert parse("a:* or b:1 and c:2").kind == "or"
    for bad in ("faas.name:orders*", "faas.name:", "(a:1", "a:1 b:2"):
        with pytest.raises(KqlError):
            parse(bad)


def test_the_objects_are_the_catalogs_and_the_catalog_names_the_two_dashboards() -> None:
    catalog = build()
    assert [d.title for d in catalog.dashboards] == ["Lambda overview", "Function drill-down"]
    assert len(saved_objects(catalog)) == 1 + len(catalog.searches) + len(catalog.visualizations) + 2
    assert {s.name for s in catalog.searches} >= {"errors", "timeouts", "oom", "init-errors", "cold-starts",
                                                  "invocation", "transaction", "function-logs"}  # fmt: skip


def test_every_object_has_an_id_of_its_own_whatever_its_type() -> None:
    ids = [o["id"] for o in _objects()]
    assert len(ids) == len(set(ids))
