"""Per-function EMF records: valid EMF, exact names and units, aggregation and splitting."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdalens.metrics import (
    FUNCTION_METRICS,
    MetricsSettings,
    PriceTable,
    build_function_metrics,
    emit,
    invocation_cost,
    validate_emf,
)
from lambdalens.metrics.samples import SampleLog

EXPECTED_UNITS = {
    "Invocations": "Count",
    "Errors": "Count",
    "Timeouts": "Count",
    "OutOfMemory": "Count",
    "InitErrors": "Count",
    "ColdStarts": "Count",
    "Duration": "Milliseconds",
    "BilledDuration": "Milliseconds",
    "InitDuration": "Milliseconds",
    "MaxMemoryUsed": "Megabytes",
    "MemoryUtilization": "Percent",
    "EstimatedCost": "None",
}


def mixed_batch() -> list[dict[str, Any]]:
    log = SampleLog("orders-api")
    return [
        *log.invocation(init_ms=250.0, duration_ms=100.0, billed_ms=100.0),
        *log.invocation(outcome="timeout", duration_ms=3000.0),
        *log.invocation(outcome="oom", duration_ms=800.0),
        *log.invocation(outcome="error"),
        *log.init_failure(),
        log.logged_error(),
    ]


def roundtrip(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = io.StringIO()
    assert emit(records, out) == len(records)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(records)
    return [orjson.loads(line) for line in lines]


def test_records_are_valid_emf_with_exact_names_and_units() -> None:
    (record,) = roundtrip(build_function_metrics(mixed_batch(), MetricsSettings()))
    assert validate_emf(record) == []
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "LambdaLens"
    assert directive["Dimensions"] == [["FunctionName"], ["Pipeline"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == EXPECTED_UNITS
    assert FUNCTION_METRICS == EXPECTED_UNITS
    assert record["FunctionName"] == "orders-api" and record["Pipeline"] == "lambdalens"
    assert isinstance(record["_aws"]["Timestamp"], int)


def test_counts_follow_the_schema_rules() -> None:
    (record,) = build_function_metrics(mixed_batch(), MetricsSettings())
    counts = {
        name: record[name]
        for name in ("Invocations", "Errors", "Timeouts", "OutOfMemory", "InitErrors", "ColdStarts")
    }
    assert counts == {
        "Invocations": 4,
        "Errors": 1,
        "Timeouts": 1,
        "OutOfMemory": 1,
        "InitErrors": 1,
        "ColdStarts": 1,
    }
    assert record["Duration"] == [100.0, 3000.0, 800.0, 120.25]
    assert record["InitDuration"] == [250.0]
    assert record["MaxMemoryUsed"] == [64.0, 64.0, 128.0, 64.0]
    assert record["MemoryUtilization"] == [50.0, 50.0, 100.0, 50.0]


def test_estimated_cost_is_exact_for_a_known_input() -> None:
    # 100 ms billed at 128 MB on x86_64: 0.1 s × 0.125 GB × 0.0000166667 + 0.20 / 1e6
    assert invocation_cost(100, 128, "x86_64") == Decimal("0.00000040833375")
    # 1000 ms at 1024 MB on arm64: 1 GB-s × 0.0000133334 + 0.0000002
    assert invocation_cost(1000, 1024, "arm64") == Decimal("0.0000135334")
    log = SampleLog(memory_mb=128)
    (record,) = build_function_metrics(log.invocation(duration_ms=99.2, billed_ms=100.0), MetricsSettings())
    assert record["EstimatedCost"] == [float(Decimal("0.00000040833375"))]
    arm = MetricsSettings(architectures={"orders-api": "arm64"})
    log = SampleLog(memory_mb=1024)
    (record,) = build_function_metrics(log.invocation(duration_ms=1000.0), arm)
    assert record["EstimatedCost"] == [float(Decimal("0.0000135334"))]


def test_price_override_from_env() -> None:
    env = {"LAMBDA_PRICES": '{"gb_second": {"x86_64": 0.00001}, "per_million_requests": 0}'}
    settings_ = MetricsSettings.from_env(env)
    assert settings_.prices == PriceTable(
        gb_second={"x86_64": Decimal("0.00001"), "arm64": Decimal("0.0000133334")},
        per_million_requests=Decimal(0),
    )
    (record,) = build_function_metrics(SampleLog(memory_mb=1024).invocation(duration_ms=1000.0), settings_)
    assert record["EstimatedCost"] == [0.00001]


def test_redelivered_documents_in_one_batch_are_not_double_counted() -> None:
    docs = mixed_batch()
    assert build_function_metrics(docs + docs, MetricsSettings()) == build_function_metrics(
        docs, MetricsSettings()
    )


def test_more_than_100_invocations_split_into_several_records() -> None:
    log = SampleLog(start_ms=1_714_564_800_000)
    docs = [d for i in range(250) for d in log.invocation(duration_ms=float(i), advance_ms=10, app_lines=0)]
    records = roundtrip(build_function_metrics(docs, MetricsSettings()))
    assert len(records) == 3
    for record in records:
        assert validate_emf(record) == []
    assert records[0]["Invocations"] == 250
    assert "Invocations" not in records[1] and "Invocations" not in records[2]
    names_1 = {m["Name"] for m in records[1]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert "Invocations" not in names_1 and "Duration" in names_1
    durations = [v for r in records for v in r["Duration"]]
    assert durations == [float(i) for i in range(250)]
    assert [len(r["Duration"]) for r in records] == [100, 100, 50]


def test_groups_by_function_and_minute() -> None:
    a, b = SampleLog("a"), SampleLog("b")
    docs = a.invocation() + b.invocation() + a.invocation(advance_ms=61_000)
    records = build_function_metrics(docs, MetricsSettings())
    assert [(r["FunctionName"], r["Invocations"]) for r in records] == [("a", 1), ("a", 1), ("b", 1)]
    assert records[0]["_aws"]["Timestamp"] // 60_000 != records[1]["_aws"]["Timestamp"] // 60_000


@pytest.mark.parametrize(
    ("mode", "region", "extra"),
    [
        ("auto", "us-east-1", False),
        ("auto", "eu-west-1", True),
        ("always", "us-east-1", True),
        ("never", "eu-west-1", False),
    ],
)
def test_account_region_dimension_set(mode: str, region: str, extra: bool) -> None:
    settings_ = MetricsSettings.from_env({"METRICS_ACCOUNT_DIMENSIONS": mode, "AWS_REGION": "us-east-1"})
    (record,) = build_function_metrics(SampleLog(region=region).invocation(), settings_)
    dims = record["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert (["FunctionName", "AccountId", "Region"] in dims) is extra
    assert record["Region"] == region and record["AccountId"] == "123456789012"
    assert validate_emf(record) == []


def test_foreign_account_gets_the_extra_set_in_auto_mode() -> None:
    settings_ = MetricsSettings(home_account="999999999999", home_region="us-east-1")
    (record,) = build_function_metrics(SampleLog().invocation(), settings_)
    assert ["FunctionName", "AccountId", "Region"] in record["_aws"]["CloudWatchMetrics"][0]["Dimensions"]


def test_namespace_and_pipeline_from_env() -> None:
    env = {"POWERTOOLS_METRICS_NAMESPACE": "Acme/Lambda", "PIPELINE_NAME": "prod-logs"}
    (record,) = build_function_metrics(SampleLog().invocation(), MetricsSettings.from_env(env))
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Acme/Lambda"
    assert record["Pipeline"] == "prod-logs"


def test_no_documents_no_records() -> None:
    assert build_function_metrics([], MetricsSettings()) == []


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["success", "error", "timeout", "oom"]),
            st.floats(min_value=0.5, max_value=900_000, allow_nan=False),
            st.booleans(),
        ),
        max_size=230,
    )
)
def test_any_batch_gives_valid_emf_and_keeps_every_value(invocations: list[tuple[str, float, bool]]) -> None:
    log = SampleLog()
    docs = []
    for outcome, duration, cold in invocations:
        docs += log.invocation(
            outcome=outcome, duration_ms=duration, init_ms=100.0 if cold else None, app_lines=0, advance_ms=5
        )
    records = build_function_metrics(docs, MetricsSettings())
    for record in records:
        assert validate_emf(record) == []
    assert sum(r.get("Invocations", 0) for r in records) == len(invocations)
    assert sum(len(r.get("Duration", [])) for r in records) == len(invocations)
    assert sum(r.get("Timeouts", 0) for r in records) == sum(o == "timeout" for o, _, _ in invocations)


def test_validate_emf_reports_spec_violations() -> None:
    (good,) = build_function_metrics(SampleLog().invocation(), MetricsSettings())
    assert validate_emf(good) == []
    assert validate_emf([]) == ["root is not a JSON object"]
    assert validate_emf({}) == ["_aws is missing or not an object"]
    bad = orjson.loads(orjson.dumps(good))
    bad["_aws"]["Timestamp"] = "2024-05-01"
    bad["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = "Requests"
    bad["Duration"] = list(range(101))
    del bad["Pipeline"]
    bad["_aws"]["CloudWatchMetrics"][0]["Dimensions"].append([f"k{i}" for i in range(31)])
    problems = "\n".join(validate_emf(bad))
    assert "Timestamp" in problems
    assert "invalid Unit 'Requests'" in problems
    assert "'Duration' must be 1-100 finite numbers" in problems
    assert "dimension 'Pipeline'" in problems
    assert "at most 30 keys" in problems
    too_many = orjson.loads(orjson.dumps(good))
    too_many["_aws"]["CloudWatchMetrics"][0]["Metrics"] = [{"Name": f"m{i}"} for i in range(101)]
    too_many.update({f"m{i}": 1 for i in range(101)})
    assert any("at most 100" in p for p in validate_emf(too_many))
    missing = orjson.loads(orjson.dumps(good))
    del missing["Errors"]
    assert any("'Errors' needs a finite number" in p for p in validate_emf(missing))
