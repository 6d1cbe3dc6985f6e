"""Fixtures for the subscription tests: moto CloudWatch Logs and a Kinesis destination."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

# The helpers next to this file import whatever pytest's import mode (prepend or importlib).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from subscription_support import OWN_GROUPS, REGION, ROLE_ARN

from lambdalens.subscriptions import SubscriptionSettings


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LOGS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def logs(aws: None) -> Any:
    return boto3.client("logs", region_name=REGION)


@pytest.fixture
def stream_arn(aws: None) -> str:
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="lambdalens", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    return str(
        kinesis.describe_stream_summary(StreamName="lambdalens")["StreamDescriptionSummary"]["StreamARN"]
    )


@pytest.fixture
def other_stream_arn(aws: None) -> str:
    """Another tool's destination."""
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="other-tool", ShardCount=1)
    return str(
        kinesis.describe_stream_summary(StreamName="other-tool")["StreamDescriptionSummary"]["StreamARN"]
    )


@pytest.fixture
def settings(stream_arn: str) -> SubscriptionSettings:
    return SubscriptionSettings(
        destination_arn=stream_arn,
        role_arn=ROLE_ARN,
        filter_name="lambdalens",
        filter_pattern="",
        log_group_names=("/app/payments",),
        log_group_prefixes=("/aws/lambda/",),
        exclude_log_groups=OWN_GROUPS,
    )
