"""Serialising documents into OpenSearch ``_bulk`` request bodies.

Every document is one ``create`` item whose ``_id`` is the CloudWatch event id, in the daily
index of the event's own timestamp (``<prefix>-YYYY.MM.DD``): a redelivered event always
lands on the same ``_index``/``_id`` and is answered 409, never indexed twice.

Bodies are built in a ``bytearray`` and cut at a byte and an item limit. (Keeping one
``bytes`` object per item costs several times more here than the serialisation itself:
``make bench`` measured it.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import orjson

from lambdalens.parsing.document import Document

DEFAULT_INDEX_PREFIX = "lambda-logs"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
HARD_MAX_BYTES = 9 * 1024 * 1024  # small Amazon OpenSearch instances answer 413 above 10 MiB
DEFAULT_MAX_ITEMS = 5000

_DUMPS_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
_action_prefixes: dict[str, bytes] = {}


def index_for(prefix: str, timestamp: str) -> str:
    """``lambda-logs`` + ``2024-05-01T12:00:00.123Z`` -> ``lambda-logs-2024.05.01``."""
    return f"{prefix}-{timestamp[0:4]}.{timestamp[5:7]}.{timestamp[8:10]}"


def _action(index: str, doc_id: str) -> bytes:
    if doc_id.isdigit():  # CloudWatch event ids: digits, nothing to escape
        prefix = _action_prefixes.get(index)
        if prefix is None:
            if len(_action_prefixes) > 10_000:
                _action_prefixes.clear()
            prefix = _action_prefixes[index] = b'{"create":{"_index":%s,"_id":"' % orjson.dumps(index)
        return prefix + doc_id.encode() + b'"}}\n'
    return orjson.dumps({"create": {"_index": index, "_id": doc_id}}) + b"\n"


def encode_item(doc: Document, prefix: str = DEFAULT_INDEX_PREFIX) -> bytes:
    """The action and source lines of one document's ``create`` item, newline-terminated."""
    ts = doc["@timestamp"]
    index = f"{prefix}-{ts[0:4]}.{ts[5:7]}.{ts[8:10]}"
    return _action(index, str(doc["log.record.uid"])) + orjson.dumps(doc, option=_DUMPS_OPTIONS)


@dataclass(slots=True)
class BulkChunk:
    """One ``_bulk`` request: its body and the documents it carries, in order."""

    body: bytearray
    docs: list[Document]

    def __len__(self) -> int:
        return len(self.docs)


def build_chunks(
    docs: Iterable[Document],
    prefix: str = DEFAULT_INDEX_PREFIX,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_items: int = DEFAULT_MAX_ITEMS,
) -> Iterator[BulkChunk]:
    """Bulk bodies of at most ``max_bytes`` (never above 9 MiB) and ``max_items`` items.

    An item larger than ``max_bytes`` on its own gets a chunk of its own (OpenSearch answers
    it 413 or 400 and the indexer takes it from there).
    """
    max_bytes = min(max_bytes, HARD_MAX_BYTES)
    body = bytearray()
    chunk_docs: list[Document] = []
    dumps = orjson.dumps
    for doc in docs:
        ts = doc["@timestamp"]
        item = _action(f"{prefix}-{ts[0:4]}.{ts[5:7]}.{ts[8:10]}", str(doc["log.record.uid"]))
        source = dumps(doc, option=_DUMPS_OPTIONS)
        if chunk_docs and (len(body) + len(item) + len(source) > max_bytes or len(chunk_docs) >= max_items):
            yield BulkChunk(body, chunk_docs)
            body = bytearray()
            chunk_docs = []
        body += item
        body += source
        chunk_docs.append(doc)
    if chunk_docs:
        yield BulkChunk(body, chunk_docs)


def bulk_body(docs: Sequence[Document], prefix: str = DEFAULT_INDEX_PREFIX) -> bytes:
    """The NDJSON body of one ``_bulk`` request for ``docs`` (no size limit)."""
    body = bytearray()
    for doc in docs:
        body += encode_item(doc, prefix)
    return bytes(body)
