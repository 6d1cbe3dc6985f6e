"""Runs the demo: local servers up, the application's logs through the real pipeline, the report."""

from __future__ import annotations

import contextlib
import io
import os
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any

import orjson

from lambdalens.demo.app import REGION, Application, Expected
from lambdalens.demo.cloudwatch import CloudWatchLogs
from lambdalens.demo.esm import EventSourceMapping, MappingSettings, MappingStats, on_failure_to_sqs
from lambdalens.demo.servers import LocalServers, local_servers
from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX

STREAM = "lambdalens-logs"
BUCKET = "lambdalens-dead-letters"
TOPIC = "lambdalens-alerts"
TABLE = "lambdalens-alert-state"
INDEX_PREFIX = DEFAULT_INDEX_PREFIX

#: The application's functions as deployed (GetFunctionConfiguration answers with these).
FUNCTIONS = {
    "view-post": {"Runtime": "python3.12", "MemorySize": 256, "Timeout": 3, "Architectures": ["arm64"]},
    "new-post": {"Runtime": "nodejs20.x", "MemorySize": 512, "Timeout": 10, "Architectures": ["arm64"]},
    "request-processor": {
        "Runtime": "python3.12",
        "MemorySize": 256,
        "Timeout": 30,
        "Architectures": ["x86_64"],
    },
    "post-analysis": {"Runtime": "java21", "MemorySize": 1024, "Timeout": 60, "Architectures": ["x86_64"]},
}
SCALES = {"small": (30, 60), "full": (150, 400)}


@dataclass
class DemoRun:
    """Everything the report is made from."""

    expected: Expected
    emf: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    fingerprints: list[dict[str, Any]]
    esm: MappingStats
    log_lines: int
    deliveries: int
    opensearch_url: str
    engine: dict[str, str]
    engine_note: str
    documents: int
    dead_letters: int
    on_failure_messages: int
    transaction: Any = None
    timings: dict[str, float] = field(default_factory=dict)


def _provision(servers: LocalServers) -> dict[str, Any]:
    import boto3

    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName=STREAM, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    alerts_queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    alerts_arn = sqs.get_queue_attributes(QueueUrl=alerts_queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=alerts_arn, Attributes={"RawMessageDelivery": "true"}
    )
    failure_queue = sqs.create_queue(QueueName="lambdalens-parser-on-failure")["QueueUrl"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    iam = boto3.client("iam", region_name=REGION)
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    role = iam.create_role(RoleName="demo-app", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return None\n")
    lam = boto3.client("lambda", region_name=REGION)
    for name, spec in FUNCTIONS.items():
        lam.create_function(
            FunctionName=name, Role=role, Handler="app.handler", Code={"ZipFile": code.getvalue()}, **spec
        )
    return {"kinesis": kinesis, "sqs": sqs, "alerts_queue": alerts_queue, "failure_queue": failure_queue, "topic": topic,
            "logs": boto3.client("logs", region_name=REGION), "s3": boto3.client("s3", region_name=REGION)}  # fmt: skip


def _parser_env(servers: LocalServers, topic: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_")},
        "OPENSEARCH_ENDPOINT": servers.opensearch_url,
        "OPENSEARCH_AUTH": "none",
        "INDEX_PREFIX": INDEX_PREFIX,
        "DEAD_LETTER_BUCKET": BUCKET,
        "ALERT_TOPIC_ARN": topic,
        "ALERT_STATE_TABLE": TABLE,
        "OPENSEARCH_DASHBOARDS_URL": "http://localhost:5601",
        "POWERTOOLS_METRICS_NAMESPACE": "LambdaLens",
        "PIPELINE_NAME": "demo",
        "ALERT_ERROR_BURST_COUNT": "5",
    }


def _drain_queue(sqs: Any, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        )
        messages = got.get("Messages", [])
        if not messages:
            return out
        for m in messages:
            out.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _alerts(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in messages:
        attrs = {k: v.get("StringValue") for k, v in m.get("MessageAttributes", {}).items()}
        try:
            body = orjson.loads(m["Body"])
        except orjson.JSONDecodeError:
            body = {"text": m["Body"]}
        alert = body.get("alert") if isinstance(body, dict) else None
        out.append({
            "kind": attrs.get("kind"),
            "severity": attrs.get("severity"),
            "function": attrs.get("function"),
            "subject": (alert or {}).get("subject") or (body.get("content", {}) if isinstance(body, dict) else {}).get("title"),
            "body": body,
        })  # fmt: skip
    return out


def _failing_transaction(client: Any) -> Any:
    """Start from the first unhandled error in the index and follow its transaction upstream."""
    from lambdalens.search import find_transaction

    hits = client.search(
        index=f"{INDEX_PREFIX}-*",
        body={
            "size": 1,
            "sort": [{"@timestamp": "asc"}],
            "query": {"term": {"lambda.event_type": "unhandled_error"}},
        },
    )["hits"]["hits"]
    if not hits:
        return None
    doc = hits[0]["_source"]
    key = doc.get("correlation_id") or doc.get("traceId") or doc.get("faas.invocation_id")
    return find_transaction(client, key, index_prefix=INDEX_PREFIX) if key else None


def _say_engine(say: Any, servers: LocalServers) -> None:
    node = servers.node
    where = f" on {servers.opensearch_url}"
    if node is not None:
        where += f" (pid {node.pid}, started in {node.startup_s:.1f} s)"
    say(f"engine: {servers.engine_note}{where}")
    say(f"moto (AWS) on {servers.aws_url}")


def run_demo(
    scale: str = "full",
    seed: int = 42,
    progress: Any = None,
    engine: str = "auto",
    start_ms: int | None = None,
) -> DemoRun:
    """Run the pipeline on the demo application; returns what the report needs.

    ``engine`` is ``auto``, ``opensearch`` or ``stand-in`` (see ``servers``); the workload's first
    log line is at ``start_ms`` (default: 30 minutes ago): the same seed and start, the same report.
    """
    say = progress or (lambda message: None)
    transactions, reads = SCALES[scale]
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with local_servers(engine, log=say) as servers:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LambdaLens")
        _say_engine(say, servers)
        if servers.node is not None:
            timings["engine_startup_s"] = servers.node.startup_s
        aws = _provision(servers)
        from lambdalens.config import OpenSearchConfig
        from lambdalens.indexing.bootstrap import bootstrap
        from lambdalens.indexing.client import make_client

        client = make_client(OpenSearchConfig(endpoint=servers.opensearch_url, auth="none"))
        bootstrap(client, index_prefix=INDEX_PREFIX, retention_days=30)
        timings["setup_s"] = time.perf_counter() - t0

        from lambdalens.handlers.parser import build_runtime, handle

        runtime = build_runtime(_parser_env(servers, aws["topic"]))
        emf: list[dict[str, Any]] = []

        def parser_lambda(event: dict[str, Any], context: Any) -> Any:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                response = handle(event, context, runtime)
            for line in out.getvalue().splitlines():
                if line.startswith("{") and '"_aws"' in line:
                    emf.append(orjson.loads(line))
            return response

        if start_ms is None:
            start_ms = int(time.time() * 1000) - 30 * 60 * 1000
        app = Application(seed=seed, start_ms=start_ms)
        lines = app.run(transactions, reads)
        say(f"application wrote {len(lines)} log lines across {len(FUNCTIONS)} functions")
        cloudwatch = CloudWatchLogs(aws["logs"], aws["kinesis"], STREAM)
        mapping = EventSourceMapping(
            aws["kinesis"], STREAM, parser_lambda, MappingSettings(batch_size=500, batching_window_s=0.1),
            on_failure=on_failure_to_sqs(aws["sqs"], aws["failure_queue"]),
        )  # fmt: skip
        t1 = time.perf_counter()
        waves = 4
        size = -(-len(lines) // waves)
        for w in range(waves):
            cloudwatch.put(lines[w * size : (w + 1) * size])
            mapping.drain()
            say(
                f"wave {w + 1}/{waves}: {mapping.stats.invocations} parser invocations, {mapping.stats.records} records so far"
            )
        timings["pipeline_s"] = time.perf_counter() - t1

        client.indices.refresh(index=f"{INDEX_PREFIX}-*")
        documents = int(client.count(index=f"{INDEX_PREFIX}-*")["count"])
        alerts = _alerts(_drain_queue(aws["sqs"], aws["alerts_queue"]))
        on_failure = len(_drain_queue(aws["sqs"], aws["failure_queue"]))
        dead_letters = aws["s3"].list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)

        fingerprints: list[dict[str, Any]] = []
        if runtime.alerts is not None:
            fingerprints = [
                dict(f) if isinstance(f, dict) else vars(f) for f in runtime.alerts.state.list_fingerprints()
            ]

        transaction = _failing_transaction(client)
        if servers.node is not None:
            say(f"OpenSearch node: {documents} documents, {servers.node.rss_mb():.0f} MB RSS")
        timings["total_s"] = time.perf_counter() - t0
        return DemoRun(
            expected=app.expected,
            emf=emf,
            alerts=alerts,
            fingerprints=fingerprints,
            esm=mapping.stats,
            log_lines=len(lines),
            deliveries=cloudwatch.deliveries,
            opensearch_url=servers.opensearch_url,
            engine=servers.engine,
            engine_note=servers.engine_note,
            documents=documents,
            dead_letters=dead_letters,
            on_failure_messages=on_failure,
            transaction=transaction,
            timings=timings,
        )
