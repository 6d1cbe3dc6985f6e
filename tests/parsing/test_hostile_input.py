"""Hostile input (issue 8): whatever a function prints, the parser stays fast and every document
it makes can be written to the index.

* Every regex the parser runs on printed text takes linear time: one long event (CloudWatch
  allows 256 KB) must not stall the parser Lambda past its timeout, which would retry the batch
  forever.
* Every document can be serialised (orjson writes at most 254 levels and 64-bit integers): one
  that cannot fails the whole bulk body, and the batch with it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from lambdalens.cli.main import main
from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.indexing.bulk_body import build_chunks, bulk_body
from lambdalens.parsing import Document, parse_payloads
from lambdalens.parsing.serialisable import MAX_ATTRIBUTES_DEPTH

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
    pytest.param(
        [' INFO Lambda runtime invoke{requestId="' + RID + '"}' + ':a{"' * (SIZE // 4)],
        id="rust-spans-unclosed-quotes",
    ),
    pytest.param(["\x1b[" * (SIZE // 2) + " INFO x"], id="rust-colour-codes-unclosed"),
    pytest.param(["thread '" + "x" * SIZE], id="rust-panic-unclosed-name"),
    pytest.param(["RequestId: " + "x" * SIZE], id="RUNTIME_EXIT-request-id-without-end"),
    pytest.param(["RequestId: x Error: boom" + "\n" * SIZE + "Runtime."], id="RUNTIME_EXIT-blank-lines"),
    pytest.param(
        ["RequestId: x Error: boom\nFunction<" + "a:" * (SIZE // 2)], id="RUNTIME_EXIT-unclosed-type"
    ),
    pytest.param(
        ["Unknown application error occurred\nFunction<" + "a." * (SIZE // 2)], id="RUNTIME_TRAILER-unclosed"
    ),
    pytest.param(
        ["2024-05-01T12:00:00.000Z\t\tfail\t" + "a." * (SIZE // 2) + "!\n   at A.B()"],
        id="DOTNET_EXCEPTION_HEADER-dots",
    ),
    pytest.param(
        [f"REPORT RequestId: {RID}\tDuration: 1 ms " + "Memory Size: " * (SIZE // 13) + "\t"],
        id="REPORT-pairs-in-a-part",
    ),
    pytest.param(["12:00:00.123 [" + "a" * SIZE], id="JAVA_LAYOUT-unclosed-thread"),
    pytest.param([RID + " " + "INFO" + " " * SIZE], id="JAVA_LAYOUT-padding"),
    pytest.param(["2024-05-01 12:00:00," + "1" * SIZE + " x"], id="JAVA_LAYOUT-fraction"),
    pytest.param(["[NR_EXT" + " " * SIZE + "!"], id="extension-level-spaces"),
    pytest.param(["DD_EXTENSION | " + "| " * (SIZE // 2)], id="extension-level-pipes"),
    pytest.param(["2022-05-20 21:16:10" + "0" * SIZE], id="extension-timestamp-digits"),
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


def test_a_stack_trace_continued_over_twenty_thousand_events_is_one_error_with_every_line() -> None:
    """A function can print any number of lines that continue an error (``\\tat`` frames, indented
    lines): the trace is assembled once, not copied again for every line (quadratic: 20,000 such
    events took 3 s, 100,000 would stall the parser Lambda past its timeout)."""
    frames = [f"\tat com.acme.Handler.step{i}(Handler.java:{i})\n" for i in range(20_000)]
    head = "java.lang.IllegalStateException: boom\n"
    docs = parse([start(), head, *frames, *end_report()])
    error = docs[1]
    assert error["exception.type"] == "java.lang.IllegalStateException"
    assert error["exception.stacktrace"] == "\n".join(f.rstrip("\n") for f in frames)
    continuations = docs[2:-2]
    assert len(continuations) == len(frames)
    assert all(d["log.record.parent_uid"] == error["log.record.uid"] for d in continuations)
    assert all(d["faas.invocation_id"] == RID for d in continuations)
    assert docs[-1]["lambda.event_type"] == "report"  # the REPORT still closes the invocation


def test_a_stack_trace_still_open_when_the_batch_ends_is_complete() -> None:
    frames = ["\tat a.B.c(B.java:1)\n", "\tat a.B.d(B.java:2)\n"]
    docs = parse([start(), "java.lang.IllegalStateException: boom\n", *frames])
    assert docs[1]["exception.stacktrace"] == "\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)"
    assert docs[1]["exception.fingerprint"]


# --------------------------------------------------------------------------- serialisable documents

HUGE_REPORT = (
    f"REPORT RequestId: {RID}\tDuration: 1.00 ms\tBilled Duration: 99999999999999999999 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 20 MB\t\n"
)
UNSERIALISABLE = [
    pytest.param(HUGE_REPORT, id="report-with-huge-integer"),
    pytest.param(
        "INIT_REPORT Init Duration: 1 ms Memory Size: 99999999999999999999999999 MB", id="kv-huge-integer"
    ),
    pytest.param('{"a":' * 300 + "1" + "}" * 300, id="json-nested-300-deep"),
    pytest.param(
        "[INFO]\t2024-05-01T09:41:12.503Z\t" + RID + "\t" + '{"a":' * 300 + "1" + "}" * 300,
        id="prefixed-nested-json",
    ),
]


@pytest.mark.parametrize("line", UNSERIALISABLE)
def test_every_document_can_be_serialised_for_the_bulk_body(line: str) -> None:
    """A function that prints a line imitating a REPORT with a 20-digit number, or a JSON object
    nested 300 deep (orjson reads up to 1024 levels, writes at most 254), used to get a document
    that orjson cannot serialise: ``bulk_body`` raised and the whole batch failed (and was retried)."""
    docs = parse([start(), line, *end_report()])
    for doc in docs:
        orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
    bulk_body(docs)


def test_cli_prints_documents_of_hostile_lines_instead_of_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload_of([start(), HUGE_REPORT, *end_report()])))
    code = main(["parse", str(path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "Traceback" not in err
    assert len(out.splitlines()) == 4


def test_numbers_lambda_would_not_print_stay_out_of_the_numeric_fields() -> None:
    """An imitation REPORT keeps what it says that a REPORT could say, nothing else."""
    doc = parse([start(), HUGE_REPORT, *end_report()])[1]
    assert doc["lambda.event_type"] == "report"
    assert doc["faas.invocation_id"] == RID
    assert "lambda.billed_duration_ms" not in doc
    assert (doc["lambda.duration_ms"], doc["lambda.memory_size_mb"], doc["lambda.max_memory_used_mb"]) == (
        1.0,
        128,
        20,
    )
    odd = f"REPORT RequestId: {RID}\tDuration: 1.2.3 ms\tBilled Duration: -4 ms\tMemory Size: 1e999 MB\t\n"
    doc = parse([start(), odd, *end_report()])[1]
    assert "lambda.parse_error" not in doc, "read, not salvaged"
    assert not {"lambda.duration_ms", "lambda.billed_duration_ms", "lambda.memory_size_mb"} & set(doc)


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_a_json_line_nested_too_deep_keeps_its_body_and_the_deep_part_as_text() -> None:
    line = '{"level":"INFO","message":"deep","payload":' + '{"a":' * 300 + "1" + "}" * 300 + "}"
    assert orjson.loads(line)["payload"] == nested(300)
    doc = parse([start(), line, *end_report()])[1]
    assert doc["body"] == line
    assert doc["severity.text"] == "INFO"
    assert doc["faas.invocation_id"] == RID
    # attributes keep MAX_ATTRIBUTES_DEPTH levels; below that, the rest is its JSON text
    value: Any = doc["attributes"]
    levels = 0
    while isinstance(value, dict):
        value = value.get("payload", value.get("a"))
        levels += 1
    assert levels == MAX_ATTRIBUTES_DEPTH
    assert isinstance(value, str)
    assert orjson.loads(value) == nested(300 - MAX_ATTRIBUTES_DEPTH + 1)


def test_a_json_line_within_the_limit_keeps_its_attributes_as_they_are() -> None:
    line = orjson.dumps(
        {"level": "INFO", "message": "deep", "payload": nested(MAX_ATTRIBUTES_DEPTH - 1)}
    ).decode()
    doc = parse([start(), line, *end_report()])[1]
    assert doc["attributes"] == {"message": "deep", "payload": nested(MAX_ATTRIBUTES_DEPTH - 1)}


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def shortest(levels: int, arrays: bool) -> str:
    """The shortest JSON object line nested ``levels`` deep (objects only, or arrays inside)."""
    if arrays:
        return '{"":' + "[" * (levels - 1) + "]" * (levels - 1) + "}"
    return '{"":' * (levels - 1) + "{}" + "}" * (levels - 1)


@pytest.mark.parametrize("arrays", [False, True], ids=["objects", "arrays"])
def test_the_depth_guard_catches_the_shortest_line_just_too_deep(arrays: bool) -> None:
    """The guard skips lines too short to nest that deep (most lines: it is on the hot path);
    the shortest ones one level too deep are caught, those at the limit left alone."""
    deep, at_limit = shortest(MAX_ATTRIBUTES_DEPTH + 1, arrays), shortest(MAX_ATTRIBUTES_DEPTH, arrays)
    assert depth(orjson.loads(deep)) == MAX_ATTRIBUTES_DEPTH + 1
    docs = parse([start(), deep, at_limit, *end_report()])
    assert depth(docs[1]["attributes"]) == MAX_ATTRIBUTES_DEPTH, "reduced (the rest as text)"
    assert docs[2]["attributes"] == orjson.loads(at_limit), "left alone"


def test_the_bulk_encoder_writes_every_document_even_one_orjson_refuses() -> None:
    """The last resort for a document that does not come from the parser: it is written reduced
    (text for what orjson cannot write) and the others exactly as they are."""
    good = parse([start(), "all fine\n", *end_report()])
    bad = [
        {**good[1], "log.record.uid": "huge", "attributes": {"n": 2**70}},
        {**good[1], "log.record.uid": "deep", "attributes": nested(300)},
        {**good[1], "log.record.uid": "keys", "attributes": {1: "one", (2, 3): "tuple"}},
        {**good[1], "log.record.uid": "object", "attributes": {"when": object()}},
    ]
    docs = [good[0], *bad, *good[1:]]
    for body in (bulk_body(docs), b"".join(bytes(chunk.body) for chunk in build_chunks(docs))):
        lines = body.splitlines()
        assert len(lines) == 2 * len(docs)
        sources = [orjson.loads(line) for line in lines[1::2]]
        assert [s["log.record.uid"] for s in sources] == [d["log.record.uid"] for d in docs]
        for doc, source_line in zip(docs, lines[1::2], strict=True):
            if doc in good:
                assert source_line == orjson.dumps(doc), "documents orjson can write are written as they are"
        by_uid = {s["log.record.uid"]: s for s in sources}
        assert by_uid["huge"]["attributes"] == {"n": str(2**70)}
        assert by_uid["keys"]["attributes"] == {"1": "one", "(2, 3)": "tuple"}
        assert by_uid["deep"]["body"] == good[1]["body"]
        assert isinstance(by_uid["object"]["attributes"]["when"], str)
