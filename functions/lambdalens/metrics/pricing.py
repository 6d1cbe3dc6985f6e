"""Lambda prices and the estimated cost of one invocation.

One price table: us-east-1 on-demand list prices, overridable with ``LAMBDA_PRICES``::

    {"gb_second": {"x86_64": 0.0000166667, "arm64": 0.0000133334}, "per_million_requests": 0.20}

(any subset of the keys; the rest keeps the default). Arithmetic is :class:`~decimal.Decimal`,
so a known input gives an exact, reproducible number. Not included: ephemeral storage above
512 MB, provisioned concurrency, SnapStart caching, tiered volume discounts, free tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from lambdalens.settings import SettingsError

MS_PER_SECOND = Decimal(1000)
MB_PER_GB = Decimal(1024)
ONE_MILLION = Decimal(1_000_000)


def _default_gb_second() -> dict[str, Decimal]:
    return {"x86_64": Decimal("0.0000166667"), "arm64": Decimal("0.0000133334")}


@dataclass(frozen=True, slots=True)
class PriceTable:
    """USD prices: per GB-second by architecture, and per request."""

    gb_second: Mapping[str, Decimal] = field(default_factory=_default_gb_second)
    per_million_requests: Decimal = Decimal("0.20")

    @property
    def per_request(self) -> Decimal:
        return self.per_million_requests / ONE_MILLION

    @classmethod
    def from_json(cls, text: str, variable: str = "LAMBDA_PRICES") -> PriceTable:
        """Parse the override JSON over the defaults; :class:`SettingsError` names ``variable``."""
        from lambdalens.metrics.settings import normalize_architecture  # imports this module

        expected = 'JSON like {"gb_second": {"x86_64": 0.0000166667, "arm64": 0.0000133334}, "per_million_requests": 0.2}'
        try:
            obj: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise SettingsError(variable, expected, text) from None
        if not isinstance(obj, dict) or not set(obj) <= {"gb_second", "per_million_requests"}:
            raise SettingsError(variable, expected, text)

        def price(value: object) -> Decimal:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise SettingsError(variable, expected + " (prices are non-negative numbers)", text)
            try:
                d = Decimal(str(value))
            except InvalidOperation:
                raise SettingsError(variable, expected + " (prices are non-negative numbers)", text) from None
            if not d.is_finite() or d < 0:
                raise SettingsError(variable, expected + " (prices are non-negative numbers)", text)
            return d

        gb = dict(_default_gb_second())
        if "gb_second" in obj:
            if not isinstance(obj["gb_second"], dict):
                raise SettingsError(variable, expected, text)
            for arch, value in obj["gb_second"].items():
                norm = normalize_architecture(arch)
                if norm is None:
                    raise SettingsError(
                        variable, expected + ' (architectures are "x86_64" and "arm64")', text
                    )
                gb[norm] = price(value)
        requests = price(obj["per_million_requests"]) if "per_million_requests" in obj else Decimal("0.20")
        return cls(gb_second=gb, per_million_requests=requests)


DEFAULT_PRICES = PriceTable()


def invocation_cost(
    billed_ms: float, memory_mb: float, architecture: str, prices: PriceTable = DEFAULT_PRICES
) -> Decimal:
    """Estimated USD cost of one invocation.

    ``billed_ms / 1000 × memory_mb / 1024 × price per GB-second (architecture) + price per request``.
    An unknown architecture is priced as ``x86_64``.

    >>> invocation_cost(100, 128, "x86_64")
    Decimal('4.0833375E-7')
    """
    rate = prices.gb_second.get(architecture, prices.gb_second["x86_64"])
    gb_seconds = Decimal(str(billed_ms)) / MS_PER_SECOND * (Decimal(str(memory_mb)) / MB_PER_GB)
    return gb_seconds * rate + prices.per_request
