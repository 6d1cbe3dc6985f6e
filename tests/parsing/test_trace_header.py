"""A trace id written as a whole X-Ray trace header is kept as its Root, so one query finds the trace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import parse_payloads
from lambdalens.parsing.trace_header import read_trace_header, trace_id_of

ROOT = "1-6838354e-78cddbfd01799d4a54be2491"
SAMPLE = Path(__file__).resolve().parents[2] / "events" / "logs" / "dotnet-json-traced.json"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"Root={ROOT};Parent=6f9d0da53d17c01e;Sampled=0;Lineage=1:3276204f:0", (ROOT, "6f9d0da53d17c01e")),
        (f"Root={ROOT};Sampled=0;lineage=c10ff951:0", (ROOT, None)),  # no Parent (API Gateway)
        (
            f"Self=1-67891234-12456789abcdef012345678;Root={ROOT};Parent=53995c3f42cd8ad8",
            (ROOT, "53995c3f42cd8ad8"),
        ),
        (f" Root = {ROOT} ; Parent = 53995c3f42cd8ad8 ", (ROOT, "53995c3f42cd8ad8")),
        ("Parent=53995c3f42cd8ad8;Sampled=1", (None, "53995c3f42cd8ad8")),
        ("Root=;Sampled=1", (None, None)),
        ("not a header", (None, None)),
    ],
)
def test_a_header_gives_its_root_and_parent(header: str, expected: tuple[str | None, str | None]) -> None:
    assert read_trace_header(header) == expected


@pytest.mark.parametrize(
    "value",
    [ROOT, "6838354e78cddbfd01799d4a54be2491", "checkout-7f3a", "Parent=53995c3f42cd8ad8"],
)
def test_a_value_that_is_not_a_header_with_a_root_is_kept_as_it_is(value: str) -> None:
    assert trace_id_of(value) == value


def test_dotnet_json_lines_with_the_header_share_the_invocations_trace_id() -> None:
    """The .NET runtime's JSON log format writes the whole header in "traceId"; every document of
    the invocation (platform records and application lines) gets the same trace id."""
    raw = json.loads(SAMPLE.read_text())
    docs = parse_payloads([payload_from_json(raw, RecordId("sample", SAMPLE.stem), b"")])
    app_lines = [d for d in docs if d["lambda.event_type"] == "app_log"]
    assert app_lines and all("Root=" in d["body"] for d in app_lines)  # the line itself is kept whole
    assert {d["traceId"] for d in docs} == {"1-673dab1a-4f8e2c7b9a1d3e5f60718293"}


@pytest.mark.parametrize(
    "line",
    [
        # a plain application line (the structured fast path)
        {
            "level": "INFO",
            "message": "charged",
            "xray_trace_id": f"Root={ROOT};Parent=6f9d0da53d17c01e;Sampled=1",
        },
        # an error object (the general reader)
        {
            "level": "ERROR",
            "traceId": f"Root={ROOT};Parent=6f9d0da53d17c01e;Sampled=1",
            "errorType": "System.TimeoutException",
            "errorMessage": "The operation has timed out.",
        },
    ],
)
def test_every_structured_line_keeps_the_root(line: dict[str, str]) -> None:
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/payments",
        "logStream": "2025/05/29/[$LATEST]0c5e3f1b9a2d4e7f8a6b5c4d3e2f1a0b",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [{"id": "1", "timestamp": 1748514126000, "message": json.dumps(line)}],
    }
    (doc,) = parse_payloads([payload_from_json(raw, RecordId("t", "1"), b"")])
    assert doc["traceId"] == ROOT
