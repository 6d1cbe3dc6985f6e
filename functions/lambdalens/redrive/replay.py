"""Pieces both redrive sources share: variants of the parser's :class:`Pipeline` stages.

* :class:`CapturingWriter` — a dead-letter writer that keeps the letters in memory, so the
  S3 redrive decides itself where what is still not indexable goes (and a dry run writes
  nothing);
* :class:`DryRunIndexer` — answers every document "would index" without sending anything;
* :class:`OverwriteTransport` — sends ``index`` instead of ``create`` items, so the original
  of a document that was indexed truncated replaces it (``--reindex-truncated``); everything
  else about indexing (chunks, retries, safe form) stays the indexer's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lambdalens.indexing.dead_letter import DeadLetter, DeadLetterWriter
from lambdalens.indexing.indexer import BulkIndexer, IndexReport, Prepare, Transport
from lambdalens.parsing.document import Document
from lambdalens.pipeline import Pipeline
from lambdalens.redrive.report import WOULD_INDEX
from lambdalens.retry import Deadline

T = TypeVar("T")


class CapturingWriter(DeadLetterWriter):
    """Keeps dead letters in :attr:`letters` instead of writing them to S3."""

    def __init__(self) -> None:
        super().__init__(s3=None, bucket="", prefix="")
        self.letters: list[DeadLetter] = []

    def write(self, letters: list[DeadLetter], arrived_ms: int | None = None) -> str:
        self.letters.extend(letters)
        return f"(kept in memory: {len(letters)} letters)"


class _NoTransport:
    def send(self, body: bytes, timeout: float) -> dict[str, object]:
        raise AssertionError("a dry run sends nothing")

    def stored(
        self, refs: list[tuple[str, str]], fields: tuple[str, ...], timeout: float
    ) -> list[Mapping[str, object] | None]:
        raise AssertionError("a dry run reads nothing")


@dataclass
class DryRunIndexer(BulkIndexer):
    """An indexer that indexes nothing: every document is reported :data:`WOULD_INDEX`."""

    transport: Transport = field(default_factory=_NoTransport)

    def index(self, docs: list[Document], deadline: Deadline, prepare: Prepare | None = None) -> IndexReport:
        for i, doc in enumerate(docs):  # redacted and truncated as they would be sent
            if prepare is not None:
                prepare(i, doc)
        return IndexReport(status=[WOULD_INDEX] * len(docs))


@dataclass
class OverwriteTransport:
    """Wraps a transport; every ``create`` action line of a bulk body becomes ``index``."""

    inner: Transport

    def send(self, body: bytes, timeout: float) -> dict[str, object]:
        lines = body.split(b"\n")
        for i in range(0, len(lines), 2):  # action, source, action, source, ..., ""
            if lines[i].startswith(b'{"create":'):
                lines[i] = b'{"index":' + lines[i][len(b'{"create":') :]
        return self.inner.send(b"\n".join(lines), timeout)

    def stored(
        self, refs: list[tuple[str, str]], fields: tuple[str, ...], timeout: float
    ) -> Sequence[Mapping[str, object] | None]:
        return self.inner.stored(refs, fields, timeout)


def overwriting(indexer: BulkIndexer) -> BulkIndexer:
    """The same indexer, replacing documents that already exist (a dry run stays dry)."""
    if isinstance(indexer, DryRunIndexer):
        return indexer
    return dataclasses.replace(indexer, transport=OverwriteTransport(indexer.transport))


def dry_run_pipeline(pipeline: Pipeline) -> Pipeline:
    """The pipeline up to (not including) OpenSearch and S3: decoding, parsing, redaction, truncation."""
    return dataclasses.replace(pipeline, indexer=DryRunIndexer(), dead_letters=CapturingWriter())


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most ``size`` items, lazily."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def error_text(exc: BaseException) -> str:
    """``ClassName: message`` on one line, short."""
    return f"{exc.__class__.__name__}: {' '.join(str(exc).split())[:300]}"


def client_error_code(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
