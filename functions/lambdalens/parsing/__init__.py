"""Parsing: subscription payloads -> one OpenSearch document per log event.

See docs/document-schema.md for the fields. Entry points: :class:`BatchParser`
(stateful over one batch) and :func:`parse_payloads`.
"""

from lambdalens.parsing.document import EVENT_TYPES, Document
from lambdalens.parsing.fingerprint import fingerprint
from lambdalens.parsing.parser import BatchParser, ParseStats, function_of, iso_ms, parse_payloads

__all__ = [
    "EVENT_TYPES",
    "BatchParser",
    "Document",
    "ParseStats",
    "fingerprint",
    "function_of",
    "iso_ms",
    "parse_payloads",
]
