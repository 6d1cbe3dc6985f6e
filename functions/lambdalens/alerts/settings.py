"""Alerting settings, parsed once from the environment into a typed, validated object.

Precedence: explicit keyword argument > environment variable > default. A bad value raises
:class:`~lambdalens.settings.SettingsError` naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdalens.alerts.kinds import AlertKind
from lambdalens.alerts.links import DashboardsTarget
from lambdalens.dashboards import ids
from lambdalens.dashboards.links import TENANTS
from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX
from lambdalens.settings import (
    DEFAULT_PIPELINE,
    ENV_INDEX_PREFIX,
    ENV_PIPELINE,
    ENV_REGION,
    SettingsError,
    env_float,
    env_int,
    env_str,
)

ENV_TOPIC_ARN = "ALERT_TOPIC_ARN"
ENV_STATE_TABLE = "ALERT_STATE_TABLE"
ENV_KINDS = "ALERT_KINDS"
ENV_QUIET_PERIOD_MINUTES = "ALERT_QUIET_PERIOD_MINUTES"
ENV_FINGERPRINT_REARM_HOURS = "ALERT_FINGERPRINT_REARM_HOURS"
ENV_ERROR_BURST_COUNT = "ALERT_ERROR_BURST_COUNT"
ENV_ERROR_BURST_WINDOW_MINUTES = "ALERT_ERROR_BURST_WINDOW_MINUTES"
ENV_TIMEOUT_RATIO = "ALERT_TIMEOUT_RATIO"
ENV_REGRESSION_FACTOR = "ALERT_DURATION_REGRESSION_FACTOR"
ENV_REGRESSION_MIN_SAMPLES = "ALERT_DURATION_MIN_SAMPLES"
ENV_REGRESSION_MIN_MS = "ALERT_DURATION_MIN_MS"
ENV_REGRESSION_BASELINE_MINUTES = "ALERT_DURATION_BASELINE_MINUTES"
ENV_DEDUP_HOURS = "ALERT_DEDUP_HOURS"
ENV_MESSAGE_MAX_CHARS = "ALERT_MESSAGE_MAX_CHARS"
ENV_DASHBOARDS_URL = "OPENSEARCH_DASHBOARDS_URL"
ENV_INDEX_PATTERN_ID = "OPENSEARCH_INDEX_PATTERN_ID"
ENV_DASHBOARDS_TENANT = "OPENSEARCH_DASHBOARDS_TENANT"

TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def parse_kinds(raw: str, variable: str = ENV_KINDS) -> frozenset[AlertKind]:
    """``all`` (or empty) or a comma-separated list of kinds; ``-kind`` removes one from all."""
    raw = raw.strip()
    if not raw or raw.lower() == "all":
        return frozenset(AlertKind)
    parts = [p.strip().lower() for p in raw.split(",") if p.strip()]
    valid = {k.value for k in AlertKind}
    names = [p.lstrip("-") for p in parts]
    if any(n not in valid for n in names):
        raise SettingsError(
            variable,
            f"'all' or a comma-separated list of {', '.join(sorted(valid))} (or -kind to exclude)",
            raw,
        )
    if all(p.startswith("-") for p in parts):
        return frozenset(AlertKind) - {AlertKind(n) for n in names}
    if any(p.startswith("-") for p in parts):
        raise SettingsError(variable, "either kinds to include or -kinds to exclude, not both", raw)
    return frozenset(AlertKind(n) for n in names)


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """Everything the alert engine needs; see docs/metrics-and-alerts.md for each variable.

    Alerting is enabled when ``topic_arn`` is set; ``state_table`` is then required.

    Example
    -------
    >>> s = AlertSettings.from_env({"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    ...                             "ALERT_STATE_TABLE": "lambdalens-alerts"})
    >>> s.quiet_period_minutes, s.timeout_ratio
    (15.0, 0.9)
    """

    topic_arn: str | None = None
    state_table: str | None = None
    kinds: frozenset[AlertKind] = field(default_factory=lambda: frozenset(AlertKind))
    quiet_period_minutes: float = 15.0
    fingerprint_rearm_hours: float = 48.0
    error_burst_count: int = 10
    error_burst_window_minutes: float = 5.0
    timeout_ratio: float = 0.9
    regression_factor: float = 3.0
    regression_min_samples: int = 20
    regression_min_ms: float = 1000.0
    regression_baseline_minutes: int = 60
    dedup_hours: float = 48.0
    message_max_chars: int = 500
    dashboards_url: str | None = None
    dashboards_tenant: str | None = None
    index_prefix: str = DEFAULT_INDEX_PREFIX
    index_pattern: str = DEFAULT_INDEX_PREFIX + "-*"
    index_pattern_id: str = ids.index_pattern_id(DEFAULT_INDEX_PREFIX)
    pipeline: str = DEFAULT_PIPELINE
    region: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.topic_arn)

    @property
    def dashboards(self) -> DashboardsTarget | None:
        """Where the Dashboards links point (none without ``OPENSEARCH_DASHBOARDS_URL``); an
        ``OPENSEARCH_INDEX_PATTERN_ID`` other than the shipped index pattern's id is the user's own."""
        if not self.dashboards_url:
            return None
        own = (
            None
            if self.index_pattern_id == ids.index_pattern_id(self.index_prefix)
            else self.index_pattern_id
        )
        return DashboardsTarget(self.dashboards_url, self.index_prefix, self.dashboards_tenant, own)

    @property
    def quiet_ms(self) -> int:
        return int(self.quiet_period_minutes * 60_000)

    @property
    def rearm_ms(self) -> int:
        return int(self.fingerprint_rearm_hours * 3_600_000)

    @property
    def burst_window_ms(self) -> int:
        return int(self.error_burst_window_minutes * 60_000)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> AlertSettings:
        """Read ``os.environ`` (or ``env``); keyword arguments win. Raises ``SettingsError``."""
        e = os.environ if env is None else env
        topic = e.get(ENV_TOPIC_ARN, "").strip() or None
        table = e.get(ENV_STATE_TABLE, "").strip() or None
        topic = overrides.pop("topic_arn", topic)
        table = overrides.pop("state_table", table)
        if topic is not None and not TOPIC_ARN_RE.match(topic):
            raise SettingsError(
                ENV_TOPIC_ARN, "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)", topic
            )
        if table is not None and not TABLE_RE.match(table):
            raise SettingsError(ENV_STATE_TABLE, "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)", table)
        if topic is not None and table is None:
            raise SettingsError(
                ENV_STATE_TABLE, f"set when {ENV_TOPIC_ARN} is set (alert state lives there)", None
            )
        dashboards = e.get(ENV_DASHBOARDS_URL, "").strip().rstrip("/") or None
        if dashboards is not None and not re.match(r"^https?://[^\s/]+", dashboards):
            raise SettingsError(
                ENV_DASHBOARDS_URL,
                "an http(s) URL like https://search-x.us-east-1.es.amazonaws.com/_dashboards",
                dashboards,
            )
        prefix = env_str(e, ENV_INDEX_PREFIX, DEFAULT_INDEX_PREFIX).rstrip("*").rstrip("-")
        pattern = f"{prefix}-*"
        tenant = e.get(ENV_DASHBOARDS_TENANT, "").strip().lower() or None
        if tenant is not None and tenant not in TENANTS:
            raise SettingsError(ENV_DASHBOARDS_TENANT, " | ".join(TENANTS), tenant)
        values: dict[str, Any] = {
            "topic_arn": topic,
            "state_table": table,
            "kinds": parse_kinds(e.get(ENV_KINDS, "")),
            "quiet_period_minutes": env_float(e, ENV_QUIET_PERIOD_MINUTES, 15.0, minimum=0),
            "fingerprint_rearm_hours": env_float(e, ENV_FINGERPRINT_REARM_HOURS, 48.0, minimum=0),
            "error_burst_count": env_int(e, ENV_ERROR_BURST_COUNT, 10, minimum=1),
            "error_burst_window_minutes": env_float(
                e, ENV_ERROR_BURST_WINDOW_MINUTES, 5.0, minimum=0, strict_min=True
            ),
            "timeout_ratio": env_float(e, ENV_TIMEOUT_RATIO, 0.9, minimum=0, maximum=1, strict_min=True),
            "regression_factor": env_float(e, ENV_REGRESSION_FACTOR, 3.0, minimum=1, strict_min=True),
            "regression_min_samples": env_int(e, ENV_REGRESSION_MIN_SAMPLES, 20, minimum=1),
            "regression_min_ms": env_float(e, ENV_REGRESSION_MIN_MS, 1000.0, minimum=0),
            "regression_baseline_minutes": env_int(e, ENV_REGRESSION_BASELINE_MINUTES, 60, minimum=1),
            "dedup_hours": env_float(e, ENV_DEDUP_HOURS, 48.0, minimum=1),
            "message_max_chars": env_int(e, ENV_MESSAGE_MAX_CHARS, 500, minimum=40),
            "dashboards_url": dashboards,
            "dashboards_tenant": tenant,
            "index_prefix": prefix,
            "index_pattern": pattern,
            "index_pattern_id": env_str(e, ENV_INDEX_PATTERN_ID, ids.index_pattern_id(prefix)),
            "pipeline": env_str(e, ENV_PIPELINE, DEFAULT_PIPELINE),
            "region": e.get(ENV_REGION) or None,
        }
        values.update(overrides)
        return cls(**values)
