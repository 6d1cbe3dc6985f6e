"""Structured lines in the key spellings loggers use: Powertools for .NET in its three key cases,
exceptions logged as objects, and error-looking keys that are only attributes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import parse_payloads

RID = "9c1e7a52-4b3d-4f8e-a6c0-2d7b9e5f1a38"
TRACE = "1-67527dcf-3b8e1a9c4d2f6e0b7a5c8d91"


def parse_line(line: dict[str, Any]) -> dict[str, Any]:
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/payments-capture",
        "logStream": "2024/12/06/[$LATEST]1d8f4b2a7c6e4a9f8b3d5e0c2a7f9b14",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [{"id": "1", "timestamp": 1733480911402, "message": orjson.dumps(line).decode()}],
    }
    (doc,) = parse_payloads([payload_from_json(raw, RecordId("t", "1"), b"")])
    return doc


def powertools_dotnet(case: str) -> dict[str, Any]:
    """A Powertools for .NET error line; its exception object in the same key case."""
    keys = {
        "snake": ("cold_start", "xray_trace_id", "correlation_id", "function_request_id", "level", "service",
                  "message", "exception", "type", "stack_trace"),
        "camel": ("coldStart", "xrayTraceId", "correlationId", "functionRequestId", "level", "service",
                  "message", "exception", "type", "stackTrace"),
        "pascal": ("ColdStart", "XrayTraceId", "CorrelationId", "FunctionRequestId", "Level", "Service",
                   "Message", "Exception", "Type", "StackTrace"),
    }[case]  # fmt: skip
    cold, trace, corr, rid, level, service, message, exception, etype, stack = keys
    return {
        cold: False,
        trace: TRACE,
        corr: "ord-7731-c2f4",
        rid: RID,
        level: "Error",
        service: "payments",
        message: "Card processor rejected pay-55810",
        exception: {
            etype: "Payments.ProcessorException",
            message: "Processor answered 402: card_declined",
            stack: "   at Payments.ProcessorClient.CaptureAsync(String paymentId) in /src/ProcessorClient.cs:line 73",
        },
    }


@pytest.mark.parametrize("case", ["snake", "camel", "pascal"])
def test_powertools_dotnet_lines_are_read_in_every_key_case(case: str) -> None:
    doc = parse_line(powertools_dotnet(case))
    assert doc["faas.invocation_id"] == RID
    assert doc["traceId"] == TRACE
    assert doc["correlation_id"] == "ord-7731-c2f4"
    assert doc["service.name"] == "payments"
    assert doc["faas.coldstart"] is False
    assert doc["severity.text"] == "ERROR"
    assert doc["exception.type"] == "Payments.ProcessorException"
    assert doc["exception.message"] == "Processor answered 402: card_declined"
    assert doc["exception.stacktrace"].startswith("   at Payments.ProcessorClient.CaptureAsync")
    assert doc["lambda.event_type"] == "app_log"  # logged by the function: not an unhandled error
    assert doc.get("exception.fingerprint")


@pytest.mark.parametrize(
    ("line", "attributes"),
    [
        ({"level": "WARN", "message": "m", "exception": False}, {"message": "m", "exception": False}),
        ({"level": "WARN", "message": "m", "exception": ""}, {"message": "m", "exception": ""}),
        (
            {"level": "WARN", "message": "m", "error": "SecretUnavailableError", "exception": None},
            {"message": "m", "error": "SecretUnavailableError", "exception": None},
        ),
        (
            {"level": "WARN", "message": "m", "error": {"type": "validation", "field": "email"}},
            {"message": "m", "error": {"type": "validation", "field": "email"}},
        ),
        (
            {"level": "WARN", "message": "m", "exception": {"code": 3}},
            {"message": "m", "exception": {"code": 3}},
        ),
        # a deployment's name, not a stack trace (before, it became exception.stacktrace)
        (
            {"level": "INFO", "msg": "deployed", "stack": "orders-prod"},
            {"msg": "deployed", "stack": "orders-prod"},
        ),
        # python-json-logger with exc_info=True outside an except block
        (
            {"levelname": "INFO", "message": "m", "exc_info": "NoneType: None"},
            {"message": "m", "exc_info": "NoneType: None"},
        ),
    ],
)
def test_error_keys_without_an_error_are_kept_as_attributes(
    line: dict[str, Any], attributes: dict[str, Any]
) -> None:
    doc = parse_line(line)
    assert "exception.type" not in doc and "exception.message" not in doc
    assert {k: doc["attributes"][k] for k in attributes} == attributes


def test_a_pino_err_object_is_the_error_and_its_own_fields_stay_searchable() -> None:
    """pino (and bunyan) log an error under "err": {"type" (bunyan: "name"), "message", "stack",
    and the error's own properties}; before, the line had no exception.* fields at all."""
    doc = parse_line(
        {
            "level": 50,
            "time": 1733480911402,
            "pid": 8,
            "awsRequestId": RID,
            "err": {
                "type": "Error",
                "message": "connect ECONNREFUSED 10.0.12.41:5432",
                "stack": "Error: connect ECONNREFUSED 10.0.12.41:5432\n    at TCPConnectWrap.afterConnect (node:net:1607:16)",
                "code": "ECONNREFUSED",
            },
            "msg": "charge failed",
        }
    )
    assert (doc["severity.text"], doc["lambda.event_type"]) == ("ERROR", "app_log")
    assert (doc["exception.type"], doc["exception.message"]) == (
        "Error",
        "connect ECONNREFUSED 10.0.12.41:5432",
    )
    assert doc["exception.stacktrace"].startswith("Error: connect ECONNREFUSED")
    assert doc["exception.fingerprint"]
    assert doc["attributes"]["err"] == {"code": "ECONNREFUSED"}
    assert doc["faas.invocation_id"] == RID


def test_an_err_that_is_only_text_is_an_attribute() -> None:
    doc = parse_line({"level": 30, "err": "ECONNREFUSED", "msg": "queued"})
    assert "exception.type" not in doc and doc["attributes"]["err"] == "ECONNREFUSED"


def test_a_winston_error_line_names_its_error_from_its_stack() -> None:
    """winston's format.errors({ stack: true }) puts the error's "message" and "stack" (and its
    own properties) at the top of the line; before, it had a stack trace but no type or message,
    so no fingerprint."""
    doc = parse_line(
        {
            "code": "ECONNREFUSED",
            "level": "error",
            "message": "connect ECONNREFUSED 10.0.12.41:5432",
            "stack": "Error: connect ECONNREFUSED 10.0.12.41:5432\n    at TCPConnectWrap.afterConnect (node:net:1607:16)",
            "timestamp": "2024-05-20T11:07:26.342Z",
        }
    )
    assert (doc["exception.type"], doc["exception.message"]) == (
        "Error",
        "connect ECONNREFUSED 10.0.12.41:5432",
    )
    assert doc["lambda.event_type"] == "app_log" and doc["exception.fingerprint"]
    assert doc["attributes"] == {"code": "ECONNREFUSED", "message": "connect ECONNREFUSED 10.0.12.41:5432"}


def test_a_zap_error_line_is_an_error_with_its_frames_and_message() -> None:
    """zap (Go) writes zap.Error(err) as "error": err.Error() and the frames as "stacktrace"; Go
    errors have no type."""
    doc = parse_line(
        {
            "level": "error",
            "ts": 1716210201.127,
            "caller": "charge/main.go:57",
            "msg": "charge failed",
            "error": "dial tcp 10.0.12.41:5432: connect: connection refused",
            "stacktrace": "main.charge\n\t/var/task/cmd/charge/main.go:57\nmain.handler\n\t/var/task/cmd/charge/main.go:34",
        }
    )
    assert doc["exception.message"] == "dial tcp 10.0.12.41:5432: connect: connection refused"
    assert doc["exception.stacktrace"].startswith("main.charge\n")
    assert "exception.type" not in doc and doc["exception.fingerprint"]
    assert doc["attributes"]["error"] == "dial tcp 10.0.12.41:5432: connect: connection refused"
