"""The two dashboards drawn as one HTML page from OpenSearch, without a Dashboards instance.

Every panel runs the query its visualisation sends (:mod:`lambdalens.dashboards.dsl`) and is
drawn at its place on the dashboard's grid: metrics as numbers, tables as tables, time series as
SVG lines or stacked bars, per-function bars, saved searches as their newest lines. Values use
the index pattern's formats (ms, MB, %, $). Function drill-down is drawn for one function (the
one with the most failures unless told). The page is self-contained (no script, no network).

Example::

    page = render_page(client, build("lambda-logs"), time_range=("2025-11-24T16:00:00Z", "now"))
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lambdalens.dashboards import dsl, ids
from lambdalens.dashboards.fields import DURATION_FIELDS
from lambdalens.dashboards.kql import phrase, to_dsl
from lambdalens.dashboards.model import Agg, Catalog, Dashboard, SavedSearch, Visualization

ROW_PX: Final = 22
COLORS: Final = (
    "#54b399",
    "#6092c0",
    "#d36086",
    "#9170b8",
    "#ca8eae",
    "#d6bf57",
    "#b9a888",
    "#da8b45",
    "#aa6556",
    "#e7664c",
)
SEARCH_ROWS: Final = 8


def format_value(catalog: Catalog, agg: Agg, value: Any) -> str:
    """``value`` of ``agg`` as the index pattern's field format shows it."""
    if value is None:
        return "-"
    if agg.type == "count" or agg.type == "cardinality":
        return f"{int(value):,}"
    if agg.field == "@timestamp":
        return dsl_time(value)
    if agg.field in DURATION_FIELDS:
        return f"{value:,.2f} ms"
    scripted = catalog.scripted(agg.field or "")
    fmt = scripted.format["id"] if scripted else ""
    if fmt == "percent":
        return f"{value * 100:.2f}%"
    if fmt == "bytes":
        return f"{value / 1024 / 1024:,.1f}MB"
    if scripted is not None and "$" in str(scripted.format["params"].get("pattern")):
        return f"${value:,.8f}".rstrip("0").rstrip(".")
    return f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def dsl_time(ms: Any) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(float(ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Column:
    label: str
    read: Callable[[dsl.Row], str]


def _reader(catalog: Catalog, m: Agg, percent: float | None = None) -> Callable[[dsl.Row], str]:
    def read(row: dsl.Row) -> str:
        value = row.values.get(m.id)
        if percent is not None:
            value = (value or {}).get(percent)
        return format_value(catalog, m, value)

    return read


def _metric_columns(catalog: Catalog, vis: Visualization) -> list[Column]:
    out: list[Column] = []
    for m in vis.metrics():
        label = m.label or m.type.title()
        if m.type == "percentiles":
            out += [Column(f"{label} p{p:g}", _reader(catalog, m, float(p))) for p in m.params["percents"]]
        else:
            out.append(Column(label, _reader(catalog, m)))
    return out


def _bucket_columns(vis: Visualization) -> list[Column]:
    def read(agg: Agg) -> Callable[[dsl.Row], str]:
        if agg.type == "date_histogram":
            return lambda r: dsl_time(r.keys[agg.id])
        return lambda r: str(r.keys.get(agg.id, ""))

    return [Column(b.label or (b.field or b.type), read(b)) for b in vis.buckets()]


def _table(catalog: Catalog, vis: Visualization, found: Sequence[dsl.Row]) -> str:
    columns = [*_bucket_columns(vis), *_metric_columns(catalog, vis)]
    head = "".join(f"<th>{html.escape(c.label)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c.read(r))}</td>" for c in columns) + "</tr>" for r in found[:12]
    )
    return f"<table><tr>{head}</tr>{body}</table>" if found else "<p class=empty>No results found</p>"


def _metric(catalog: Catalog, vis: Visualization, found: Sequence[dsl.Row]) -> str:
    metric = vis.metrics()[0]
    group = vis.buckets()[0] if vis.buckets() else None
    cells = []
    for r in found:
        label = str(r.keys.get(group.id, "")) if group else (metric.label or "Count")
        value = format_value(catalog, metric, r.values.get(metric.id))
        cells.append(f"<div class=metric><b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>")
    return f"<div class=metrics>{''.join(cells)}</div>"


def _series(
    catalog: Catalog, vis: Visualization, found: Sequence[dsl.Row]
) -> tuple[list[Any], dict[str, dict[Any, float]]]:
    """X values in order, and per series name the value at each x."""
    segment = next(b for b in vis.buckets() if b.schema == "segment")
    groups = [b for b in vis.buckets() if b is not segment]
    xs: list[Any] = []
    series: dict[str, dict[Any, float]] = {}
    for r in found:
        x = r.keys[segment.id]
        if x not in xs:
            xs.append(x)
        prefix = [str(r.keys[g.id]) for g in groups]
        for m in vis.metrics():
            value = r.values.get(m.id)
            parts = {f"p{p:g}": v for p, v in value.items()} if isinstance(value, dict) else {"": value}
            for suffix, v in parts.items():
                many = len(vis.metrics()) > 1 or suffix
                name = " · ".join(
                    [*prefix, *([f"{m.label or m.type} {suffix}".strip()] if many else [])]
                ) or (m.label or "Count")
                if v:
                    series.setdefault(name, {})[x] = series.get(name, {}).get(x, 0) + float(v)
    return xs, series


def _legend(names: Sequence[str]) -> str:
    return (
        "<div class=legend>"
        + "".join(
            f"<span><i style='background:{COLORS[i % len(COLORS)]}'></i>{html.escape(n)}</span>"
            for i, n in enumerate(names)
        )
        + "</div>"
    )


def _ms(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def _right_axis_names(vis: Visualization, names: Sequence[str]) -> set[str]:
    """The series drawn against the second value axis (their metric's seriesParams say so)."""
    on_right = {
        p["data"]["label"] for p in vis.params.get("seriesParams", []) if p["valueAxis"] == "ValueAxis-2"
    }
    return {n for n in names if any(n.endswith(label) for label in on_right)}


def _time_chart(
    catalog: Catalog,
    vis: Visualization,
    found: Sequence[dsl.Row],
    size: tuple[int, int],
    span: tuple[float, float],
) -> str:
    """Lines (or stacked bars for a histogram) over the time range, placed at their times."""
    xs, series = _series(catalog, vis, found)
    if not xs:
        return "<p class=empty>No results found</p>"
    names, stacked = list(series), vis.vis_type == "histogram"
    right = _right_axis_names(vis, names)
    totals = [sum(series[n].get(x, 0) for n in names) for x in xs] if stacked else []
    top = max(totals or [max(series[n].values(), default=0) for n in names if n not in right] or [1]) or 1
    top_right = max([max(series[n].values(), default=0) for n in right] or [1]) or 1
    pad, w, h = 30, size[0] - 40, size[1] - 36
    t0, t1 = span
    bucket_ms = dict(dsl._INTERVALS)[dsl.auto_interval((t1 - t0) / 1000)] * 1000

    def x_of(x: Any) -> float:
        return pad + (float(x) - t0) / max(1.0, t1 - t0) * w

    bar = max(1.5, bucket_ms / max(1.0, t1 - t0) * w * 0.85)
    marks: list[str] = []
    base = dict.fromkeys(xs, 0.0)
    for i, name in enumerate(names):
        color = COLORS[i % len(COLORS)]
        points = sorted((x, v) for x, v in series[name].items())
        if stacked:
            for x, v in points:
                y = h - (base[x] + v) / top * h
                marks.append(
                    f"<rect x='{x_of(x):.1f}' y='{y:.1f}' width='{bar:.1f}' height='{v / top * h:.1f}' fill='{color}'/>"
                )
                base[x] += v
        else:
            scale = top_right if name in right else top
            line = " ".join(f"{x_of(x) + bar / 2:.1f},{h - v / scale * h:.1f}" for x, v in points)
            marks.append(f"<polyline points='{line}' fill='none' stroke='{color}' stroke-width='2'/>")
    axis = (
        f"<text x='2' y='10' class=ax>{html.escape(format_value(catalog, vis.metrics()[0], top))}</text>"
        f"<text x='{pad}' y='{h + 14}' class=ax>{html.escape(dsl_time(t0)[11:])}</text>"
        f"<text x='{pad + w - 60}' y='{h + 14}' class=ax>{html.escape(dsl_time(t1)[11:])}</text>"
    )
    if right:
        metric = next(m for m in vis.metrics() if any(n.endswith(m.label or m.type) for n in right))
        axis += f"<text x='{pad + w - 60}' y='10' class=ax>{html.escape(format_value(catalog, metric, top_right))}</text>"
    frame = f"<line x1='{pad}' y1='{h}' x2='{pad + w}' y2='{h}' stroke='#ccc'/>"
    return f"<svg width='{size[0]}' height='{h + 18}'>{frame}{''.join(marks)}{axis}</svg>" + _legend(names)


def _bar_chart(catalog: Catalog, vis: Visualization, found: Sequence[dsl.Row], width: int) -> str:
    xs, series = _series(catalog, vis, found)
    if not xs:
        return "<p class=empty>No results found</p>"
    names = list(series)
    totals = {x: sum(series[n].get(x, 0) for n in names) for x in xs}
    top = max(totals.values()) or 1
    label_w, bar_w = 130, width - 230
    rows = []
    for j, x in enumerate(xs):
        left, bars = 0.0, []
        for i, name in enumerate(names):
            v = series[name].get(x, 0)
            if v:
                bars.append(
                    f"<rect x='{label_w + left:.1f}' y='{j * 22 + 3}' width='{v / top * bar_w:.1f}' height='16' fill='{COLORS[i % len(COLORS)]}'/>"
                )
                left += v / top * bar_w
        value = html.escape(format_value(catalog, vis.metrics()[0], totals[x]))
        rows.append(
            f"<text x='0' y='{j * 22 + 15}' class=lab>{html.escape(str(x))}</text>{''.join(bars)}"
            f"<text x='{label_w + left + 4:.1f}' y='{j * 22 + 15}' class=ax>{value}</text>"
        )
    return f"<svg width='{width}' height='{len(xs) * 22 + 4}'>{''.join(rows)}</svg>" + (
        _legend(names) if len(names) > 1 else ""
    )


def _markdown(text: str) -> str:
    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
    escaped = re.sub(r"\[(.+?)\]\((.+?)\)", r"<u>\1</u>", escaped)
    return "<p>" + escaped.replace("\n\n", "</p><p>") + "</p>"


def _search_panel(
    client: Any, catalog: Catalog, search: SavedSearch, query: str, time_range: tuple[str, str]
) -> str:
    filters = [to_dsl(search.query), {"range": {"@timestamp": {"gte": time_range[0], "lte": time_range[1]}}}]
    if query:
        filters.append(to_dsl(query))
    hits = client.search(
        index=catalog.index_pattern_title,
        body={
            "size": SEARCH_ROWS,
            "sort": [{"@timestamp": "desc"}],
            "query": {"bool": {"filter": filters}},
            "_source": ["@timestamp", *search.columns],
        },
    )["hits"]["hits"]
    columns = ["@timestamp", *search.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(str(h['_source'].get(c, '-'))[:90])}</td>" for c in columns)
        + "</tr>"
        for h in hits
    )
    return (
        f"<table class=docs><tr>{head}</tr>{rows}</table>" if hits else "<p class=empty>No results found</p>"
    )


def _panel_body(
    client: Any, catalog: Catalog, name: str, query: str, time_range: tuple[str, str], width: int, height: int
) -> str:
    if any(s.name == name for s in catalog.searches):
        return _search_panel(client, catalog, catalog.search(name), query, time_range)
    vis = catalog.visualization(name)
    if vis.vis_type == "markdown":
        return _markdown(str(vis.params["markdown"]))
    if vis.vis_type == "input_control_vis":
        chosen = query.split(":", 1)[1].strip('"') if query else "(any)"
        return f"<div class=control>Function <span>{html.escape(chosen)} ▾</span></div>"
    found = dsl.run(client, catalog, vis, query=query, time_range=time_range)
    if vis.vis_type == "metric":
        return _metric(catalog, vis, found)
    if vis.vis_type == "table":
        return _table(catalog, vis, found)
    if vis.vis_type == "horizontal_bar":
        return _bar_chart(catalog, vis, found, width)
    return _time_chart(catalog, vis, found, (width, height), (_ms(time_range[0]), _ms(time_range[1])))


def _title(catalog: Catalog, name: str) -> str:
    found = [s.title for s in catalog.searches if s.name == name] + [
        v.title for v in catalog.visualizations if v.name == name
    ]
    return found[0].split(" · ", 1)[-1] if found else name


def render_dashboard(
    client: Any,
    catalog: Catalog,
    board: Dashboard,
    time_range: tuple[str, str],
    query: str = "",
    col_px: int = 26,
) -> str:
    panels = []
    for p in board.panels:
        width, height = p.w * col_px - 16, p.h * ROW_PX - 40
        body = _panel_body(client, catalog, p.target, query, time_range, width, height)
        panels.append(
            f"<section style='grid-column:{p.x + 1}/span {p.w};grid-row:{p.y + 1}/span {p.h}'>"
            f"<h3>{html.escape(_title(catalog, p.target))}</h3>{body}</section>"
        )
    subtitle = f" — {html.escape(query)}" if query else ""
    return f"<h2>{html.escape(board.title)}{subtitle}</h2><div class=grid>{''.join(panels)}</div>"


STYLE: Final = """
body{font-family:Inter,'DejaVu Sans',sans-serif;margin:16px;background:#f5f7fa;color:#343741;width:1248px}
h1{font-size:18px;margin:0 0 4px} h2{font-size:16px;margin:18px 0 8px} .sub{color:#69707d;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(48,26px);grid-auto-rows:22px}
section{background:#fff;border:1px solid #d3dae6;border-radius:4px;margin:3px;padding:6px 8px;overflow:hidden}
h3{font-size:12px;margin:0 0 6px;color:#1a1c21} p{font-size:11px;margin:4px 0} .empty{color:#98a2b3}
table{border-collapse:collapse;font-size:10.5px;width:100%} th{text-align:left;color:#69707d;font-weight:600}
td,th{border-bottom:1px solid #eef0f4;padding:2px 4px;white-space:nowrap} table.docs td{max-width:260px;overflow:hidden}
.metrics{display:flex;gap:14px;flex-wrap:wrap} .metric b{display:block;font-size:24px;color:#1a1c21}
.metric span{font-size:11px;color:#69707d} .legend{font-size:10px;display:flex;flex-wrap:wrap;gap:8px}
.legend i{display:inline-block;width:9px;height:9px;margin-right:3px} .ax{font-size:9px;fill:#69707d}
.lab{font-size:10px;fill:#343741} .control{font-size:12px} .control span{border:1px solid #d3dae6;padding:3px 8px;margin-left:6px}
"""


def busiest_function(client: Any, catalog: Catalog, time_range: tuple[str, str]) -> str | None:
    """The function with the most failures (else invocations) in the range."""
    vis = catalog.visualization("failures-by-function")
    by_function = dsl.totals(dsl.run(client, catalog, vis, time_range=time_range), "2", "1")
    if by_function:
        return str(max(by_function, key=lambda k: by_function[k]))
    rows = dsl.run(client, catalog, catalog.visualization("duration-table"), time_range=time_range)
    return str(rows[0].keys["4"]) if rows else None


def render_page(
    client: Any, catalog: Catalog, time_range: tuple[str, str], function: str | None = None
) -> str:
    """Both dashboards over ``time_range``; Function drill-down for ``function``."""
    chosen = function or busiest_function(client, catalog, time_range)
    overview = catalog.dashboard(ids.OVERVIEW)
    drill_down = catalog.dashboard(ids.FUNCTION_DRILL_DOWN)
    parts = [render_dashboard(client, catalog, overview, time_range)]
    if chosen:
        parts.append(render_dashboard(client, catalog, drill_down, time_range, f"faas.name:{phrase(chosen)}"))
    note = (
        f"{html.escape(catalog.index_pattern_title)} · {html.escape(time_range[0])} → {html.escape(time_range[1])} · "
        "every panel is its visualisation's query, run on OpenSearch"
    )
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>lambdalens dashboards</title>"
        f"<style>{STYLE}</style></head><body><h1>lambdalens · OpenSearch Dashboards views</h1>"
        f"<div class=sub>{note}</div>{''.join(parts)}</body></html>"
    )


def data_range(client: Any, catalog: Catalog) -> tuple[str, str] | None:
    """The first and last ``@timestamp`` of the indices (ISO), or ``None`` when empty."""
    answer = client.search(
        index=catalog.index_pattern_title,
        body={
            "size": 0,
            "aggs": {"first": {"min": {"field": "@timestamp"}}, "last": {"max": {"field": "@timestamp"}}},
        },
    )
    first, last = answer["aggregations"]["first"].get("value"), answer["aggregations"]["last"].get("value")
    if first is None or last is None:
        return None
    from lambdalens.dashboards.links import iso

    return iso(int(first)), iso(int(last) + 1)


CHROMIUM_NAMES: Final = ("chromium", "chromium-browser", "google-chrome")
PAGE_WIDTH: Final = 1280


def screenshot(page: Path, png: Path, scale: float = 0.7) -> None:
    """A PNG of ``page`` taken by headless Chromium; :class:`RuntimeError` when there is none
    or it fails. The window is as tall as the two dashboards' grids."""
    browser = next((shutil.which(name) for name in CHROMIUM_NAMES if shutil.which(name)), None)
    if browser is None:
        raise RuntimeError("no chromium on PATH (apt-get install chromium) for --png")
    height = _page_height(page.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="lambdalens-chromium-") as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--force-device-scale-factor={scale}",
            f"--user-data-dir={profile}",
            f"--screenshot={png.resolve()}",
            f"--window-size={PAGE_WIDTH},{height}",
            page.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not png.exists():
        raise RuntimeError(f"chromium could not take the screenshot: {' '.join(done.stderr.split())[-300:]}")


def _page_height(page: str) -> int:
    """Pixels the page needs: every grid's rows plus headers."""
    rows = 0
    for grid in page.split("<div class=grid>")[1:]:
        ends = [
            int(a) + int(b)
            for a, b in re.findall(r"grid-row:(\d+)/span (\d+)", grid.split("</div></body>")[0])
        ]
        rows += max(ends, default=0)
    return rows * ROW_PX + 80 * (page.count("<div class=grid>") + 1)
