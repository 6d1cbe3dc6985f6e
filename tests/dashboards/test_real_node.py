"""The saved objects against a real OpenSearch node holding the demo's documents: every field they
use exists and is aggregatable where aggregated (``_field_caps``), and every visualisation's
query returns the numbers the demo's report shows for the same data."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_data import DemoData, aws_in_process, index_demo

from lambdalens.dashboards import build, dsl, saved_objects
from lambdalens.dashboards.checks import used_fields
from lambdalens.dashboards.kql import phrase, to_dsl
from lambdalens.dashboards.model import Catalog
from lambdalens.dashboards.preview import render_page, screenshot
from lambdalens.local_opensearch import LocalOpenSearch

PREFIX = "dashboards-demo"


@pytest.fixture(scope="module")
def demo(opensearch_node: LocalOpenSearch) -> Iterator[DemoData]:
    with aws_in_process():
        data = index_demo(opensearch_node.url, PREFIX)
    yield data
    data.client.indices.delete(index=f"{PREFIX}-*")


@pytest.fixture(scope="module")
def catalog(demo: DemoData) -> Catalog:
    return build(PREFIX, arm64=demo.arm64)


def _caps(demo: DemoData) -> dict[str, dict[str, Any]]:
    answer = demo.client.field_caps(index=f"{PREFIX}-*", fields="*")
    return {name: next(iter(types.values())) for name, types in answer["fields"].items()}


def test_every_field_used_exists_on_the_node_and_is_aggregatable_where_aggregated(
    demo: DemoData, catalog: Catalog
) -> None:
    caps = _caps(demo)
    scripted = {f.name for f in catalog.scripted_fields}
    uses = used_fields(saved_objects(catalog))
    assert len(uses) > 100
    for use in uses:
        if use.field in scripted:
            continue
        assert use.field in caps, f"{use.where}: {use.field} is not a field of {PREFIX}-*"
        if use.aggregated:
            assert caps[use.field]["aggregatable"], (
                f"{use.where}: {use.field} is not aggregatable on the node"
            )


def test_the_index_patterns_field_list_is_what_the_node_reports(demo: DemoData, catalog: Catalog) -> None:
    caps = _caps(demo)
    pattern = saved_objects(catalog)[0]
    for spec in json.loads(pattern["attributes"]["fields"]):
        if spec["scripted"] or spec["name"] in ("_score", "_type"):  # Dashboards' own meta fields
            continue
        cap = caps[spec["name"]]
        assert spec["esTypes"] == [cap["type"]], spec["name"]
        assert (spec["searchable"], spec["aggregatable"]) == (cap["searchable"], cap["aggregatable"]), spec[
            "name"
        ]


def test_every_query_runs_on_the_node(demo: DemoData, catalog: Catalog) -> None:
    for vis in catalog.visualizations:
        if vis.uses_index:
            dsl.run(demo.client, catalog, vis, query='faas.name:"request-processor"')
    counts = {
        s.name: demo.client.count(index=f"{PREFIX}-*", body={"query": to_dsl(s.query)})["count"]
        for s in catalog.searches
    }
    assert counts["timeouts"] == 2 and counts["oom"] == 2  # the line and the REPORT of each
    assert counts["init-errors"] == 4 and counts["cold-starts"] == sum(
        r["cold_starts"] for r in demo.functions.values()
    )


def _per_function(demo: DemoData, catalog: Catalog, name: str, function: str) -> list[dsl.Row]:
    return dsl.run(demo.client, catalog, catalog.visualization(name), query=f"faas.name:{phrase(function)}")


REPORT_COUNTS = {
    "Invocations": "invocations",
    "Errors": "errors",
    "Timeouts": "timeouts",
    "Out-of-memory kills": "oom",
    "Init errors": "init_errors",
    "Cold starts": "cold_starts",
}


def test_the_totals_panel_shows_the_reports_counts_for_each_function(
    demo: DemoData, catalog: Catalog
) -> None:
    assert set(demo.functions) == {"new-post", "post-analysis", "request-processor", "view-post"}
    for function, row in demo.functions.items():
        shown = {r.keys["2"]: r.values["1"] for r in _per_function(demo, catalog, "totals", function)}
        assert shown == {label: row[key] for label, key in REPORT_COUNTS.items()}, function
    assert sum(r["timeouts"] for r in demo.functions.values()) >= 1  # the demo's failures are there to count


def test_failures_by_function_and_over_time_show_the_reports_counts(demo: DemoData, catalog: Catalog) -> None:
    by_function = dsl.run(demo.client, catalog, catalog.visualization("failures-by-function"))
    over_time = dsl.run(demo.client, catalog, catalog.visualization("failures"))
    for label, key in list(REPORT_COUNTS.items())[1:5]:
        expected = {f: row[key] for f, row in demo.functions.items() if row[key]}
        bars = {r.keys["2"]: r.values["1"] for r in by_function if r.keys["3"] == label and r.values["1"]}
        series = dsl.totals([r for r in over_time if r.keys["3"] == label], "4", "1")
        assert bars == expected == series, label
    invocations = dsl.totals(dsl.run(demo.client, catalog, catalog.visualization("invocations")), "3", "1")
    assert invocations == {f: row["invocations"] for f, row in demo.functions.items()}


def _durations(demo: DemoData, function: str) -> list[float]:
    values: list[float] = []
    for record in demo.emf:
        if record.get("FunctionName") == function and "Duration" in record:
            duration = record["Duration"]
            values += duration if isinstance(duration, list) else [duration]
    return sorted(values)


def test_the_duration_table_shows_the_reports_invocations_maximum_and_percentiles(
    demo: DemoData, catalog: Catalog
) -> None:
    rows = {
        r.keys["4"]: r.values for r in dsl.run(demo.client, catalog, catalog.visualization("duration-table"))
    }
    for function, row in demo.functions.items():
        shown = rows[function]
        assert shown["1"] == row["invocations"] and shown["3"] == row["duration_ms"]["max"], function
        samples = _durations(demo, function)
        for q, key in ((0.5, "p50"), (0.95, "p95")):
            # t-digest and the report's linear interpolation agree within the neighbouring samples
            rank = (len(samples) - 1) * q
            low, high = (
                samples[max(0, math.floor(rank) - 1)],
                samples[min(len(samples) - 1, math.ceil(rank) + 1)],
            )
            assert low <= shown["2"][q * 100] <= high and low <= row["duration_ms"][key] <= high, (
                function,
                key,
            )


def test_cold_starts_memory_and_cost_per_function_are_the_reports(demo: DemoData, catalog: Catalog) -> None:
    cold = {
        r.keys["4"]: r.values
        for r in dsl.run(demo.client, catalog, catalog.visualization("cold-start-table"))
    }
    memory = {
        r.keys["5"]: r.values for r in dsl.run(demo.client, catalog, catalog.visualization("memory-table"))
    }
    cost = {r.keys["2"]: r.values["1"] for r in dsl.run(demo.client, catalog, catalog.visualization("cost"))}
    for function, row in demo.functions.items():
        assert round(cold[function]["2"] * cold[function]["1"]) == row["cold_starts"], function
        utilisation = row["memory_utilization_pct"]
        assert round(memory[function]["1"] * 100, 1) == pytest.approx(utilisation["avg"], abs=0.051), function
        assert memory[function]["2"] * 100 == pytest.approx(utilisation["max"]), function
        assert cost[function] == pytest.approx(row["estimated_cost_usd"], rel=1e-6, abs=1e-8), function


def test_the_fingerprint_table_counts_what_the_alert_state_counted(demo: DemoData, catalog: Catalog) -> None:
    rows = dsl.run(demo.client, catalog, catalog.visualization("fingerprints"))
    shown = {(r.keys["4"], r.keys["5"]): r.values["1"] for r in rows}
    known = {(f["fingerprint"], f["function"]): f["count"] for f in demo.fingerprints}
    assert known and shown == known


def test_pipeline_health_shows_what_the_pipeline_counted(demo: DemoData, catalog: Catalog) -> None:
    shown = {
        r.keys["2"]: r.values["1"]
        for r in dsl.run(demo.client, catalog, catalog.visualization("pipeline-health"))
    }
    assert shown["Safe-form documents"] == demo.pipeline.get("SafeForm", 0)
    assert shown["Unparsed events"] == demo.pipeline.get("ParseFailures", 0)


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)"
)
def test_the_preview_draws_both_dashboards_into_a_png(
    demo: DemoData, catalog: Catalog, tmp_path: Path
) -> None:
    page = render_page(demo.client, catalog, ("2025-11-24T16:00:00.000Z", "2025-11-24T16:05:00.000Z"))
    assert "<h2>Lambda overview [dashboards-demo]</h2>" in page
    assert "<h2>Function drill-down [dashboards-demo] — faas.name:&quot;request-processor&quot;</h2>" in page
    html_file, png = tmp_path / "page.html", tmp_path / "page.png"
    html_file.write_text(page, encoding="utf-8")
    screenshot(html_file, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
