"""A REPORT (or INIT_REPORT) line whose fields are separated by single spaces where Lambda prints
tabs — copied from the console, a fixture, a forwarder's rewrite, or only in part — keeps every
field: the memory figures are what the out-of-memory outcome is computed from."""

from __future__ import annotations

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import Document, parse_payloads

RID = "12ea793b-9ef2-11e7-b1ef-b360a5b0eab4"
FIELDS = {
    "faas.invocation_id": RID,
    "lambda.duration_ms": 631.51,
    "lambda.billed_duration_ms": 700,
    "lambda.memory_size_mb": 256,
    "lambda.max_memory_used_mb": 18,
}


def parse(message: str) -> Document:
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/copied",
        "logStream": "2019/06/24/[$LATEST]3a5c7e9b1d2f40a6b8c0e2d4f6a8b0c2",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [{"id": str(10**55), "timestamp": 1_561_370_000_000, "message": message}],
    }
    (doc,) = parse_payloads([payload_from_json(raw, RecordId("copy", "0"), b"")], region="us-east-1")
    return doc


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(
            f"REPORT RequestId: {RID} Duration: 631.51 ms Billed Duration: 700 ms Memory Size: 256 MB "
            "Max Memory Used: 18 MB\n",
            id="single-spaces",
        ),
        pytest.param(
            f"REPORT RequestId: {RID}  Duration: 631.51 ms     Billed Duration: 700 ms         Memory Size: 256 MB     "
            "Max Memory Used: 18 MB\n",
            id="runs-of-spaces",  # aws/aws-lambda-dotnet#480 (2019)
        ),
        pytest.param(
            f"REPORT RequestId: {RID} Duration: 631.51 ms Billed Duration: 700 ms Memory Size: 256 MB "
            "Max Memory Used: 18 MB\t\n",
            id="spaces-and-the-trailing-tab",
        ),
        pytest.param(
            f"REPORT RequestId: {RID}\tDuration: 631.51 ms\tBilled Duration: 700 ms Memory Size: 256 MB\t"
            "Max Memory Used: 18 MB\t\n",
            id="one-tab-lost",  # arithmetric/aws-lambda-ses-forwarder#66 (2017)
        ),
        pytest.param(
            f"REPORT RequestId: {RID}\tDuration: 631.51 ms Billed Duration: 700 ms Memory Size: 256 MB "
            "Max Memory Used: 18 MB\n",
            id="only-the-first-tab",
        ),
    ],
)
def test_every_field_of_a_report_with_spaces_for_tabs(line: str) -> None:
    doc = parse(line)
    assert doc["lambda.event_type"] == "report"
    for field, value in FIELDS.items():
        assert doc.get(field) == value, field


def test_status_error_type_and_xray_with_spaces() -> None:
    doc = parse(
        f"REPORT RequestId: {RID}\tDuration: 631.51 ms Billed Duration: 700 ms Memory Size: 256 MB Max Memory Used: 18 MB "
        "Init Duration: 120.41 ms Status: error Error Type: Runtime.OutOfMemory\n"
        "XRAY TraceId: 1-5e1b4151-5ac6c58f5b4a3e2a1c0d9e8f SegmentId: 6d1c4f8e2a8b4c3e Sampled: true\t\n"
    )
    for field, value in FIELDS.items():
        assert doc.get(field) == value, field
    assert doc["lambda.init_duration_ms"] == 120.41
    assert (doc["lambda.status"], doc["exception.type"]) == ("error", "Runtime.OutOfMemory")
    assert (doc["traceId"], doc["spanId"]) == ("1-5e1b4151-5ac6c58f5b4a3e2a1c0d9e8f", "6d1c4f8e2a8b4c3e")
    assert doc["lambda.outcome"] == "oom"


def test_init_report_with_spaces_and_the_trailing_tab() -> None:
    doc = parse(
        "INIT_REPORT Init Duration: 206.72 ms Phase: init Status: error Error Type: Runtime.ExitError\t\n"
    )
    assert doc["lambda.event_type"] == "init_report"
    assert doc["lambda.init_duration_ms"] == 206.72
    assert (doc["lambda.phase"], doc["lambda.status"], doc["exception.type"]) == (
        "init",
        "error",
        "Runtime.ExitError",
    )
