"""A source account that uses the account-level subscription filter policy. One synthesis."""

from __future__ import annotations

import json

import pytest
from infra_support import Synthesized, synthesize

DESTINATION = "arn:aws:logs:us-east-1:999999999999:destination:lambdalens"


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    return synthesize(
        {
            "crossAccountDestinationArn": DESTINATION,
            "subscriptionMode": "account-policy",
            "excludeLogGroups": "/aws/lambda/very-noisy",
            # The pipeline stack of the same app, kept small: an existing endpoint.
            "openSearchEndpoint": "https://search.example.com",
            "openSearchAuth": "none",
        }
    )


def test_source_account_policy_targets_the_destination_without_a_role(synth: Synthesized) -> None:
    (policy,) = synth.resources("AWS::Logs::AccountPolicy", "LambdaLensSource").values()
    document = json.loads(json.dumps(policy["Properties"]["PolicyDocument"]))
    rendered = document if isinstance(document, str) else json.dumps(document)
    assert DESTINATION in rendered
    assert "RoleArn" not in rendered
    assert policy["Properties"]["SelectionCriteria"] == 'LogGroupName NOT IN ["/aws/lambda/very-noisy"]'
    assert synth.resources("AWS::Lambda::Function", "LambdaLensSource") == {}
