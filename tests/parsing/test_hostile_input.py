"""Hostile input (issue 8): whatever a function prints, the parser stays fast and every document
it makes can be written to the index.

* Every regex the parser runs on printed text takes linear time: one long event (CloudWatch
  allows 256 KB) must not stall the parser Lambda past its timeout, which would retry the batch
  forever.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import Document, parse_payloads

RID = "29ed9c38-063b-47cf-bde0-95ffeb955004"
T0 = 1_714_556_472_503


def start(rid: str = RID) -> str:
    return f"START RequestId: {rid} Version: $LATEST\n"


def end_report(rid: str = RID, status: str = "") -> list[str]:
    return [
        f"END RequestId: {rid}\n",
        f"REPORT RequestId: {rid}\tDuration: 12.03 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t"
        f"Max Memory Used: 81 MB\t{status}\n",
    ]


def payload_of(
    messages: list[str], stream: str = "2024/05/01/[$LATEST]f3c496501d8a9e6efba61744d9326171"
) -> Any:
    return {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders-api",
        "logStream": stream,
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": str(10**40 + i), "timestamp": T0 + i, "message": m} for i, m in enumerate(messages)
        ],
    }


def parse(messages: list[str]) -> list[Document]:
    return parse_payloads(
        [payload_from_json(payload_of(messages), RecordId("shardId-000000000000", "1"), b"")]
    )


# --------------------------------------------------------------------------- linear time

SIZE = 32 * 1024  # an eighth of CloudWatch's 256 KB maximum event
BUDGET_S = 0.25  # a linear parser needs a few milliseconds for this

SLOW = [
    pytest.param(["2024-05-01 12:00:00 " + " " * SIZE + "x"], id="JAVA_LOG4J-timestamp-then-spaces"),
    pytest.param([" " * SIZE + "Task timed out after x seconds"], id="TIMEOUT_LINE-spaces"),
    pytest.param(["java.lang.IllegalStateException: boom\n", "." * SIZE], id="GO_FRAME-dots-after-an-error"),
    pytest.param(
        ["java.lang.IllegalStateException: boom\n" + "\tat a(\n" * (SIZE // 7)],
        id="frame-regex-unclosed-parens",
    ),
    pytest.param(["java.lang.IllegalStateException: boom\n" + "\n" * SIZE], id="frame-regex-empty-lines"),
    pytest.param(
        ["java.lang.IllegalStateException: boom\n" + "])" * (SIZE // 2)], id="ruby-frame-one-long-word"
    ),
    pytest.param(
        [
            f"REPORT RequestId: {RID}\tDuration: 1.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 20 MB\t" + "\t" * SIZE + "x"
        ],
        id="REPORT-tabs",
    ),
    # (quadratic with a small constant: a longer line shows it)
    pytest.param(["LOGS Name: a " + "Types: [" * (4 * SIZE // 8)], id="platform-kv-unclosed-brackets"),
]


@pytest.mark.parametrize("lines", SLOW)
def test_one_long_hostile_line_is_parsed_in_linear_time(lines: list[str]) -> None:
    """Backtracking regexes made some long lines cost seconds to minutes (quadratic): one such
    event stalls the parser Lambda past its timeout and the batch is retried forever."""
    began = time.perf_counter()
    docs = parse([start(), *lines, *end_report()])
    elapsed = time.perf_counter() - began
    assert [d["body"] for d in docs[1:-2]] == lines
    assert elapsed < BUDGET_S, f"{elapsed:.1f} s for {sum(map(len, lines))} characters"
