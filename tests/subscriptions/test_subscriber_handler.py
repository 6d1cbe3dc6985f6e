"""The subscriber Lambda handler: CloudTrail CreateLogGroup events, the deploy-time custom resource."""

from __future__ import annotations

import json
from typing import Any

import pytest
from subscription_support import OWN_GROUPS, ROLE_ARN, add_other_filter, filters_of, load_event

from lambdalens.handlers import subscriber


class FakeContext:
    function_name = "lambdalens-subscriber"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:lambdalens-subscriber"
    aws_request_id = "5f0c7a9e-1d2b-4c3d-9e8f-7a6b5c4d3e2f"

    def __init__(self, remaining_ms: int = 600_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, stream_arn: str) -> None:
    monkeypatch.setenv("DESTINATION_ARN", stream_arn)
    monkeypatch.setenv("DESTINATION_ROLE_ARN", ROLE_ARN)
    monkeypatch.setenv("FILTER_NAME", "lambdalens")
    monkeypatch.setenv("FILTER_PATTERN", "")
    monkeypatch.setenv("LOG_GROUP_NAMES", json.dumps(["/app/payments"]))
    monkeypatch.setenv("LOG_GROUP_PREFIXES", json.dumps(["/aws/lambda/"]))
    monkeypatch.setenv("EXCLUDE_LOG_GROUPS", json.dumps(list(OWN_GROUPS)))


def _event_for(group: str, name: str = "cloudtrail_create_log_group.json") -> dict[str, Any]:
    event = load_event(name)
    event["detail"]["requestParameters"]["logGroupName"] = group
    return event


def test_new_log_group_is_subscribed(logs: Any, env: None, stream_arn: str) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders-api")

    result = subscriber.handler(load_event("cloudtrail_create_log_group.json"), FakeContext())

    assert result == {"logGroup": "/aws/lambda/orders-api", "outcome": "subscribed"}
    assert filters_of(logs, "/aws/lambda/orders-api")["lambdalens"]["destinationArn"] == stream_arn


def test_pipeline_own_new_log_group_is_never_subscribed(logs: Any, env: None) -> None:
    logs.create_log_group(logGroupName=OWN_GROUPS[0])

    result = subscriber.handler(_event_for(OWN_GROUPS[0]), FakeContext())

    assert result["outcome"] == "excluded"
    assert filters_of(logs, OWN_GROUPS[0]) == {}


def test_unselected_new_log_group_is_left_alone(logs: Any, env: None) -> None:
    logs.create_log_group(logGroupName="/ecs/web")

    assert subscriber.handler(_event_for("/ecs/web"), FakeContext())["outcome"] == "not_selected"
    assert filters_of(logs, "/ecs/web") == {}


def test_failed_create_log_group_call_is_ignored(logs: Any, env: None) -> None:
    result = subscriber.handler(load_event("cloudtrail_create_log_group_failed.json"), FakeContext())

    assert result == {"outcome": "ignored"}


def test_full_new_log_group_is_reported_and_logged(
    logs: Any, env: None, other_stream_arn: str, caplog: pytest.LogCaptureFixture
) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders-api")
    add_other_filter(logs, "/aws/lambda/orders-api", "datadog", other_stream_arn)
    add_other_filter(logs, "/aws/lambda/orders-api", "splunk", other_stream_arn)

    result = subscriber.handler(load_event("cloudtrail_create_log_group.json"), FakeContext())

    assert result["outcome"] == "no_free_slot"
    assert set(filters_of(logs, "/aws/lambda/orders-api")) == {"datadog", "splunk"}
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].logGroup == "/aws/lambda/orders-api"  # type: ignore[attr-defined]
    assert warnings[0].outcome == "no_free_slot"  # type: ignore[attr-defined]
    assert "never replaces another tool's filter" in warnings[0].detail  # type: ignore[attr-defined]


def _custom_resource(
    request: str, properties: dict[str, Any], old: dict[str, Any] | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider-framework-onEvent",
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/LambdaLens/1b2c3d4e",
        "RequestId": "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a",
        "LogicalResourceId": "PipelineSubscriptionsBackfill1A2B3C4D",
        "ResourceType": "Custom::LambdaLensSubscriptions",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:x",
            **properties,
        },
    }
    if request != "Create":
        event["PhysicalResourceId"] = "lambdalens-subscriptions"
    if old is not None:
        event["OldResourceProperties"] = old
    return event


def _properties(stream_arn: str, prefixes: list[str]) -> dict[str, Any]:
    return {
        "DestinationArn": stream_arn,
        "RoleArn": ROLE_ARN,
        "FilterName": "lambdalens",
        "FilterPattern": "",
        "LogGroupNames": ["/app/payments"],
        "LogGroupPrefixes": prefixes,
        "ExcludeLogGroups": list(OWN_GROUPS),
    }


def test_custom_resource_create_update_delete(logs: Any, stream_arn: str, other_stream_arn: str) -> None:
    for group in ["/aws/lambda/orders-a", "/aws/lambda/orders-b", "/aws/lambda/billing", *OWN_GROUPS]:
        logs.create_log_group(logGroupName=group)
    add_other_filter(logs, "/aws/lambda/billing", "datadog", other_stream_arn)
    add_other_filter(logs, "/aws/lambda/billing", "splunk", other_stream_arn)
    everything = _properties(stream_arn, ["/aws/lambda/"])

    created = subscriber.handler(_custom_resource("Create", everything), FakeContext())

    assert created["PhysicalResourceId"] == "lambdalens-subscriptions"
    # orders-a, orders-b subscribed; billing has no free slot; /app/payments does not exist.
    assert created["Data"] == {"Subscribed": 2, "NotSubscribed": 2, "Complete": "true"}
    assert "lambdalens" in filters_of(logs, "/aws/lambda/orders-a")
    for own in OWN_GROUPS:
        assert filters_of(logs, own) == {}

    # Narrow the prefix: orders-* stay subscribed, nothing else of ours remains.
    narrower = _properties(stream_arn, ["/aws/lambda/orders-"])
    updated = subscriber.handler(_custom_resource("Update", narrower, old=everything), FakeContext())

    assert updated["Data"]["Subscribed"] == 2
    assert set(filters_of(logs, "/aws/lambda/orders-b")) == {"lambdalens"}
    assert set(filters_of(logs, "/aws/lambda/billing")) == {"datadog", "splunk"}

    deleted = subscriber.handler(_custom_resource("Delete", narrower), FakeContext())

    assert deleted == {"PhysicalResourceId": "lambdalens-subscriptions"}
    assert filters_of(logs, "/aws/lambda/orders-a") == {}
    assert filters_of(logs, "/aws/lambda/orders-b") == {}
    assert set(filters_of(logs, "/aws/lambda/billing")) == {"datadog", "splunk"}


def test_update_that_narrows_prefixes_unsubscribes_dropped_groups(logs: Any, stream_arn: str) -> None:
    for group in ["/aws/lambda/orders-a", "/aws/lambda/billing"]:
        logs.create_log_group(logGroupName=group)
    everything = _properties(stream_arn, ["/aws/lambda/"])
    subscriber.handler(_custom_resource("Create", everything), FakeContext())
    assert "lambdalens" in filters_of(logs, "/aws/lambda/billing")

    subscriber.handler(
        _custom_resource("Update", _properties(stream_arn, ["/aws/lambda/orders-"]), old=everything),
        FakeContext(),
    )

    assert filters_of(logs, "/aws/lambda/billing") == {}
    assert "lambdalens" in filters_of(logs, "/aws/lambda/orders-a")


def test_delete_never_fails(logs: Any, stream_arn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subscriber, "logs_client", lambda: _Broken())

    result = subscriber.handler(
        _custom_resource("Delete", _properties(stream_arn, ["/aws/lambda/"])), FakeContext()
    )

    assert result == {"PhysicalResourceId": "lambdalens-subscriptions"}


class _Broken:
    def get_paginator(self, name: str) -> Any:
        raise RuntimeError("endpoint unreachable")


def test_manual_backfill_action(logs: Any, env: None) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders-api")

    summary = subscriber.handler({"action": "backfill"}, FakeContext())

    assert summary["complete"] is True
    assert summary["counts"] == {"subscribed": 1, "not_found": 1}
    assert summary["notSubscribed"] == [
        {"logGroup": "/app/payments", "outcome": "not_found", "detail": "log group does not exist"}
    ]


def test_unknown_event_is_an_error(aws: None) -> None:
    with pytest.raises(ValueError, match="unrecognised event"):
        subscriber.handler({"hello": "world"}, FakeContext())
