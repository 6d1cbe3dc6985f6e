"""What every parsed document goes through before it is indexed — one path for the parser
Lambda (its indexer runs it just before a document is first serialised: see
:mod:`lambdalens.pipeline.batch`), ``lambdalens parse``, the demo and the bench:

1. redaction (:mod:`lambdalens.redaction`, configured by the ``REDACTION_*`` variables);
2. a body (or stack trace) longer than ``MAX_BODY_CHARS`` cut, with a marker and its length; the
   whole document goes to the dead-letter bucket (:func:`lambdalens.pipeline.limits.truncate_long_body`).

What OpenSearch then holds is the document as the bulk encoder writes it
(:func:`lambdalens.indexing.bulk_body.encode_item`), or its safe form if OpenSearch rejects it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from lambdalens.config import DEFAULT_MAX_BODY_CHARS, max_body_chars_from_env
from lambdalens.parsing.document import Document
from lambdalens.pipeline.limits import truncate_long_body
from lambdalens.redaction import Redactor

#: A hook run on every document before indexing (redaction); returns counts per rule.
DocumentHook = Callable[[Document], Mapping[str, int]]
_NO_COUNTS: Mapping[str, int] = {}


def redact_parsed(redactor: Redactor, doc: dict[str, Any]) -> dict[str, int]:
    """Redact one parsed document. Every field of a document comes from its own event's body,
    except the stack trace a head document collects from the events that continue it: only
    then must every field be scanned (otherwise a clean body proves the document clean)."""
    return redactor.redact_document(doc, derived_from_body="exception.stacktrace" not in doc)


def redaction_hook(redactor: Redactor) -> DocumentHook | None:
    """The hook that redacts each document as ``redactor`` is configured; None when it is off."""
    return partial(redact_parsed, redactor) if redactor.config.enabled else None


def finish_document(
    doc: Document, hook: DocumentHook | None, max_body_chars: int
) -> tuple[Mapping[str, int], Document | None]:
    """Redact ``doc`` in place, then cut a too long body: (redactions per rule, the whole
    document as it was before the cut, or None when nothing was cut)."""
    counts = hook(doc) if hook is not None else _NO_COUNTS
    return counts, truncate_long_body(doc, max_body_chars)


@dataclass(frozen=True, slots=True)
class DocumentStage:
    """The stage's settings, as the parser Lambda reads them from its environment."""

    hook: DocumentHook | None = None
    max_body_chars: int = DEFAULT_MAX_BODY_CHARS

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, redact: bool = True) -> DocumentStage:
        """``REDACTION_*`` and ``MAX_BODY_CHARS`` as the handler reads them (``redact=False``:
        no redaction whatever they say). Raises RedactionConfigError / SettingsError naming the
        variable at fault."""
        hook = redaction_hook(Redactor.from_env(environ)) if redact else None
        return cls(hook, max_body_chars_from_env(environ))

    def finish(self, doc: Document) -> tuple[Mapping[str, int], Document | None]:
        return finish_document(doc, self.hook, self.max_body_chars)
