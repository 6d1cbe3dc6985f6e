"""Settings of the metrics stage, parsed once from the environment into typed objects.

Precedence is explicit argument > environment variable > default. Every environment
variable name lives once: the metrics stage's own below, the ones other stages read too
(``PIPELINE_NAME``, ``AWS_REGION``) in :mod:`lambdalens.settings`, whose helpers read them; a
bad value raises :class:`~lambdalens.settings.SettingsError` naming the variable, what it
expects and what it got.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lambdalens.metrics.pricing import DEFAULT_PRICES, PriceTable
from lambdalens.settings import (
    DEFAULT_PIPELINE,
    ENV_PIPELINE,
    ENV_REGION,
    SettingsError,
    env_int,
    env_json,
    env_str,
)

#: CloudWatch namespace of every metric (shared with Powertools).
ENV_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
#: JSON overriding the price table (see :meth:`PriceTable.from_json`).
ENV_PRICES = "LAMBDA_PRICES"
#: JSON object function name -> architecture (``x86_64`` or ``arm64``).
ENV_ARCHITECTURES = "FUNCTION_ARCHITECTURES"
#: Seconds a ``GetFunctionConfiguration`` answer (or failure) is cached.
ENV_CONFIG_TTL = "FUNCTION_CONFIG_TTL_SECONDS"
#: ``auto`` | ``always`` | ``never``: add the ``[FunctionName, AccountId, Region]`` dimension set.
ENV_ACCOUNT_DIMENSIONS = "METRICS_ACCOUNT_DIMENSIONS"

DEFAULT_NAMESPACE = "LambdaLens"
DEFAULT_CONFIG_TTL_SECONDS = 900

AccountDimensions = Literal["auto", "always", "never"]
ARCHITECTURES = ("x86_64", "arm64")


def normalize_architecture(value: object) -> str | None:
    """``x86_64``/``x86``/``amd64`` -> ``x86_64``; ``arm64``/``aarch64``/``arm`` -> ``arm64``; else None."""
    if not isinstance(value, str):
        return None
    v = value.strip().lower().replace("-", "_")
    if v in ("x86_64", "x86", "amd64"):
        return "x86_64"
    if v in ("arm64", "aarch64", "arm"):
        return "arm64"
    return None


def parse_architectures(obj: Any, name: str = ENV_ARCHITECTURES) -> dict[str, str]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise SettingsError(name, 'a JSON object {"function-name": "x86_64" | "arm64"}', obj)
    out: dict[str, str] = {}
    for fn, arch in obj.items():
        norm = normalize_architecture(arch)
        if norm is None:
            raise SettingsError(name, f'"x86_64" or "arm64" for function {fn!r}', arch)
        out[str(fn)] = norm
    return out


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """What the metrics stage needs to know.

    Attributes
    ----------
    namespace:
        CloudWatch namespace (``POWERTOOLS_METRICS_NAMESPACE``, default ``LambdaLens``).
    pipeline:
        Value of the ``Pipeline`` dimension (``PIPELINE_NAME``, default ``lambdalens``).
    prices:
        Lambda list prices (``LAMBDA_PRICES`` JSON over the us-east-1 defaults).
    architectures:
        Function name -> ``x86_64``/``arm64`` (``FUNCTION_ARCHITECTURES``); wins over the API.
    config_ttl_seconds:
        Cache lifetime of ``GetFunctionConfiguration`` answers (``FUNCTION_CONFIG_TTL_SECONDS``).
    account_dimensions:
        ``auto`` (default): also publish ``[FunctionName, AccountId, Region]`` for functions whose
        logs come from another account or region than the parser's own; ``always``; ``never``
        (``METRICS_ACCOUNT_DIMENSIONS``).
    home_region / home_account:
        The parser's own region (``AWS_REGION``) and account (pass it from the Lambda context's
        ``invoked_function_arn``); used by ``account_dimensions="auto"``.

    Example
    -------
    >>> MetricsSettings.from_env({"PIPELINE_NAME": "prod"}).pipeline
    'prod'
    """

    namespace: str = DEFAULT_NAMESPACE
    pipeline: str = DEFAULT_PIPELINE
    prices: PriceTable = DEFAULT_PRICES
    architectures: Mapping[str, str] = field(default_factory=dict)
    config_ttl_seconds: int = DEFAULT_CONFIG_TTL_SECONDS
    account_dimensions: AccountDimensions = "auto"
    home_region: str | None = None
    home_account: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> MetricsSettings:
        """Read the environment (``os.environ`` by default); keyword arguments win over it.

        Raises :class:`SettingsError` naming the first variable with an unusable value.
        """
        e = os.environ if env is None else env
        namespace = env_str(e, ENV_NAMESPACE, DEFAULT_NAMESPACE)
        if len(namespace) > 255 or namespace.startswith(":"):
            raise SettingsError(ENV_NAMESPACE, "a CloudWatch namespace of 1-255 characters", namespace)
        pipeline = env_str(e, ENV_PIPELINE, DEFAULT_PIPELINE)
        if len(pipeline) > 1024:
            raise SettingsError(ENV_PIPELINE, "at most 1024 characters", pipeline)
        prices_raw = e.get(ENV_PRICES, "").strip()
        prices = PriceTable.from_json(prices_raw, ENV_PRICES) if prices_raw else DEFAULT_PRICES
        dims = env_str(e, ENV_ACCOUNT_DIMENSIONS, "auto").lower()
        if dims not in ("auto", "always", "never"):
            raise SettingsError(ENV_ACCOUNT_DIMENSIONS, "one of auto, always, never", dims)
        values: dict[str, Any] = {
            "namespace": namespace,
            "pipeline": pipeline,
            "prices": prices,
            "architectures": parse_architectures(env_json(e, ENV_ARCHITECTURES)),
            "config_ttl_seconds": env_int(e, ENV_CONFIG_TTL, DEFAULT_CONFIG_TTL_SECONDS),
            "account_dimensions": dims,
            "home_region": e.get(ENV_REGION) or None,
        }
        values.update(overrides)
        return cls(**values)


__all__ = [
    "ARCHITECTURES",
    "MetricsSettings",
    "SettingsError",
]
