"""Settings of the metrics stage, parsed once from the environment into typed objects.

Precedence is explicit argument > environment variable > default. Every environment
variable name lives once, as a constant below; a bad value raises :class:`SettingsError`
naming the variable, what it expects and what it got.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from lambdalens.metrics.pricing import DEFAULT_PRICES, PriceTable

#: CloudWatch namespace of every metric (shared with Powertools).
ENV_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
#: Value of the ``Pipeline`` dimension.
ENV_PIPELINE = "PIPELINE_NAME"
#: JSON overriding the price table (see :meth:`PriceTable.from_json`).
ENV_PRICES = "LAMBDA_PRICES"
#: JSON object function name -> architecture (``x86_64`` or ``arm64``).
ENV_ARCHITECTURES = "FUNCTION_ARCHITECTURES"
#: Seconds a ``GetFunctionConfiguration`` answer (or failure) is cached.
ENV_CONFIG_TTL = "FUNCTION_CONFIG_TTL_SECONDS"
#: ``auto`` | ``always`` | ``never``: add the ``[FunctionName, AccountId, Region]`` dimension set.
ENV_ACCOUNT_DIMENSIONS = "METRICS_ACCOUNT_DIMENSIONS"
#: Region the parser runs in (set by Lambda).
ENV_REGION = "AWS_REGION"

DEFAULT_NAMESPACE = "LambdaLens"
DEFAULT_PIPELINE = "lambdalens"
DEFAULT_CONFIG_TTL_SECONDS = 900

AccountDimensions = Literal["auto", "always", "never"]
ARCHITECTURES = ("x86_64", "arm64")


class SettingsError(ValueError):
    """An environment variable (or argument) has a value lambdalens cannot use."""

    def __init__(self, variable: str, expected: str, got: object) -> None:
        super().__init__(f"{variable} must be {expected}, got {got!r}")
        self.variable = variable


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"an integer >= {minimum}", raw) from None
    if value < minimum:
        raise SettingsError(name, f"an integer >= {minimum}", raw)
    return value


def env_float(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float,
    maximum: float | None = None,
    strict_min: bool = False,
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    bounds = f"{'>' if strict_min else '>='} {minimum}" + (
        f" and <= {maximum}" if maximum is not None else ""
    )
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, f"a number {bounds}", raw) from None
    too_low = value <= minimum if strict_min else value < minimum
    if value != value or too_low or (maximum is not None and value > maximum):
        raise SettingsError(name, f"a number {bounds}", raw)
    return value


def env_json(env: Mapping[str, str], name: str) -> Any:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise SettingsError(name, "valid JSON", raw) from None


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
