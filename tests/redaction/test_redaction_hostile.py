"""Hostile input: the built-in rules stay linear on the largest CloudWatch Logs event (256 KB)."""

from __future__ import annotations

import time

import pytest

from lambdalens.redaction import RedactionConfig, Redactor

MAX_EVENT_CHARS = 256 * 1024
REDACTOR = Redactor(RedactionConfig(emails=True, ip_addresses=True))


@pytest.mark.parametrize(
    "unit",
    [
        "pwd",
        "password=",
        '"password"\\\\\\',
        "token_",
        "cookie:",
        "Authorization: ",
        "a://b:",
        "eyJaaaaaaaaa.",
        "AKIA",
        "4111 ",
        "0000-",
        "-----BEGIN RSA PRIVATE KEY-----",
        "bearer ",
        "a.a@",
        "1.1.1.",
        "1:",
        "\\",
        "\x00\ud800",
    ],
)
def test_pathological_line_is_redacted_in_linear_time(unit: str) -> None:
    text = unit * (MAX_EVENT_CHARS // len(unit))
    started = time.perf_counter()
    out, _ = REDACTOR.redact_text(text)
    elapsed = time.perf_counter() - started
    assert isinstance(out, str)
    assert elapsed < 5.0, f"{elapsed:.2f}s for {len(text)} characters of {unit!r}"  # quadratic: minutes
