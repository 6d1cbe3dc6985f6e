"""An error a function logs and survives is a logged error, never an unhandled one: it must not
count as a failed invocation (error metrics, error alerts) when Lambda says the invocation
succeeded or when the line is the runtime's way of printing what the code logged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.metrics.invocations import is_logged_error, summarize
from lambdalens.parsing import parse_payloads

LOGS = Path(__file__).resolve().parents[2] / "events" / "logs"


def parse_case(case: str) -> list[dict[str, object]]:
    raw = json.loads((LOGS / f"{case}.json").read_text())
    return parse_payloads([payload_from_json(raw, RecordId("sample", case), b"")], region="us-east-1")


@pytest.mark.parametrize(
    ("case", "types"),
    [
        # console.error(err) in Node's text format: V8's stack after the ERROR prefix
        ("node-text-logged-error", ["TypeError", "Error", "RangeError"]),
        # console.error(err) in Node's JSON format: the very shape of the runtime's own error record
        ("node-json-logged-error", ["TypeError"]),
        # Console.Error.WriteLine(ex) in .NET: the shape of an unhandled exception; REPORT Status: success
        ("dotnet-text-logged-exception", ["System.TimeoutException"]),
        # pino's logger.error({ err }, "..."): the error under "err", the line written straight to stdout
        ("node-text-pino", ["Error"]),
        # winston's format.errors({ stack: true }): the error's message and stack at the top of the line
        ("node-text-winston", ["Error"]),
        # logstash-logback-encoder (Java) and python-json-logger: the trace as text, "stack_trace" / "exc_info"
        ("java-text-logstash-json", ["java.lang.IllegalStateException"]),
        ("python-text-json-logger", ["ConnectionError"]),
    ],
)
def test_an_error_the_function_survived_is_a_logged_error(case: str, types: list[str]) -> None:
    docs = parse_case(case)
    assert not [d for d in docs if d["lambda.event_type"] == "unhandled_error"]
    errors = [d for d in docs if is_logged_error(d)]
    assert [d["exception.type"] for d in errors] == types
    assert all(d.get("exception.stacktrace") and d.get("exception.fingerprint") for d in errors)
    (invocation,) = summarize(docs).invocations.values()
    assert invocation.is_invocation and not invocation.failed
    assert invocation.report is not None and invocation.report["lambda.outcome"] == "success"


def test_the_same_error_record_is_unhandled_when_lambda_says_the_invocation_failed() -> None:
    """node-json-error: the runtime logged the handler's error and platform.report says error."""
    docs = parse_case("node-json-error")
    assert [d["exception.type"] for d in docs if d["lambda.event_type"] == "unhandled_error"] == ["TypeError"]
    (invocation,) = summarize(docs).invocations.values()
    assert invocation.error


def test_a_report_status_of_success_wins_over_an_error_line() -> None:
    """The same .NET line with a REPORT that has no Status (before 2024) is still taken for the
    runtime's report of an unhandled exception: nothing else tells the two apart."""
    raw = json.loads((LOGS / "dotnet-text-logged-exception.json").read_text())
    report = raw["logEvents"][-1]
    report["message"] = report["message"].replace("\tStatus: success", "\t")
    docs = parse_payloads([payload_from_json(raw, RecordId("sample", "old-report"), b"")])
    assert [d["lambda.event_type"] for d in docs].count("unhandled_error") == 1
    assert docs[-1]["lambda.outcome"] == "error"


@pytest.mark.parametrize(
    ("line", "event_type"),
    [
        # printed without the runtime's prefix (process.stderr.write(err.stack)): read as ever
        (
            "TypeError: x is not a function\n    at handler (file:///var/task/index.mjs:3:9)\n",
            "unhandled_error",
        ),
        # the same error after a text of the function's own: it logged the error
        (
            "retrying: TypeError: x is not a function\n    at handler (file:///var/task/index.mjs:3:9)\n",
            "app_log",
        ),
    ],
)
def test_a_javascript_error_after_a_text_is_logged(line: str, event_type: str) -> None:
    rid = "d3b9e0a4-6f1c-4e7b-8a25-97c14f0e6b3d"
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/shipping-quotes",
        "logStream": "2024/06/12/[$LATEST]7b2e91c04d5a4f68a3e1c9d07f25b684",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": "1", "timestamp": 1718189471204, "message": f"START RequestId: {rid} Version: $LATEST\n"},
            {"id": "2", "timestamp": 1718189471205, "message": line},
        ],
    }
    doc = parse_payloads([payload_from_json(raw, RecordId("t", "1"), b"")])[1]
    assert (doc["lambda.event_type"], doc["exception.type"], doc["exception.message"]) == (
        event_type,
        "TypeError",
        "x is not a function",
    )


def test_the_words_of_a_timeout_in_a_functions_own_line_are_no_timeout() -> None:
    """Lambda's timeout line ends "Task timed out after 3.00 seconds"; a function's line that
    goes on after the words (logged or printed) is the function's text."""
    docs = parse_case("python-text-timeout-words")
    assert "timeout" not in {d["lambda.event_type"] for d in docs}
    assert [d["severity.text"] for d in docs if "Task timed out" in d["body"]] == ["WARN", "INFO"]
    (invocation,) = summarize(docs).invocations.values()
    assert not invocation.failed


def test_a_logged_out_of_memory_error_of_an_invocation_that_succeeded_is_a_logged_error() -> None:
    raw = json.loads((LOGS / "node-json-logged-error.json").read_text())
    line = json.loads(raw["logEvents"][2]["message"])
    line["message"] = {"errorType": "RangeError", "errorMessage": "Array buffer allocation failed",
                       "stackTrace": ["RangeError: Array buffer allocation failed"]}  # fmt: skip
    raw["logEvents"][2]["message"] = json.dumps(line)
    docs = parse_payloads([payload_from_json(raw, RecordId("sample", "oom-logged"), b"")])
    assert docs[2]["lambda.event_type"] == "app_log"
    line["message"]["errorType"] = "Runtime.OutOfMemory"
    raw["logEvents"][2]["message"] = json.dumps(line)
    docs = parse_payloads([payload_from_json(raw, RecordId("sample", "oom-logged"), b"")])
    assert docs[2]["exception.type"] == "Runtime.OutOfMemory"
    assert docs[2]["lambda.event_type"] == "app_log"  # platform.report says success: it survived
    assert docs[-1]["lambda.outcome"] == "success"
    raw["logEvents"][-1]["message"] = raw["logEvents"][-1]["message"].replace(
        '"status":"success"', '"status":"error"'
    )
    docs = parse_payloads([payload_from_json(raw, RecordId("sample", "oom-logged"), b"")])
    assert docs[2]["lambda.event_type"] == "oom" and docs[-1]["lambda.outcome"] == "oom"
