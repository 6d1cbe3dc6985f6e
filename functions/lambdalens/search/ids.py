"""The identifiers a transaction can be looked up by, and their equivalent spellings.

X-Ray prints trace ids as ``1-<8 hex epoch seconds>-<24 hex>``; W3C Trace Context and
OpenTelemetry write the same 128 bits as 32 hex characters (epoch first). A log line may carry
either, so a trace id is looked up in both forms. A ``Root=1-...;Parent=...;Sampled=1`` header
value (``X-Amzn-Trace-Id``, ``_X_AMZN_TRACE_ID``) is accepted for its ``Root``.
"""

from __future__ import annotations

import re

from lambdalens.parsing.trace_header import read_trace_header

_XRAY_RE = re.compile(r"^1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})$")
_W3C_RE = re.compile(r"^[0-9a-fA-F]{32}$")
MAX_KEY_LENGTH = 256


def normalize_key(key: str) -> str:
    """``key`` without surrounding blanks; a trace header gives its ``Root``.

    Raises :class:`ValueError` for an empty key, a key with blanks inside or one longer than
    256 characters (no lambdalens identifier looks like that).
    """
    text = key.strip()
    if ";" in text or text.startswith("Root="):
        text = read_trace_header(text)[0] or text
    if not text:
        raise ValueError("the key is empty: give a trace id, a request id or a correlation id")
    if any(c.isspace() for c in text):
        raise ValueError(f"the key must not contain blanks: {key!r}")
    if len(text) > MAX_KEY_LENGTH:
        raise ValueError(f"the key is longer than {MAX_KEY_LENGTH} characters")
    return text


def trace_id_variants(value: str) -> frozenset[str]:
    """Every spelling of a trace id under which a document may store it.

    >>> sorted(trace_id_variants("1-66322ec0-96b34cc019d276c3df8f6c82"))
    ['1-66322ec0-96b34cc019d276c3df8f6c82', '66322ec096b34cc019d276c3df8f6c82']

    A value that is neither form is returned as is (an application's own trace id).
    """
    variants = {value}
    m = _XRAY_RE.match(value)
    if m is not None:
        epoch, unique = m[1].lower(), m[2].lower()
        variants |= {f"1-{epoch}-{unique}", epoch + unique}
    elif _W3C_RE.match(value):
        hex_id = value.lower()
        variants |= {hex_id, f"1-{hex_id[:8]}-{hex_id[8:]}"}
    return frozenset(variants)


def is_trace_id(value: str) -> bool:
    """True for an X-Ray (``1-…-…``) or W3C (32 hex) trace id."""
    return bool(_XRAY_RE.match(value) or _W3C_RE.match(value))
