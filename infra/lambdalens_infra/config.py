"""Configuration of a lambdalens pipeline: typed props, read from CDK context and validated at synth.

Every setting is a dataclass field that names its CDK context key (``cdk.json`` defaults,
``-c key=value`` overrides). :func:`PipelineConfig.from_context` reads, converts and checks
them; constructing the dataclasses directly (from another CDK app) runs the same checks. A bad
value raises :class:`ConfigError` naming the context key, what it expects and what it got.

Values from ``-c`` arrive as strings: numbers, ``true``/``false``, and lists (a JSON array or
comma-separated) are converted; ``cdk.json`` may use JSON types directly.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Final, TypeVar, Union

T = TypeVar("T")

#: Retention values CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS: Final = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
#: Characters CloudWatch Logs allows in a log group name.
LOG_GROUP_NAME: Final = r"[.\-_/#A-Za-z0-9]{1,512}"
EMAIL: Final = r"[^@\s,]+@[^@\s,]+\.[^@\s,]+"
HTTPS_URL: Final = r"https://[^\s,]+"
ARN_PARTITION: Final = r"arn:aws[a-z\-]*"
#: Runtimes the Lambda bundle is built for (wheels are installed for the matching CPython).
LAMBDA_RUNTIMES: Final = ("python3.12", "python3.13", "python3.14")
#: Account-level subscription filter policies accept at most this many excluded log groups.
ACCOUNT_POLICY_MAX_EXCLUSIONS: Final = 50


class ConfigError(ValueError):
    """A context value (or construct prop) lambdalens cannot use; ``key`` is the context key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"context '{key}': {message}")
        self.key = key


def setting(
    key: str,
    default: T,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[Any, ...] | None = None,
    pattern: str | None = None,
    env: str | None = None,
    hint: str = "",
) -> T:
    """A configuration field: its context key, default and constraints.

    ``pattern`` applies to a string, or to each item of a list; ``env`` names the parser
    environment variable that carries the value (alert thresholds).
    """
    metadata = {
        "key": key,
        "lo": lo,
        "hi": hi,
        "choices": choices,
        "pattern": pattern,
        "env": env,
        "hint": hint,
    }
    result: T = field(default=default, metadata=metadata)
    return result


def _check_field(name: str, value: Any, metadata: Mapping[str, Any]) -> None:
    key = metadata["key"]
    hint = f" ({metadata['hint']})" if metadata.get("hint") else ""
    if value is None:
        return
    choices = metadata.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(key, f"must be one of {', '.join(map(str, choices))}; got {value!r}{hint}")
    lo, hi = metadata.get("lo"), metadata.get("hi")
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and ((lo is not None and value < lo) or (hi is not None and value > hi)):
        raise ConfigError(key, f"must be between {lo} and {hi}; got {value!r}{hint}")
    pattern = metadata.get("pattern")
    if pattern is not None:
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if not isinstance(item, str) or not re.fullmatch(pattern, item):
                raise ConfigError(key, f"{item!r} is not valid (expected to match {pattern}){hint}")


class _Validated:
    """Mixin: lists become tuples and every field is checked against its metadata on creation."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, list):
                value = tuple(value)
                object.__setattr__(self, f.name, value)
            if f.metadata:
                _check_field(f.name, value, f.metadata)
        self.validate()

    def validate(self) -> None:
        """Checks across fields (overridden where needed)."""


@dataclass(frozen=True)
class SubscriptionConfig(_Validated):
    """Which log groups feed the pipeline, and how."""

    mode: str = setting(
        "subscriptionMode",
        "filters",
        choices=("filters", "account-policy"),
        hint="filters: a subscription filter per selected group (names, prefixes, new groups via EventBridge); "
        "account-policy: one account-level subscription filter policy for every group but the excluded ones",
    )
    log_group_names: tuple[str, ...] = setting("logGroupNames", (), pattern=LOG_GROUP_NAME)
    log_group_prefixes: tuple[str, ...] = setting(
        "logGroupPrefixes", (), pattern=LOG_GROUP_NAME, hint="use '/' to select every log group"
    )
    exclude_log_groups: tuple[str, ...] = setting(
        "excludeLogGroups",
        (),
        pattern=LOG_GROUP_NAME + r"\*?",
        hint="exact names; a trailing * excludes a prefix",
    )
    filter_pattern: str = setting("filterPattern", "", pattern=r"[^\n]{0,1024}")

    def validate(self) -> None:
        if self.mode == "account-policy":
            prefixed = [e for e in self.exclude_log_groups if e.endswith("*")]
            if prefixed:
                raise ConfigError(
                    "excludeLogGroups",
                    f"an account policy excludes exact names only; remove the prefix exclusions {prefixed}",
                )


@dataclass(frozen=True)
class StreamConfig(_Validated):
    """The Kinesis Data Stream between CloudWatch Logs and the parser."""

    mode: str = setting("kinesisMode", "on-demand", choices=("on-demand", "provisioned"))
    shard_count: int = setting("kinesisShardCount", 1, lo=1, hi=500, hint="provisioned mode only")
    retention_hours: int = setting(
        "streamRetentionHours",
        24,
        lo=24,
        hi=8760,
        hint="redrive from the on-failure queue works while records are retained",
    )


@dataclass(frozen=True)
class EventSourceConfig(_Validated):
    """The parser's Kinesis event source mapping and the parser function's size."""

    batch_size: int = setting("batchSize", 500, lo=1, hi=10000)
    max_batching_window_seconds: int = setting("maxBatchingWindowSeconds", 5, lo=0, hi=300)
    parallelization_factor: int = setting("parallelizationFactor", 2, lo=1, hi=10)
    retry_attempts: int = setting(
        "retryAttempts", 3, lo=0, hi=10000, hint="unbounded retries would block a shard on one bad batch"
    )
    max_record_age_seconds: int = setting(
        "maxRecordAgeSeconds", 3600, lo=60, hi=604800, hint="older records go to the on-failure queue"
    )
    parser_memory_mb: int = setting("parserMemoryMb", 1024, lo=128, hi=10240)
    parser_timeout_seconds: int = setting("parserTimeoutSeconds", 120, lo=10, hi=900)


OPENSEARCH_AUTH_MODES: Final = ("sigv4", "aoss", "basic", "none")


@dataclass(frozen=True)
class OpenSearchConfig(_Validated):
    """Create an OpenSearch Service domain (default) or use an existing endpoint."""

    endpoint: str | None = setting(
        "openSearchEndpoint", None, pattern=r"https://[^\s/]+/?", hint="set it to use an existing endpoint"
    )
    auth: str = setting(
        "openSearchAuth", "sigv4", choices=OPENSEARCH_AUTH_MODES, hint="existing endpoint only"
    )
    secret_arn: str | None = setting(
        "openSearchSecretArn",
        None,
        pattern=ARN_PARTITION + r":secretsmanager:[a-z0-9\-]+:\d{12}:secret:[\w/+=.@\-]+",
    )
    secret_key_arn: str | None = setting(
        "openSearchSecretKeyArn", None, pattern=ARN_PARTITION + r":kms:[a-z0-9\-]+:\d{12}:key/[\w\-]+"
    )
    domain_arn: str | None = setting(
        "openSearchDomainArn",
        None,
        pattern=ARN_PARTITION + r":es:[a-z0-9\-]+:\d{12}:domain/[a-z][a-z0-9\-]{2,27}",
    )
    collection_arn: str | None = setting(
        "openSearchCollectionArn",
        None,
        pattern=ARN_PARTITION + r":aoss:[a-z0-9\-]+:\d{12}:collection/[a-z0-9]+",
    )
    dashboards_url: str | None = setting("openSearchDashboardsUrl", None, pattern=HTTPS_URL)
    domain_name: str = setting("openSearchDomainName", "lambdalens", pattern=r"[a-z][a-z0-9\-]{2,27}")
    version: str = setting("openSearchVersion", "OpenSearch_2.19", pattern=r"OpenSearch_\d+\.\d+")
    instance_type: str = setting(
        "openSearchInstanceType", "m7g.large.search", pattern=r"[a-z0-9]+\.[a-z0-9]+\.search"
    )
    instance_count: int = setting("openSearchInstanceCount", 2, lo=1, hi=80)
    ebs_volume_gb: int = setting("openSearchEbsVolumeGb", 100, lo=10, hi=24576)
    zone_awareness: bool = setting("openSearchZoneAwareness", True)
    availability_zones: int = setting("openSearchAvailabilityZones", 2, choices=(2, 3))
    dedicated_master_count: int = setting("openSearchDedicatedMasterCount", 0, choices=(0, 3, 5))
    dedicated_master_type: str = setting(
        "openSearchDedicatedMasterType", "m7g.large.search", pattern=r"[a-z0-9]+\.[a-z0-9]+\.search"
    )
    free_storage_alarm_mb: int = setting(
        "openSearchFreeStorageAlarmMb", 0, lo=0, hi=10**8, hint="0: 25% of the EBS volume of a created domain"
    )
    index_prefix: str = setting("indexPrefix", "lambda-logs", pattern=r"[a-z0-9][a-z0-9_\-]{0,99}")
    retention_days: int = setting(
        "retentionDays", 30, lo=1, hi=3650, hint="days an index is kept (ISM policy)"
    )
    bootstrap: bool = setting("openSearchBootstrap", True, hint="run `lambdalens bootstrap` at deploy")
    dashboards_import: bool = setting(
        "openSearchDashboardsImport",
        True,
        hint="import the Dashboards saved objects (Lambda overview, Function drill-down) at deploy, "
        "with openSearchBootstrap",
    )
    dashboards_tenant: str = setting(
        "openSearchDashboardsTenant", "global", choices=("global", "private"), hint="tenant of the import"
    )

    @property
    def create_domain(self) -> bool:
        return self.endpoint is None

    @property
    def domain_name_for_alarms(self) -> str | None:
        """The domain whose CloudWatch metrics lambdalens alarms on (created, or from its ARN)."""
        if self.create_domain:
            return self.domain_name
        if self.domain_arn:
            return self.domain_arn.rsplit("/", 1)[1]
        return None

    def validate(self) -> None:
        if self.create_domain:
            if self.zone_awareness and self.instance_count % self.availability_zones:
                raise ConfigError(
                    "openSearchInstanceCount",
                    f"must be a multiple of openSearchAvailabilityZones ({self.availability_zones}) with zone "
                    f"awareness; got {self.instance_count} (or set openSearchZoneAwareness=false)",
                )
            return
        if self.auth == "basic" and not self.secret_arn:
            raise ConfigError("openSearchSecretArn", "is required with openSearchAuth=basic")
        if self.auth == "sigv4" and not self.domain_arn:
            raise ConfigError(
                "openSearchDomainArn", "is required with openSearchAuth=sigv4 (the parser's IAM policy)"
            )
        if self.auth == "aoss" and not self.collection_arn:
            raise ConfigError("openSearchCollectionArn", "is required with openSearchAuth=aoss")


@dataclass(frozen=True)
class AlertConfig(_Validated):
    """Who is told (SNS subscriptions), the parser's alert thresholds, and the CloudWatch alarms."""

    emails: tuple[str, ...] = setting("alertEmails", (), pattern=EMAIL)
    https_endpoints: tuple[str, ...] = setting("alertHttpsEndpoints", (), pattern=HTTPS_URL)
    quiet_period_minutes: int = setting(
        "alertQuietPeriodMinutes", 15, lo=1, hi=1440, env="ALERT_QUIET_PERIOD_MINUTES"
    )
    error_burst_count: int = setting(
        "alertErrorBurstCount", 10, lo=1, hi=100000, env="ALERT_ERROR_BURST_COUNT"
    )
    error_burst_window_minutes: int = setting(
        "alertErrorBurstWindowMinutes", 5, lo=1, hi=1440, env="ALERT_ERROR_BURST_WINDOW_MINUTES"
    )
    timeout_ratio: float = setting("alertTimeoutRatio", 0.9, lo=0.05, hi=1.0, env="ALERT_TIMEOUT_RATIO")
    fingerprint_rearm_hours: int = setting(
        "alertFingerprintRearmHours", 48, lo=1, hi=8760, env="ALERT_FINGERPRINT_REARM_HOURS"
    )
    duration_regression_factor: float = setting(
        "alertDurationRegressionFactor", 3.0, lo=1.1, hi=100.0, env="ALERT_DURATION_REGRESSION_FACTOR"
    )
    function_errors_threshold: int = setting(
        "alarmFunctionErrors", 10, lo=1, hi=1_000_000, hint="errors per 5 minutes, 2 periods in a row"
    )
    iterator_age_seconds: int = setting("alarmIteratorAgeSeconds", 300, lo=60, hi=604800)

    def parser_environment(self) -> dict[str, str]:
        """The ``ALERT_*`` environment variables of the parser."""
        return {f.metadata["env"]: str(getattr(self, f.name)) for f in fields(self) if f.metadata.get("env")}


@dataclass(frozen=True)
class RedactionSettings(_Validated):
    """What the parser redacts before indexing and alerting (see README, Security).

    Checked at synth with the parser's own configuration code, so an invalid rule fails
    ``cdk synth`` rather than the parser's cold start.
    """

    enabled: bool = setting("redactionEnabled", True, env="REDACTION_ENABLED")
    emails: bool = setting("redactionEmails", False, env="REDACTION_EMAILS")
    ip_addresses: bool = setting("redactionIps", False, env="REDACTION_IPS")
    rules: str = setting(
        "redactionRules", "", env="REDACTION_RULES", hint='a JSON list of {"name", "pattern", "replacement"}'
    )
    allow_fields: tuple[str, ...] = setting("redactionAllowFields", (), env="REDACTION_ALLOW_FIELDS")
    disable_rules: tuple[str, ...] = setting("redactionDisableRules", (), env="REDACTION_DISABLE_RULES")

    def parser_environment(self) -> dict[str, str]:
        """The ``REDACTION_*`` environment variables of the parser."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                out[f.metadata["env"]] = "true" if value else "false"
            elif isinstance(value, tuple):
                if value:
                    out[f.metadata["env"]] = json.dumps(list(value))
            elif value:
                out[f.metadata["env"]] = value
        return out

    def validate(self) -> None:
        from lambdalens.redaction import RedactionConfig, RedactionConfigError

        try:
            RedactionConfig.from_env(self.parser_environment())
        except RedactionConfigError as exc:
            key = {f.metadata["env"]: f.metadata["key"] for f in fields(self)}.get(
                getattr(exc, "variable", ""), "redactionRules"
            )
            raise ConfigError(key, str(exc)) from None


@dataclass(frozen=True)
class PipelineConfig(_Validated):
    """Everything a :class:`~lambdalens_infra.pipeline.LambdaLensPipeline` needs.

    Example
    -------
    >>> PipelineConfig(subscriptions=SubscriptionConfig(log_group_prefixes=("/aws/lambda/",))).pipeline_name
    'lambdalens'
    """

    pipeline_name: str = setting(
        "pipelineName",
        "lambdalens",
        pattern=r"[a-z][a-z0-9\-]{2,27}",
        hint="the Pipeline metric dimension and filter name",
    )
    metrics_namespace: str = setting("metricsNamespace", "LambdaLens", pattern=r"[A-Za-z0-9._/#:\-]{1,255}")
    lambda_runtime: str = setting("lambdaRuntime", "python3.13", choices=LAMBDA_RUNTIMES)
    log_retention_days: int = setting(
        "logRetentionDays", 30, choices=LOG_RETENTION_DAYS, hint="the pipeline's own CloudWatch log groups"
    )
    dead_letter_retention_days: int = setting("deadLetterRetentionDays", 30, lo=1, hi=3650)
    removal_policy: str = setting(
        "removalPolicy",
        "retain",
        choices=("retain", "destroy"),
        hint="dead letters, search domain, keys, secret",
    )
    source_account_ids: tuple[str, ...] = setting(
        "sourceAccountIds",
        (),
        pattern=r"\d{12}",
        hint="accounts allowed to send logs to the cross-account destination",
    )
    subscriptions: SubscriptionConfig = field(default_factory=SubscriptionConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    event_source: EventSourceConfig = field(default_factory=EventSourceConfig)
    opensearch: OpenSearchConfig = field(default_factory=OpenSearchConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)
    redaction: RedactionSettings = field(default_factory=RedactionSettings)

    def validate(self) -> None:
        subs = self.subscriptions
        if subs.mode == "filters" and not (
            subs.log_group_names or subs.log_group_prefixes or self.source_account_ids
        ):
            raise ConfigError(
                "logGroupPrefixes",
                "nothing to subscribe: set logGroupPrefixes (e.g. /aws/lambda/) or logGroupNames, "
                "or subscriptionMode=account-policy, or sourceAccountIds",
            )

    @property
    def monitored_function_names(self) -> tuple[str, ...]:
        """Lambda functions named by their log group (``/aws/lambda/<name>``): alarmed one by one."""
        return tuple(
            name.removeprefix("/aws/lambda/")
            for name in self.subscriptions.log_group_names
            if name.startswith("/aws/lambda/") and len(name) > len("/aws/lambda/")
        )

    @property
    def monitors_beyond_names(self) -> bool:
        """Functions are monitored by prefix, account policy or from other accounts (alarmed in aggregate)."""
        subs = self.subscriptions
        return bool(subs.log_group_prefixes) or subs.mode == "account-policy" or bool(self.source_account_ids)

    @classmethod
    def from_context(cls, get: Callable[[str], Any], keys: list[str] | None = None) -> PipelineConfig:
        """Read and validate every setting through ``get(key)`` (e.g. ``node.try_get_context``).

        ``keys`` (all context keys present) lets a misspelt key fail with a suggestion instead
        of being silently ignored.
        """
        if keys is not None:
            check_unknown_keys(keys, all_context_keys(cls))
        result = _from_context(cls, get)
        assert isinstance(result, PipelineConfig)
        return result


@dataclass(frozen=True)
class SourceConfig(_Validated):
    """A source account's side of a cross-account pipeline: subscribe its log groups to the
    pipeline account's CloudWatch Logs destination."""

    destination_arn: str = setting(
        "crossAccountDestinationArn",
        "",
        pattern=ARN_PARTITION + r":logs:[a-z0-9\-]+:\d{12}:destination:[\w\-.]+",
        hint="the DestinationArn output of the pipeline stack",
    )
    pipeline_name: str = setting("pipelineName", "lambdalens", pattern=r"[a-z][a-z0-9\-]{2,27}")
    lambda_runtime: str = setting("lambdaRuntime", "python3.13", choices=LAMBDA_RUNTIMES)
    log_retention_days: int = setting("logRetentionDays", 30, choices=LOG_RETENTION_DAYS)
    subscriptions: SubscriptionConfig = field(default_factory=SubscriptionConfig)

    def validate(self) -> None:
        subs = self.subscriptions
        if subs.mode == "filters" and not (subs.log_group_names or subs.log_group_prefixes):
            raise ConfigError("logGroupPrefixes", "nothing to subscribe in the source account")

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> SourceConfig:
        result = _from_context(cls, get)
        assert isinstance(result, SourceConfig)
        return result


# --- reading context ---------------------------------------------------------------------------


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _iter_settings(cls: type) -> Iterator[tuple[str, Mapping[str, Any], Any]]:
    hints = _field_types(cls)
    for f in fields(cls):
        if f.metadata:
            yield f.name, f.metadata, hints[f.name]


def all_context_keys(cls: type) -> set[str]:
    """Every context key a configuration class (and its nested classes) reads."""
    keys: set[str] = set()
    hints = _field_types(cls)
    for f in fields(cls):
        if f.metadata:
            keys.add(f.metadata["key"])
        elif is_dataclass(hints[f.name]):
            keys |= all_context_keys(hints[f.name])
    return keys


def check_unknown_keys(present: list[str], known: set[str]) -> None:
    """Fail on a context key that looks like a lambdalens key but is not one (a typo).

    CDK's own keys (``@aws-cdk/...``, ``aws:cdk:...``) and unrelated keys pass.
    """
    for key in present:
        if key in known or any(c in key for c in ":@/"):
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.8)
        if close:
            raise ConfigError(key, f"unknown setting; did you mean '{close[0]}'?")


def _from_context(cls: type, get: Callable[[str], Any]) -> Any:
    values: dict[str, Any] = {}
    hints = _field_types(cls)
    for f in fields(cls):
        if f.metadata:
            raw = get(f.metadata["key"])
            if raw is not None:
                values[f.name] = _convert(f.metadata["key"], raw, hints[f.name])
        elif is_dataclass(hints[f.name]):
            values[f.name] = _from_context(hints[f.name], get)
    return cls(**values)


def _convert(key: str, raw: Any, annotation: Any) -> Any:
    """Convert a context value (a JSON value from cdk.json, or a string from ``-c``) to ``annotation``."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional, annotation = True, args[0]
        origin = typing.get_origin(annotation)
    if optional and (raw is None or (isinstance(raw, str) and not raw.strip())):
        return None
    try:
        if origin is tuple:
            return _to_list(key, raw)
        if annotation is bool:
            return _to_bool(key, raw)
        if annotation is int:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(raw)
        if annotation is float:
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
        if annotation is str:
            if isinstance(raw, list | dict):  # structured JSON from cdk.json (e.g. redactionRules)
                return json.dumps(raw)
            if not isinstance(raw, str | int | float) or isinstance(raw, bool):
                raise ValueError
            return str(raw).strip()
    except ConfigError:
        raise
    except (TypeError, ValueError):
        raise ConfigError(
            key, f"expected {getattr(annotation, '__name__', annotation)}, got {raw!r}"
        ) from None
    raise TypeError(f"unsupported setting type {annotation!r} for {key}")


def _to_bool(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigError(key, f"expected true or false, got {raw!r}")


def _to_list(key: str, raw: Any) -> tuple[str, ...]:
    items: Any = raw
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigError(key, f"is not a valid JSON array: {exc}") from None
        else:
            items = text.split(",")
    if not isinstance(items, list | tuple):
        raise ConfigError(key, f"expected a list (JSON array or comma-separated), got {raw!r}")
    result: list[str] = []
    for item in items:
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise ConfigError(key, f"expected strings, got {item!r}")
        text = str(item).strip()
        if text and text not in result:
            result.append(text)
    return tuple(result)
