"""The saved searches, visualisations and the two dashboards lambdalens ships — one definition.

Counting follows docs/document-schema.md: an invocation is a ``report`` document, and its
``lambda.outcome`` says how it ended (``error``, ``timeout``, ``oom``); an init error is a
failing ``init_report``; a cold start is a report with ``faas.coldstart: true``. These are the
rules the parser's per-function metrics follow, so a panel shows the numbers the metrics (and
the demo's report) show.

**Lambda overview** answers "what is broken, since when, where": the totals, failures over
time and by function, the top error fingerprints with first and last seen, durations, cold
starts, memory, estimated cost and the pipeline's own health. **Function drill-down** shows
the same for one function (the control at its top, or a link's ``faas.name`` query) over time,
with its logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lambdalens.dashboards import ids
from lambdalens.dashboards import visparams as vp
from lambdalens.dashboards.fields import scripted_fields
from lambdalens.dashboards.model import Catalog, Dashboard, Panel, SavedSearch, Visualization
from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX
from lambdalens.indexing.templates import BootstrapOptions
from lambdalens.metrics.pricing import DEFAULT_PRICES, PriceTable

REPORT: Final = "lambda.event_type:report"
INIT_FAILED: Final = "lambda.event_type:init_report and lambda.status:(error or timeout)"
REPORT_OR_INIT: Final = "lambda.event_type:(report or init_report)"
ERRORS: Final = "lambda.outcome:error"
TIMEOUTS: Final = "lambda.outcome:timeout"
OOM_KILLS: Final = "lambda.outcome:oom"
COLD_STARTS: Final = "lambda.event_type:report and faas.coldstart:true"
#: Documents that report an error of their own (continuation lines and REPORTs left out).
ERROR_LINES: Final = (
    "exception.fingerprint:* and severity.number >= 17 and not lambda.event_type:(report or init_report) "
    "and not log.record.parent_uid:*"
)
FAILURES: Final = (
    ("Errors", ERRORS),
    ("Timeouts", TIMEOUTS),
    ("Out-of-memory kills", OOM_KILLS),
    ("Init errors", INIT_FAILED),
)
TOTALS: Final = (
    ("Invocations", REPORT),
    *FAILURES,
    ("Cold starts", COLD_STARTS),
)
PIPELINE_HEALTH: Final = (
    ("Safe-form documents", "lambda.rejection:*"),
    ("Truncated (whole event dead-lettered)", "lambda.truncated:true"),
    ("Unparsed events", "lambda.parse_error:*"),
)
DURATION: Final = "lambda.duration_ms"

# Names (ids are lambdalens-<prefix>-<name>).
ALL_ERRORS, TIMEOUT_SEARCH, OOM_SEARCH, INIT_SEARCH, COLD_SEARCH = (
    "errors", "timeouts", "oom", "init-errors", "cold-starts",
)  # fmt: skip
INVOCATION, TRANSACTION, FUNCTION_LOGS = "invocation", "transaction", "function-logs"


def searches() -> tuple[SavedSearch, ...]:
    chronological = (("@timestamp", "asc"),)
    return (
        SavedSearch(ALL_ERRORS, "Lambda · All errors", "severity.number >= 17 and not log.record.parent_uid:*",
                    ("faas.name", "lambda.event_type", "exception.type", "exception.message", "faas.invocation_id"),
                    description="Every line that reports an error (continuation lines of a stack trace left out)"),
        SavedSearch(TIMEOUT_SEARCH, "Lambda · Timeouts", "lambda.event_type:timeout or lambda.outcome:timeout",
                    ("faas.name", "lambda.event_type", "lambda.duration_ms", "faas.invocation_id", "body")),
        SavedSearch(OOM_SEARCH, "Lambda · Out-of-memory kills", "lambda.event_type:oom or lambda.outcome:oom",
                    ("faas.name", "lambda.event_type", "lambda.max_memory_used_mb", "lambda.memory_size_mb",
                     "faas.invocation_id", "body")),
        SavedSearch(INIT_SEARCH, "Lambda · Init errors", f"lambda.event_type:init_error or ({INIT_FAILED})",
                    ("faas.name", "lambda.event_type", "exception.type", "lambda.phase", "faas.instance", "body")),
        SavedSearch(COLD_SEARCH, "Lambda · Cold starts", COLD_STARTS,
                    ("faas.name", "lambda.init_duration_ms", "lambda.duration_ms", "faas.instance")),
        SavedSearch(INVOCATION, "Lambda · One invocation", "faas.invocation_id:*",
                    ("faas.name", "severity.text", "lambda.event_type", "body"), chronological,
                    "Open it from a link (alerts, lambdalens trace / logs), or put the request id in the query: "
                    'faas.invocation_id:"<request id>"'),
        SavedSearch(TRANSACTION, "Lambda · One transaction", "traceId:* or correlation_id:*",
                    ("faas.name", "faas.invocation_id", "severity.text", "lambda.event_type", "body"), chronological,
                    'Every function of one transaction: traceId:"<trace id>" or correlation_id:"<id>"'),
        SavedSearch(FUNCTION_LOGS, "Lambda · Function logs", "faas.name:*",
                    ("faas.name", "severity.text", "lambda.event_type", "faas.invocation_id", "body"),
                    description='One function\'s log lines: faas.name:"<function>"'),
    )  # fmt: skip


# Visualisation names.
TOTALS_VIS, LINKS_VIS, PICKER_VIS = "totals", "links", "function-picker"
INVOCATIONS_VIS, FAILURES_VIS, FAILURES_BY_FUNCTION_VIS = "invocations", "failures", "failures-by-function"
DURATION_TABLE_VIS, DURATION_VIS, FINGERPRINTS_VIS = "duration-table", "duration", "fingerprints"
COLD_TABLE_VIS, COLD_VIS = "cold-start-table", "cold-start-rate"
MEMORY_TABLE_VIS, MEMORY_VIS, COST_VIS, PIPELINE_VIS = "memory-table", "memory", "cost", "pipeline-health"


def _totals() -> Visualization:
    return Visualization(
        TOTALS_VIS, "Lambda · Invocations and failures", "metric",
        (vp.count("1"), vp.filters("2", "group", TOTALS)), vp.metric_params(), REPORT_OR_INIT,
        "Invocations (REPORT documents), failed invocations by how they ended, failed inits, cold starts",
    )  # fmt: skip


def _over_time() -> tuple[Visualization, ...]:
    invocations = Visualization(
        INVOCATIONS_VIS, "Lambda · Invocations per function", "line",
        (vp.count("1", "Invocations"), vp.date_histogram("2"), vp.terms("3", "faas.name", "group", 20)),
        vp.point_series("line", [("1", "Invocations")], ["Invocations"]), REPORT,
    )  # fmt: skip
    failures = Visualization(
        FAILURES_VIS, "Lambda · Errors, timeouts, OOM kills and init errors over time", "histogram",
        (vp.count("1", "Failures"), vp.date_histogram("2"), vp.filters("3", "group", FAILURES),
         vp.terms("4", "faas.name", "group", 20)),
        vp.point_series("histogram", [("1", "Failures")], ["Failures"], stacked=True), REPORT_OR_INIT,
    )  # fmt: skip
    duration = Visualization(
        DURATION_VIS, "Lambda · Duration p50 / p95 / p99 over time", "line",
        (vp.percentiles("1", DURATION, label="Duration"), vp.date_histogram("2")),
        vp.point_series("line", [("1", "Duration")], ["Duration (ms)"]), REPORT,
    )  # fmt: skip
    cold = Visualization(
        COLD_VIS, "Lambda · Cold-start rate and init duration over time", "line",
        (vp.metric("1", "avg", "lambdalens.cold_start", "Cold-start rate"), vp.date_histogram("2"),
         vp.metric("3", "avg", "lambda.init_duration_ms", "Init duration (avg)")),
        vp.point_series("line", [("1", "Cold-start rate"), ("3", "Init duration (avg)")],
                        ["Cold-start rate", "Init duration (ms)"], right_axis_series=["3"]), REPORT,
    )  # fmt: skip
    memory = Visualization(
        MEMORY_VIS, "Lambda · Memory utilisation over time", "line",
        (vp.metric("1", "avg", "lambdalens.memory_utilization", "Memory utilisation (avg)"), vp.date_histogram("2"),
         vp.metric("3", "max", "lambdalens.memory_utilization", "Memory utilisation (max)")),
        vp.point_series("line", [("1", "Memory utilisation (avg)"), ("3", "Memory utilisation (max)")],
                        ["Memory utilisation"]), REPORT,
    )  # fmt: skip
    return invocations, failures, duration, cold, memory


def _per_function() -> tuple[Visualization, ...]:
    by_function = Visualization(
        FAILURES_BY_FUNCTION_VIS, "Lambda · Failures by function", "horizontal_bar",
        (vp.count("1", "Failures"), vp.terms("2", "faas.name", "segment", 20), vp.filters("3", "group", FAILURES)),
        vp.point_series("horizontal_bar", [("1", "Failures")], ["Failures"], stacked=True), REPORT_OR_INIT,
        "Where it breaks: failed invocations and inits per function",
    )  # fmt: skip
    duration = Visualization(
        DURATION_TABLE_VIS, "Lambda · Duration per function", "table",
        (vp.count("1", "Invocations"), vp.percentiles("2", DURATION, label="Duration"),
         vp.metric("3", "max", DURATION, "Duration (max)"), vp.terms("4", "faas.name", "bucket", 50)),
        vp.table(), REPORT,
    )  # fmt: skip
    cold = Visualization(
        COLD_TABLE_VIS, "Lambda · Cold starts per function", "table",
        (vp.count("1", "Invocations"), vp.metric("2", "avg", "lambdalens.cold_start", "Cold-start rate"),
         vp.percentiles("3", "lambda.init_duration_ms", (50, 95), "Init duration"),
         vp.terms("4", "faas.name", "bucket", 50)),
        vp.table(), REPORT,
    )  # fmt: skip
    memory = Visualization(
        MEMORY_TABLE_VIS, "Lambda · Memory per function", "table",
        (vp.metric("1", "avg", "lambdalens.memory_utilization", "Memory utilisation (avg)"),
         vp.metric("2", "max", "lambdalens.memory_utilization", "Memory utilisation (max)"),
         vp.metric("3", "max", "lambdalens.memory_used", "Max memory used"),
         vp.metric("4", "max", "lambda.memory_size_mb", "Memory size (MB)"),
         vp.terms("5", "faas.name", "bucket", 50)),
        vp.table(), REPORT,
    )  # fmt: skip
    cost = Visualization(
        COST_VIS, "Lambda · Estimated cost per function", "horizontal_bar",
        (vp.metric("1", "sum", "lambdalens.estimated_cost_usd", "Estimated cost"),
         vp.terms("2", "faas.name", "segment", 20)),
        vp.point_series("horizontal_bar", [("1", "Estimated cost")], ["Estimated cost (USD)"]), REPORT,
        "Billed GB-seconds and requests at Lambda's list prices (docs/dashboards.md)",
    )  # fmt: skip
    fingerprints = Visualization(
        FINGERPRINTS_VIS, "Lambda · Top error fingerprints", "table",
        (vp.count("1", "Occurrences"), vp.metric("2", "min", "@timestamp", "First seen"),
         vp.metric("3", "max", "@timestamp", "Last seen"),
         vp.terms("4", "exception.fingerprint", "bucket", 20, label="Fingerprint"),
         vp.terms("5", "faas.name", "bucket", 5, label="Function"),
         vp.terms("6", "exception.type", "bucket", 3, label="Error type")),
        vp.table(), ERROR_LINES, "The same bug has the same fingerprint across invocations, containers and deploys",
    )  # fmt: skip
    return by_function, duration, cold, memory, cost, fingerprints


def _pipeline_health() -> Visualization:
    return Visualization(
        PIPELINE_VIS, "Lambda · Pipeline health", "metric",
        (vp.count("1"), vp.filters("2", "group", PIPELINE_HEALTH)), vp.metric_params(20), "",
        "Documents kept in a safe form after OpenSearch rejected them, messages cut for indexing (the whole "
        "event is in the dead-letter bucket), events that could not be parsed (kept raw)",
    )  # fmt: skip


def _links(prefix: str) -> Visualization:
    def search(name: str, label: str) -> str:
        return f"[{label}](discover#/view/{ids.object_id(name, prefix)})"

    text = (
        "**What is broken, since when, where.** Saved searches: "
        + " · ".join(
            search(n, label)
            for n, label in (
                (ALL_ERRORS, "All errors"), (TIMEOUT_SEARCH, "Timeouts"), (OOM_SEARCH, "Out-of-memory kills"),
                (INIT_SEARCH, "Init errors"), (COLD_SEARCH, "Cold starts"),
            )
        )
        + f"\n\nOne function: [Function drill-down](dashboards#/view/{ids.object_id(ids.FUNCTION_DRILL_DOWN, prefix)})"
    )  # fmt: skip
    return Visualization(LINKS_VIS, "Lambda · Links", "markdown", (), vp.markdown(text), uses_index=False)


def _picker() -> Visualization:
    return Visualization(
        PICKER_VIS, "Lambda · Function", "input_control_vis", (), vp.list_control("faas.name", "Function"),
        uses_index=False,
    )  # fmt: skip


def visualizations(prefix: str) -> tuple[Visualization, ...]:
    return (_totals(), *_over_time(), *_per_function(), _pipeline_health(), _links(prefix), _picker())


def dashboards(prefix: str) -> tuple[Dashboard, ...]:
    overview = Dashboard(
        ids.OVERVIEW, "Lambda overview",
        (Panel(TOTALS_VIS, 0, 0, 32, 6), Panel(LINKS_VIS, 32, 0, 16, 6),
         Panel(FAILURES_VIS, 0, 6, 24, 13), Panel(INVOCATIONS_VIS, 24, 6, 24, 13),
         Panel(FAILURES_BY_FUNCTION_VIS, 0, 19, 24, 13), Panel(FINGERPRINTS_VIS, 24, 19, 24, 13),
         Panel(DURATION_TABLE_VIS, 0, 32, 24, 11), Panel(COLD_TABLE_VIS, 24, 32, 24, 11),
         Panel(MEMORY_TABLE_VIS, 0, 43, 24, 11), Panel(COST_VIS, 24, 43, 24, 11),
         Panel(PIPELINE_VIS, 0, 54, 16, 8), Panel(ALL_ERRORS, 16, 54, 32, 16)),
        "What is broken, since when, where: failures, error fingerprints, durations, cold starts, memory, cost",
    )  # fmt: skip
    drill_down = Dashboard(
        ids.FUNCTION_DRILL_DOWN, "Function drill-down",
        (Panel(PICKER_VIS, 0, 0, 12, 6), Panel(TOTALS_VIS, 12, 0, 36, 6),
         Panel(INVOCATIONS_VIS, 0, 6, 24, 12), Panel(FAILURES_VIS, 24, 6, 24, 12),
         Panel(DURATION_VIS, 0, 18, 24, 12), Panel(COLD_VIS, 24, 18, 24, 12),
         Panel(MEMORY_VIS, 0, 30, 24, 12), Panel(FINGERPRINTS_VIS, 24, 30, 24, 12),
         Panel(DURATION_TABLE_VIS, 0, 42, 16, 9), Panel(COST_VIS, 16, 42, 16, 9), Panel(MEMORY_TABLE_VIS, 32, 42, 16, 9),
         Panel(FUNCTION_LOGS, 0, 51, 48, 16)),
        'One function over time: pick it at the top (or open with the query faas.name:"<function>")',
    )  # fmt: skip
    return tuple(
        Dashboard(
            d.name, ids.title(d.title, prefix), d.panels, d.description, d.query, d.time_from, d.time_to
        )
        for d in (overview, drill_down)
    )


def build(
    prefix: str = DEFAULT_INDEX_PREFIX, *, prices: PriceTable = DEFAULT_PRICES, arm64: Iterable[str] = ()
) -> Catalog:
    """Every object for ``<prefix>-*``; ``prices`` and ``arm64`` feed the estimated cost.

    Raises :class:`ValueError` for a prefix that is not a lowercase index name."""
    BootstrapOptions(index_prefix=prefix)  # validates the prefix as the index template does
    return Catalog(
        prefix=prefix,
        index_pattern_id=ids.index_pattern_id(prefix),
        index_pattern_title=ids.index_pattern_title(prefix),
        scripted_fields=scripted_fields(prices, arm64),
        searches=tuple(
            SavedSearch(s.name, ids.title(s.title, prefix), s.query, s.columns, s.sort, s.description)
            for s in searches()
        ),
        visualizations=tuple(
            Visualization(
                v.name,
                ids.title(v.title, prefix),
                v.vis_type,
                v.aggs,
                v.params,
                v.query,
                v.description,
                v.uses_index,
            )
            for v in visualizations(prefix)
        ),
        dashboards=dashboards(prefix),
    )
