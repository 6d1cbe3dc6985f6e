"""Settings from the environment, the function configuration cache, pipeline metrics."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdalens.metrics import (
    FunctionConfigCache,
    MetricsSettings,
    PipelineStats,
    SettingsError,
    build_function_metrics,
    build_pipeline_metrics,
    validate_emf,
)
from lambdalens.metrics.samples import SampleLog


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"LAMBDA_PRICES": "{not json"}, "LAMBDA_PRICES"),
        ({"LAMBDA_PRICES": '{"gb_second": {"mips": 1}}'}, "LAMBDA_PRICES"),
        ({"LAMBDA_PRICES": '{"per_million_requests": -1}'}, "LAMBDA_PRICES"),
        ({"LAMBDA_PRICES": '{"cheap": true}'}, "LAMBDA_PRICES"),
        ({"FUNCTION_ARCHITECTURES": '{"orders": "sparc"}'}, "FUNCTION_ARCHITECTURES"),
        ({"FUNCTION_ARCHITECTURES": '["orders"]'}, "FUNCTION_ARCHITECTURES"),
        ({"FUNCTION_CONFIG_TTL_SECONDS": "soon"}, "FUNCTION_CONFIG_TTL_SECONDS"),
        ({"METRICS_ACCOUNT_DIMENSIONS": "sometimes"}, "METRICS_ACCOUNT_DIMENSIONS"),
        ({"POWERTOOLS_METRICS_NAMESPACE": "x" * 256}, "POWERTOOLS_METRICS_NAMESPACE"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable) as info:
        MetricsSettings.from_env(env)
    assert info.value.variable == variable


def test_settings_defaults_and_overrides() -> None:
    s = MetricsSettings.from_env({})
    assert (s.namespace, s.pipeline, s.config_ttl_seconds, s.account_dimensions) == (
        "LambdaLens",
        "lambdalens",
        900,
        "auto",
    )
    s = MetricsSettings.from_env(
        {"FUNCTION_ARCHITECTURES": '{"a": "aarch64", "b": "x86"}'}, pipeline="explicit"
    )
    assert s.architectures == {"a": "arm64", "b": "x86_64"}
    assert s.pipeline == "explicit"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buf.getvalue()


def create_function(name: str, arch: str = "arm64", timeout: int = 30, memory: int = 1024) -> Any:
    iam = boto3.client("iam", region_name="us-east-1")
    try:
        role = iam.get_role(RoleName="fn-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", region_name="us-east-1")
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        Architectures=[arch],
        Timeout=timeout,
        MemorySize=memory,
    )
    return client


def test_config_from_the_api_is_cached_for_the_ttl(aws: None) -> None:
    client = create_function("orders-api")
    now = [0.0]
    cache = FunctionConfigCache(client, ttl_seconds=60, clock=lambda: now[0])
    config = cache.get("orders-api", "123456789012", "us-east-1")
    assert (config.architecture, config.timeout_s, config.memory_mb, config.source) == (
        "arm64",
        30.0,
        1024,
        "api",
    )
    cache.get("orders-api", "123456789012", "us-east-1")
    assert cache.api_calls == 1
    now[0] = 61.0
    cache.get("orders-api", "123456789012", "us-east-1")
    assert cache.api_calls == 2


def test_env_architecture_wins_and_the_api_still_gives_the_timeout(aws: None) -> None:
    client = create_function("orders-api", arch="arm64", timeout=10)
    config = FunctionConfigCache(client, {"orders-api": "x86_64"}).get("orders-api")
    assert (config.architecture, config.timeout_s, config.source) == ("x86_64", 10.0, "env")


def test_failed_lookup_assumes_x86_and_says_so_once(aws: None, caplog: pytest.LogCaptureFixture) -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    now = [0.0]
    cache = FunctionConfigCache(client, ttl_seconds=10, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for step in range(3):
            now[0] = step * 11.0  # past the TTL each time: looked up again, said once
            config = cache.get("missing-fn")
            assert (config.architecture, config.timeout_s, config.source) == ("x86_64", None, "default")
    assert cache.api_calls == 3
    warnings = [r for r in caplog.records if "assuming x86_64" in r.getMessage()]
    assert len(warnings) == 1 and "missing-fn" in warnings[0].getMessage()


def test_cost_uses_the_cached_architecture(aws: None) -> None:
    client = create_function("orders-api", arch="arm64", memory=1024)
    docs = SampleLog(memory_mb=1024).invocation(duration_ms=1000.0)
    (record,) = build_function_metrics(docs, MetricsSettings(), FunctionConfigCache(client))
    assert record["EstimatedCost"] == [0.0000135334]


def test_pipeline_record_is_valid_emf_with_lag() -> None:
    docs = SampleLog(start_ms=1_000_000).invocation()
    stats = PipelineStats(records=3, events=len(docs), indexed=len(docs), batch_item_failures=1)
    stats.add_lag(docs, now_ms=1_010_000)
    record = build_pipeline_metrics(stats, MetricsSettings(pipeline="p1"), now_ms=1_010_000)
    assert validate_emf(record) == []
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Pipeline"]]
    units = {m["Name"]: m["Unit"] for m in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["LagNewestMs"] == units["LagOldestMs"] == "Milliseconds"
    assert units["AlertPublishFailures"] == "Count" and len(units) == 14
    assert record["Pipeline"] == "p1" and record["Records"] == 3 and record["BatchItemFailures"] == 1
    assert record["LagOldestMs"] > record["LagNewestMs"] > 0


def test_pipeline_record_without_documents_has_no_lag() -> None:
    record = build_pipeline_metrics(PipelineStats(records=1, control_messages=1), MetricsSettings())
    assert "LagNewestMs" not in record and validate_emf(record) == []
