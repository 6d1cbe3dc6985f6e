"""Every real-format sample under events/logs/, parsed by the real parser, through metrics and
alerts: the alert kinds sent are the ones the sample's expectation file implies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from lambdalens.metrics import MetricsSettings, build_function_metrics, validate_emf

if TYPE_CHECKING:
    from conftest import AwsEnv

LOGS = Path(__file__).resolve().parents[2] / "events" / "logs"
CASES = sorted(p.name[: -len(".json")] for p in LOGS.glob("*.json") if not p.name.endswith(".expect.json"))


def parse(case: str) -> list[dict[str, Any]]:
    parser_mod = pytest.importorskip("lambdalens.parsing.parser")
    from lambdalens.decoding.errors import RecordId
    from lambdalens.decoding.payload import payload_from_json

    payload = payload_from_json(
        json.loads((LOGS / f"{case}.json").read_text()), RecordId("shard", "1"), b"", "us-east-1"
    )
    parser = parser_mod.BatchParser(region="us-east-1")
    docs = list(parser.parse(payload))
    parser.finish()
    return docs


def expected_kinds(case: str) -> set[str]:
    """What the events engineer's expectation file says happened (independent of our code)."""
    kinds = set()
    for item in json.loads((LOGS / f"{case}.expect.json").read_text()):
        event, outcome = item.get("lambda.event_type"), item.get("lambda.outcome")
        if event == "timeout" or outcome == "timeout":
            kinds.add("timeout")
        if event == "oom" or outcome == "oom":
            kinds.add("out_of_memory")
        if event == "init_error" or (
            event == "init_report" and item.get("lambda.status") in ("error", "timeout")
        ):
            kinds.add("init_error")
        if event == "unhandled_error":
            kinds.add("new_error")
    return kinds


@pytest.mark.skipif(not CASES, reason="no samples under events/logs")
@pytest.mark.parametrize("case", CASES)
def test_real_samples(aws: AwsEnv, case: str) -> None:
    docs = parse(case)
    for record in build_function_metrics(docs, MetricsSettings()):
        assert validate_emf(record) == []
    engine = aws.engine(aws.settings(error_burst_count=1000))
    outcome = engine.process(docs)
    sent = {m.kind for m in aws.received()}
    expected = expected_kinds(case)
    logged = any(
        d.get("lambda.event_type") == "app_log"
        and d.get("exception.fingerprint")
        and (d.get("severity.number") or 0) >= 17
        and "log.record.parent_uid" not in d
        for d in docs
    )
    if logged:  # a logger.exception(...) line is a new error the expectation does not list
        expected.add("new_error")
    assert sent == expected
    assert outcome.failed == 0
    again = engine.process(docs)
    assert again.published == 0 and aws.received() == []
