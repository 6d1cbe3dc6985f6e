"""The bulk floor of ``lambdalens bench --e2e``: the least any client must do to index documents.

The documents the handler indexed, serialised beforehand into the very ``_bulk`` bodies the
handler sends (same documents per request, same bytes; gzip-compressed beforehand when the
handler compresses), POSTed by a minimal loop — one ``http.client`` connection per thread,
as many threads as the handler has requests in flight — that reads each answer only to check
that the node took every document. Nothing of the handler's own work is in it: what the
handler takes beyond this time is its cost.
"""

from __future__ import annotations

import gzip
import http.client
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from lambdalens.indexing.bulk_body import build_chunks
from lambdalens.indexing.client import BULK_FILTER_PATH, GZIP_LEVEL
from lambdalens.parsing.document import Document

_PATH = "/_bulk?" + urlencode({"filter_path": BULK_FILTER_PATH})


class FloorError(RuntimeError):
    """The node did not take a floor request whole (the floor would not be a floor)."""


def prepared_bodies(docs: Sequence[Document], prefix: str, max_bytes: int, max_items: int) -> list[bytes]:
    """The ``_bulk`` bodies the indexer would send for ``docs`` with these limits."""
    return [bytes(chunk.body) for chunk in build_chunks(list(docs), prefix, max_bytes, max_items)]


def compressed(bodies: Iterable[bytes]) -> list[bytes]:
    """``bodies`` gzip-compressed as the client compresses them (``OPENSEARCH_COMPRESS``)."""
    return [gzip.compress(body, compresslevel=GZIP_LEVEL) for body in bodies]


def send_all(url: str, bodies: Iterable[bytes], connections: int, compressed: bool) -> float:
    """POST every body to ``url``'s ``_bulk``, ``connections`` at a time; the seconds it took."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    headers = {"content-type": "application/x-ndjson"}
    if compressed:
        headers |= {"content-encoding": "gzip", "accept-encoding": "gzip,deflate"}
    local = threading.local()
    opened: list[http.client.HTTPConnection] = []
    lock = threading.Lock()

    def post(body: bytes) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(host, port, timeout=120)
            with lock:
                opened.append(connection)
        connection.request("POST", _PATH, body=body, headers=headers)
        response = connection.getresponse()
        _check(response.status, response.read(), response.getheader("content-encoding"))

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="bulk-floor") as pool:
            for _ in pool.map(post, bodies):
                pass
        return time.perf_counter() - started
    finally:
        for connection in opened:
            connection.close()


def _check(status: int, data: bytes, encoding: str | None) -> None:
    if encoding == "gzip":
        data = gzip.decompress(data)
    if status != 200:
        raise FloorError(f"the node answered a floor request HTTP {status}: {data[:300]!r}")
    answer = orjson.loads(data)
    if answer.get("errors"):
        results = [next(iter(item.values())) for item in answer["items"]]
        failed: dict[str, Any] = next((r for r in results if r.get("status", 0) >= 300), {})
        raise FloorError(f"the node rejected floor documents: {str(failed)[:300]}")
