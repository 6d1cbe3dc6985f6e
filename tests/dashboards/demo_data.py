"""The demo's workload through the real pipeline into a real OpenSearch node, and the numbers its
report shows for it.

The demo application's log lines (``lambdalens.demo.app.Application``, the demo's seed and
scale) are written to CloudWatch Logs and delivered to Kinesis as the demo does
(``CloudWatchLogs``), read by the demo's event source mapping and handed to the real parser
handler, which indexes them into the node under a prefix of the test's own and prints its EMF
metrics; alerts go to SNS with their state in DynamoDB (moto, in process). The report's numbers
are the demo report's own functions (``function_table``, ``pipeline_totals``) over that EMF,
and its fingerprints are the alert state's, as ``lambdalens demo`` reports them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

#: The workload's first log line (2025-11-24T16:00:00Z): the same seed and start, the same data.
START_MS = 1_764_000_000_000
STREAM, BUCKET, TABLE = "demo-logs", "demo-dead-letters", "demo-alert-state"


@dataclass
class DemoData:
    prefix: str
    client: Any
    emf: list[dict[str, Any]]
    functions: dict[str, dict[str, Any]]
    pipeline: dict[str, int]
    fingerprints: list[dict[str, Any]]
    arm64: tuple[str, ...]


def _aws(region: str) -> dict[str, Any]:
    import boto3

    kinesis = boto3.client("kinesis", region_name=region)
    kinesis.create_stream(StreamName=STREAM, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    boto3.client("s3", region_name=region).create_bucket(Bucket=BUCKET)
    topic = boto3.client("sns", region_name=region).create_topic(Name="demo-alerts")["TopicArn"]
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return {"kinesis": kinesis, "logs": boto3.client("logs", region_name=region), "topic": topic}


@contextlib.contextmanager
def aws_in_process() -> Iterator[None]:
    """moto in this process with fake credentials; the environment is restored after."""
    from moto import mock_aws

    fake = {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_SESSION_TOKEN": "demo",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}  # fmt: skip
    saved = {k: os.environ.get(k) for k in [*fake, "AWS_ENDPOINT_URL", "AWS_PROFILE"]}
    os.environ.update(fake)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        with mock_aws():
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def index_demo(url: str, prefix: str, scale: str = "small", seed: int = 42) -> DemoData:
    """Run the demo's workload through the pipeline into ``url`` under ``prefix`` (inside
    :func:`aws_in_process`)."""
    from lambdalens.config import OpenSearchConfig
    from lambdalens.demo.app import Application
    from lambdalens.demo.cloudwatch import CloudWatchLogs
    from lambdalens.demo.esm import EventSourceMapping, MappingSettings
    from lambdalens.demo.report import function_table, pipeline_totals
    from lambdalens.demo.runner import FUNCTIONS, SCALES
    from lambdalens.handlers.parser import build_runtime, handle
    from lambdalens.indexing.bootstrap import bootstrap
    from lambdalens.indexing.client import make_client

    aws = _aws("us-east-1")
    client = make_client(OpenSearchConfig(endpoint=url, auth="none"))
    bootstrap(client, index_prefix=prefix, replicas=0)
    architectures = {name: spec["Architectures"][0] for name, spec in FUNCTIONS.items()}
    runtime = build_runtime(
        {
            **{k: v for k, v in os.environ.items() if k.startswith("AWS_")},
            "OPENSEARCH_ENDPOINT": url, "OPENSEARCH_AUTH": "none", "INDEX_PREFIX": prefix,
            "DEAD_LETTER_BUCKET": BUCKET, "ALERT_TOPIC_ARN": aws["topic"], "ALERT_STATE_TABLE": TABLE,
            "PIPELINE_NAME": "demo", "POWERTOOLS_METRICS_NAMESPACE": "LambdaLens", "ALERT_ERROR_BURST_COUNT": "5",
            "FUNCTION_ARCHITECTURES": json.dumps(architectures),
        }
    )  # fmt: skip
    emf: list[dict[str, Any]] = []

    def parser(event: dict[str, Any], context: Any) -> Any:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            response = handle(event, context, runtime)
        emf.extend(
            orjson.loads(line)
            for line in out.getvalue().splitlines()
            if line.startswith("{") and '"_aws"' in line
        )
        return response

    lines = Application(seed=seed, start_ms=START_MS).run(*SCALES[scale])
    cloudwatch = CloudWatchLogs(aws["logs"], aws["kinesis"], STREAM)
    mapping = EventSourceMapping(
        aws["kinesis"], STREAM, parser, MappingSettings(batch_size=500, batching_window_s=0.1)
    )
    waves = 4
    size = -(-len(lines) // waves)
    for w in range(waves):
        cloudwatch.put(lines[w * size : (w + 1) * size])
        mapping.drain()
    client.indices.refresh(index=f"{prefix}-*")
    assert runtime.alerts is not None
    fingerprints = [dict(f) for f in runtime.alerts.state.list_fingerprints()]
    return DemoData(
        prefix=prefix,
        client=client,
        emf=emf,
        functions=function_table(emf),
        pipeline=pipeline_totals(emf),
        fingerprints=fingerprints,
        arm64=tuple(sorted(n for n, a in architectures.items() if a == "arm64")),
    )


if __name__ == "__main__":  # the README picture: index the demo's data into a running node
    import sys

    if len(sys.argv) < 2:
        sys.exit("usage: python tests/dashboards/demo_data.py URL [PREFIX] [small|full]")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    with aws_in_process():
        data = index_demo(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "lambda-logs", *sys.argv[3:4])
    print(
        f"indexed the demo's documents into {sys.argv[1]} ({data.prefix}-*): {json.dumps(data.functions)[:200]}…"
    )
