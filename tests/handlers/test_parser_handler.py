"""The parser Lambda end to end: a Kinesis event of real-format CloudWatch Logs records ->
documents in the local OpenSearch stand-in, EMF metrics on stdout, SNS alerts read back from
an SQS subscription (moto), partial batch responses."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from opensearchpy import OpenSearch

from lambdalens.bench.workload import kinesis_record
from lambdalens.handlers import parser as parser_handler
from lambdalens.metrics.emf import validate_emf
from testing_support import FakeContext, load_event

SAMPLES = [
    "python-text-timeout-legacy",
    "python-text-oom-killed",
    "node-text-invoke-error",
    "python-text-cold-start",
]


@pytest.fixture
def stack(aws_env: None, opensearch_node: Any) -> Iterator[dict[str, Any]]:
    region = "us-east-1"
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket="dlq")
    sns = boto3.client("sns", region_name=region)
    topic = sns.create_topic(Name="lambdalens-alerts")["TopicArn"]
    sqs = boto3.client("sqs", region_name=region)
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    boto3.client("dynamodb", region_name=region).create_table(
        TableName="alert-state",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    prefix = f"handler-{uuid.uuid4().hex[:8]}"
    env = {
        "OPENSEARCH_ENDPOINT": opensearch_node.url,
        "OPENSEARCH_AUTH": "none",
        "DEAD_LETTER_BUCKET": "dlq",
        "INDEX_PREFIX": prefix,
        "ALERT_TOPIC_ARN": topic,
        "ALERT_STATE_TABLE": "alert-state",
        "AWS_REGION": region,
        "POWERTOOLS_METRICS_NAMESPACE": "LambdaLens",
        "FUNCTION_ARCHITECTURES": "{}",
    }
    yield {
        "env": env,
        "prefix": prefix,
        "sqs": sqs,
        "queue_url": queue_url,
        "url": opensearch_node.url,
        "s3": s3,
    }


def sample_event() -> dict[str, Any]:
    return {"Records": [kinesis_record(load_event(f"logs/{name}.json"), i) for i, name in enumerate(SAMPLES)]}


def emf_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def value(record: dict[str, Any], name: str) -> float:
    """A metric's value in an EMF record (Powertools writes single values as one-element lists)."""
    v = record[name]
    return float(sum(v)) if isinstance(v, list) else float(v)


def received(stack: dict[str, Any]) -> list[dict[str, Any]]:
    messages = []
    while True:
        got = stack["sqs"].receive_message(
            QueueUrl=stack["queue_url"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        batch = got.get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            messages.append(message)
            stack["sqs"].delete_message(QueueUrl=stack["queue_url"], ReceiptHandle=message["ReceiptHandle"])


def test_handler_indexes_emits_metrics_and_alerts_once(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    rt = parser_handler.build_runtime(stack["env"])
    event = sample_event()
    response = parser_handler.handle(event, FakeContext(), rt)
    assert response == {"batchItemFailures": []}

    client = OpenSearch(stack["url"])
    client.indices.refresh(index=f"{stack['prefix']}-*")
    events = sum(len(load_event(f"logs/{n}.json")["logEvents"]) for n in SAMPLES)
    assert client.count(index=f"{stack['prefix']}-*")["count"] == events

    records = emf_lines(capsys.readouterr().out)
    assert records and all(validate_emf(r) == [] for r in records)
    names = {m["Name"] for r in records for d in r["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {
        "Invocations",
        "Timeouts",
        "OutOfMemory",
        "Errors",
        "ColdStarts",
        "Duration",
        "Records",
        "Indexed",
    } <= names
    pipeline = next(r for r in records if "Indexed" in r and "Pipeline" in r)
    assert value(pipeline, "Indexed") == events and value(pipeline, "Records") == len(SAMPLES)

    kinds = sorted(m["MessageAttributes"]["kind"]["StringValue"] for m in received(stack))
    assert "timeout" in kinds and "out_of_memory" in kinds

    # Kinesis redelivers the same batch: nothing indexed twice, nothing counted or alerted twice.
    again = parser_handler.handle(event, FakeContext(), rt)
    assert again == {"batchItemFailures": []}
    client.indices.refresh(index=f"{stack['prefix']}-*")
    assert client.count(index=f"{stack['prefix']}-*")["count"] == events
    records = emf_lines(capsys.readouterr().out)
    assert all("FunctionName" not in r for r in records), "no per-function metrics for a redelivered batch"
    pipeline = next(r for r in records if "Duplicates" in r)
    assert value(pipeline, "Duplicates") == events and value(pipeline, "Indexed") == 0
    assert received(stack) == []


def test_handler_reports_batch_item_failures_when_opensearch_is_down(stack: dict[str, Any]) -> None:
    env = {
        **stack["env"],
        "OPENSEARCH_ENDPOINT": "http://127.0.0.1:9",
        "OPENSEARCH_TIMEOUT_SECONDS": "1",
        "DEADLINE_MARGIN_MS": "0",
    }
    rt = parser_handler.build_runtime(env)
    event = sample_event()
    response = parser_handler.handle(event, FakeContext(remaining_ms=1500), rt)
    assert response == {
        "batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in event["Records"]]
    }
    assert "Contents" not in stack["s3"].list_objects_v2(
        Bucket="dlq"
    )  # nothing dead-lettered for a transient fault
    assert received(stack) == []  # no alerts for records that will come back


def test_handler_dead_letters_poison_records_and_does_not_block(stack: dict[str, Any]) -> None:
    rt = parser_handler.build_runtime(stack["env"])
    response = parser_handler.handle(load_event("kinesis/poison-batch.json"), FakeContext(), rt)
    assert response == {"batchItemFailures": []}
    assert stack["s3"].list_objects_v2(Bucket="dlq")["KeyCount"] == 5  # one object per poison record


def test_invalid_configuration_fails_at_cold_start_naming_the_variable(aws_env: None) -> None:
    from lambdalens.metrics.settings import SettingsError

    with pytest.raises(SettingsError, match="OPENSEARCH_AUTH"):
        parser_handler.build_runtime(
            {
                "OPENSEARCH_ENDPOINT": "https://x.example",
                "OPENSEARCH_AUTH": "password",
                "DEAD_LETTER_BUCKET": "b",
            }
        )
    with pytest.raises(SettingsError, match="DEAD_LETTER_BUCKET"):
        parser_handler.build_runtime(
            {"OPENSEARCH_ENDPOINT": "http://127.0.0.1:9200", "OPENSEARCH_AUTH": "none"}
        )
    with pytest.raises(SettingsError, match="OPENSEARCH_ENDPOINT"):
        parser_handler.build_runtime({"OPENSEARCH_AUTH": "none", "DEAD_LETTER_BUCKET": "b"})


def test_lambda_entry_point_with_the_environment(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in stack["env"].items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(parser_handler, "_runtime", None)
    assert parser_handler.handler(sample_event(), FakeContext()) == {"batchItemFailures": []}


def test_redactions_are_counted_per_rule_and_never_indexed(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    payload = load_event("logs/python-text-cold-start.json")
    secret = "postgres://app:hunter2-Secret@db.internal:5432/shop"
    payload["logEvents"][2]["message"] = (
        f"[INFO]\t2024-05-01T10:00:00.100Z\t{payload['logEvents'][1]['message'].split()[2]}\tconnecting to {secret} password=hunter2\n"
    )
    rt = parser_handler.build_runtime(stack["env"])
    assert parser_handler.handle({"Records": [kinesis_record(payload, 0)]}, FakeContext(), rt) == {
        "batchItemFailures": []
    }
    client = OpenSearch(stack["url"])
    client.indices.refresh(index=f"{stack['prefix']}-*")
    hits = client.search(
        index=f"{stack['prefix']}-*",
        body={"query": {"term": {"log.record.uid": payload["logEvents"][2]["id"]}}},
    )["hits"]["hits"]
    body = hits[0]["_source"]["body"]
    assert "hunter2" not in body and "[REDACTED:url_password]" in body and "[REDACTED:password]" in body
    rules = {r["Rule"]: value(r, "Redactions") for r in emf_lines(capsys.readouterr().out) if "Rule" in r}
    assert rules == {"password": 1.0, "url_password": 1.0}


def test_lambdalens_parse_prints_the_documents_the_handler_indexed(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """``lambdalens parse`` previews what the index holds: the same redaction, the same cut of a too
    long body, event for event, field for field (observedTimestamp aside: when each ran)."""
    from lambdalens.cli.main import main

    secrets = load_event("logs/python-text-cold-start.json")
    rid = secrets["logEvents"][1]["message"].split()[2]
    secrets["logEvents"][2]["message"] = f"[INFO]\t2024-05-01T10:00:00.100Z\t{rid}\tlogin password=hunter2\n"
    long_body = load_event("logs/node-text-invoke-error.json")
    long_body["logEvents"][1]["message"] = long_body["logEvents"][1]["message"][:-1] + " " + "y" * 3000 + "\n"
    event = {"Records": [kinesis_record(p, i) for i, p in enumerate([secrets, long_body])]}
    env = {**stack["env"], "MAX_BODY_CHARS": "2048"}
    rt = parser_handler.build_runtime(env)
    assert parser_handler.handle(event, FakeContext(), rt) == {"batchItemFailures": []}
    client = OpenSearch(stack["url"])
    client.indices.refresh(index=f"{stack['prefix']}-*")
    hits = client.search(index=f"{stack['prefix']}-*", body={"size": 1000, "query": {"match_all": {}}})[
        "hits"
    ]["hits"]
    indexed = {hit["_source"]["log.record.uid"]: hit["_source"] for hit in hits}
    capsys.readouterr()

    for name in ("REDACTION_ENABLED", "REDACTION_RULES", "REDACTION_EMAILS", "REDACTION_IPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MAX_BODY_CHARS", "2048")
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    assert main(["parse", str(path)]) == 0
    printed = {doc["log.record.uid"]: doc for doc in map(json.loads, capsys.readouterr().out.splitlines())}
    assert len(printed) == len(indexed) == len(secrets["logEvents"]) + len(long_body["logEvents"])
    for uid, doc in printed.items():
        doc.pop("observedTimestamp")
        indexed[uid].pop("observedTimestamp")
        assert doc == indexed[uid], uid
    assert "hunter2" not in printed[secrets["logEvents"][2]["id"]]["body"]
    assert printed[long_body["logEvents"][1]["id"]]["lambda.truncated"] is True
