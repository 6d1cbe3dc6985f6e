"""The one place that reads environment variables into typed values.

Each stage parses its own settings once (:class:`lambdalens.config.ParserConfig`,
:class:`lambdalens.metrics.settings.MetricsSettings`,
:class:`lambdalens.alerts.settings.AlertSettings`) with the helpers below, so every variable
is read the same way: surrounding blanks are ignored, an empty or missing variable means the
default, and a value that cannot be used raises :class:`SettingsError` naming the variable,
what it expects and what it got. Names of variables that several stages read live here too.

Example
-------
>>> env_int({"BULK_MAX_ITEMS": " 500 "}, "BULK_MAX_ITEMS", 1000, minimum=1)
500
>>> env_int({"BULK_MAX_ITEMS": "0"}, "BULK_MAX_ITEMS", 1000, minimum=1)
Traceback (most recent call last):
...
lambdalens.settings.SettingsError: BULK_MAX_ITEMS must be an integer >= 1, got '0'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

#: Region the Lambda runs in (set by Lambda); read by the parser, metrics and alerts.
ENV_REGION = "AWS_REGION"
#: Daily indices are ``<INDEX_PREFIX>-YYYY.MM.DD``; read by the parser, alerts and the CLI.
ENV_INDEX_PREFIX = "INDEX_PREFIX"
#: Value of the ``Pipeline`` metric dimension and alert attribute.
ENV_PIPELINE = "PIPELINE_NAME"

DEFAULT_PIPELINE = "lambdalens"


class SettingsError(ValueError):
    """An environment variable (or argument) has a value lambdalens cannot use."""

    def __init__(self, variable: str, expected: str, got: object) -> None:
        super().__init__(f"{variable} must be {expected}, got {got!r}")
        self.variable = variable


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    """The stripped value of ``name``, or ``default`` when it is missing or blank."""
    value = env.get(name, "").strip()
    return value or default


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    """An integer of at least ``minimum``; ``default`` when missing or blank."""
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
    """A number of at least ``minimum`` (above it with ``strict_min``) and at most ``maximum``;
    ``default`` when missing or blank. NaN is refused."""
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
    """The JSON value of ``name``, or None when it is missing or blank."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise SettingsError(name, "valid JSON", raw) from None


__all__ = [
    "DEFAULT_PIPELINE",
    "ENV_INDEX_PREFIX",
    "ENV_PIPELINE",
    "ENV_REGION",
    "SettingsError",
    "env_float",
    "env_int",
    "env_json",
    "env_str",
]
