"""The root-cause rule on hand-made documents (pure: no OpenSearch)."""

from __future__ import annotations

import random
from typing import Any

from lambdalens.search.assemble import build_invocations, ordered
from lambdalens.search.root_cause import find_root_cause
from lambdalens.search.since import iso_ms

_uid = iter(range(10**6, 10**7))


def doc(
    function: str,
    request_id: str,
    second: float,
    event_type: str = "app_log",
    severity: str = "INFO",
    **fields: Any,
) -> dict[str, Any]:
    ms = int(second * 1000)
    return {
        "@timestamp": f"2024-06-11T10:00:{ms // 1000:02d}.{ms % 1000:03d}Z",
        "log.record.uid": str(next(_uid)),
        "faas.name": function,
        "faas.invocation_id": request_id,
        "faas.instance": f"2024/06/11/[$LATEST]{function}",
        "lambda.event_type": event_type,
        "severity.text": severity,
        "severity.number": {"INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}[severity],
        "body": fields.pop("body", f"{severity} line of {function} at {second}"),
        **fields,
    }


def invocation(
    function: str, request_id: str, start: float, end: float, outcome: str, *lines: dict[str, Any]
) -> list[dict[str, Any]]:
    return [
        doc(function, request_id, start, "start"),
        *lines,
        doc(
            function,
            request_id,
            end,
            "report",
            "INFO",
            **{"lambda.outcome": outcome, "lambda.duration_ms": (end - start) * 1000},
        ),
    ]


def root_cause(docs: list[dict[str, Any]]) -> Any:
    invocations, _ = build_invocations(ordered(docs))
    return find_root_cause(invocations)


def test_healthy_transaction_has_no_root_cause() -> None:
    docs = invocation("a", "r1", 0, 1, "success", doc("a", "r1", 0.5, severity="WARN"))
    docs += invocation("b", "r2", 1, 2, "success")
    assert root_cause(docs) is None  # a warning alone is no failure


def test_single_failure_is_its_own_root_cause() -> None:
    docs = invocation("a", "r1", 0, 1, "success")
    docs += invocation(
        "b",
        "r2",
        1,
        2,
        "error",
        doc("b", "r2", 1.5, severity="WARN", body="LAMBDA_WARNING: Unhandled exception."),
        doc(
            "b",
            "r2",
            1.5,
            "unhandled_error",
            "ERROR",
            body="[ERROR] ValueError: bad",
            **{"exception.type": "ValueError"},
        ),
    )
    rc = root_cause(docs)
    assert (rc.function, rc.request_id, rc.hops_downstream) == ("b", "r2", 0)
    assert rc.evidence == "[ERROR] ValueError: bad"  # the most severe line, not the warning before it
    assert rc.error_type == "ValueError"
    assert rc.reason == "the first invocation that failed (error)"


def test_upstream_warning_before_the_failure_is_the_root_cause() -> None:
    docs = invocation(
        "api", "r1", 0, 1, "success", doc("api", "r1", 0.2, severity="WARN", body="accepting odd input")
    )
    docs += invocation("mid", "r2", 1, 2, "success")
    docs += invocation("sink", "r3", 2, 3, "error", doc("sink", "r3", 2.5, "unhandled_error", "ERROR"))
    rc = root_cause(docs)
    assert (rc.function, rc.evidence, rc.hops_downstream) == ("api", "accepting odd input", 2)
    assert rc.failure.function == "sink"
    assert rc.reason == "logged WARN before sink failed (error) 2 hops downstream"


def test_hop_that_warned_then_erred_is_shown_by_its_error() -> None:
    docs = invocation(
        "api",
        "r1",
        0,
        1,
        "success",
        doc("api", "r1", 0.2, severity="WARN", body="odd input"),
        doc("api", "r1", 0.4, severity="ERROR", body="could not enrich"),
    )
    docs += invocation("sink", "r2", 1, 2, "timeout", doc("sink", "r2", 2, "timeout", "ERROR"))
    rc = root_cause(docs)
    assert (rc.function, rc.evidence, rc.severity) == ("api", "could not enrich", "ERROR")


def test_lines_after_the_first_failure_do_not_count() -> None:
    docs = invocation("a", "r1", 0, 3, "error", doc("a", "r1", 1, "unhandled_error", "ERROR", body="boom"))
    docs += invocation(
        "b", "r2", 0.5, 2, "success", doc("b", "r2", 1.5, severity="WARN", body="late warning")
    )
    rc = root_cause(docs)
    assert (rc.function, rc.evidence) == ("a", "boom")


def test_first_failure_is_by_failure_time_not_start() -> None:
    # "a" starts first and times out late; "b" starts later and fails first: "b" broke first
    docs = invocation(
        "a", "r1", 0, 10, "timeout", doc("a", "r1", 10, "timeout", "ERROR", body="Task timed out")
    )
    docs += invocation(
        "b", "r2", 1, 2, "error", doc("b", "r2", 1.5, "unhandled_error", "ERROR", body="db down")
    )
    rc = root_cause(docs)
    assert (rc.function, rc.evidence) == ("b", "db down")
    assert rc.hops_downstream == 0


def test_handled_error_without_failed_invocation() -> None:
    docs = invocation(
        "a", "r1", 0, 1, "success", doc("a", "r1", 0.5, severity="ERROR", body="retrying after 503")
    )
    rc = root_cause(docs)
    assert rc.function == "a" and rc.failure is None
    assert rc.reason.startswith("no invocation failed")


def test_report_only_failure_uses_the_report_line() -> None:
    docs = invocation("a", "r1", 0, 3, "timeout")
    docs[-1]["body"] = "REPORT RequestId: r1\tDuration: 3000.00 ms\tStatus: timeout"
    rc = root_cause(docs)
    assert rc.evidence == "REPORT RequestId: r1 Duration: 3000.00 ms Status: timeout"
    assert iso_ms(rc.time) == "2024-06-11T10:00:03.000Z"


def test_continuation_lines_are_not_evidence() -> None:
    head = doc("a", "r1", 1, "unhandled_error", "ERROR", body="panic: nil map")
    tail = doc(
        "a",
        "r1",
        1,
        "app_log",
        "ERROR",
        body="goroutine 1 [running]:",
        **{"log.record.parent_uid": head["log.record.uid"]},
    )
    rc = root_cause(invocation("a", "r1", 0, 2, "error", head, tail))
    assert rc.evidence == "panic: nil map"


def test_rule_is_deterministic_whatever_the_input_order() -> None:
    docs = invocation("api", "r1", 0, 1, "success", doc("api", "r1", 0.5, severity="WARN", body="first"))
    docs += invocation(
        "other", "r2", 0, 1, "success", doc("other", "r2", 0.5, severity="WARN", body="same ms, later id")
    )
    docs += invocation("sink", "r3", 2, 3, "oom", doc("sink", "r3", 2.5, "oom", "ERROR"))
    expected = root_cause(docs)
    assert expected.evidence == "first"  # same millisecond: the lower event id wins
    for seed in range(5):
        shuffled = docs[:]
        random.Random(seed).shuffle(shuffled)
        assert root_cause(shuffled) == expected


def test_async_retry_with_the_same_request_id_is_a_second_attempt() -> None:
    docs = invocation(
        "sink", "r1", 0, 1, "error", doc("sink", "r1", 0.5, "unhandled_error", "ERROR", body="boom")
    )
    docs += invocation(
        "sink", "r1", 30, 31, "error", doc("sink", "r1", 30.5, "unhandled_error", "ERROR", body="boom")
    )
    invocations, _ = build_invocations(ordered(docs))
    assert [(i.request_id, i.attempt, i.outcome) for i in invocations] == [
        ("r1", 1, "error"),
        ("r1", 2, "error"),
    ]
    assert root_cause(docs).attempt == 1
