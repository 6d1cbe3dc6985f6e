"""The README's Security section shows what the code does: every example of its rule table is checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lambdalens.redaction import BUILTIN_RULES, RedactionConfig, Redactor
from lambdalens.redaction import constants as c

SECURITY_MD = Path(__file__).resolve().parents[2] / "README.md"
_ROW = re.compile(r"^\| `(?P<rule>[a-z_]+)`[^|]*\| `(?P<into>[^|]*)` \| `(?P<out>[^|]*)` \|$")


def table_rows() -> list[tuple[str, str, str]]:
    rows = [
        m.group("rule", "into", "out") for m in map(_ROW.match, SECURITY_MD.read_text().splitlines()) if m
    ]
    return [(rule, into, out) for rule, into, out in rows if rule in BUILTIN_RULES]


def test_the_table_lists_every_builtin_rule() -> None:
    assert sorted(rule for rule, _, _ in table_rows()) == sorted(BUILTIN_RULES)


@pytest.mark.parametrize(("rule", "into", "out"), table_rows())
def test_table_example(rule: str, into: str, out: str) -> None:
    redactor = Redactor(RedactionConfig(emails=True, ip_addresses=True))
    assert redactor.redact_text(into) == (out, {rule: 1})


def test_every_variable_and_context_key_is_documented() -> None:
    text = SECURITY_MD.read_text()
    for context, variable in c.CONTEXT_TO_ENV.items():
        assert f"| `{variable}` | `{context}` |" in text
