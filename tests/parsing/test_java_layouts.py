"""The levels of common Java layouts: log4j's Lambda appender with a pattern that starts with the
request id, Logback's default, the runtime's own LambdaLogger with a log level (``[ERROR] ...``,
which is no unhandled error of the function). They used to be INFO lines, and the last an
unhandled error named after its first word."""

from __future__ import annotations

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.metrics.invocations import summarize
from lambdalens.parsing import Document, parse_payloads

RID = "c0a8f3e1-7b2d-4c5e-9f1a-3d2e4b6a8c90"


def invocation(*lines: str) -> list[Document]:
    messages = [
        f"START RequestId: {RID} Version: $LATEST\n",
        *lines,
        f"END RequestId: {RID}\n",
        f"REPORT RequestId: {RID}\tDuration: 3369.77 ms\tBilled Duration: 3370 ms\tMemory Size: 1024 MB\t"
        "Max Memory Used: 161 MB\t\n",
    ]
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders-java",
        "logStream": "2025/04/02/[$LATEST]1f3e5d7c9b2a4e6f8d0c2b4a6e8f0d1c",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": str(10**55 + i), "timestamp": 1_743_590_401_100 + i, "message": m}
            for i, m in enumerate(messages)
        ],
    }
    return parse_payloads([payload_from_json(raw, RecordId("java", "0"), b"")], region="us-east-1")


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        pytest.param(
            f"{RID} WARN  InventoryClient:88 - Inventory service slow (2312 ms)\n", "WARN", id="rid-first"
        ),
        pytest.param(
            f"{RID} ERROR PaymentClient:63 - Charge failed for order 42\n", "ERROR", id="rid-first-error"
        ),
        pytest.param(
            f"<{RID}> WARN  Hello:25 - slow\n", "WARN", id="rid-in-brackets"
        ),  # log4j 1.x's <%X{AWSRequestId}>
        pytest.param(f"2017-10-03 05:06:07 <{RID}> ERROR Hello:25 - failed\n", "ERROR", id="log4j1-dated"),
        pytest.param(
            "10:12:21.131 [main] ERROR c.e.orders.OrderController - Could not store order 42\n",
            "ERROR",
            id="logback",
        ),
        pytest.param(
            "10:12:20.508 [main] DEBUG i.m.context.env.DefaultEnvironment - ready\n",
            "DEBUG",
            id="logback-debug",
        ),
        pytest.param(
            f"2021-07-13 22:40:36,412 <{RID}> [main] WARN  c.a.Handler:23 - throttled\n",
            "WARN",
            id="iso8601-rid-thread",
        ),
        pytest.param("[WARN] Inventory service slow", "WARN", id="lambdalogger"),
    ],
)
def test_a_java_layout_gives_its_level_and_request(line: str, severity: str) -> None:
    doc = invocation(line)[1]
    assert doc["lambda.event_type"] == "app_log"
    assert doc["severity.text"] == severity
    assert doc["faas.invocation_id"] == RID
    assert "exception.type" not in doc


def test_lambdaloggers_error_is_a_logged_line_not_an_unhandled_error() -> None:
    """The Java runtime writes ``context.getLogger().log(msg, LogLevel.ERROR)`` as ``[ERROR] msg``
    (TextLogFormatter): the Python runtime's unhandled-error record looks the same up to there,
    but always carries its Traceback line."""
    docs = invocation("[ERROR] Payment gateway timed out, order 42 queued for retry")
    doc = docs[1]
    assert (doc["lambda.event_type"], doc["severity.text"]) == ("app_log", "ERROR")
    assert "exception.type" not in doc
    (summary,) = summarize(docs).invocations.values()
    assert not summary.failed
    assert docs[-1]["lambda.outcome"] == "success"


def test_the_python_runtimes_error_record_is_still_the_unhandled_error() -> None:
    doc = invocation(
        "[ERROR] KeyError: 'order_id'\rTraceback (most recent call last):\r  File \"/var/task/app.py\"\n"
    )[1]
    assert doc["lambda.event_type"] == "unhandled_error"
    assert doc["exception.type"] == "KeyError"


def test_a_bare_level_word_is_no_java_layout() -> None:
    """Only a time or a request id before the level makes the layout: a bare ``ERROR ...`` is a
    function's own text (whatever reader takes it then)."""
    doc = invocation("fetched 3 orders\n")[1]
    assert (doc["lambda.event_type"], doc["severity.text"]) == ("app_log", "INFO")
