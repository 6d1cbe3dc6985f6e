"""What to subscribe and where, from the environment or from custom-resource properties.

The subscriber Lambda reads its environment for the EventBridge path and its custom-resource
properties for the deploy-time backfill; both hold the same settings under the names below.
List values are JSON arrays (``["/aws/lambda/app-"]``) or comma-separated strings.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

#: ARN of the Kinesis stream (same account) or CloudWatch Logs destination (cross-account).
ENV_DESTINATION_ARN: Final = "DESTINATION_ARN"
#: Role CloudWatch Logs assumes to write to a Kinesis stream; empty for a Logs destination.
ENV_DESTINATION_ROLE_ARN: Final = "DESTINATION_ROLE_ARN"
#: Name of lambdalens' subscription filter on every log group (default ``lambdalens``).
ENV_FILTER_NAME: Final = "FILTER_NAME"
#: CloudWatch Logs filter pattern (default ``""``: every event).
ENV_FILTER_PATTERN: Final = "FILTER_PATTERN"
#: Exact log group names to subscribe.
ENV_LOG_GROUP_NAMES: Final = "LOG_GROUP_NAMES"
#: Log group name prefixes to subscribe.
ENV_LOG_GROUP_PREFIXES: Final = "LOG_GROUP_PREFIXES"
#: Log groups never subscribed (the pipeline's own: a feedback loop otherwise). An entry that
#: ends with ``*`` excludes a prefix.
ENV_EXCLUDE_LOG_GROUPS: Final = "EXCLUDE_LOG_GROUPS"

#: Custom-resource property name of each environment variable.
PROPERTY_NAMES: Final[Mapping[str, str]] = {
    ENV_DESTINATION_ARN: "DestinationArn",
    ENV_DESTINATION_ROLE_ARN: "RoleArn",
    ENV_FILTER_NAME: "FilterName",
    ENV_FILTER_PATTERN: "FilterPattern",
    ENV_LOG_GROUP_NAMES: "LogGroupNames",
    ENV_LOG_GROUP_PREFIXES: "LogGroupPrefixes",
    ENV_EXCLUDE_LOG_GROUPS: "ExcludeLogGroups",
}

DEFAULT_FILTER_NAME: Final = "lambdalens"

#: Characters CloudWatch Logs allows in a log group name (a prefix or exclusion may end in ``*``).
LOG_GROUP_NAME: Final = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}\*?")


class SettingsError(ValueError):
    """A setting is missing or has a value the subscriber cannot use."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


@dataclass(frozen=True, slots=True)
class SubscriptionSettings:
    """Where log groups are subscribed and which ones.

    Parameters
    ----------
    destination_arn:
        Kinesis stream ARN (same account) or CloudWatch Logs destination ARN (cross-account).
    role_arn:
        Role CloudWatch Logs assumes to put records into a Kinesis stream; ``None`` for a
        Logs destination (its own role is used).
    filter_name:
        Name of lambdalens' filter: how lambdalens recognises its own slot.
    filter_pattern:
        CloudWatch Logs filter pattern (``""`` forwards every event).
    log_group_names, log_group_prefixes:
        Exact names and name prefixes to subscribe.
    exclude_log_groups:
        Names never subscribed, even when selected (entries ending in ``*`` are prefixes).

    Example
    -------
    >>> SubscriptionSettings.from_env({"DESTINATION_ARN": "arn:aws:kinesis:eu-west-1:1:stream/s",
    ...     "DESTINATION_ROLE_ARN": "arn:aws:iam::1:role/r", "LOG_GROUP_PREFIXES": "/aws/lambda/"}
    ... ).log_group_prefixes
    ('/aws/lambda/',)
    """

    destination_arn: str
    role_arn: str | None = None
    filter_name: str = DEFAULT_FILTER_NAME
    filter_pattern: str = ""
    log_group_names: tuple[str, ...] = ()
    log_group_prefixes: tuple[str, ...] = ()
    exclude_log_groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.destination_arn.startswith("arn:"):
            raise SettingsError(ENV_DESTINATION_ARN, f"must be an ARN, got {self.destination_arn!r}")
        if self.needs_role and not self.role_arn:
            raise SettingsError(ENV_DESTINATION_ROLE_ARN, "is required for a Kinesis or Firehose destination")
        if not self.filter_name or len(self.filter_name) > 512 or any(c in self.filter_name for c in ":*"):
            raise SettingsError(
                ENV_FILTER_NAME, f"must be 1-512 characters without ':' or '*', got {self.filter_name!r}"
            )

    @property
    def destination_service(self) -> str:
        """``kinesis``, ``firehose``, ``logs`` (a cross-account destination) or ``lambda``."""
        parts = self.destination_arn.split(":", 5)
        return parts[2] if len(parts) > 2 else ""

    @property
    def needs_role(self) -> bool:
        return self.destination_service in ("kinesis", "firehose")

    @property
    def distribution(self) -> str | None:
        """``Random`` spreads a log group over every shard; only Kinesis streams take it."""
        return "Random" if self.destination_service == "kinesis" else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SubscriptionSettings:
        """Settings from environment variables (``os.environ`` by default)."""
        source = os.environ if env is None else env
        return cls._build(source.get)

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> SubscriptionSettings:
        """Settings from custom-resource properties (``DestinationArn``, ``LogGroupNames``, ...)."""
        return cls._build(lambda name: properties.get(PROPERTY_NAMES[name]))

    @classmethod
    def _build(cls, get: Callable[[str], Any]) -> SubscriptionSettings:
        destination = _text(get(ENV_DESTINATION_ARN))
        if not destination:
            raise SettingsError(ENV_DESTINATION_ARN, "is required")
        return cls(
            destination_arn=destination,
            role_arn=_text(get(ENV_DESTINATION_ROLE_ARN)) or None,
            filter_name=_text(get(ENV_FILTER_NAME)) or DEFAULT_FILTER_NAME,
            filter_pattern=_text(get(ENV_FILTER_PATTERN)),
            log_group_names=_log_groups(ENV_LOG_GROUP_NAMES, get(ENV_LOG_GROUP_NAMES)),
            log_group_prefixes=_log_groups(ENV_LOG_GROUP_PREFIXES, get(ENV_LOG_GROUP_PREFIXES)),
            exclude_log_groups=_log_groups(ENV_EXCLUDE_LOG_GROUPS, get(ENV_EXCLUDE_LOG_GROUPS)),
        )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _log_groups(name: str, value: Any) -> tuple[str, ...]:
    items = parse_list(name, value)
    for item in items:
        if not LOG_GROUP_NAME.fullmatch(item):
            raise SettingsError(name, f"{item!r} is not a log group name (letters, digits, _ - / . #)")
    return items


def parse_list(name: str, value: Any) -> tuple[str, ...]:
    """A JSON array, a comma-separated string or a list -> a tuple of unique non-empty strings."""
    if value is None or value == "":
        return ()
    items: Any = value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SettingsError(name, f"is not a valid JSON array: {exc}") from None
        else:
            items = text.split(",")
    if not isinstance(items, list | tuple):
        raise SettingsError(name, f"must be a list of strings, got {type(items).__name__}")
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise SettingsError(name, f"must contain strings only, got {item!r}")
        stripped = item.strip()
        if stripped and stripped not in result:
            result.append(stripped)
    return tuple(result)
