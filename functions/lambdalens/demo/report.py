"""The demo's report: per-function metrics (from the parser's EMF output), alerts sent, top
error fingerprints and the failing transaction traced to its root cause — for the terminal,
as JSON (``--report-json``) and as a self-contained HTML page (``--html``)."""

from __future__ import annotations

import dataclasses
import html
import math
from typing import Any

from lambdalens.demo.runner import DemoRun

_COUNTS = {
    "Invocations": "invocations",
    "Errors": "errors",
    "Timeouts": "timeouts",
    "OutOfMemory": "oom",
    "InitErrors": "init_errors",
    "ColdStarts": "cold_starts",
}


def _values(record: dict[str, Any], name: str) -> list[float]:
    value = record.get(name)
    if value is None:
        return []
    return [float(v) for v in value] if isinstance(value, list) else [float(value)]


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 2)


def function_table(emf: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per function, from the per-function EMF records the parser wrote."""
    acc: dict[str, dict[str, Any]] = {}
    for record in emf:
        name = record.get("FunctionName")
        if not isinstance(name, str):
            continue
        row = acc.setdefault(name, {v: 0 for v in _COUNTS.values()} | {"_dur": [], "_mem": [], "_cost": 0.0})
        for metric, key in _COUNTS.items():
            row[key] += int(sum(_values(record, metric)))
        row["_dur"].extend(_values(record, "Duration"))
        row["_mem"].extend(_values(record, "MemoryUtilization"))
        row["_cost"] += sum(_values(record, "EstimatedCost"))
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(acc):
        row = acc[name]
        durations, memory, cost = row.pop("_dur"), row.pop("_mem"), row.pop("_cost")
        out[name] = {
            **row,
            "duration_ms": {
                "p50": _percentile(durations, 0.5),
                "p95": _percentile(durations, 0.95),
                "max": max(durations, default=None),
            },
            "memory_utilization_pct": {
                "avg": round(sum(memory) / len(memory), 1) if memory else None,
                "max": max(memory, default=None),
            },
            "estimated_cost_usd": round(cost, 8),
        }
    return out


def pipeline_totals(emf: list[dict[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for record in emf:
        if "FunctionName" in record or "Pipeline" not in record:
            continue
        for name in ("Records", "Events", "Indexed", "Duplicates", "Retried", "SafeForm", "DeadLettered", "ParseFailures",
                     "BatchItemFailures", "AlertsPublished", "AlertPublishFailures", "Redactions"):  # fmt: skip
            if name in record:
                totals[name] = totals.get(name, 0) + int(sum(_values(record, name)))
    return totals


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "as_dict"):
        return _jsonable(obj.as_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "to_json"):
        return _jsonable(obj.to_json())
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)


def root_cause(run: DemoRun) -> dict[str, Any] | None:
    tx = run.transaction
    if tx is None:
        return None
    cause = getattr(tx, "root_cause", None)
    if cause is None:
        return None
    data = _jsonable(cause)
    return data if isinstance(data, dict) else {"description": data}


def build_report(run: DemoRun) -> dict[str, Any]:
    """The report as JSON-ready data (``engine``, ``functions``, ``alerts``, ``fingerprints``, ``root_cause``, ...)."""
    transaction = _jsonable(run.transaction) if run.transaction is not None else None
    return {
        "engine": dict(run.engine),
        "_engine_note": run.engine_note,
        "functions": function_table(run.emf),
        "alerts": [{k: a[k] for k in ("kind", "severity", "function", "subject")} for a in run.alerts],
        "fingerprints": sorted(
            [
                {
                    k: f.get(k)
                    for k in (
                        "function",
                        "fingerprint",
                        "count",
                        "error_type",
                        "kind",
                        "message",
                        "first_seen",
                        "last_seen",
                    )
                    if k in f
                }
                for f in run.fingerprints
            ],
            key=lambda f: (-int(f.get("count") or 0), str(f.get("function"))),
        ),
        "root_cause": root_cause(run),
        "transaction": transaction,
        "pipeline": {
            "log_lines": run.log_lines,
            "kinesis_records": run.deliveries,
            "documents_in_opensearch": run.documents,
            "dead_letter_objects": run.dead_letters,
            "on_failure_messages": run.on_failure_messages,
            "parser_invocations": run.esm.invocations,
            "retried_batches": run.esm.retries,
            **{k.lower(): v for k, v in pipeline_totals(run.emf).items()},
        },
        "timings_s": {k: round(v, 2) for k, v in run.timings.items()},
    }


def render_text(report: dict[str, Any]) -> str:
    lines: list[str] = []
    p = report["pipeline"]
    lines.append("")
    lines.append(f"lambdalens demo — the whole pipeline, locally — engine: {report['_engine_note']}")
    lines.append(
        f"  {p['log_lines']} log lines -> {p['kinesis_records']} Kinesis records -> {p['parser_invocations']} parser invocations"
        f" -> {p['documents_in_opensearch']} documents in OpenSearch ({p.get('dead_lettered', 0)} dead-lettered)"
    )
    lines.append("")
    header = f"{'function':<19}{'invoc':>6}{'errors':>7}{'timeout':>8}{'OOM':>5}{'init':>5}{'cold':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'mem %':>7}{'cost $':>11}"
    lines.append(header)
    lines.append("-" * len(header))
    for name, row in report["functions"].items():
        d, m = row["duration_ms"], row["memory_utilization_pct"]
        lines.append(
            f"{name:<19}{row['invocations']:>6}{row['errors']:>7}{row['timeouts']:>8}{row['oom']:>5}{row['init_errors']:>5}"
            f"{row['cold_starts']:>5}{_n(d['p50']):>9}{_n(d['p95']):>9}{_n(d['max']):>9}{_n(m['avg']):>7}{row['estimated_cost_usd']:>11.6f}"
        )
    lines.append("")
    lines.append(f"Alerts sent ({len(report['alerts'])}):")
    for a in report["alerts"]:
        lines.append(
            f"  [{a['severity'] or '-':<8}] {a['kind']:<20} {a['function'] or '':<18} {a['subject'] or ''}"
        )
    lines.append("")
    lines.append("Top error fingerprints:")
    for f in report["fingerprints"][:8]:
        lines.append(
            f"  {f.get('fingerprint')}  x{f.get('count'):<3} {f.get('function'):<18} {f.get('error_type') or ''}: {str(f.get('message') or '')[:60]}"
        )
    lines.append("")
    rendered = report.get("_timeline")
    if rendered:
        lines.append("The failing transaction:")
        lines.extend("  " + line for line in rendered.splitlines())
    cause = report.get("root_cause")
    if cause:
        lines.append("")
        lines.append(
            f"Root cause: {cause.get('function')} (request {cause.get('request_id')}) — {str(cause.get('evidence') or cause.get('reason') or '')[:140]}"
        )
    lines.append("")
    lines.append(f"Done in {report['timings_s'].get('total_s')} s; every server stopped.")
    return "\n".join(lines)


def _n(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


def render_html(report: dict[str, Any], run: DemoRun) -> str:
    """A self-contained page: tables, an SVG chart of durations and errors over time, the timeline."""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{r['invocations']}</td><td>{r['errors']}</td><td>{r['timeouts']}</td>"
        f"<td>{r['oom']}</td><td>{r['init_errors']}</td><td>{r['cold_starts']}</td><td>{_n(r['duration_ms']['p50'])}</td>"
        f"<td>{_n(r['duration_ms']['p95'])}</td><td>{_n(r['duration_ms']['max'])}</td><td>{_n(r['memory_utilization_pct']['avg'])}</td>"
        f"<td>{r['estimated_cost_usd']:.6f}</td></tr>"
        for name, r in report["functions"].items()
    )
    alerts = "".join(
        f"<li><b>{html.escape(str(a['kind']))}</b> {html.escape(str(a['function'] or ''))}: {html.escape(str(a['subject'] or ''))}</li>"
        for a in report["alerts"]
    )
    chart = _duration_chart(run)
    timeline = _timeline_svg(report.get("transaction"))
    cause = report.get("root_cause") or {}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lambdalens demo report</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccd;padding:.3rem .6rem;text-align:right}} td:first-child,th:first-child{{text-align:left}}
.cause{{background:#fff3f0;border-left:4px solid #d1242f;padding:.6rem 1rem}} svg{{background:#fafbfc;border:1px solid #dde}}
</style></head><body>
<h1>lambdalens demo</h1>
<p>Engine: {html.escape(report["_engine_note"])}{_build(report["engine"])}</p>
<p>{report["pipeline"]["log_lines"]} log lines, {report["pipeline"]["documents_in_opensearch"]} documents indexed,
{report["pipeline"]["parser_invocations"]} parser invocations, {len(report["alerts"])} alerts.</p>
<h2>Functions</h2>
<table><tr><th>function</th><th>invocations</th><th>errors</th><th>timeouts</th><th>OOM</th><th>init errors</th><th>cold starts</th>
<th>p50 ms</th><th>p95 ms</th><th>max ms</th><th>memory %</th><th>cost $</th></tr>{rows}</table>
<h2>Durations and failures over time</h2>{chart}
<h2>Alerts</h2><ul>{alerts}</ul>
<h2>The failing transaction</h2>{timeline}
<p class="cause"><b>Root cause:</b> {html.escape(str(cause.get("function", "?")))} (request {html.escape(str(cause.get("request_id", "?")))}):
{html.escape(str(cause.get("evidence") or cause.get("reason") or ""))}</p>
</body></html>
"""


def _build(engine: dict[str, str]) -> str:
    return f" — build {html.escape(engine['build_hash'][:12])}" if engine.get("build_hash") else ""


def _duration_chart(run: DemoRun) -> str:
    points: list[tuple[int, float, str, bool]] = []
    for record in run.emf:
        name = record.get("FunctionName")
        ts = record.get("_aws", {}).get("Timestamp")
        if not isinstance(name, str) or not isinstance(ts, int):
            continue
        failed = any(
            _values(record, m) and sum(_values(record, m)) > 0
            for m in ("Errors", "Timeouts", "OutOfMemory", "InitErrors")
        )
        for d in _values(record, "Duration"):
            points.append((ts, d, name, failed))
    if not points:
        return "<p>(no data)</p>"
    width, height, pad = 900, 260, 40
    t0, t1 = min(p[0] for p in points), max(p[0] for p in points) or 1
    dmax = max(p[1] for p in points) or 1
    colors = {
        n: c
        for n, c in zip(
            sorted({p[2] for p in points}),
            ["#0969da", "#1a7f37", "#8250df", "#bf8700", "#cf222e"],
            strict=False,
        )
    }
    dots = []
    for ts, d, name, failed in points:
        x = pad + (ts - t0) / max(1, t1 - t0) * (width - 2 * pad)
        y = height - pad - math.sqrt(d / dmax) * (height - 2 * pad)
        stroke = ' stroke="#cf222e" stroke-width="2"' if failed else ""
        dots.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colors.get(name, "#555")}"{stroke}><title>{html.escape(name)} {d:.0f} ms</title></circle>'
        )
    legend = "".join(
        f'<text x="{pad + i * 180}" y="16" fill="{c}" font-size="12">● {html.escape(n)}</text>'
        for i, (n, c) in enumerate(colors.items())
    )
    return (
        f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{legend}'
        f'<text x="4" y="{height // 2}" font-size="11" transform="rotate(-90 10,{height // 2})">duration (sqrt scale)</text>'
        f"{''.join(dots)}</svg><p>Each dot is an invocation (per-function EMF values); red rings: batches with failures.</p>"
    )


def _timeline_svg(transaction: Any) -> str:
    if not isinstance(transaction, dict):
        return "<p>(no transaction)</p>"
    invocations = transaction.get("invocations") or []
    if not invocations:
        return "<p>(no invocations)</p>"
    starts = [i.get("start") for i in invocations if i.get("start")]
    width, lane = 900, 34
    functions: list[str] = []
    for inv in invocations:
        if inv.get("function") not in functions:
            functions.append(inv.get("function"))
    from lambdalens.parsing import iso_ms  # noqa: F401  (same timestamp format as the documents)

    def ms(value: Any) -> float:
        from datetime import datetime

        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000
        except ValueError:
            return 0.0

    t0 = min(ms(s) for s in starts) if starts else 0.0
    t1 = max(ms(i.get("end") or i.get("start")) + float(i.get("duration_ms") or 0) for i in invocations)
    span = max(1.0, t1 - t0)
    bars = []
    for inv in invocations:
        row = functions.index(inv.get("function"))
        x = 160 + (ms(inv.get("start")) - t0) / span * (width - 200)
        w = max(3.0, float(inv.get("duration_ms") or 1) / span * (width - 200))
        outcome = str(inv.get("outcome") or "")
        color = "#1a7f37" if outcome in ("success", "") else "#cf222e"
        bars.append(
            f'<rect x="{x:.1f}" y="{row * lane + 8}" width="{w:.1f}" height="18" fill="{color}"><title>{html.escape(str(inv.get("function")))} '
            f"{html.escape(str(inv.get('request_id')))} {html.escape(outcome)}</title></rect>"
        )
    labels = "".join(
        f'<text x="4" y="{i * lane + 22}" font-size="13">{html.escape(str(f))}</text>'
        for i, f in enumerate(functions)
    )
    return f'<svg width="{width}" height="{len(functions) * lane + 12}" xmlns="http://www.w3.org/2000/svg">{labels}{"".join(bars)}</svg>'
