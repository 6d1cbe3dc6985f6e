"""Rendering: subject, escaping, links, JSON variants, redaction; settings; the retry policy."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import orjson
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from hypothesis import given
from hypothesis import strategies as st

from lambdalens.alerts import Alert, AlertKind, AlertSettings, Publisher, RetryPolicy, render
from lambdalens.alerts.escape import clean, subject
from lambdalens.alerts.links import DashboardsTarget, dashboards_links, log_stream_url
from lambdalens.alerts.publisher import is_retryable
from lambdalens.alerts.settings import parse_kinds
from lambdalens.metrics import SettingsError

SETTINGS = AlertSettings(
    topic_arn="arn:aws:sns:us-east-1:123456789012:alerts",
    state_table="t",
    dashboards_url="https://search-logs.us-east-1.es.amazonaws.com/_dashboards",
    region="us-east-1",
)

EVIL = "boom <!channel> @here @everyone `rm -rf` & [click](https://evil.example) <script>alert(1)</script>\x1b[31m\u202egnp.exe\n\rINJECTED: yes"


def alert(**kw: Any) -> Alert:
    base: dict[str, Any] = {
        "kind": AlertKind.NEW_ERROR,
        "function": "orders-api",
        "time_ms": 1_714_564_800_123,
        "account": "123456789012",
        "region": "us-east-1",
        "request_id": "47fb8ace-f9d9-01ad-f496-6be9ef4fc306",
        "error_type": "KeyError",
        "message": "'customer_id'",
        "fingerprint": "3f2a9c0d1e4b5a67",
        "log_group": "/aws/lambda/orders-api",
        "log_stream": "2024/05/01/[$LATEST]1a3638cd6526e8d4bf5edcb9e0155bba",
        "version": "$LATEST",
    }
    base.update(kw)
    return Alert(**base)


def test_untrusted_text_cannot_inject() -> None:
    m = render(alert(message=EVIL, error_type="Err<b>`x`"), SETTINGS)
    for rendered in (m.text, m.markdown, m.chatbot["content"]["description"]):
        for bad in ("<!channel>", "@here", "@everyone", "`rm", "<script>", "\x1b", "\u202e", "\r", "Err<b>"):
            assert bad not in rendered, (bad, rendered)
        assert "&lt;script&gt;" in rendered and "＠here" in rendered
    # the message stays on its line: no forged "INJECTED:" row
    assert not any(line.startswith("INJECTED") for line in m.text.splitlines())
    assert m.markdown.count("```") == 2


@given(st.text(max_size=300))
def test_clean_never_lets_markup_through(value: str) -> None:
    out = clean(value, 200)
    assert len(out) <= 200
    assert not any(c in out for c in "<>`\r\n\x00\x1b\u202e\u200b")
    assert "@here" not in out.lower() and "@channel" not in out.lower()


@given(st.text(max_size=400))
def test_subjects_are_sns_safe(value: str) -> None:
    s = subject("LambdaLens Timeout in " + value)
    assert len(s) < 100 and s.isascii() and s.isprintable() and s[0].isalnum()


def test_subject_under_100_even_for_long_names() -> None:
    m = render(alert(function="f" * 64, error_type="Very.Long.Exception.Type.Name" * 5), SETTINGS)
    assert len(m.subject) < 100 and m.subject.startswith("LambdaLens New error in ffff")


def test_message_is_redacted_then_truncated() -> None:
    secret = "password=hunter2 " + "x" * 2000
    m = render(alert(message=secret), SETTINGS, redact=lambda s: s.replace("hunter2", "[REDACTED]"))
    assert "hunter2" not in m.text and "[REDACTED]" in m.text
    assert "hunter2" not in orjson.dumps(m.document).decode()
    assert len(m.document["alert"]["message"]) <= SETTINGS.message_max_chars
    assert m.document["alert"]["message"].endswith("…")


def test_sns_publish_structure_and_attributes() -> None:
    m = render(alert(kind=AlertKind.TIMEOUT, details={"duration_ms": 3000.0}), SETTINGS)
    kwargs = m.publish_kwargs(SETTINGS.topic_arn or "")
    assert kwargs["MessageStructure"] == "json"
    assert kwargs["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "timeout"},
        "severity": {"DataType": "String", "StringValue": "high"},
        "function": {"DataType": "String", "StringValue": "orders-api"},
    }
    variants = orjson.loads(kwargs["Message"])
    assert variants["default"] == variants["email"] == m.text
    chatbot = orjson.loads(variants["https"])
    assert set(chatbot) == {"version", "source", "id", "content", "metadata"}
    assert chatbot["content"]["textType"] == "client-markdown"
    machine = orjson.loads(variants["sqs"])
    assert machine == orjson.loads(variants["lambda"]) and machine["alert"]["kind"] == "timeout"
    assert machine["alert"]["details"] == {"duration_ms": 3000.0}
    assert "orders-api timed out after 3.00 s" in m.text


def test_links() -> None:
    url = log_stream_url("us-east-1", "/aws/lambda/orders", "2023/01/01/[$LATEST]abc", "rid-1", 1_000_000)
    assert url == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/"
        "$252Faws$252Flambda$252Forders/log-events/2023$252F01$252F01$252F$255B$2524LATEST$255Dabc"
        "$3FfilterPattern$3D$2522rid-1$2522$26start$3D700000$26end$3D1300000"
    )
    cn = log_stream_url("cn-north-1", "/aws/lambda/x", "s")
    assert cn is not None and cn.startswith(
        "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#"
    )
    assert log_stream_url(None, "/aws/lambda/x", "s") is None


def _state(url: str) -> str:
    return unquote(url.split("#", 1)[1])


def test_alert_links_open_the_kinds_search_the_invocation_and_the_drill_down_with_the_time_set() -> None:
    target = DashboardsTarget("https://h/_dashboards/", "lambda-logs", "global")
    links = dashboards_links(target, AlertKind.TIMEOUT, "orders", 1_714_564_800_000, "it's!")
    invocation, search, board = (
        links["opensearch_discover"],
        links["opensearch_search"],
        links["opensearch_dashboard"],
    )
    assert invocation is not None and search is not None and board is not None
    assert invocation.startswith(
        "https://h/_dashboards/app/discover?security_tenant=global#/view/lambdalens-lambda-logs-invocation?"
    )
    assert _state(invocation).endswith(
        "_g=(time:(from:'2024-05-01T11:30:00.000Z',to:'2024-05-01T12:30:00.000Z'))"
        "&_a=(query:(language:kuery,query:'faas.invocation_id:\"it!'s!!\"'))"
    )
    assert "#/view/lambdalens-lambda-logs-timeouts?" in search
    assert "query:'(lambda.event_type:timeout or lambda.outcome:timeout) and faas.name:\"orders\"'" in _state(
        search
    )
    assert "from:'2024-05-01T11:00:00.000Z',to:'2024-05-01T12:15:00.000Z'" in _state(search)
    assert board.startswith(
        "https://h/_dashboards/app/dashboards?security_tenant=global#/view/lambdalens-lambda-logs-function?"
    )
    assert "query:'faas.name:\"orders\"'" in _state(board)


def test_a_new_error_links_to_its_fingerprint_and_kinds_without_a_search_to_the_function_only() -> None:
    target = DashboardsTarget("https://h/_dashboards", "prod")
    new = dashboards_links(target, AlertKind.NEW_ERROR, "orders", 0, None, "98158105d0f7121c")
    assert new["opensearch_discover"] is None
    assert "#/view/lambdalens-prod-errors?" in str(new["opensearch_search"])
    assert 'exception.fingerprint:"98158105d0f7121c"' in _state(str(new["opensearch_search"]))
    slow = dashboards_links(target, AlertKind.DURATION_REGRESSION, "orders", 0, "r1")
    assert slow["opensearch_search"] is None and slow["opensearch_dashboard"] is not None
    assert dashboards_links(None, AlertKind.TIMEOUT, "orders", 0, "r1") == dict.fromkeys(
        ("opensearch_discover", "opensearch_search", "opensearch_dashboard")
    )


def test_an_index_pattern_of_ones_own_gets_plain_discover_links() -> None:
    own = DashboardsTarget("https://h/_dashboards", "lambda-logs", None, "ab12-cd34")
    links = dashboards_links(own, AlertKind.TIMEOUT, "orders", 1_714_564_800_000, "r1")
    assert str(links["opensearch_discover"]).startswith("https://h/_dashboards/app/discover#/?_g=(time:")
    assert "_a=(index:'ab12-cd34',query:(language:kuery,query:'faas.invocation_id:%22r1%22'))" in str(
        links["opensearch_discover"]
    )
    assert links["opensearch_search"] is None and links["opensearch_dashboard"] is None


def test_index_pattern_from_index_prefix() -> None:
    s = AlertSettings.from_env(
        {"INDEX_PREFIX": "prod-lambda", "OPENSEARCH_DASHBOARDS_URL": "https://h/_dashboards"}
    )
    assert (s.index_pattern, s.index_pattern_id) == ("prod-lambda-*", "lambdalens-prod-lambda")
    assert s.dashboards == DashboardsTarget("https://h/_dashboards", "prod-lambda", None, None)
    s = AlertSettings.from_env(
        {
            "OPENSEARCH_INDEX_PATTERN_ID": "ab12-cd34",
            "OPENSEARCH_DASHBOARDS_URL": "https://h",
            "OPENSEARCH_DASHBOARDS_TENANT": "Private",
        }
    )
    assert (s.index_pattern, s.index_pattern_id) == ("lambda-logs-*", "ab12-cd34")
    assert s.dashboards == DashboardsTarget("https://h", "lambda-logs", "private", "ab12-cd34")
    assert AlertSettings.from_env({}).dashboards is None


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"ALERT_TOPIC_ARN": "my-topic", "ALERT_STATE_TABLE": "t1t"}, "ALERT_TOPIC_ARN"),
        ({"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:a"}, "ALERT_STATE_TABLE"),
        ({"ALERT_QUIET_PERIOD_MINUTES": "-1"}, "ALERT_QUIET_PERIOD_MINUTES"),
        ({"ALERT_TIMEOUT_RATIO": "1.5"}, "ALERT_TIMEOUT_RATIO"),
        ({"ALERT_TIMEOUT_RATIO": "nan"}, "ALERT_TIMEOUT_RATIO"),
        ({"ALERT_DURATION_REGRESSION_FACTOR": "1"}, "ALERT_DURATION_REGRESSION_FACTOR"),
        ({"ALERT_ERROR_BURST_COUNT": "0"}, "ALERT_ERROR_BURST_COUNT"),
        ({"ALERT_ERROR_BURST_WINDOW_MINUTES": "0"}, "ALERT_ERROR_BURST_WINDOW_MINUTES"),
        ({"ALERT_FINGERPRINT_REARM_HOURS": "two days"}, "ALERT_FINGERPRINT_REARM_HOURS"),
        ({"ALERT_KINDS": "timeout,tsunami"}, "ALERT_KINDS"),
        ({"ALERT_KINDS": "timeout,-new_error"}, "ALERT_KINDS"),
        ({"OPENSEARCH_DASHBOARDS_URL": "search-logs/_dashboards"}, "OPENSEARCH_DASHBOARDS_URL"),
        ({"OPENSEARCH_DASHBOARDS_TENANT": "admin_tenant"}, "OPENSEARCH_DASHBOARDS_TENANT"),
    ],
)
def test_bad_alert_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        AlertSettings.from_env(env)


def test_settings_defaults() -> None:
    s = AlertSettings.from_env({})
    assert not s.enabled
    assert (s.quiet_period_minutes, s.fingerprint_rearm_hours, s.timeout_ratio) == (15.0, 48.0, 0.9)
    assert s.kinds == frozenset(AlertKind)
    assert parse_kinds("timeout, out_of_memory") == {AlertKind.TIMEOUT, AlertKind.OUT_OF_MEMORY}


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Publish"
    )


def test_retry_policy_classifies_errors() -> None:
    assert is_retryable(_client_error("Throttling"))
    assert is_retryable(_client_error("Whatever", 503))
    assert is_retryable(EndpointConnectionError(endpoint_url="https://sns"))
    assert not is_retryable(_client_error("NotFound", 404))
    assert not is_retryable(_client_error("AuthorizationError", 403))
    assert not is_retryable(ValueError("bug"))


class FlakySns:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def publish(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return {"MessageId": "m-1"}


def test_publisher_retries_throttling_within_the_deadline() -> None:
    sleeps: list[float] = []
    sns = FlakySns([_client_error("Throttling"), _client_error("InternalError", 500)])
    publisher = Publisher(sns, "arn", RetryPolicy(base_delay_ms=100, max_delay_ms=400), sleeps.append)
    assert publisher.publish(render(alert(), SETTINGS), lambda: 60_000) == "m-1"
    assert sns.calls == 3 and len(sleeps) == 2 and all(0 <= s <= 0.4 for s in sleeps)


def test_publisher_makes_its_tries_and_does_not_wait_after_the_last() -> None:
    sleeps: list[float] = []
    sns = FlakySns([_client_error("Throttling")] * 10)
    publisher = Publisher(sns, "arn", RetryPolicy(max_attempts=4, base_delay_ms=100), sleeps.append)
    assert publisher.publish(render(alert(), SETTINGS), lambda: 60_000) is None
    assert sns.calls == 4
    assert len(sleeps) == 3, "a wait between tries, none after the last"


def test_publisher_gives_up_at_once_on_permanent_errors_and_at_the_deadline() -> None:
    sns = FlakySns([_client_error("AuthorizationError", 403)])
    assert (
        Publisher(sns, "arn", sleep=lambda _: None).publish(render(alert(), SETTINGS), lambda: 60_000) is None
    )
    assert sns.calls == 1
    sns = FlakySns([_client_error("Throttling")] * 10)
    left = iter([5000, 5000, 1200, 900, 100])
    publisher = Publisher(sns, "arn", RetryPolicy(base_delay_ms=100, reserve_ms=1000), sleep=lambda _: None)
    assert publisher.publish(render(alert(), SETTINGS), lambda: next(left)) is None
    assert sns.calls < 5


@pytest.mark.parametrize("kind", list(AlertKind))
def test_every_kind_renders(kind: AlertKind) -> None:
    details = {
        "duration_ms": 2950.0,
        "timeout_ms": 3000.0,
        "ratio": 0.983,
        "median_ms": 300.0,
        "samples": 40,
        "factor": 9.8,
        "window_count": 12,
        "memory_mb": 128.0,
        "max_memory_mb": 128.0,
    }
    for digest in (False, True):
        m = render(alert(kind=kind, details=details, digest=digest, count=37 if digest else 1), SETTINGS)
        assert len(m.subject) < 100 and m.attributes["kind"] == kind.value
        assert "orders-api" in m.text and "Request ID:" in m.text
        if digest:
            assert "and 37 more" in m.text and "in the last 15 min" in m.text


@pytest.mark.parametrize("kind", list(AlertKind))
def test_every_variant_of_every_kind_links_into_dashboards_with_the_time_set(kind: AlertKind) -> None:
    m = render(alert(kind=kind), SETTINGS)
    links = m.document["alert"]["links"]
    invocation, board = links["opensearch_discover"], links["opensearch_dashboard"]
    assert "#/view/lambdalens-lambda-logs-invocation?" in invocation
    assert "faas.invocation_id:%2247fb8ace-f9d9-01ad-f496-6be9ef4fc306%22" in invocation
    assert "#/view/lambdalens-lambda-logs-function?" in board and "faas.name:%22orders-api%22" in board
    assert all(
        "_g=(time:(from:'2024-05-01T" in url for key, url in links.items() if key.startswith("opensearch")
    )
    search = links.get("opensearch_search")
    expected = {
        AlertKind.TIMEOUT: "timeouts", AlertKind.OUT_OF_MEMORY: "oom", AlertKind.INIT_ERROR: "init-errors",
        AlertKind.NEW_ERROR: "errors", AlertKind.ERROR_BURST: "errors",
    }.get(kind)  # fmt: skip
    assert (search is None) == (expected is None)
    if expected:
        assert f"#/view/lambdalens-lambda-logs-{expected}?" in search
    for url in links.values():  # the text, the chat buttons and the machine JSON carry the same links
        assert url in m.text
        assert any(url in step for step in m.chatbot["content"]["nextSteps"])
    assert (
        orjson.loads(m.publish_kwargs("arn:aws:sns:us-east-1:123456789012:alerts")["Message"])["sqs"].count(
            invocation
        )
        == 2
    )  # the alert's links and the chat's next steps
