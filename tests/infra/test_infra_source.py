"""The source-account stack of a cross-account pipeline. One synthesis for the module."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra_support import Synthesized, synthesize

from lambdalens_infra.security import unallowed_wildcards

DESTINATION = "arn:aws:logs:us-east-1:999999999999:destination:lambdalens"
STACK = "LambdaLensSource"


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    return synthesize({"crossAccountDestinationArn": DESTINATION, "logGroupPrefixes": "/aws/lambda/shop-"})


def _subscriber(synth: Synthesized) -> dict[str, Any]:
    (function,) = [
        f
        for f in synth.resources("AWS::Lambda::Function", STACK).values()
        if f["Properties"]["Handler"] == "lambdalens.handlers.subscriber.handler"
    ]
    properties: dict[str, Any] = function["Properties"]
    return properties


def test_both_stacks_are_synthesized(synth: Synthesized) -> None:
    assert set(synth.templates) == {"LambdaLens", STACK}


def test_subscriber_targets_the_destination_without_a_role(synth: Synthesized) -> None:
    env = _subscriber(synth)["Environment"]["Variables"]
    assert env["DESTINATION_ARN"] == DESTINATION
    assert env["DESTINATION_ROLE_ARN"] == ""
    assert json.loads(env["LOG_GROUP_PREFIXES"]) == ["/aws/lambda/shop-"]
    (backfill,) = synth.resources("Custom::LambdaLensSubscriptions", STACK).values()
    assert backfill["Properties"]["DestinationArn"] == DESTINATION
    assert backfill["Properties"]["RoleArn"] == ""
    statements = [
        s
        for policy in synth.resources("AWS::IAM::Policy", STACK).values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert not any(s["Action"] == "iam:PassRole" for s in statements)
    filters = next(s for s in statements if s.get("Sid") == "SubscriptionFiltersOfSelectedGroups")
    assert DESTINATION in filters["Resource"]
    assert any("log-group:/aws/lambda/shop-*" in json.dumps(r) for r in filters["Resource"])


def test_source_stack_never_subscribes_its_own_log_groups(synth: Synthesized) -> None:
    own = set(synth.resources("AWS::Logs::LogGroup", STACK))
    assert len(own) == 2  # subscriber and its provider
    (backfill,) = synth.resources("Custom::LambdaLensSubscriptions", STACK).values()
    assert {e["Ref"] for e in backfill["Properties"]["ExcludeLogGroups"]} == own


def test_source_stack_passes_the_checks(synth: Synthesized) -> None:
    from cdk_nag import AwsSolutionsChecks

    assert unallowed_wildcards(synth.templates[STACK]) == []
    assert AwsSolutionsChecks(synth.app).validate_scope(synth.app).violations == []
