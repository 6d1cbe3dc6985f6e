"""The alert engine against moto: each kind fires once, quiet periods, digests, redelivery,
fingerprint re-arming, publish failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest

from lambdalens.alerts import AlertState
from lambdalens.metrics.samples import SampleLog

if TYPE_CHECKING:
    from conftest import AwsEnv


def timeouts(log: SampleLog, n: int = 1) -> list[dict[str, Any]]:
    return [d for _ in range(n) for d in log.invocation(outcome="timeout", duration_ms=3000.0)]


def kind_batch(kind: str, make_function: Any) -> tuple[list[dict[str, Any]], Any]:
    """Real-format documents that should make exactly one alert of ``kind``."""
    log = SampleLog("orders-api")
    if kind == "timeout":
        return log.invocation(outcome="timeout", duration_ms=3000.0), None
    if kind == "out_of_memory":
        return log.invocation(outcome="oom", duration_ms=812.0), None
    if kind == "init_error":
        return log.init_failure(), None
    if kind == "new_error":
        return log.invocation(outcome="error"), None
    if kind == "near_timeout":
        return log.invocation(duration_ms=2900.0), make_function("orders-api", timeout=3)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["timeout", "out_of_memory", "init_error", "new_error", "near_timeout"])
def test_each_kind_fires_once_for_a_real_format_event(aws: AwsEnv, make_function: Any, kind: str) -> None:
    docs, lambda_client = kind_batch(kind, make_function)
    outcome = aws.engine(lambda_client=lambda_client).process(docs, lambda: 30_000)
    sent = aws.received()
    assert [m.kind for m in sent] == [kind], [m.subject for m in sent]
    (msg,) = sent
    assert outcome.published == 1 and outcome.failed == 0
    assert msg.attributes["function"] == "orders-api"
    assert msg.attributes["severity"] in ("critical", "high", "medium", "low")
    assert len(msg.subject) < 100 and msg.subject.isascii()
    assert "orders-api" in msg.text and "123456789012" in msg.text and "us-east-1" in msg.text
    assert msg.alert["kind"] == kind and msg.alert["function"] == "orders-api"
    assert msg.document["version"] == "1.0" and msg.document["source"] == "custom"
    assert (
        "cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Forders-api"
        in msg.text
    )
    if kind != "init_error":
        rid = next(d["faas.invocation_id"] for d in docs if d["lambda.event_type"] == "report")
        assert msg.alert["request_id"] == rid and rid in msg.text
        assert f"faas.invocation_id:%22{rid}%22" in msg.alert["links"]["opensearch_discover"]


def test_error_burst_fires_once_at_the_threshold(aws: AwsEnv) -> None:
    engine = aws.engine(aws.settings(error_burst_count=5, error_burst_window_minutes=5.0))
    log = SampleLog("orders-api")
    engine.process([d for _ in range(3) for d in log.invocation(outcome="error", advance_ms=10_000)])
    assert [m.kind for m in aws.received()] == ["new_error"]  # 3 < 5: no burst yet
    outcome = engine.process(
        [d for _ in range(3) for d in log.invocation(outcome="timeout", advance_ms=10_000)]
    )
    sent = aws.received()
    assert sorted(m.kind for m in sent) == ["error_burst", "timeout"]
    burst = next(m for m in sent if m.kind == "error_burst")
    assert burst.alert["details"]["window_count"] == 6
    assert "6 failed invocations of orders-api within 5 min" in burst.text
    assert outcome.published == 2
    engine.process([d for _ in range(2) for d in log.invocation(outcome="error", advance_ms=10_000)])
    assert aws.received() == []  # still bursting, quiet period: held back


def test_burst_window_is_event_time(aws: AwsEnv) -> None:
    engine = aws.engine(aws.settings(error_burst_count=3, error_burst_window_minutes=2.0))
    log = SampleLog("orders-api")
    # Three timeouts, five minutes apart: never 3 within 2 minutes.
    for _ in range(3):
        engine.process(log.invocation(outcome="timeout", advance_ms=300_000))
        aws.clock.advance(16)
    assert "error_burst" not in [m.kind for m in aws.received()]


def test_duration_regression_after_a_baseline(aws: AwsEnv) -> None:
    engine = aws.engine(
        aws.settings(regression_min_samples=20, regression_factor=3.0, regression_min_ms=1000.0)
    )
    log = SampleLog("orders-api")
    baseline = [
        d for i in range(30) for d in log.invocation(duration_ms=300.0 + i, advance_ms=500, app_lines=0)
    ]
    engine.process(baseline)
    assert aws.received() == []
    slow = log.invocation(duration_ms=1500.0)
    engine.process(slow)
    (msg,) = aws.received()
    assert msg.kind == "duration_regression"
    details = msg.alert["details"]
    assert details["median_ms"] == pytest.approx(314.5) and details["samples"] == 30
    assert "1500 ms, 4.8x its recent median of 314 ms" in msg.text


def test_tiny_functions_do_not_page(aws: AwsEnv) -> None:
    engine = aws.engine()
    log = SampleLog("tiny")
    engine.process([d for i in range(30) for d in log.invocation(duration_ms=5.0, app_lines=0)])
    engine.process(log.invocation(duration_ms=200.0))  # 40x the median but under ALERT_DURATION_MIN_MS
    assert aws.received() == []


def test_not_repeated_within_the_quiet_period_then_a_digest(aws: AwsEnv) -> None:
    engine = aws.engine(aws.settings(error_burst_count=1000))
    log = SampleLog("orders-api")
    first = engine.process(timeouts(log))
    assert first.published == 1 and [m.kind for m in aws.received()] == ["timeout"]

    aws.clock.advance(5)
    held = engine.process(timeouts(log, 3))
    aws.clock.advance(5)
    held2 = engine.process(timeouts(log, 34))
    assert held.published == held2.published == 0
    assert held.suppressed + held2.suppressed == 37
    assert aws.received() == []

    aws.clock.advance(6)  # the quiet period (15 min) is over: the next invocation sends the digest
    digest = engine.process([])
    assert digest.published == 1 and digest.digests == 1
    (msg,) = aws.received()
    assert msg.kind == "timeout" and msg.alert["digest"] is True and msg.alert["count"] == 37
    assert "and 37 more timeouts in orders-api in the last 15 min" in msg.text
    assert msg.subject == "LambdaLens: 37 more timeouts in orders-api"
    assert msg.alert["request_id"] is not None  # the latest occurrence, with its links

    # The digest opened a new quiet period: an occurrence right after it is held back.
    aws.clock.advance(1)
    assert engine.process(timeouts(log)).suppressed == 1
    assert aws.received() == []


def test_an_occurrence_after_the_period_carries_the_pending_digest(aws: AwsEnv) -> None:
    engine = aws.engine()
    log = SampleLog("orders-api")
    engine.process(timeouts(log))
    aws.clock.advance(3)
    engine.process(timeouts(log, 2))
    aws.clock.advance(20)
    outcome = engine.process(timeouts(log))
    (msg,) = aws.received()[1:]
    assert msg.alert["digest"] is False and msg.alert["previous_suppressed"] == 2
    assert "and 2 more in the previous 15 min" in msg.text
    assert outcome.published == 1 and outcome.digests == 0
    assert AlertState(aws.table, aws.clock).due_digests() == []


def test_redelivery_does_not_alert_or_count_twice(aws: AwsEnv) -> None:
    engine = aws.engine()
    log = SampleLog("orders-api")
    docs = log.invocation(outcome="error") + timeouts(log)
    first = engine.process(docs)
    assert first.published == 2 and first.duplicates == 0
    aws.received()
    aws.clock.advance(60)  # long after the quiet period: a redelivery must still not alert
    again = engine.process(docs)
    assert again.published == 0 and again.suppressed == 0 and again.duplicates == first_signals(docs)
    assert aws.received() == []
    (fp,) = AlertState(aws.table).list_fingerprints("orders-api")
    assert fp["count"] == 1


def first_signals(docs: list[dict[str, Any]]) -> int:
    from lambdalens.alerts.detect import detect_signals
    from lambdalens.metrics.invocations import summarize

    return len({s.claim_key for s in detect_signals(summarize(docs))})


def test_new_error_rearms_after_the_configured_hours(aws: AwsEnv) -> None:
    engine = aws.engine(aws.settings(fingerprint_rearm_hours=48.0, quiet_period_minutes=1.0))
    log = SampleLog("orders-api")
    engine.process(log.invocation(outcome="error"))
    assert [m.kind for m in aws.received()] == ["new_error"]
    aws.clock.advance(60)
    engine.process(log.invocation(outcome="error", advance_ms=3_600_000))  # an hour later: known
    assert aws.received() == []
    aws.clock.advance(60)
    engine.process(log.invocation(outcome="error", advance_ms=49 * 3_600_000))  # 49 h of silence
    (msg,) = aws.received()
    assert msg.kind == "new_error" and msg.alert["details"]["rearmed"] is True
    assert "not seen since" in msg.text
    (fp,) = AlertState(aws.table).list_fingerprints("orders-api")
    assert fp["count"] == 3 and fp["error_type"] == "KeyError"


def test_repeats_of_a_new_error_reach_its_digest(aws: AwsEnv) -> None:
    engine = aws.engine()
    log = SampleLog("orders-api")
    engine.process(log.invocation(outcome="error"))
    aws.clock.advance(2)
    outcome = engine.process([d for _ in range(4) for d in log.invocation(outcome="error")])
    assert outcome.suppressed == 4
    aws.clock.advance(14)
    engine.process([])
    msgs = aws.received()
    assert [(m.kind, m.alert["digest"]) for m in msgs] == [("new_error", False), ("new_error", True)]
    assert "and 4 more occurrences of this error in orders-api" in msgs[1].text


def test_logged_errors_with_a_new_fingerprint_alert(aws: AwsEnv) -> None:
    engine = aws.engine()
    outcome = engine.process([SampleLog("payments").logged_error()])
    (msg,) = aws.received()
    assert msg.kind == "new_error" and msg.alert["error_type"] == "GatewayError" and outcome.published == 1


def test_a_topic_that_does_not_exist_is_counted_not_raised(aws: AwsEnv) -> None:
    missing = aws.topic_arn.replace("lambdalens-alerts", "no-such-topic")
    engine = aws.engine(aws.settings(topic_arn=missing))
    outcome = engine.process(timeouts(SampleLog("orders-api")), lambda: 30_000)
    assert (outcome.published, outcome.failed) == (0, 1)
    # The failed alert did not start a quiet period: once publishing works, the next one goes out.
    ok = aws.engine()
    assert ok.process(timeouts(SampleLog("orders-api", seed=1))).published == 1
    (msg,) = aws.received()
    assert msg.alert["previous_suppressed"] == 1


def test_missing_state_table_falls_back_to_in_memory_limits(aws: AwsEnv) -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("does-not-exist")
    engine = aws.engine()
    engine.state.table = table
    log = SampleLog("orders-api")
    first = engine.process(timeouts(log))
    second = engine.process(timeouts(log, 2))
    assert (first.published, second.published, second.suppressed) == (1, 0, 2)
    assert [m.kind for m in aws.received()] == ["timeout"]


def test_no_time_left_means_no_publish_and_no_raise(aws: AwsEnv) -> None:
    outcome = aws.engine().process(timeouts(SampleLog()), lambda: 10)
    assert outcome.published == 0 and outcome.failed == 1
    assert aws.received() == []


def test_disabled_kinds_are_not_sent(aws: AwsEnv) -> None:
    from lambdalens.alerts.settings import parse_kinds

    engine = aws.engine(aws.settings(kinds=parse_kinds("-timeout,-new_error")))
    log = SampleLog("orders-api")
    engine.process(timeouts(log) + log.invocation(outcome="error") + log.invocation(outcome="oom"))
    assert [m.kind for m in aws.received()] == ["out_of_memory"]


def test_alerting_off_without_a_topic(aws: AwsEnv) -> None:
    from lambdalens.alerts import AlertEngine, AlertSettings

    engine = AlertEngine(AlertSettings(), aws.sns, aws.table)
    assert engine.process(timeouts(SampleLog())).published == 0
    assert aws.received() == []


def test_one_alert_per_function(aws: AwsEnv) -> None:
    engine = aws.engine()
    outcome = engine.process(timeouts(SampleLog("a"), 2) + timeouts(SampleLog("b"), 3))
    sent = aws.received()
    assert sorted((m.attributes["function"], m.alert["count"]) for m in sent) == [("a", 2), ("b", 3)]
    assert outcome.published == 2


def test_state_table_key_schema_is_what_infra_creates(aws: AwsEnv) -> None:
    described = aws.table.meta.client.describe_table(TableName="lambdalens-alerts")["Table"]
    assert described["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    aws.engine().process(timeouts(SampleLog()) + SampleLog().invocation(outcome="error"))
    items = aws.table.scan()["Items"]
    assert items and all(set(i) >= {"pk", "sk"} for i in items)
    assert all("expires_at" in i for i in items)
