"""Fixtures of the redrive tests: moto (Kinesis, SQS, S3) and an index prefix per test on the
session's local OpenSearch stand-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from indexing.fault_proxy import FaultProxy
from redrive.redrive_support import BUCKET, REGION, Stream, make_stream


@pytest.fixture
def index_prefix() -> str:
    return f"redrive-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def s3(aws_env: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def sqs(aws_env: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="lambdalens-parser-failures")["QueueUrl"])


@pytest.fixture
def kinesis(aws_env: None) -> Any:
    return boto3.client("kinesis", region_name=REGION)


@pytest.fixture
def stream(kinesis: Any) -> Stream:
    return make_stream(kinesis)


@pytest.fixture
def proxy(opensearch_node: Any) -> Iterator[FaultProxy]:
    with FaultProxy(opensearch_node.url) as p:
        yield p
