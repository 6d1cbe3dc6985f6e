"""Aggregations and visState ``params`` as Dashboards 2.x writes them for each visualisation type.

The builders return :class:`~lambdalens.dashboards.model.Agg` values (ids ``"1"``, ``"2"`` …
in the order given) and the ``params`` object of the legacy visualisation types the shipped
objects use: vislib point series (``line``, ``histogram``, ``horizontal_bar``), ``table``,
``metric``, ``markdown`` and ``input_control_vis`` (controls).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lambdalens.dashboards.model import Agg, JsonObject, Schema

TIME_FIELD: Final = "@timestamp"


def count(id: str, label: str | None = None) -> Agg:
    return Agg(id, "count", "metric", label=label)


def metric(id: str, kind: str, field: str, label: str | None = None) -> Agg:
    """An ``avg``, ``sum``, ``min``, ``max`` or ``cardinality`` of ``field``."""
    return Agg(id, kind, "metric", field=field, label=label)


def percentiles(
    id: str, field: str, percents: Sequence[float] = (50, 95, 99), label: str | None = None
) -> Agg:
    return Agg(id, "percentiles", "metric", field=field, label=label, params={"percents": list(percents)})


def date_histogram(id: str, schema: Schema = "segment") -> Agg:
    return Agg(
        id,
        "date_histogram",
        schema,
        field=TIME_FIELD,
        params={
            "timeRange": {"from": "now-24h", "to": "now"},
            "useNormalizedOpenSearchInterval": True,
            "scaleMetricValues": False,
            "interval": "auto",
            "drop_partials": False,
            "min_doc_count": 1,
            "extended_bounds": {},
        },
    )


def terms(
    id: str, field: str, schema: Schema, size: int, order_by: str = "1", label: str | None = None
) -> Agg:
    """The top ``size`` values of ``field``, ordered by the metric ``order_by`` (descending)."""
    return Agg(
        id,
        "terms",
        schema,
        field=field,
        label=label,
        params={
            "orderBy": order_by,
            "order": "desc",
            "size": size,
            "otherBucket": False,
            "otherBucketLabel": "Other",
            "missingBucket": False,
            "missingBucketLabel": "Missing",
        },
    )


def filters(id: str, schema: Schema, labelled: Sequence[tuple[str, str]]) -> Agg:
    """One bucket per labelled KQL query."""
    return Agg(id, "filters", schema, filters=tuple(labelled))


# --- visState params ------------------------------------------------------------------------


def _category_axis(position: str) -> JsonObject:
    return {
        "id": "CategoryAxis-1",
        "type": "category",
        "position": position,
        "show": True,
        "style": {},
        "scale": {"type": "linear"},
        "labels": {
            "show": True,
            "filter": position == "bottom",
            "truncate": 100 if position == "bottom" else 200,
        },
        "title": {},
    }


def _value_axis(index: int, position: str, title: str) -> JsonObject:
    side = {"left": "LeftAxis", "right": "RightAxis", "bottom": "BottomAxis"}[position]
    return {
        "id": f"ValueAxis-{index}",
        "name": f"{side}-1",
        "type": "value",
        "position": position,
        "show": True,
        "style": {},
        "scale": {"type": "linear", "mode": "normal"},
        "labels": {"show": True, "rotate": 75 if position == "bottom" else 0, "filter": position == "bottom",
                   "truncate": 100},
        "title": {"text": title},
    }  # fmt: skip


def _series(chart: str, mode: str, metric_id: str, label: str, axis: int) -> JsonObject:
    return {
        "show": True,
        "type": chart,
        "mode": mode,
        "data": {"label": label, "id": metric_id},
        "valueAxis": f"ValueAxis-{axis}",
        "drawLinesBetweenPoints": True,
        "lineWidth": 2,
        "interpolate": "linear",
        "showCircles": True,
    }


def point_series(
    vis_type: str, series: Sequence[tuple[str, str]], axis_titles: Sequence[str], *, stacked: bool = False,
    right_axis_series: Sequence[str] = (),
) -> JsonObject:  # fmt: skip
    """Params of a ``line``, ``histogram`` or ``horizontal_bar`` chart.

    ``series`` are (metric agg id, label); those in ``right_axis_series`` go on a second value
    axis (titled ``axis_titles[1]``).
    """
    horizontal = vis_type == "horizontal_bar"
    chart = "line" if vis_type == "line" else "histogram"
    mode = "stacked" if stacked else "normal"
    value_axes = [_value_axis(1, "bottom" if horizontal else "left", axis_titles[0])]
    if right_axis_series:
        value_axes.append(_value_axis(2, "right", axis_titles[1]))
    return {
        "type": vis_type,
        "grid": {"categoryLines": False},
        "categoryAxes": [_category_axis("left" if horizontal else "bottom")],
        "valueAxes": value_axes,
        "seriesParams": [
            _series(chart, mode, mid, label, 2 if mid in right_axis_series else 1) for mid, label in series
        ],
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
        "labels": {"show": horizontal},
        "thresholdLine": {"show": False, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
    }


def table(per_page: int = 10) -> JsonObject:
    return {
        "perPage": per_page,
        "showPartialRows": False,
        "showMetricsAtAllLevels": False,
        "showTotal": False,
        "totalFunc": "sum",
        "percentageCol": "",
        "sort": {"columnIndex": None, "direction": None},
    }


def metric_params(font_size: int = 30) -> JsonObject:
    return {
        "addTooltip": True,
        "addLegend": False,
        "type": "metric",
        "metric": {
            "percentageMode": False,
            "useRanges": False,
            "colorSchema": "Green to Red",
            "metricColorMode": "None",
            "colorsRange": [{"from": 0, "to": 10000}],
            "labels": {"show": True},
            "invertColors": False,
            "style": {
                "bgFill": "#000",
                "bgColor": False,
                "labelColor": False,
                "subText": "",
                "fontSize": font_size,
            },
        },
    }


def markdown(text: str) -> JsonObject:
    return {"fontSize": 12, "openLinksInNewTab": False, "markdown": text}


#: The reference name of a control's index pattern (input_control_vis).
CONTROL_INDEX_REF: Final = "control_0_index_pattern"


def list_control(field: str, label: str) -> JsonObject:
    """Params of a controls visualisation with one drop-down of ``field``'s values."""
    return {
        "controls": [
            {
                "id": "1",
                "fieldName": field,
                "parent": "",
                "label": label,
                "type": "list",
                "options": {
                    "type": "terms",
                    "multiselect": False,
                    "dynamicOptions": True,
                    "size": 100,
                    "order": "desc",
                },
                "indexPatternRefName": CONTROL_INDEX_REF,
            }
        ],
        "updateFiltersOnChange": True,
        "useTimeFilter": True,
        "pinFilters": False,
    }
