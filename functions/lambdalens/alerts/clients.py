"""boto3 clients for alerting with timeouts that fit inside a Lambda deadline."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

#: Short timeouts, no SDK retries for SNS (the :class:`Publisher` retries within the deadline).
SNS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1, "mode": "standard"})
#: DynamoDB: short timeouts, a few adaptive retries (state writes are small and idempotent).
DYNAMODB_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 3, "mode": "standard"})
LAMBDA_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})


def sns_client(region: str | None = None) -> Any:
    return boto3.client("sns", region_name=region, config=SNS_CONFIG)


def state_table(name: str, region: str | None = None) -> Any:
    return boto3.resource("dynamodb", region_name=region, config=DYNAMODB_CONFIG).Table(name)


def lambda_client(region: str | None = None) -> Any:
    return boto3.client("lambda", region_name=region, config=LAMBDA_CONFIG)
