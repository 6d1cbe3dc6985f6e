"""CloudWatch Embedded Metric Format: build records, check them against the spec, write them.

An EMF record is one JSON object on one line of the Lambda's stdout::

    {"_aws": {"Timestamp": 1714550400123,
              "CloudWatchMetrics": [{"Namespace": "LambdaLens",
                                     "Dimensions": [["FunctionName"], ["Pipeline"]],
                                     "Metrics": [{"Name": "Duration", "Unit": "Milliseconds"}]}]},
     "FunctionName": "orders", "Pipeline": "lambdalens", "Duration": [12.5, 80.1]}

Limits (CloudWatch EMF specification): at most 100 metric definitions per directive, 30
dimension keys per dimension set, 100 values per metric array, 1 MB per log event (we keep
records far smaller: :data:`MAX_RECORD_BYTES`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

import orjson

from lambdalens.metrics.names import VALID_UNITS

MAX_METRICS_PER_DIRECTIVE = 100
MAX_DIMENSIONS_PER_SET = 30
MAX_VALUES_PER_METRIC = 100
MAX_RECORD_BYTES = 256 * 1024

MetricValue = float | int | list[float] | list[int]


def emf_record(
    namespace: str,
    dimension_sets: Sequence[Sequence[str]],
    dimensions: Mapping[str, str],
    metrics: Mapping[str, tuple[str, MetricValue]],
    timestamp_ms: int,
    properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One EMF record: ``metrics`` maps a name to ``(unit, value or list of values)``.

    ``dimensions`` holds the values of every key named in ``dimension_sets``; ``properties``
    are extra root members (searchable in Logs Insights, not metrics).
    """
    record: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(timestamp_ms),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(s) for s in dimension_sets],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (unit, _) in metrics.items()],
                }
            ],
        }
    }
    if properties:
        record.update(properties)
    record.update(dimensions)
    for name, (_, value) in metrics.items():
        record[name] = value
    return record


def chunks(values: Sequence[float], size: int = MAX_VALUES_PER_METRIC) -> list[list[float]]:
    """``values`` in lists of at most ``size`` (EMF's limit per metric per record)."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_emf(record: object) -> list[str]:
    """What in ``record`` breaks the EMF specification (empty list: valid).

    Checks the root object, ``_aws.Timestamp`` (integer epoch ms), every MetricDirective
    (Namespace 1-255 chars, Dimensions as arrays of at most 30 keys whose string values are on
    the root, at most 100 Metrics with a Name and a valid Unit), every metric target (a finite
    number or 1-100 of them on the root) and the serialized size.
    """
    problems: list[str] = []
    if not isinstance(record, dict):
        return ["root is not a JSON object"]
    aws = record.get("_aws")
    if not isinstance(aws, dict):
        return ["_aws is missing or not an object"]
    ts = aws.get("Timestamp")
    if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
        problems.append(f"_aws.Timestamp must be epoch milliseconds (integer), got {ts!r}")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "_aws.CloudWatchMetrics must be a non-empty array"]
    for i, directive in enumerate(directives):
        where = f"CloudWatchMetrics[{i}]"
        if not isinstance(directive, dict):
            problems.append(f"{where} is not an object")
            continue
        ns = directive.get("Namespace")
        if not isinstance(ns, str) or not 1 <= len(ns) <= 255 or ns.startswith(":"):
            problems.append(f"{where}.Namespace must be a string of 1-255 characters, got {ns!r}")
        dim_sets = directive.get("Dimensions")
        dim_keys: set[str] = set()
        if not isinstance(dim_sets, list) or not dim_sets:
            problems.append(f"{where}.Dimensions must be a non-empty array of arrays")
        else:
            for j, dim_set in enumerate(dim_sets):
                if not isinstance(dim_set, list) or len(dim_set) > MAX_DIMENSIONS_PER_SET:
                    problems.append(
                        f"{where}.Dimensions[{j}] must be an array of at most {MAX_DIMENSIONS_PER_SET} keys"
                    )
                    continue
                for key in dim_set:
                    dim_keys.add(str(key))
                    value = record.get(key) if isinstance(key, str) else None
                    if not isinstance(key, str) or not 1 <= len(key) <= 255:
                        problems.append(f"{where}.Dimensions[{j}] has an invalid key {key!r}")
                    elif not isinstance(value, str) or not 1 <= len(value) <= 1024:
                        problems.append(
                            f"dimension {key!r} needs a string value of 1-1024 characters on the root, got {value!r}"
                        )
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list):
            problems.append(f"{where}.Metrics must be an array")
            continue
        if len(metrics) > MAX_METRICS_PER_DIRECTIVE:
            problems.append(
                f"{where}.Metrics has {len(metrics)} definitions (at most {MAX_METRICS_PER_DIRECTIVE})"
            )
        names: set[str] = set()
        for definition in metrics:
            if not isinstance(definition, dict) or not isinstance(definition.get("Name"), str):
                problems.append(f"{where}.Metrics has a definition without a Name: {definition!r}")
                continue
            name = definition["Name"]
            if not 1 <= len(name) <= 255:
                problems.append(f"metric name {name!r} must have 1-255 characters")
            if name in names:
                problems.append(f"metric {name!r} is defined twice in {where}")
            names.add(name)
            if name in dim_keys:
                problems.append(f"{name!r} is both a metric and a dimension")
            unit = definition.get("Unit", "None")
            if unit not in VALID_UNITS:
                problems.append(f"metric {name!r} has an invalid Unit {unit!r}")
            resolution = definition.get("StorageResolution", 60)
            if resolution not in (1, 60):
                problems.append(f"metric {name!r} has an invalid StorageResolution {resolution!r}")
            value = record.get(name)
            if isinstance(value, list):
                if not 1 <= len(value) <= MAX_VALUES_PER_METRIC or not all(_is_number(v) for v in value):
                    problems.append(
                        f"metric {name!r} must be 1-{MAX_VALUES_PER_METRIC} finite numbers, got {len(value)} values"
                    )
            elif not _is_number(value):
                problems.append(
                    f"metric {name!r} needs a finite number (or array of them) on the root, got {value!r}"
                )
    size = len(orjson.dumps(record))
    if size > MAX_RECORD_BYTES:
        problems.append(f"record is {size} bytes (at most {MAX_RECORD_BYTES})")
    return problems


def emit(records: Iterable[Mapping[str, Any]], stream: IO[str] | None = None) -> int:
    """Write each record as one JSON line to ``stream`` (stdout: the Lambda's log, where
    CloudWatch extracts the metrics). Returns how many were written."""
    out = stream if stream is not None else sys.stdout
    n = 0
    for record in records:
        out.write(orjson.dumps(record).decode() + "\n")
        n += 1
    out.flush()
    return n
