"""Metric names, units and dimension keys: the contract alarms and dashboards are built on."""

from __future__ import annotations

from typing import Final

# Dimension keys.
DIM_FUNCTION: Final = "FunctionName"
DIM_PIPELINE: Final = "Pipeline"
DIM_ACCOUNT: Final = "AccountId"
DIM_REGION: Final = "Region"

COUNT: Final = "Count"
MILLISECONDS: Final = "Milliseconds"
MEGABYTES: Final = "Megabytes"
PERCENT: Final = "Percent"
NONE: Final = "None"

#: Per-function metrics (dimension sets ``[FunctionName]``, ``[Pipeline]`` and, for logs of
#: other accounts/regions, ``[FunctionName, AccountId, Region]``), in the order they are written.
FUNCTION_METRICS: Final[dict[str, str]] = {
    "Invocations": COUNT,
    "Errors": COUNT,
    "Timeouts": COUNT,
    "OutOfMemory": COUNT,
    "InitErrors": COUNT,
    "ColdStarts": COUNT,
    "Duration": MILLISECONDS,
    "BilledDuration": MILLISECONDS,
    "InitDuration": MILLISECONDS,
    "MaxMemoryUsed": MEGABYTES,
    "MemoryUtilization": PERCENT,
    "EstimatedCost": NONE,
}

#: Per-function metrics that carry one value per invocation (arrays of at most 100 values).
FUNCTION_DISTRIBUTIONS: Final = (
    "Duration",
    "BilledDuration",
    "InitDuration",
    "MaxMemoryUsed",
    "MemoryUtilization",
    "EstimatedCost",
)

#: Pipeline health metrics (dimension set ``[Pipeline]``).
PIPELINE_METRICS: Final[dict[str, str]] = {
    "Records": COUNT,
    "Events": COUNT,
    "Indexed": COUNT,
    "Duplicates": COUNT,
    "Retried": COUNT,
    "SafeForm": COUNT,
    "DeadLettered": COUNT,
    "ParseFailures": COUNT,
    "BatchItemFailures": COUNT,
    "ControlMessages": COUNT,
    "AlertsPublished": COUNT,
    "AlertPublishFailures": COUNT,
    "LagNewestMs": MILLISECONDS,
    "LagOldestMs": MILLISECONDS,
}

#: Units CloudWatch accepts (MetricDatum.Unit).
VALID_UNITS: Final = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)
