"""The safe form of a document OpenSearch rejected for its content (mapping conflict, too large).

It keeps what a user needs to find the event — the core fields and the original message —
plus why the original was rejected; the structured attributes are kept as one string
(``attributes_raw``) so that no field of theirs can conflict with the mapping again.
"""

from __future__ import annotations

import orjson

from lambdalens.parsing.document import Document

#: Fields whose mapping lambdalens owns (see the index template), safe to keep as they are.
CORE_FIELDS = (
    "@timestamp",
    "observedTimestamp",
    "body",
    "log.record.uid",
    "log.record.parent_uid",
    "severity.text",
    "severity.number",
    "traceId",
    "spanId",
    "correlation_id",
    "cloud.provider",
    "cloud.account.id",
    "cloud.region",
    "aws.log.group",
    "aws.log.stream",
    "faas.name",
    "faas.version",
    "faas.instance",
    "faas.invocation_id",
    "faas.coldstart",
    "service.name",
    "lambda.event_type",
    "lambda.outcome",
    "lambda.status",
    "exception.type",
    "exception.message",
    "exception.fingerprint",
    "lambda.truncated",
    "lambda.original_length",
)
MAX_RAW_ATTRIBUTES = 32_768


def safe_form(doc: Document, reason: str) -> Document:
    """The document reduced to its core fields, the original message and ``lambda.rejection``."""
    safe: Document = {
        k: doc[k] for k in CORE_FIELDS if k in doc and isinstance(doc[k], str | int | float | bool)
    }
    attributes = doc.get("attributes")
    if attributes is not None:
        raw = orjson.dumps(attributes, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        safe["attributes_raw"] = raw[:MAX_RAW_ATTRIBUTES]
    safe["lambda.rejection"] = reason[:1000]
    return safe
