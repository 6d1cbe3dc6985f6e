"""A variant: account-level subscription policy, an existing OpenSearch endpoint (SigV4), a
provisioned stream and a cross-account destination. One synthesis for the module."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra_support import Synthesized, synthesize

from lambdalens_infra.security import unallowed_wildcards

ENDPOINT = "https://search-logs-abc123.eu-west-1.es.amazonaws.com"
DOMAIN_ARN = "arn:aws:es:eu-west-1:123456789012:domain/logs"
SOURCES = ["111111111111", "222222222222"]


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    return synthesize(
        {
            "subscriptionMode": "account-policy",
            "excludeLogGroups": "/aws/lambda/very-noisy",
            "openSearchEndpoint": ENDPOINT,
            "openSearchAuth": "sigv4",
            "openSearchDomainArn": DOMAIN_ARN,
            "kinesisMode": "provisioned",
            "kinesisShardCount": "4",
            "sourceAccountIds": ",".join(SOURCES),
            "alarmFunctionErrors": "25",
        }
    )


def _props(synth: Synthesized, resource_type: str) -> dict[str, Any]:
    (resource,) = synth.resources(resource_type).values()
    properties: dict[str, Any] = resource["Properties"]
    return properties


def test_account_policy_sends_every_group_but_the_pipelines_own(synth: Synthesized) -> None:
    (logical_id, policy) = next(iter(synth.resources("AWS::Logs::AccountPolicy").items()))
    props = policy["Properties"]
    assert props["PolicyType"] == "SUBSCRIPTION_FILTER_POLICY"
    assert props["Scope"] == "ALL"
    assert props["PolicyName"] == "lambdalens"
    document = json.dumps(props["PolicyDocument"])
    assert json.dumps({"Fn::GetAtt": [synth.logical_id("/Stream/Resource"), "Arn"]}) in document
    assert json.dumps({"Fn::GetAtt": [synth.logical_id("/LogsToStreamRole/Resource"), "Arn"]}) in document
    assert '\\"Distribution\\":\\"Random\\"' in document
    criteria = props["SelectionCriteria"]["Fn::Join"][1]
    assert criteria[0] == 'LogGroupName NOT IN ["'
    rendered = json.dumps(criteria)
    own = synth.resources("AWS::Logs::LogGroup")
    assert len(own) == 3  # parser, bootstrap, bootstrap provider (no subscriber, no domain here)
    for group in own:
        assert json.dumps({"Ref": group}) in rendered
    assert "/aws/lambda/very-noisy" in rendered
    assert synth.logical_id("/LogsToStreamRole/DefaultPolicy/Resource") in policy["DependsOn"]
    assert logical_id


def test_no_subscriber_in_account_policy_mode(synth: Synthesized) -> None:
    assert synth.resources("Custom::LambdaLensSubscriptions") == {}
    assert synth.resources("AWS::Events::Rule") == {}
    handlers = {f["Properties"]["Handler"] for f in synth.resources("AWS::Lambda::Function").values()}
    assert "lambdalens.handlers.subscriber.handler" not in handlers


def test_provisioned_stream(synth: Synthesized) -> None:
    props = _props(synth, "AWS::Kinesis::Stream")
    assert props["ShardCount"] == 4
    assert props["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert props["StreamEncryption"]["EncryptionType"] == "KMS"


def test_existing_endpoint_is_used_and_granted(synth: Synthesized) -> None:
    assert synth.resources("AWS::OpenSearchService::Domain") == {}
    assert synth.resources("AWS::SecretsManager::Secret") == {}
    parser = next(
        f["Properties"]
        for f in synth.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "lambdalens.handlers.parser.handler"
    )
    env = parser["Environment"]["Variables"]
    assert env["OPENSEARCH_ENDPOINT"] == ENDPOINT
    assert env["OPENSEARCH_AUTH"] == "sigv4"
    assert env["OPENSEARCH_DASHBOARDS_URL"] == ENDPOINT + "/_dashboards"
    policy = synth.templates["LambdaLens"]["Resources"][
        synth.logical_id("/Parser/Role/DefaultPolicy/Resource")
    ]
    by_sid = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert by_sid["OpenSearchHttp"]["Resource"] == [DOMAIN_ARN, DOMAIN_ARN + "/*"]
    assert by_sid["ReadMonitoredFunctionConfiguration"]["Resource"]["Fn::Join"][1][-1] == ":function:*"
    bootstrap = _props(synth, "Custom::LambdaLensBootstrap")
    assert (bootstrap["Endpoint"], bootstrap["Auth"], bootstrap["SecretArn"]) == (ENDPOINT, "sigv4", "")
    bootstrap_policy = synth.templates["LambdaLens"]["Resources"][
        synth.logical_id("/Bootstrap/Role/DefaultPolicy/Resource")
    ]
    actions = next(
        s["Action"]
        for s in bootstrap_policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "OpenSearchHttp"
    )
    assert "es:ESHttpDelete" in actions


def test_existing_domain_is_alarmed_in_its_account(synth: Synthesized) -> None:
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }
    red = alarms["lambdalens-opensearch-red"]
    assert {d["Name"]: d["Value"] for d in red["Dimensions"]} == {
        "DomainName": "logs",
        "ClientId": "123456789012",
    }
    assert (
        "lambdalens-opensearch-free-storage" not in alarms
    )  # volume unknown: set openSearchFreeStorageAlarmMb
    assert alarms["lambdalens-functions-errors"]["Threshold"] == 25
    assert not any(name.startswith("lambdalens-fn-") for name in alarms)
    assert "lambdalens-subscriber-errors" not in alarms


def test_cross_account_destination_for_the_listed_accounts(synth: Synthesized) -> None:
    props = _props(synth, "AWS::Logs::Destination")
    assert props["DestinationName"] == "lambdalens"
    assert props["TargetArn"] == {"Fn::GetAtt": [synth.logical_id("/Stream/Resource"), "Arn"]}
    assert props["RoleArn"] == {"Fn::GetAtt": [synth.logical_id("/LogsToStreamRole/Resource"), "Arn"]}
    policy = json.dumps(props["DestinationPolicy"])
    for account in SOURCES:
        assert account in policy
    assert "logs:PutSubscriptionFilter" in policy
    role = synth.templates["LambdaLens"]["Resources"][synth.logical_id("/LogsToStreamRole/Resource")]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    source_arns = json.dumps(trust["Condition"]["StringLike"]["aws:SourceArn"])
    for account in SOURCES:
        assert f":{account}:*" in source_arns
    outputs = synth.templates["LambdaLens"]["Outputs"]
    assert "DestinationArn" in outputs


def test_wildcards_are_allowed_and_nag_is_clean(synth: Synthesized) -> None:
    from cdk_nag import AwsSolutionsChecks

    assert unallowed_wildcards(synth.templates["LambdaLens"]) == []
    assert AwsSolutionsChecks(synth.app).validate_scope(synth.app).violations == []
