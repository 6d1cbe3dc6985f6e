"""Serialising documents into OpenSearch ``_bulk`` request bodies.

Every document is one ``create`` item in the daily index of the event's own timestamp
(``<prefix>-YYYY.MM.DD``) whose ``_id`` is :func:`document_id`: a short hash of its log group
and log stream, then its CloudWatch event id. A redelivered event always lands on the same
``_index``/``_id`` and is answered 409, never indexed twice; events of different streams never
share an ``_id``, even with the same event id.

Bodies are built in a ``bytearray`` and cut at a byte and an item limit. Each piece of an
item is appended to the body as it is produced: every intermediate ``bytes`` (an item
concatenated before appending, one kept per item) is a fresh allocation of about a
kilobyte, and ``make bench`` measured those allocations costing more than the
serialisation itself.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import orjson

from lambdalens.parsing.document import Document
from lambdalens.parsing.serialisable import writable

DEFAULT_INDEX_PREFIX = "lambda-logs"
#: ``lambdalens bench --sweep`` into a real node, 3 requests in flight: 2 MiB / 2,000-item bodies
#: gave ~1.1x the events/s of 5 MiB / 5,000 and cost the node ~10 % less CPU per document.
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
HARD_MAX_BYTES = 9 * 1024 * 1024  # small Amazon OpenSearch instances answer 413 above 10 MiB
DEFAULT_MAX_ITEMS = 2000

# OPT_NON_STR_KEYS costs orjson a slower path for every key (about a quarter of the time to
# serialise a document): documents are dumped without it first, and with it only when a key
# is not a string (the output is the same for string keys).
_DUMPS_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE


def _dump_unusual(doc: Document) -> bytes:
    """The source line of a document the plain dump refused (orjson raises TypeError): a key
    that is not a string, or a value orjson cannot write — an integer beyond 64 bits, nesting
    deeper than 254 levels, an unknown type. The parser's documents never need this; one bad
    document must not fail the whole body, so the last resort writes it reduced
    (see :func:`lambdalens.parsing.serialisable.writable`)."""
    try:
        return orjson.dumps(doc, option=_DUMPS_OPTIONS)
    except TypeError:
        return orjson.dumps(writable(doc), option=orjson.OPT_APPEND_NEWLINE)


_ACTION_END = b"}}\n"


def index_for(prefix: str, timestamp: str) -> str:
    """``lambda-logs`` + ``2024-05-01T12:00:00.123Z`` -> ``lambda-logs-2024.05.01``."""
    return f"{prefix}-{timestamp[0:4]}.{timestamp[5:7]}.{timestamp[8:10]}"


def _action_head(index: str) -> bytes:
    """The action line of a ``create`` item in ``index``, up to its ``_id`` value."""
    return b'{"create":{"_index":%s,"_id":' % orjson.dumps(index)


#: Characters of the stream hash at the start of every ``_id`` (64 bits), and the separator.
STREAM_HASH_CHARS = 16
#: An event id longer than this (in characters) is hashed too: OpenSearch limits ``_id`` to 512 bytes.
MAX_EVENT_ID_CHARS = 120


@functools.lru_cache(maxsize=4096)
def _stream_hash(group: str, stream: str) -> str:
    """``STREAM_HASH_CHARS`` hex characters of BLAKE2b over the log group and stream."""
    key = f"{group}\x00{stream}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(key, digest_size=STREAM_HASH_CHARS // 2).hexdigest()


def document_id(doc: Document) -> str:
    """The ``_id`` of a document: ``<stream hash>-<event id>``, the same for the same event
    (log group, log stream, ``log.record.uid``) every time it is delivered.

    An event id too long for an ``_id`` (never CloudWatch's: 56 digits) is replaced by its own
    BLAKE2b hash; ``log.record.uid`` always keeps the event id itself.
    """
    group = doc.get("aws.log.group")
    stream = doc.get("aws.log.stream")
    uid = doc["log.record.uid"]
    if type(uid) is not str:
        uid = str(uid)
    if len(uid) > MAX_EVENT_ID_CHARS:
        uid = hashlib.blake2b(uid.encode("utf-8", "surrogatepass"), digest_size=32).hexdigest()
    return f"{_stream_hash(group if type(group) is str else '', stream if type(stream) is str else '')}-{uid}"


#: The fields that make a document's identity, as :func:`document_id` reads them.
IDENTITY_FIELDS = ("aws.log.group", "aws.log.stream", "log.record.uid")


def same_event(doc: Document, stored: Mapping[str, object]) -> bool:
    """Whether ``stored`` (a source holding at least :data:`IDENTITY_FIELDS`) is ``doc``'s event."""
    for name in IDENTITY_FIELDS:
        mine, theirs = doc.get(name), stored.get(name)
        if (None if mine is None else str(mine)) != (None if theirs is None else str(theirs)):
            return False
    return True


def event_id_of(doc_id: str) -> str:
    """The event id part of a :func:`document_id` (hashed if it was too long)."""
    return doc_id[STREAM_HASH_CHARS + 1 :]


def _doc_id(doc: Document) -> bytes:
    """The item's ``_id`` as a JSON string."""
    return orjson.dumps(document_id(doc))


def encode_item(doc: Document, prefix: str = DEFAULT_INDEX_PREFIX) -> bytes:
    """The action and source lines of one document's ``create`` item, newline-terminated."""
    head = _action_head(index_for(prefix, doc["@timestamp"]))
    try:
        source = orjson.dumps(doc, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        source = _dump_unusual(doc)
    return head + _doc_id(doc) + _ACTION_END + source


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
    it 413 or 400 and the indexer takes it from there). Every chunk has a body of its own:
    a consumer may keep it while the next one is built.
    """
    max_bytes = min(max_bytes, HARD_MAX_BYTES)
    if not isinstance(docs, list):
        docs = list(docs)
    dumps = orjson.dumps
    day: str | None = None  # "YYYY-MM-DD" of the previous document; ``head`` is its action head
    head = b""
    body = bytearray()
    first = 0  # the position of the current chunk's first document
    full_at = max_items  # the position that starts the next chunk by count
    for position, doc in enumerate(docs):
        timestamp = doc["@timestamp"]
        if timestamp[:10] != day:  # a batch spans a day or two: rarely a new head
            day = timestamp[:10]
            head = _action_head(index_for(prefix, timestamp))
        doc_id = document_id(doc)
        if position == full_at:
            yield BulkChunk(body, docs[first:position])
            body = bytearray()
            first = position
            full_at = position + max_items
        body += head
        item_id = dumps(doc_id)
        body += item_id
        body += _ACTION_END
        try:
            source = dumps(doc, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # never in the parser's documents
            source = _dump_unusual(doc)
        body += source
        if len(body) > max_bytes and position > first:
            # The item does not fit: it starts the next chunk (checked after appending, as
            # items nearly always fit, rather than sizing every item first).
            start = len(body) - len(head) - len(item_id) - len(_ACTION_END) - len(source)
            item = body[start:]
            del body[start:]
            yield BulkChunk(body, docs[first:position])
            body = item
            first = position
            full_at = position + max_items
    if first < len(docs):
        yield BulkChunk(body, docs[first:])


def bulk_body(docs: Sequence[Document], prefix: str = DEFAULT_INDEX_PREFIX) -> bytes:
    """The NDJSON body of one ``_bulk`` request for ``docs`` (no size limit)."""
    body = bytearray()
    for doc in docs:
        body += encode_item(doc, prefix)
    return bytes(body)
