"""Bulk bodies: one ``create`` item per document, cut at the item and byte limits, in order."""

from __future__ import annotations

from typing import Any

import orjson

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.indexing.bulk_body import build_chunks, bulk_body, document_id
from lambdalens.parsing import parse_payloads
from testing_support import load_event


def _docs() -> list[dict[str, Any]]:
    payload = payload_from_json(load_event("logs/python-text-cold-start.json"), RecordId("s", "1"), b"")
    docs = parse_payloads([payload], region="us-east-1")
    return [dict(doc, **{"log.record.uid": f"{doc['log.record.uid']}{i}"}) for i in range(4) for doc in docs]


def _items(body: bytes | bytearray) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    lines = bytes(body).split(b"\n")
    assert lines[-1] == b"", "newline-terminated"
    pairs = lines[:-1]
    return [(orjson.loads(pairs[i]), orjson.loads(pairs[i + 1])) for i in range(0, len(pairs), 2)]


def test_every_document_is_one_create_item_in_its_days_index_with_its_own_id() -> None:
    docs = _docs()
    items = _items(bulk_body(docs))
    assert len(items) == len(docs)
    for (action, source), doc in zip(items, docs, strict=True):
        day = doc["@timestamp"][:10].replace("-", ".")
        assert action == {"create": {"_index": f"lambda-logs-{day}", "_id": document_id(doc)}}
        assert source == doc


def test_chunks_hold_at_most_max_items_and_keep_the_order() -> None:
    docs = _docs()
    chunks = list(build_chunks(docs, max_items=5))
    assert [len(c) for c in chunks] == [5] * (len(docs) // 5) + ([len(docs) % 5] if len(docs) % 5 else [])
    assert [d for c in chunks for d in c.docs] == docs
    for chunk in chunks:
        assert [source for _, source in _items(chunk.body)] == chunk.docs
    assert b"".join(bytes(c.body) for c in chunks) == bulk_body(docs)


def test_chunks_stay_under_max_bytes_and_an_oversized_item_goes_alone() -> None:
    docs = _docs()
    sizes = [len(bulk_body([d])) for d in docs]
    limit = 3 * max(sizes[1:])  # room for about three items, less for the first (larger) one
    docs[0] = dict(docs[0], body="x" * (limit + 10))  # larger than any chunk may be
    chunks = list(build_chunks(docs, max_bytes=limit))
    assert len(chunks[0]) == 1 and chunks[0].docs[0] is docs[0]
    for chunk in chunks[1:]:
        assert len(chunk.body) <= limit
        assert len(chunk) >= 1
    assert [d for c in chunks for d in c.docs] == docs
    assert b"".join(bytes(c.body) for c in chunks) == bulk_body(docs)


def test_documents_from_a_generator_are_chunked_the_same() -> None:
    docs = _docs()
    from_list = [(bytes(c.body), c.docs) for c in build_chunks(docs, max_items=7)]
    from_generator = [(bytes(c.body), c.docs) for c in build_chunks((d for d in docs), max_items=7)]
    assert from_list == from_generator
