"""A fault-injecting HTTP proxy in front of the local OpenSearch stand-in (tests only).

It forwards every request to the upstream server and, as told, for ``_bulk`` requests:
rejects chosen items with 429 (the rest are really indexed upstream), answers whole
requests with 5xx, delays the answer past the client's timeout, resets the connection
without answering, or answers 413 above a body size. Every bulk request is recorded.
Binds 127.0.0.1 only; the test that starts it stops it.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from lambdalens.indexing.bulk_body import event_id_of


@dataclass
class Faults:
    """What the proxy does to the next bulk requests (all counters decrement as used)."""

    #: answer the next bulk requests with these HTTP statuses, in order (e.g. [503, 502])
    statuses: list[int] = field(default_factory=list)
    #: item ids -> how many more times to answer that item 429
    reject_items: dict[str, int] = field(default_factory=dict)
    #: choose items to reject 429 (once each) by this predicate on the _id, if set
    reject_if: Callable[[str], bool] | None = None
    #: seconds to sleep before answering the next ``delays`` bulk requests
    delay_seconds: float = 0.0
    delays: int = 0
    #: reset (close without answering) the next N bulk requests
    resets: int = 0
    #: answer 413 to bulk bodies larger than this
    max_body_bytes: int | None = None
    #: item ids OpenSearch should reject for their content (400 mapper_parsing_exception) -> times
    content_rejects: dict[str, int] = field(default_factory=dict)
    #: answer the next N bulk requests 400 as a gateway in front of OpenSearch does (an HTML
    #: page, not OpenSearch's JSON error)
    gateway_400s: int = 0


@dataclass
class BulkCall:
    ids: list[str]
    answered: int | None  # HTTP status, None when reset
    item_statuses: list[int] = field(default_factory=list)


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.faults = Faults()
        self.calls: list[BulkCall] = []
        self.lock = threading.Lock()
        self._rejected_once: set[str] = set()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Encoding") == "gzip":
                    data = zlib.decompress(data, 31)
                return data

            def do_GET(self) -> None:
                proxy._forward(self, self._body())

            def do_PUT(self) -> None:
                proxy._forward(self, self._body())

            def do_DELETE(self) -> None:
                proxy._forward(self, self._body())

            def do_HEAD(self) -> None:
                proxy._forward(self, b"")

            def do_POST(self) -> None:
                body = self._body()
                if self.path.split("?")[0].endswith("/_bulk"):
                    proxy._bulk(self, body)
                else:
                    proxy._forward(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    # ------------------------------------------------------------------
    def _upstream(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, str]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read(), resp.getheader("Content-Type", "application/json")
        finally:
            conn.close()

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler, status: int, data: bytes, ctype: str = "application/json"
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {"Content-Type": handler.headers.get("Content-Type", "application/json")}
        status, data, ctype = self._upstream(handler.command, handler.path, body, headers)
        self._answer(handler, status, data, ctype)

    def _bulk(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        lines = body.splitlines()
        pairs = [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]
        # Items are told apart by their event id (the part of the _id after the stream hash).
        ids = [event_id_of(next(iter(json.loads(a).values())).get("_id", "")) for a, _ in pairs]
        with self.lock:
            f = self.faults
            call = BulkCall(ids=ids, answered=None)
            self.calls.append(call)
            if f.resets > 0:
                f.resets -= 1
                reset = True
            else:
                reset = False
            delay = 0.0
            if not reset and f.delays > 0:
                f.delays -= 1
                delay = f.delay_seconds
            status = f.statuses.pop(0) if f.statuses and not reset else None
            too_large = f.max_body_bytes is not None and len(body) > f.max_body_bytes
        if reset:
            sock = handler.connection
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
            handler.close_connection = True
            return
        if delay:
            time.sleep(delay)
        if too_large:
            call.answered = 413
            self._answer(handler, 413, b'{"error":"content too long"}')
            return
        if status is None and not reset:
            with self.lock:
                if f.gateway_400s > 0:
                    f.gateway_400s -= 1
                    status = -400
        if status == -400:
            call.answered = 400
            page = b"<html><body><h1>400 Bad Request</h1>Request header or cookie too large</body></html>"
            self._answer(handler, 400, page, "text/html")
            return
        if status is not None:
            call.answered = status
            self._answer(
                handler,
                status,
                json.dumps(
                    {"error": {"type": "injected", "reason": f"HTTP {status}"}, "status": status}
                ).encode(),
            )
            return
        # choose items to reject
        synthetic: dict[int, dict[str, Any]] = {}
        with self.lock:
            for i, doc_id in enumerate(ids):
                if f.reject_items.get(doc_id, 0) > 0:
                    f.reject_items[doc_id] -= 1
                    synthetic[i] = {
                        "status": 429,
                        "error": {
                            "type": "es_rejected_execution_exception",
                            "reason": "rejected execution (injected)",
                        },
                    }
                elif f.reject_if is not None and doc_id not in self._rejected_once and f.reject_if(doc_id):
                    self._rejected_once.add(doc_id)
                    synthetic[i] = {
                        "status": 429,
                        "error": {
                            "type": "es_rejected_execution_exception",
                            "reason": "rejected execution (injected)",
                        },
                    }
                elif f.content_rejects.get(doc_id, 0) > 0:
                    f.content_rejects[doc_id] -= 1
                    synthetic[i] = {
                        "status": 400,
                        "error": {"type": "mapper_parsing_exception", "reason": "failed to parse (injected)"},
                    }
        forward = b"".join(a + b"\n" + s + b"\n" for i, (a, s) in enumerate(pairs) if i not in synthetic)
        upstream_items: list[dict[str, Any]] = []
        if forward:
            path = handler.path
            code, data, _ = self._upstream(
                "POST",
                path.split("?")[0] + "?" + "filter_path=items.*.status,items.*.error,errors",
                forward,
                {"Content-Type": "application/x-ndjson"},
            )
            if code != 200:
                call.answered = code
                self._answer(handler, code, data)
                return
            upstream_items = json.loads(data).get("items", [])
        merged: list[dict[str, Any]] = []
        it = iter(upstream_items)
        for i in range(len(pairs)):
            merged.append({"create": synthetic[i]} if i in synthetic else next(it))
        call.answered = 200
        call.item_statuses = [next(iter(m.values())).get("status", 0) for m in merged]
        errors = any(s >= 300 for s in call.item_statuses)
        self._answer(handler, 200, json.dumps({"took": 1, "errors": errors, "items": merged}).encode())
