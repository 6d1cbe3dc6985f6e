"""Pagination (search_after in a PIT, scroll fallback), limits and error mapping."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from search_support import index_documents, put_keyword_template, unique_prefix

from lambdalens.config import OpenSearchConfig
from lambdalens.indexing.client import make_client
from lambdalens.search import SearchRequestFailed, SearchUnavailable, find_transaction
from lambdalens.search.ids import normalize_key, trace_id_variants
from lambdalens.search.queries import exact, search_documents
from lambdalens.search.since import parse_since

REQUEST = "5d1c7a3e-0f2b-4c6d-8e9a-1b3c5d7e9f0a"


def chatty_invocation(lines: int) -> list[dict[str, Any]]:
    """One invocation printing ``lines`` lines, three per millisecond (ties need the event id)."""
    docs = []
    for i in range(lines):
        ms = 1718100000000 + i // 3
        docs.append(
            {
                "@timestamp": f"2024-06-11T10:00:{(ms // 1000) % 60:02d}.{ms % 1000:03d}Z",
                "log.record.uid": str(ms * 10**43 + i),
                "faas.name": "chatty",
                "faas.invocation_id": REQUEST,
                "traceId": "1-66682e00-000000000000000000000001",
                "lambda.event_type": "app_log",
                "severity.text": "INFO",
                "severity.number": 9,
                "body": f"line {i}",
            }
        )
    return docs


@pytest.fixture(scope="module")
def chatty(search_client: Any) -> str:
    prefix = unique_prefix("chatty")
    put_keyword_template(search_client, prefix)
    assert not index_documents(search_client, chatty_invocation(230), prefix)
    return prefix


class Recorder:
    """The real client, with every request recorded; optionally refusing to sort on _id."""

    def __init__(self, client: Any, refuse_id_sort: bool = False) -> None:
        self._client = client
        self.refuse_id_sort = refuse_id_sort
        self.calls: list[str] = []
        self.transport = self
        self.scroll = self._scroll
        self.clear_scroll = self._clear_scroll

    def search(self, **kwargs: Any) -> Any:
        from opensearchpy.exceptions import RequestError

        body = kwargs.get("body", {})
        self.calls.append(
            "search+pit" if "pit" in body else "search+scroll" if "scroll" in kwargs else "search"
        )
        if self.refuse_id_sort and any("_id" in s for s in body.get("sort", [])):
            raise RequestError(
                400,
                "search_phase_execution_exception",
                {
                    "error": {
                        "root_cause": [
                            {
                                "type": "illegal_argument_exception",
                                "reason": "Fielddata access on the _id field is disallowed",
                            }
                        ]
                    }
                },
            )
        return self._client.search(**kwargs)

    def perform_request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.calls.append(f"{method} {url}")
        return self._client.transport.perform_request(method, url, **kwargs)

    def _scroll(self, **kwargs: Any) -> Any:
        self.calls.append("scroll")
        return self._client.scroll(**kwargs)

    def _clear_scroll(self, **kwargs: Any) -> Any:
        self.calls.append("clear_scroll")
        return self._client.clear_scroll(**kwargs)


def test_pages_in_a_point_in_time(search_client: Any, chatty: str) -> None:
    client = Recorder(search_client)
    result = search_documents(
        client, f"{chatty}-*", exact("faas.name", ["chatty"]), limit=10_000, page_size=50
    )
    assert [h.source["body"] for h in result.hits] == [f"line {i}" for i in range(230)]
    assert not result.truncated
    assert client.calls[0] == "search"
    assert client.calls[1] == f"POST /{chatty}-*/_search/point_in_time"
    assert client.calls.count("search+pit") == 4
    assert client.calls[-1] == "DELETE /_search/point_in_time"


def test_limit_keeps_the_first_documents_and_says_so(search_client: Any, chatty: str) -> None:
    query = exact("faas.name", ["chatty"])
    result = search_documents(search_client, f"{chatty}-*", query, limit=120, page_size=50)
    assert [h.source["body"] for h in result.hits] == [f"line {i}" for i in range(120)]
    assert result.truncated
    exactly = search_documents(search_client, f"{chatty}-*", query, limit=230, page_size=50)
    assert len(exactly.hits) == 230 and not exactly.truncated
    newest = search_documents(search_client, f"{chatty}-*", query, limit=5, page_size=2, descending=True)
    assert [h.source["body"] for h in newest.hits] == [f"line {i}" for i in range(229, 224, -1)]


def test_scroll_when_the_cluster_refuses_to_sort_on_id(search_client: Any, chatty: str) -> None:
    client = Recorder(search_client, refuse_id_sort=True)
    result = search_documents(client, f"{chatty}-*", exact("faas.name", ["chatty"]), limit=200, page_size=60)
    assert sorted(int(h.source["body"].split()[1]) for h in result.hits) == list(range(200))
    assert result.truncated
    assert "scroll" in client.calls and client.calls[-1] == "clear_scroll"
    tx = find_transaction(client, REQUEST, index_prefix=chatty, page_size=100)
    assert len(tx.documents) == 230 and tx.invocations[0].request_id == REQUEST


def test_transaction_of_many_documents(search_client: Any, chatty: str) -> None:
    tx = find_transaction(
        search_client, "66682e00000000000000000000000001", index_prefix=chatty, page_size=40
    )
    assert [d["body"] for d in tx.documents] == [f"line {i}" for i in range(230)]
    tx = find_transaction(search_client, REQUEST, index_prefix=chatty, limit=100)
    assert tx.truncated and len(tx.documents) == 100


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_search_unavailable() -> None:
    client = make_client(
        OpenSearchConfig(endpoint=f"http://127.0.0.1:{closed_port()}", auth="none", timeout_seconds=2)
    )
    with pytest.raises(SearchUnavailable, match=r"ConnectionRefused|NewConnectionError|Connection refused"):
        find_transaction(client, REQUEST)


def test_http_error_is_search_request_failed(search_client: Any, chatty: str) -> None:
    with pytest.raises(SearchRequestFailed) as caught:
        search_documents(search_client, f"{chatty}-*", {"no_such_query": {}}, limit=5)
    assert caught.value.status == 400
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------- ids and --since
def test_trace_id_spellings() -> None:
    xray = "1-5e34a614-10bde2ed8f3a6b5d2e4c1f9a"
    assert trace_id_variants(xray) == {xray, "5e34a61410bde2ed8f3a6b5d2e4c1f9a"}
    assert trace_id_variants("5E34A61410BDE2ED8F3A6B5D2E4C1F9A") == {
        "5E34A61410BDE2ED8F3A6B5D2E4C1F9A",
        "5e34a61410bde2ed8f3a6b5d2e4c1f9a",
        xray,
    }
    assert trace_id_variants("order-42") == {"order-42"}


def test_keys_are_normalised() -> None:
    assert normalize_key("  abc \n") == "abc"
    assert normalize_key("Root=1-5e34a614-10bde2ed8f3a6b5d2e4c1f9a;Parent=53995c3f42cd8ad8;Sampled=1") == (
        "1-5e34a614-10bde2ed8f3a6b5d2e4c1f9a"
    )
    for bad in ("", "a b", "x" * 257):
        with pytest.raises(ValueError):
            normalize_key(bad)


def test_since_values() -> None:
    from datetime import UTC, datetime

    now = datetime(2024, 6, 11, 12, 0, tzinfo=UTC)
    assert parse_since("90s", now) == datetime(2024, 6, 11, 11, 58, 30, tzinfo=UTC)
    assert parse_since("15m", now) == datetime(2024, 6, 11, 11, 45, tzinfo=UTC)
    assert parse_since("1h", now) == datetime(2024, 6, 11, 11, 0, tzinfo=UTC)
    assert parse_since("2d", now) == datetime(2024, 6, 9, 12, 0, tzinfo=UTC)
    assert parse_since("1w", now) == datetime(2024, 6, 4, 12, 0, tzinfo=UTC)
    assert parse_since("2024-06-11") == datetime(2024, 6, 11, tzinfo=UTC)
    assert parse_since("2024-06-11T10:00:00Z") == datetime(2024, 6, 11, 10, tzinfo=UTC)
    assert parse_since("2024-06-11T12:00:00+02:00") == datetime(2024, 6, 11, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="30m, 1h, 2d"):
        parse_since("yesterday")
