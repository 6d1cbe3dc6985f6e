"""Helpers shared by the subscription tests (a uniquely named module: tests/ has no packages)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
EVENTS = Path(__file__).parent / "events"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/lambdalens-cwl-to-kinesis"
#: The pipeline's own log groups: never subscribed, whatever the prefixes say.
OWN_GROUPS = ("/aws/lambda/lambdalens-parser", "/aws/lambda/lambdalens-subscriber")


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def filters_of(logs: Any, group: str) -> dict[str, dict[str, Any]]:
    """The group's subscription filters by name."""
    return {
        f["filterName"]: f
        for f in logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    }


def add_other_filter(logs: Any, group: str, name: str, destination: str) -> None:
    """A filter of another tool (never to be touched by lambdalens)."""
    logs.put_subscription_filter(
        logGroupName=group,
        filterName=name,
        filterPattern="ERROR",
        destinationArn=destination,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}",
    )
