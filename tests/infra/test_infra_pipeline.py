"""The default deployment (cdk.json + a few -c values): resources, properties, IAM, alarms, cdk-nag.

One synthesis for the whole module (bundling skipped).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Match
from infra_support import ROOT, Synthesized, synthesize

from lambdalens_infra.security import WILDCARD_ALLOWANCES, unallowed_wildcards

OVERRIDES = {
    # As `cdk deploy -c ...` passes them: strings (a comma list, a JSON array).
    "logGroupNames": '["/aws/lambda/orders-api", "/app/payments"]',
    "alertEmails": "oncall@example.com,team@example.com",
    "alertHttpsEndpoints": "https://events.pagerduty.com/integration/abc/enqueue",
}


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    return synthesize(OVERRIDES)


def _ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def _arn(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


# --- stream and event source mapping ------------------------------------------------------------


def test_stream_is_on_demand_and_kms_encrypted_with_the_pipeline_key(synth: Synthesized) -> None:
    key = synth.logical_id("/DataKey/Resource")
    synth.template().has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": _arn(key)},
            "RetentionPeriodHours": 24,
        },
    )
    synth.template().has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_event_source_mapping_has_safe_defaults(synth: Synthesized) -> None:
    queue = synth.logical_id("/OnFailureQueue/Resource")
    stream = synth.logical_id("/Stream/Resource")
    synth.template().has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": _arn(stream),
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 500,
            "MaximumBatchingWindowInSeconds": 5,
            "ParallelizationFactor": 2,
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 3,
            "MaximumRecordAgeInSeconds": 3600,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {"OnFailure": {"Destination": _arn(queue)}},
        },
    )


def test_mapping_starts_after_the_index_bootstrap(synth: Synthesized) -> None:
    mapping = next(iter(synth.resources("AWS::Lambda::EventSourceMapping").values()))
    assert synth.logical_id("/SearchBootstrap/Default") in mapping["DependsOn"]


def test_on_failure_queue_is_kms_encrypted_and_ssl_only(synth: Synthesized) -> None:
    queue = synth.logical_id("/OnFailureQueue/Resource")
    key = synth.logical_id("/DataKey/Resource")
    props = synth.templates["LambdaLens"]["Resources"][queue]["Properties"]
    assert props["KmsMasterKeyId"] == _arn(key)
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    synth.template().has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [_ref(queue)],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


# --- the parser function -------------------------------------------------------------------------


def _function(synth: Synthesized, name: str) -> dict[str, Any]:
    resource = synth.templates["LambdaLens"]["Resources"][synth.logical_id(f"/{name}/Function/Resource")]
    properties: dict[str, Any] = resource["Properties"]
    return properties


def test_parser_is_arm64_python_with_its_contract_environment(synth: Synthesized) -> None:
    parser = _function(synth, "Parser")
    assert parser["Handler"] == "lambdalens.handlers.parser.handler"
    assert parser["Architectures"] == ["arm64"]
    assert parser["Runtime"] in ("python3.12", "python3.13", "python3.14")
    assert parser["MemorySize"] == 1024
    assert parser["Timeout"] == 120
    env = parser["Environment"]["Variables"]
    assert env["OPENSEARCH_AUTH"] == "sigv4"
    assert env["OPENSEARCH_ENDPOINT"]["Fn::Join"][1][0] == "https://"
    assert env["INDEX_PREFIX"] == "lambda-logs"
    assert env["DEAD_LETTER_BUCKET"] == _ref(synth.logical_id("/DeadLetterBucket/Resource"))
    assert env["DEAD_LETTER_PREFIX"] == "dead-letter/"
    assert env["ALERT_TOPIC_ARN"] == _ref(synth.logical_id("/AlertTopic/Resource"))
    assert env["ALERT_STATE_TABLE"] == _ref(synth.logical_id("/AlertStateTable/Resource"))
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "LambdaLens"
    assert env["POWERTOOLS_SERVICE_NAME"] == "lambdalens"
    assert env["PIPELINE_NAME"] == "lambdalens"
    assert env["OPENSEARCH_DASHBOARDS_URL"]["Fn::Join"][1][-1] == "/_dashboards"
    assert "OPENSEARCH_SECRET_ARN" not in env  # the parser signs its requests; no password
    # glibc keeps what a batch freed for the next batch (lambdalens.pipeline.memory)
    assert env["MALLOC_TRIM_THRESHOLD_"] == str(256 * 1024 * 1024)
    assert env["MALLOC_TOP_PAD_"] == str(64 * 1024 * 1024)
    assert env["MALLOC_MMAP_THRESHOLD_"] == str(32 * 1024 * 1024)
    assert {
        k: env[k] for k in env if k.startswith("ALERT_") and k not in ("ALERT_TOPIC_ARN", "ALERT_STATE_TABLE")
    } == {
        "ALERT_QUIET_PERIOD_MINUTES": "15",
        "ALERT_ERROR_BURST_COUNT": "10",
        "ALERT_ERROR_BURST_WINDOW_MINUTES": "5",
        "ALERT_TIMEOUT_RATIO": "0.9",
        "ALERT_FINGERPRINT_REARM_HOURS": "48",
        "ALERT_DURATION_REGRESSION_FACTOR": "3.0",
        "ALERT_DEDUP_HOURS": "48",
    }


def test_every_function_has_its_own_encrypted_log_group_with_retention(synth: Synthesized) -> None:
    key = synth.logical_id("/DataKey/Resource")
    groups = synth.resources("AWS::Logs::LogGroup")
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == 30
        assert group["Properties"]["KmsKeyId"] == _arn(key)
    for function in synth.resources("AWS::Lambda::Function").values():
        log_group = function["Properties"]["LoggingConfig"]["LogGroup"]
        assert log_group["Ref"] in groups


# --- storage ---------------------------------------------------------------------------------------


def test_dead_letter_bucket_is_encrypted_private_versioned_with_lifecycle(synth: Synthesized) -> None:
    key = synth.logical_id("/DataKey/Resource")
    bucket = synth.logical_id("/DeadLetterBucket/Resource")
    access_logs = synth.logical_id("/AccessLogsBucket/Resource")
    props = synth.templates["LambdaLens"]["Resources"][bucket]["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0] == {
        "BucketKeyEnabled": True,
        "ServerSideEncryptionByDefault": {"KMSMasterKeyID": _arn(key), "SSEAlgorithm": "aws:kms"},
    }
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == _ref(access_logs)
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 30
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}


@pytest.mark.parametrize("bucket", ["DeadLetterBucket", "AccessLogsBucket"])
def test_buckets_deny_insecure_transport_and_old_tls(synth: Synthesized, bucket: str) -> None:
    logical = synth.logical_id(f"/{bucket}/Resource")
    policy = next(
        p
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == _ref(logical)
    )
    conditions = [
        s["Condition"] for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
    ]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions
    props = synth.templates["LambdaLens"]["Resources"][logical]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["LifecycleConfiguration"]["Rules"]


def test_alert_state_table_has_ttl_pitr_and_the_alerting_key_schema(synth: Synthesized) -> None:
    key = synth.logical_id("/DataKey/Resource")
    synth.template().has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": _arn(key)},
        },
    )


# --- alerts ----------------------------------------------------------------------------------------


def test_topic_is_kms_encrypted_with_subscriptions_from_context(synth: Synthesized) -> None:
    topic = synth.logical_id("/AlertTopic/Resource")
    alerts_key = synth.logical_id("/AlertsKey/Resource")
    synth.template().has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": _arn(alerts_key)})
    subscriptions = sorted(
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"])
        for s in synth.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == _ref(topic)
    )
    assert subscriptions == [
        ("email", "oncall@example.com"),
        ("email", "team@example.com"),
        ("https", "https://events.pagerduty.com/integration/abc/enqueue"),
    ]


def test_cloudwatch_may_publish_alarms_to_the_encrypted_topic(synth: Synthesized) -> None:
    key = synth.templates["LambdaLens"]["Resources"][synth.logical_id("/AlertsKey/Resource")]
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)
    synth.template().has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": "sns:Publish",
                                "Condition": Match.object_like({"StringEquals": Match.any_value()}),
                            }
                        )
                    ]
                )
            }
        },
    )


# --- OpenSearch ----------------------------------------------------------------------------------


def test_domain_is_fgac_encrypted_https_only_and_logs_to_cloudwatch(synth: Synthesized) -> None:
    key = synth.logical_id("/DataKey/Resource")
    secret = synth.logical_id("/SearchDomain/MasterUser/Resource")
    domain = synth.resources("AWS::OpenSearchService::Domain")
    ((logical, resource),) = domain.items()
    props = resource["Properties"]
    assert props["EngineVersion"] == "OpenSearch_2.19"
    assert props["ClusterConfig"] == {
        "DedicatedMasterEnabled": False,
        "InstanceCount": 2,
        "InstanceType": "m7g.large.search",
        "MultiAZWithStandbyEnabled": False,
        "ZoneAwarenessConfig": {"AvailabilityZoneCount": 2},
        "ZoneAwarenessEnabled": True,
    }
    assert props["EBSOptions"] == {"EBSEnabled": True, "VolumeSize": 100, "VolumeType": "gp3"}
    assert props["EncryptionAtRestOptions"] == {"Enabled": True, "KmsKeyId": _ref(key)}
    assert props["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert props["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert props["DomainEndpointOptions"]["TLSSecurityPolicy"].startswith("Policy-Min-TLS-1-2")
    security = props["AdvancedSecurityOptions"]
    assert security["Enabled"] is True and security["InternalUserDatabaseEnabled"] is True
    password = json.dumps(security["MasterUserOptions"]["MasterUserPassword"])
    assert "resolve:secretsmanager" in password and secret in password  # never in the template
    assert set(props["LogPublishingOptions"]) == {
        "SEARCH_SLOW_LOGS",
        "INDEX_SLOW_LOGS",
        "ES_APPLICATION_LOGS",
    }
    assert all(option["Enabled"] for option in props["LogPublishingOptions"].values())
    # The domain waits for the log resource policy (OpenSearch checks it at creation).
    assert synth.logical_id("/SearchDomain/LogsPolicy/ResourcePolicy") in resource["DependsOn"]
    assert logical


def test_master_password_is_generated_in_secrets_manager_with_the_pipeline_key(synth: Synthesized) -> None:
    key = synth.logical_id("/DataKey/Resource")
    synth.template().has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "KmsKeyId": _arn(key),
            "GenerateSecretString": Match.object_like(
                {"GenerateStringKey": "password", "PasswordLength": 32, "RequireEachIncludedType": True}
            ),
        },
    )


def test_bootstrap_custom_resource_runs_lambdalens_bootstrap(synth: Synthesized) -> None:
    (resource,) = synth.resources("Custom::LambdaLensBootstrap").values()
    props = resource["Properties"]
    assert props["Auth"] == "basic"
    assert props["SecretArn"] == _ref(synth.logical_id("/SearchDomain/MasterUser/Resource"))
    assert props["IndexPrefix"] == "lambda-logs"
    assert props["RetentionDays"] == "30"
    assert props["ParserRoleArn"] == _arn(synth.logical_id("/Parser/Role/Resource"))
    assert props["Endpoint"]["Fn::Join"][1][0] == "https://"
    assert props["Replicas"] == "1"  # two data nodes
    bootstrap = _function(synth, "Bootstrap")
    assert bootstrap["Handler"] == "lambdalens.handlers.bootstrap.handler"
    assert bootstrap["Architectures"] == ["arm64"]


# --- IAM -------------------------------------------------------------------------------------------


def _statements(synth: Synthesized, policy_path: str) -> list[dict[str, Any]]:
    policy = synth.templates["LambdaLens"]["Resources"][synth.logical_id(policy_path, "AWS::IAM::Policy")]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_logs_role_is_assumable_by_cloudwatch_logs_of_this_account_only(synth: Synthesized) -> None:
    role = synth.templates["LambdaLens"]["Resources"][synth.logical_id("/LogsToStreamRole/Resource")]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
    (source_arn,) = trust["Condition"]["StringLike"]["aws:SourceArn"]
    assert source_arn["Fn::Join"][1][-2:] == [{"Ref": "AWS::AccountId"}, ":*"]
    statements = _statements(synth, "/LogsToStreamRole/DefaultPolicy/Resource")
    assert sorted((s["Action"], json.dumps(s["Resource"])) for s in statements) == [
        ("kinesis:PutRecord", json.dumps(_arn(synth.logical_id("/Stream/Resource")))),
        ("kms:GenerateDataKey", json.dumps(_arn(synth.logical_id("/DataKey/Resource")))),
    ]


def test_parser_role_is_scoped(synth: Synthesized) -> None:
    by_sid = {s.get("Sid"): s for s in _statements(synth, "/Parser/Role/DefaultPolicy/Resource")}
    domain = synth.logical_id("/SearchDomain/Resource/Resource")
    assert by_sid["OpenSearchHttp"]["Action"] == [
        "es:ESHttpGet",
        "es:ESHttpHead",
        "es:ESHttpPost",
        "es:ESHttpPut",
    ]
    assert by_sid["OpenSearchHttp"]["Resource"][0] == _arn(domain)
    assert by_sid["WriteDeadLetters"]["Action"] == "s3:PutObject"
    assert by_sid["WriteDeadLetters"]["Resource"]["Fn::Join"][1][-1] == "/dead-letter/*"
    assert by_sid["PublishAlerts"]["Resource"] == _ref(synth.logical_id("/AlertTopic/Resource"))
    assert by_sid["ReadMonitoredFunctionConfiguration"]["Action"] == "lambda:GetFunctionConfiguration"
    for statement in by_sid.values():
        assert statement["Resource"] != "*"
        assert statement["Effect"] == "Allow"
    actions = {
        a for s in by_sid.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "dynamodb:Scan" not in actions
    assert "secretsmanager:GetSecretValue" not in actions


def test_subscriber_role_may_only_pass_the_logs_role_to_cloudwatch_logs(synth: Synthesized) -> None:
    by_sid = {s.get("Sid"): s for s in _statements(synth, "/Subscriber/Role/DefaultPolicy/Resource")}
    assert by_sid["PassTheLogsRole"]["Resource"] == _arn(synth.logical_id("/LogsToStreamRole/Resource"))
    assert by_sid["PassTheLogsRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "logs.amazonaws.com"}
    }
    resources = [json.dumps(r) for r in by_sid["SubscriptionFiltersOfSelectedGroups"]["Resource"]]
    assert any("log-group:/aws/lambda/*" in r for r in resources)
    assert any("log-group:/app/payments:*" in r for r in resources)


def test_no_role_has_a_managed_policy(synth: Synthesized) -> None:
    for role in synth.resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_every_wildcard_is_in_the_justified_allow_list(synth: Synthesized) -> None:
    assert unallowed_wildcards(synth.templates["LambdaLens"]) == []


def test_the_wildcard_check_catches_an_unlisted_wildcard(synth: Synthesized) -> None:
    template = json.loads(json.dumps(synth.templates["LambdaLens"]))
    policy_id = synth.logical_id("/Parser/Role/DefaultPolicy/Resource")
    template["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}
    )
    problems = unallowed_wildcards(template)
    assert any(p.endswith("Action::s3:*") for p in problems)
    assert any(p.endswith("Resource::*") for p in problems)


def test_every_allowance_says_why() -> None:
    for allowance in WILDCARD_ALLOWANCES:
        assert len(allowance.reason) > 40, allowance


# --- the pipeline's own log groups -------------------------------------------------------------


def test_the_pipelines_own_log_groups_are_never_subscribed(synth: Synthesized) -> None:
    own = set(synth.resources("AWS::Logs::LogGroup"))
    assert len(own) == 8  # parser, bootstrap, subscriber, 2 providers, 3 OpenSearch
    assert synth.resources("AWS::Logs::SubscriptionFilter") == {}
    (backfill,) = synth.resources("Custom::LambdaLensSubscriptions").values()
    excluded = {
        entry["Ref"] for entry in backfill["Properties"]["ExcludeLogGroups"] if isinstance(entry, dict)
    }
    assert excluded == own
    subscriber = _function(synth, "Subscriber")
    environment = json.dumps(subscriber["Environment"]["Variables"]["EXCLUDE_LOG_GROUPS"])
    for logical_id in own:
        assert json.dumps({"Ref": logical_id}) in environment


def test_backfill_and_new_group_rule_select_the_configured_groups(synth: Synthesized) -> None:
    (backfill,) = synth.resources("Custom::LambdaLensSubscriptions").values()
    props = backfill["Properties"]
    assert props["DestinationArn"] == _arn(synth.logical_id("/Stream/Resource"))
    assert props["RoleArn"] == _arn(synth.logical_id("/LogsToStreamRole/Resource"))
    assert props["FilterName"] == "lambdalens"
    assert props["LogGroupNames"] == ["/aws/lambda/orders-api", "/app/payments"]
    assert props["LogGroupPrefixes"] == ["/aws/lambda/"]
    # CloudWatch Logs tests the destination when a filter is put: the role's policy must exist.
    assert synth.logical_id("/LogsToStreamRole/DefaultPolicy/Resource") in backfill["DependsOn"]
    synth.template().has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.logs"],
                "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {
                    "eventSource": ["logs.amazonaws.com"],
                    "eventName": ["CreateLogGroup"],
                    "requestParameters": {
                        "logGroupName": [
                            "/aws/lambda/orders-api",
                            "/app/payments",
                            {"prefix": "/aws/lambda/"},
                        ]
                    },
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": Match.any_value(),
                        "RetryPolicy": Match.object_like({"MaximumRetryAttempts": 8}),
                    }
                )
            ],
        },
    )
    subscriber = _function(synth, "Subscriber")
    assert subscriber["Handler"] == "lambdalens.handlers.subscriber.handler"
    env = subscriber["Environment"]["Variables"]
    assert json.loads(env["LOG_GROUP_PREFIXES"]) == ["/aws/lambda/"]
    assert json.loads(env["LOG_GROUP_NAMES"]) == ["/aws/lambda/orders-api", "/app/payments"]
    assert subscriber["DeadLetterConfig"]["TargetArn"] == _arn(
        synth.logical_id("/Subscriptions/DeadLetterQueue/Resource")
    )


# --- alarms and dashboard ------------------------------------------------------------------------


def _alarms(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def test_every_alarm_notifies_the_alert_topic(synth: Synthesized) -> None:
    topic = _ref(synth.logical_id("/AlertTopic/Resource"))
    alarms = _alarms(synth)
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert "Runbook: README.md#runbook" in alarm["AlarmDescription"], name


def test_classic_error_rule_timeouts_and_oom_per_named_function(synth: Synthesized) -> None:
    alarms = _alarms(synth)
    errors = alarms["lambdalens-fn-orders-api-errors"]
    assert errors["Namespace"] == "LambdaLens" and errors["MetricName"] == "Errors"
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": "orders-api"}]
    assert (
        errors["Threshold"],
        errors["EvaluationPeriods"],
        errors["DatapointsToAlarm"],
        errors["Period"],
    ) == (
        10,
        2,
        2,
        300,
    )
    assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert errors["Statistic"] == "Sum"
    for kind, metric in (("timeouts", "Timeouts"), ("out-of-memory", "OutOfMemory")):
        alarm = alarms[f"lambdalens-fn-orders-api-{kind}"]
        assert (alarm["MetricName"], alarm["Threshold"], alarm["EvaluationPeriods"]) == (metric, 1, 1)
    # /app/payments is not a Lambda log group: no per-function alarms for it.
    assert not any("payments" in name for name in alarms)


def test_prefix_selected_functions_are_alarmed_on_the_pipeline_aggregate(synth: Synthesized) -> None:
    alarms = _alarms(synth)
    for kind in ("errors", "timeouts", "out-of-memory"):
        assert alarms[f"lambdalens-functions-{kind}"]["Dimensions"] == [
            {"Name": "Pipeline", "Value": "lambdalens"}
        ]


def test_pipeline_health_alarms(synth: Synthesized) -> None:
    alarms = _alarms(synth)
    expected = {
        "lambdalens-iterator-age": ("AWS/Lambda", "IteratorAge", 300_000),
        "lambdalens-parser-errors": ("AWS/Lambda", "Errors", 1),
        "lambdalens-parser-throttles": ("AWS/Lambda", "Throttles", 1),
        "lambdalens-stream-write-throttled": ("AWS/Kinesis", "WriteProvisionedThroughputExceeded", 1),
        "lambdalens-on-failure-queue": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", 1),
        "lambdalens-dead-lettered": ("LambdaLens", "DeadLettered", 1),
        "lambdalens-alert-publish-failures": ("LambdaLens", "AlertPublishFailures", 1),
        "lambdalens-subscriber-errors": ("AWS/Lambda", "Errors", 1),
        "lambdalens-subscriber-dead-letters": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", 1),
        "lambdalens-opensearch-red": ("AWS/ES", "ClusterStatus.red", 1),
        "lambdalens-opensearch-yellow": ("AWS/ES", "ClusterStatus.yellow", 1),
        "lambdalens-opensearch-free-storage": ("AWS/ES", "FreeStorageSpace", 25_600),
        "lambdalens-opensearch-jvm-pressure": ("AWS/ES", "JVMMemoryPressure", 95),
        "lambdalens-opensearch-write-rejected": ("AWS/ES", "ThreadpoolWriteRejected", 1),
        "lambdalens-opensearch-writes-blocked": ("AWS/ES", "ClusterIndexWritesBlocked", 1),
    }
    for name, (namespace, metric, threshold) in expected.items():
        alarm = alarms[name]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Threshold"]) == (
            namespace,
            metric,
            threshold,
        ), name
    assert alarms["lambdalens-opensearch-free-storage"]["ComparisonOperator"] == "LessThanOrEqualToThreshold"
    dimensions = {d["Name"]: d["Value"] for d in alarms["lambdalens-opensearch-red"]["Dimensions"]}
    assert dimensions == {"DomainName": "lambdalens", "ClientId": {"Ref": "AWS::AccountId"}}


def test_every_alarm_has_a_runbook_section(synth: Synthesized) -> None:
    docs = (ROOT / "README.md").read_text()
    sections = set(re.findall(r"^#### ([a-z\-]+)$", docs, flags=re.MULTILINE))
    for name, alarm in _alarms(synth).items():
        match = re.search(r"Runbook: \S+ \(([a-z\-]+)\)\.$", alarm["AlarmDescription"])
        assert match, name
        assert match.group(1) in sections, f"{name}: no runbook section '#### {match.group(1)}'"


def test_the_pipeline_has_a_dashboard(synth: Synthesized) -> None:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for needle in (
        "IteratorAge",
        "DeadLettered",
        "Indexed",
        "ClusterStatus.red",
        "ApproximateNumberOfMessagesVisible",
    ):
        assert needle in body


# --- cdk-nag -----------------------------------------------------------------------------------


def test_cdk_nag_has_no_unacknowledged_findings(synth: Synthesized) -> None:
    from cdk_nag import AwsSolutionsChecks

    # The synth in the fixture already ran the checks (an unacknowledged error or warning makes
    # synthesis raise); run them again on the tree to see that nothing is left, warnings included.
    report = AwsSolutionsChecks(synth.app).validate_scope(synth.app)
    assert report.violations == []
    assert report.success


def test_every_acknowledgement_has_a_specific_reason(synth: Synthesized) -> None:
    seen = 0
    for resource in synth.templates["LambdaLens"]["Resources"].values():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            seen += 1
            assert rule["id"].startswith("AwsSolutions-"), rule
            assert len(rule["reason"]) > 40, rule
    assert seen
