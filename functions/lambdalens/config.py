"""Settings of the parser Lambda (and the CLI commands that talk to OpenSearch), parsed once
from the environment into a typed, validated object.

Precedence: explicit argument > environment variable > default. Variables are read with the
helpers of :mod:`lambdalens.settings`; a bad value raises
:class:`~lambdalens.settings.SettingsError` naming the variable. Metrics and alert settings
are parsed by their own stages (:mod:`lambdalens.metrics.settings`,
:mod:`lambdalens.alerts.settings`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from lambdalens.indexing.bulk_body import (
    DEFAULT_INDEX_PREFIX,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ITEMS,
    HARD_MAX_BYTES,
)
from lambdalens.settings import (
    ENV_INDEX_PREFIX,
    ENV_REGION,
    SettingsError,
    env_float,
    env_int,
    env_str,
)

ENV_ENDPOINT = "OPENSEARCH_ENDPOINT"
ENV_AUTH = "OPENSEARCH_AUTH"
ENV_SECRET_ARN = "OPENSEARCH_SECRET_ARN"
ENV_TIMEOUT = "OPENSEARCH_TIMEOUT_SECONDS"
ENV_COMPRESS = "OPENSEARCH_COMPRESS"
ENV_DEAD_LETTER_BUCKET = "DEAD_LETTER_BUCKET"
ENV_DEAD_LETTER_PREFIX = "DEAD_LETTER_PREFIX"
ENV_BULK_MAX_BYTES = "BULK_MAX_BYTES"
ENV_BULK_MAX_ITEMS = "BULK_MAX_ITEMS"
ENV_BULK_CONCURRENCY = "BULK_CONCURRENCY"
ENV_DEADLINE_MARGIN_MS = "DEADLINE_MARGIN_MS"
ENV_RETRY_BASE_MS = "RETRY_BASE_MS"
ENV_RETRY_MAX_MS = "RETRY_MAX_MS"
ENV_MAX_BODY_CHARS = "MAX_BODY_CHARS"
DEFAULT_MAX_BODY_CHARS = 32_768

Auth = Literal["sigv4", "aoss", "basic", "none"]
AUTH_MODES: tuple[Auth, ...] = ("sigv4", "aoss", "basic", "none")
#: ``_bulk`` requests one invocation keeps in flight at once: into a real node, ``lambdalens bench
#: --sweep`` measured 3 (with 2 MiB bodies) at ~1.4x the events/s of one at a time (README, Performance).
DEFAULT_BULK_CONCURRENCY = 3
MAX_BULK_CONCURRENCY = 16
_INDEX_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_.+-]{0,200}$")


@dataclass(frozen=True)
class OpenSearchConfig:
    """How to reach OpenSearch."""

    endpoint: str
    auth: Auth = "sigv4"
    secret_arn: str | None = None
    region: str | None = None
    timeout_seconds: float = 30.0
    compress: bool = False

    def __post_init__(self) -> None:
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(
                ENV_ENDPOINT,
                "an http(s) URL such as https://search-logs-abc.us-east-1.es.amazonaws.com",
                self.endpoint,
            )
        if self.auth not in AUTH_MODES:
            raise SettingsError(ENV_AUTH, " | ".join(AUTH_MODES), self.auth)
        if self.auth == "basic" and not self.secret_arn:
            raise SettingsError(
                ENV_SECRET_ARN,
                "the ARN of a Secrets Manager secret {username, password} when OPENSEARCH_AUTH=basic",
                "",
            )
        if self.auth in ("sigv4", "aoss") and parts.scheme != "https":
            raise SettingsError(ENV_ENDPOINT, "an https URL (SigV4 signs TLS requests)", self.endpoint)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OpenSearchConfig:
        env = os.environ if env is None else env
        endpoint = env.get(ENV_ENDPOINT, "").strip()
        if not endpoint:
            raise SettingsError(ENV_ENDPOINT, "the OpenSearch endpoint URL", "")
        auth = env_str(env, ENV_AUTH, "sigv4").lower()
        if auth not in AUTH_MODES:
            raise SettingsError(ENV_AUTH, " | ".join(AUTH_MODES), auth)
        return cls(
            endpoint=endpoint.rstrip("/"),
            auth=auth,  # type: ignore[arg-type]
            secret_arn=env.get(ENV_SECRET_ARN) or None,
            region=env.get(ENV_REGION) or None,
            timeout_seconds=env_float(env, ENV_TIMEOUT, 30.0, minimum=1.0),
            compress=env_str(env, ENV_COMPRESS, "false").lower() in ("1", "true", "yes"),
        )


@dataclass(frozen=True)
class ParserConfig:
    """Everything the parser Lambda needs besides metrics and alerts."""

    opensearch: OpenSearchConfig
    dead_letter_bucket: str
    dead_letter_prefix: str = "dead-letter/"
    index_prefix: str = DEFAULT_INDEX_PREFIX
    bulk_max_bytes: int = DEFAULT_MAX_BYTES
    bulk_max_items: int = DEFAULT_MAX_ITEMS
    bulk_concurrency: int = DEFAULT_BULK_CONCURRENCY
    deadline_margin_ms: int = 10_000
    retry_base_ms: int = 200
    retry_max_ms: int = 10_000
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS

    def __post_init__(self) -> None:
        if not _INDEX_PREFIX_RE.match(self.index_prefix):
            raise SettingsError(
                ENV_INDEX_PREFIX, "a lowercase OpenSearch index name prefix", self.index_prefix
            )
        if not 1024 <= self.bulk_max_bytes <= HARD_MAX_BYTES:
            raise SettingsError(
                ENV_BULK_MAX_BYTES, f"bytes between 1024 and {HARD_MAX_BYTES} (9 MiB)", self.bulk_max_bytes
            )
        if not 1 <= self.bulk_concurrency <= MAX_BULK_CONCURRENCY:
            raise SettingsError(
                ENV_BULK_CONCURRENCY,
                f"an integer between 1 and {MAX_BULK_CONCURRENCY} (bulk requests in flight)",
                self.bulk_concurrency,
            )
        if not self.dead_letter_bucket:
            raise SettingsError(
                ENV_DEAD_LETTER_BUCKET, "the S3 bucket for records that cannot be indexed", ""
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ParserConfig:
        env = os.environ if env is None else env
        prefix = env_str(env, ENV_DEAD_LETTER_PREFIX, "dead-letter/")
        return cls(
            opensearch=OpenSearchConfig.from_env(env),
            dead_letter_bucket=env.get(ENV_DEAD_LETTER_BUCKET, "").strip(),
            dead_letter_prefix=prefix if prefix.endswith("/") else prefix + "/",
            index_prefix=env_str(env, ENV_INDEX_PREFIX, DEFAULT_INDEX_PREFIX),
            bulk_max_bytes=env_int(env, ENV_BULK_MAX_BYTES, DEFAULT_MAX_BYTES, minimum=1024),
            bulk_max_items=env_int(env, ENV_BULK_MAX_ITEMS, DEFAULT_MAX_ITEMS, minimum=1),
            bulk_concurrency=env_int(env, ENV_BULK_CONCURRENCY, DEFAULT_BULK_CONCURRENCY, minimum=1),
            deadline_margin_ms=env_int(env, ENV_DEADLINE_MARGIN_MS, 10_000, minimum=0),
            retry_base_ms=env_int(env, ENV_RETRY_BASE_MS, 200, minimum=1),
            retry_max_ms=env_int(env, ENV_RETRY_MAX_MS, 10_000, minimum=1),
            max_body_chars=max_body_chars_from_env(env),
        )


def max_body_chars_from_env(env: Mapping[str, str]) -> int:
    """``MAX_BODY_CHARS``: the longest body indexed whole (the parser Lambda, ``lambdalens parse``)."""
    return env_int(env, ENV_MAX_BODY_CHARS, DEFAULT_MAX_BODY_CHARS, minimum=256)
