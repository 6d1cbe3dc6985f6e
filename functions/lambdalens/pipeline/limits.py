"""Hostile input: messages too long to index whole are cut, with a marker and the original
length; the whole message goes to the dead-letter bucket so nothing is silently lost."""

from __future__ import annotations

from lambdalens.parsing.document import Document

TRUNCATION_MARKER = "…[truncated by lambdalens: {original} characters, full text in the dead-letter bucket]"


def truncate_long_body(doc: Document, max_chars: int) -> Document | None:
    """Cut ``body`` (and a huge stack trace) to ``max_chars``; returns the original document when cut."""
    body = doc.get("body")
    trace = doc.get("exception.stacktrace")
    long_body = isinstance(body, str) and len(body) > max_chars
    long_trace = isinstance(trace, str) and len(trace) > max_chars
    if not (long_body or long_trace):
        return None
    original = dict(doc)
    if long_body:
        assert isinstance(body, str)
        doc["body"] = body[:max_chars] + TRUNCATION_MARKER.format(original=len(body))
        doc["lambda.truncated"] = True
        doc["lambda.original_length"] = len(body)
    if long_trace:
        assert isinstance(trace, str)
        doc["exception.stacktrace"] = trace[:max_chars] + TRUNCATION_MARKER.format(original=len(trace))
        doc["lambda.truncated"] = True
    attributes = doc.get("attributes")
    if isinstance(attributes, dict) and long_body:
        # the structured copy of a huge line is as big as the line: keep it in the dead letter only
        doc.pop("attributes", None)
    return original
