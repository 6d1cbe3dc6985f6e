"""What each runtime prints when a function crashes is the error of its invocation (or of its
init), with the type the runtime names: the shapes below are the runtimes' own (their source and
public captures: events/README.md), in the forms the general reader used to miss."""

from __future__ import annotations

import json

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import Document, parse_payloads

RID = "21bafabc-c617-42e6-9ec4-357d988e5505"
T0 = 1_612_857_600_412


def parse(messages: list[str]) -> list[Document]:
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/crashy",
        "logStream": "2021/02/09/[$LATEST]4f1d2e8c9b0a47e3a5c6d7e8f9012345",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": str(10**55 + i), "timestamp": T0 + i, "message": m} for i, m in enumerate(messages)
        ],
    }
    return parse_payloads([payload_from_json(raw, RecordId("crash", "0"), b"")], region="us-east-1")


def invocation(*lines: str) -> list[Document]:
    """START, ``lines``, END, REPORT of one invocation of ``RID``."""
    return parse(
        [
            f"START RequestId: {RID} Version: $LATEST\n",
            *lines,
            f"END RequestId: {RID}\n",
            f"REPORT RequestId: {RID}\tDuration: 32.80 ms\tBilled Duration: 33 ms\tMemory Size: 1024 MB\t"
            "Max Memory Used: 40 MB\t\n",
        ]
    )


# --------------------------------------------------------------------------- Ruby

RUBY_ERROR = json.dumps(
    {
        "errorMessage": "undefined method `upcase' for nil:NilClass",
        "errorType": "Function<NoMethodError>",
        "stackTrace": ["/var/task/handler.rb:4:in `shout'"],
    },
    indent=2,
)


@pytest.mark.parametrize(
    ("marker", "severity"),
    [("Error raised from handler method", "ERROR"), ("Critical exception from handler", "FATAL")],
)
def test_ruby_marker_and_its_error_object_in_one_event_are_the_error(marker: str, severity: str) -> None:
    """Ruby's runtime writes the marker and the error object (``LambdaLogger.log_error``); as one
    write they are one event (``Critical exception from handler{...}``, a captured 2020 log)."""
    for line in (marker + RUBY_ERROR, marker + "\n" + RUBY_ERROR):
        doc = invocation(line)[1]
        assert doc["lambda.event_type"] == "unhandled_error"
        assert doc["severity.text"] == "ERROR"
        assert doc["exception.type"] == "Function<NoMethodError>"
        assert doc["exception.message"] == "undefined method `upcase' for nil:NilClass"
        assert doc["exception.stacktrace"] == "/var/task/handler.rb:4:in `shout'"
    marker_doc, error_doc = invocation(marker, RUBY_ERROR)[1:3]  # two events: the marker, then the object
    assert (marker_doc["lambda.event_type"], marker_doc["severity.text"]) == ("app_log", severity)
    assert "exception.type" not in marker_doc
    assert error_doc["lambda.event_type"] == "unhandled_error"


def test_ruby_init_marker_with_its_error_object_is_an_init_error() -> None:
    error = json.dumps(
        {"errorMessage": "cannot load such file -- lambda_function", "errorType": "Init<LoadError>"}, indent=2
    )
    docs = parse(
        [
            "INIT_START Runtime Version: ruby:3.3.v8\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:x\n",
            "Init error when loading handler lambda_function.lambda_handler" + error,
        ]
    )
    assert docs[1]["lambda.event_type"] == "init_error"
    assert docs[1]["exception.type"] == "Init<LoadError>"
