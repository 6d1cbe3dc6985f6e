"""Redaction: secrets never reach the index or an alert.

A pure library (no I/O, no mutable globals). Build one :class:`Redactor` per process and use it
for every log line and document::

    from lambdalens.redaction import Redactor

    redactor = Redactor.from_env()            # REDACTION_* variables, safe defaults
    text, counts = redactor.redact_text(line)  # counts: {"password": 1, ...}
    counts = redactor.redact_document(doc)     # body, exception.*, attributes, in place
    # a parser document made from one event only: a clean body proves the rest clean
    counts = redactor.redact_document(doc, derived_from_body="exception.stacktrace" not in doc)

See the Security section of README.md for the rules, their configuration and what is never redacted.
"""

from lambdalens.redaction.config import RedactionConfig, RedactionConfigError, UserRule
from lambdalens.redaction.constants import BUILTIN_RULES, OPTIONAL_RULES
from lambdalens.redaction.redactor import Counts, Redactor
from lambdalens.redaction.rules import key_rule, luhn_ok, marker

__all__ = [
    "BUILTIN_RULES",
    "OPTIONAL_RULES",
    "Counts",
    "RedactionConfig",
    "RedactionConfigError",
    "Redactor",
    "UserRule",
    "key_rule",
    "luhn_ok",
    "marker",
]
