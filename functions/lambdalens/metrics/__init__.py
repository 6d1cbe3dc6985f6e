"""Derived metrics: documents of a batch -> per-function and pipeline-health EMF records.

Public API::

    summarize(documents) -> BatchSummary
    build_function_metrics(documents, settings, configs) -> list[dict]   # EMF records
    build_pipeline_metrics(stats, settings) -> dict                       # EMF record
    emit(records)                                                         # one JSON line each, stdout
    validate_emf(record) -> list[str]                                     # spec problems, [] if valid
    FunctionConfigCache(lambda_client, architectures, ttl_seconds)        # cached GetFunctionConfiguration
    invocation_cost(billed_ms, memory_mb, architecture, prices) -> Decimal

See docs/metrics-and-alerts.md for every metric's name, unit, dimensions and meaning.
"""

from lambdalens.metrics.emf import emit, validate_emf
from lambdalens.metrics.function_metrics import build_function_metrics
from lambdalens.metrics.functions import FunctionConfig, FunctionConfigCache
from lambdalens.metrics.invocations import BatchSummary, InitFailure, InvocationSummary, summarize
from lambdalens.metrics.names import FUNCTION_METRICS, PIPELINE_METRICS
from lambdalens.metrics.pipeline import PipelineStats, build_pipeline_metrics
from lambdalens.metrics.pricing import DEFAULT_PRICES, PriceTable, invocation_cost
from lambdalens.metrics.settings import MetricsSettings
from lambdalens.settings import SettingsError

__all__ = [
    "DEFAULT_PRICES",
    "FUNCTION_METRICS",
    "PIPELINE_METRICS",
    "BatchSummary",
    "FunctionConfig",
    "FunctionConfigCache",
    "InitFailure",
    "InvocationSummary",
    "MetricsSettings",
    "PipelineStats",
    "PriceTable",
    "SettingsError",
    "build_function_metrics",
    "build_pipeline_metrics",
    "emit",
    "invocation_cost",
    "summarize",
    "validate_emf",
]
