"""``--since`` values: a duration back from now (``90s``, ``15m``, ``1h``, ``2d``, ``1w``) or
an ISO 8601 date / date-time (UTC unless it names an offset)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RELATIVE_RE = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """The UTC instant ``text`` designates; :class:`ValueError` says what is accepted.

    >>> parse_since("2h", now=datetime(2024, 5, 1, 12, tzinfo=UTC)).isoformat()
    '2024-05-01T10:00:00+00:00'
    >>> parse_since("2024-05-01").isoformat()
    '2024-05-01T00:00:00+00:00'
    """
    value = text.strip()
    m = _RELATIVE_RE.match(value.lower())
    if m is not None:
        base = now if now is not None else datetime.now(UTC)
        return base.astimezone(UTC) - timedelta(**{_UNITS[m[2]]: int(m[1])})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"expected a duration such as 30m, 1h, 2d, 1w or an ISO 8601 time such as "
            f"2024-05-01T12:00:00Z, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_ms(moment: datetime) -> str:
    """``2024-05-01T12:00:00.123Z``: how documents spell ``@timestamp``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: object) -> datetime | None:
    """A document's ``@timestamp`` as an aware datetime (None when absent or malformed)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
