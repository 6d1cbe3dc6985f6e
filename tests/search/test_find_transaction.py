"""find_transaction against the OpenSearch stand-in: the three-function transaction (issue 7's
bad token two hops upstream of the failure) and the real-format samples, under both mappings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from search_support import (
    ANALYSIS,
    ANALYSIS_RETRY_START,
    ANALYSIS_START,
    BAD_TOKEN_WARNING,
    CORRELATION,
    FAILURE_TIME,
    NEW_POST,
    NEW_POST_START,
    OTHER_ANALYSIS,
    OTHER_NEW_POST,
    PROCESSOR,
    T1,
    T1_W3C,
    T2,
    WARNING_TIME,
)

from lambdalens.search import Transaction, TransactionNotFound, find_transaction
from lambdalens.search.assemble import event_order
from lambdalens.search.since import iso_ms

EXPECTED_INVOCATIONS = [
    ("new-post", NEW_POST, 1),
    ("request-processor", PROCESSOR, 1),
    ("post-analysis", ANALYSIS, 1),
    ("post-analysis", ANALYSIS, 2),
]


def rows(tx: Transaction) -> list[tuple[str, str, int]]:
    return [(inv.function, inv.request_id, inv.attempt) for inv in tx.invocations]


@pytest.mark.parametrize(
    ("key", "matched_by"),
    [
        (T1, ("traceId",)),
        (T1_W3C, ("traceId",)),
        (T1_W3C.upper(), ("traceId",)),
        (f"Root={T1};Parent=2b7d9c13a4e6b8d0;Sampled=1", ("traceId",)),
        (CORRELATION, ("correlation_id",)),
        (NEW_POST, ("faas.invocation_id",)),
        (ANALYSIS, ("faas.invocation_id",)),
        (T2, ("traceId",)),
    ],
)
def test_any_key_of_the_transaction_finds_every_hop(
    search_client: Any, prefix: str, key: str, matched_by: tuple[str, ...]
) -> None:
    tx = find_transaction(search_client, key, index_prefix=prefix)
    assert tx.matched_by == matched_by
    assert rows(tx) == EXPECTED_INVOCATIONS
    assert tx.functions == ("new-post", "request-processor", "post-analysis")
    assert tx.trace_ids == (T1, T2)
    assert tx.correlation_ids == (CORRELATION,)
    request_ids = {d.get("faas.invocation_id") for d in tx.documents}
    assert OTHER_NEW_POST not in request_ids and OTHER_ANALYSIS not in request_ids
    assert not tx.truncated


def test_root_cause_is_the_warning_two_hops_upstream(search_client: Any, prefix: str) -> None:
    tx = find_transaction(search_client, ANALYSIS, index_prefix=prefix)
    rc = tx.root_cause
    assert rc is not None
    assert (rc.function, rc.request_id, rc.attempt) == ("new-post", NEW_POST, 1)
    assert iso_ms(rc.time) == WARNING_TIME
    assert rc.severity == "WARN"
    assert rc.evidence.startswith(BAD_TOKEN_WARNING)
    assert rc.hops_downstream == 2
    assert rc.failure is not None
    assert (rc.failure.function, rc.failure.request_id, rc.failure.attempt) == ("post-analysis", ANALYSIS, 1)
    assert iso_ms(rc.failure.time) == FAILURE_TIME
    assert rc.failure.error == "KeyError: 'author_id'"
    assert "2 hops downstream" in rc.reason


def test_documents_are_ordered_and_include_lines_without_ids(search_client: Any, prefix: str) -> None:
    tx = find_transaction(search_client, T1, index_prefix=prefix)
    assert list(tx.documents) == sorted(tx.documents, key=event_order)
    assert len({d["log.record.uid"] for d in tx.documents}) == len(tx.documents)
    # init lines of both cold starts (no request id, no trace id)
    inits = [
        (d["faas.name"], d["@timestamp"]) for d in tx.documents if d["lambda.event_type"] == "init_start"
    ]
    assert inits == [("new-post", "2024-06-11T23:59:39.480Z"), ("post-analysis", "2024-06-11T23:59:41.050Z")]
    # request-processor's lines carry no correlation id; the runtime's error line carries no trace field
    assert any(d["faas.name"] == "request-processor" and "correlation_id" not in d for d in tx.documents)
    assert sum(d["lambda.event_type"] == "unhandled_error" for d in tx.documents) == 2
    # 7 new-post + 5 request-processor + 7 + 6 post-analysis
    assert len(tx.documents) == 25


def test_invocation_details(search_client: Any, prefix: str) -> None:
    tx = find_transaction(search_client, CORRELATION, index_prefix=prefix)
    new_post, processor, first, retry = tx.invocations
    assert iso_ms(new_post.start) == NEW_POST_START
    assert (new_post.outcome, new_post.cold_start, new_post.duration_ms) == ("success", True, 182.41)
    assert (new_post.init_duration_ms, new_post.memory_size_mb, new_post.max_memory_used_mb) == (
        612.37,
        256,
        88,
    )
    assert new_post.errors == ()
    assert (processor.outcome, processor.cold_start, processor.trace_id, processor.correlation_id) == (
        "success",
        False,
        T1,
        None,
    )
    assert iso_ms(first.start) == ANALYSIS_START and iso_ms(retry.start) == ANALYSIS_RETRY_START
    for attempt in (first, retry):
        assert attempt.outcome == "error"
        assert [(e.type, e.message, e.event_type) for e in attempt.errors] == [
            ("KeyError", "'author_id'", "unhandled_error")
        ]
        assert attempt.errors[0].line == "[ERROR] KeyError: 'author_id'"
    assert first.cold_start and not retry.cold_start
    assert first.errors[0].fingerprint == retry.errors[0].fingerprint  # the same bug
    assert tx.start is not None and tx.end is not None
    assert (tx.end - tx.start).total_seconds() == pytest.approx(61.613, abs=0.001)


def test_hops_are_bounded(search_client: Any, keyword_prefix: str) -> None:
    # with no hop followed, only the invocations that carry the trace id itself are found
    tx = find_transaction(search_client, T1, index_prefix=keyword_prefix, max_hops=0)
    assert rows(tx) == [("new-post", NEW_POST, 1), ("request-processor", PROCESSOR, 1)]
    assert tx.hops_followed == 0
    assert tx.root_cause is None  # nothing failed in what was found
    # T2 -> post-analysis -> correlation id -> new-post -> T1 -> request-processor: 2 rounds
    tx = find_transaction(search_client, T2, index_prefix=keyword_prefix)
    assert tx.hops_followed == 2
    assert rows(tx) == EXPECTED_INVOCATIONS
    tx = find_transaction(search_client, T2, index_prefix=keyword_prefix, max_hops=1)
    assert rows(tx) == [
        ("new-post", NEW_POST, 1),
        ("post-analysis", ANALYSIS, 1),
        ("post-analysis", ANALYSIS, 2),
    ]


def test_since_leaves_older_documents_out(search_client: Any, keyword_prefix: str) -> None:
    since = datetime(2024, 6, 12, tzinfo=UTC)
    tx = find_transaction(search_client, T2, index_prefix=keyword_prefix, since=since)
    assert [(inv.function, inv.request_id) for inv in tx.invocations] == [("post-analysis", ANALYSIS)]
    assert all(d["@timestamp"] >= "2024-06-12" for d in tx.documents)
    assert tx.root_cause is not None and tx.root_cause.function == "post-analysis"
    with pytest.raises(TransactionNotFound, match="since 2024-06-12T00:00:00"):
        find_transaction(search_client, NEW_POST, index_prefix=keyword_prefix, since=since)


def test_limit_is_honoured(search_client: Any, keyword_prefix: str) -> None:
    tx = find_transaction(search_client, T1, index_prefix=keyword_prefix, limit=10)
    assert tx.truncated
    assert len(tx.documents) == 10
    assert tx.documents[0]["@timestamp"] == "2024-06-11T23:59:39.480Z"  # the earliest are kept


def test_small_pages_give_the_same_transaction(search_client: Any, keyword_prefix: str) -> None:
    whole = find_transaction(search_client, T1, index_prefix=keyword_prefix)
    paged = find_transaction(search_client, T1, index_prefix=keyword_prefix, page_size=3)
    assert paged.documents == whole.documents
    assert paged.as_dict() == whole.as_dict()


def test_unknown_and_malformed_keys(search_client: Any, keyword_prefix: str) -> None:
    with pytest.raises(TransactionNotFound, match="no documents for '1-00000000-000000000000000000000000'"):
        find_transaction(search_client, "1-00000000-000000000000000000000000", index_prefix=keyword_prefix)
    with pytest.raises(TransactionNotFound):
        find_transaction(search_client, NEW_POST, index_prefix="t-no-such-prefix")
    with pytest.raises(ValueError, match="empty"):
        find_transaction(search_client, "  ", index_prefix=keyword_prefix)
    with pytest.raises(ValueError, match="blanks"):
        find_transaction(search_client, "new post", index_prefix=keyword_prefix)
    with pytest.raises(ValueError, match="limit"):
        find_transaction(search_client, T1, index_prefix=keyword_prefix, limit=0)


# ---------------------------------------------------------------- real-format samples
def test_powertools_sample_by_either_trace_spelling_and_correlation_id(
    search_client: Any, prefix: str
) -> None:
    keys = [
        "1-66322ec0-96b34cc019d276c3df8f6c82",
        "66322ec096b34cc019d276c3df8f6c82",
        "c6a2e0d4-3d0a-4b8e-9f41-0f2b9d7a6e15",
    ]
    for key in keys:
        tx = find_transaction(search_client, key, index_prefix=prefix)
        assert rows(tx) == [("payment-collector", "04b33bf1-b5c3-45b1-abc2-29c8223857f0", 1)]
        rc = tx.root_cause
        # the invocation succeeded but logged an ERROR (a handled CardDeclined): that is the root cause
        assert rc is not None and rc.failure is None
        assert (rc.function, rc.severity, rc.error_type) == ("payment-collector", "ERROR", "CardDeclined")
        assert rc.evidence.startswith("Payment declined")


def test_init_error_sample_includes_the_init_lines(search_client: Any, prefix: str) -> None:
    tx = find_transaction(search_client, "7c21e8a7-f40b-4939-ad74-ade5abe5e390", index_prefix=prefix)
    (inv,) = tx.invocations
    assert (inv.function, inv.outcome, inv.cold_start) == ("report-builder", "error", True)
    types = [d["lambda.event_type"] for d in tx.documents]
    assert types.count("init_error") == 2 and types.count("init_report") == 2
    assert [(e.type, e.count) for e in inv.errors] == [("Runtime.ImportModuleError", 2)]
    rc = tx.root_cause
    assert rc is not None
    assert (
        rc.evidence
        == "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'"
    )
    assert iso_ms(rc.time) == "2025-09-04T14:34:19.333Z"  # not the LAMBDA_WARNING 10 ms before it
    # the invocation began with the init the invoke phase retried: its REPORT duration says so
    assert iso_ms(inv.start) == "2025-09-04T14:34:19.476Z"


@pytest.mark.parametrize(
    ("request_id", "outcome", "error_type"),
    [
        ("2e4ec73b-5771-49ff-9e0c-e0a8d79a5576", "timeout", "Timeout"),  # only the REPORT says so
        ("d64eb926-4513-4b1f-8bf4-17136c6c409c", "timeout", "Sandbox.Timedout"),  # legacy timeout line
        ("7891b69e-d1a9-4f1d-852d-2b866d242bf7", "oom", "Runtime.ExitError"),
        ("ed831b2b-6e1a-4e35-8da8-b63cb785e337", "oom", "java.lang.OutOfMemoryError"),
        ("43fd2a26-b1bb-4aba-b8d1-d1752cfa65b0", "error", "KeyError"),
    ],
)
def test_failure_samples(
    search_client: Any, prefix: str, request_id: str, outcome: str, error_type: str
) -> None:
    tx = find_transaction(search_client, request_id, index_prefix=prefix)
    (inv,) = tx.invocations
    assert inv.outcome == outcome
    assert inv.errors[0].type == error_type
    rc = tx.root_cause
    assert rc is not None and rc.failure is not None
    assert (rc.function, rc.request_id, rc.hops_downstream) == (inv.function, request_id, 0)
    assert rc.reason == f"the first invocation that failed ({outcome})"
