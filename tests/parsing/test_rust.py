"""Rust functions (provided.al2023 with aws-lambda-rust-runtime): the tracing crate's text lines
are read for their level, request and trace, and a panic is one unhandled error with its message.

Before, a `` WARN …`` line was INFO (the level is right-aligned: a space comes first), no line
had a trace id, a line with colour codes kept them in its level, and a panic was an INFO line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.metrics.invocations import summarize
from lambdalens.parsing import Document, parse_payloads

LOGS = Path(__file__).resolve().parents[2] / "events" / "logs"
RID = "3b5fd431-4159-4c63-b600-cb8a00ec50e3"
TRACE = "1-66669488-0d5ea8712bcf0f5a5d5417cc"
SPAN = (
    f'Lambda runtime invoke{{requestId="{RID}" '
    f'xrayTraceId="Root={TRACE};Parent=037132a81d1cae9d;Sampled=0;Lineage=1:c68c977e:0"}}'
)


def parse_case(case: str) -> list[Document]:
    raw = json.loads((LOGS / f"{case}.json").read_text())
    return parse_payloads([payload_from_json(raw, RecordId("sample", case), b"")], region="us-east-1")


def parse(messages: list[str]) -> list[Document]:
    payload: Any = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/playground-builder",
        "logStream": "2024/06/10/[$LATEST]9a1f0c3e5d7b42c8a6e1f09b3c5d7e21",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": str(10**40 + i), "timestamp": 1_718_013_128_700 + i, "message": m}
            for i, m in enumerate(messages)
        ],
    }
    return parse_payloads([payload_from_json(payload, RecordId("shardId-000000000000", "1"), b"")])


def report(status: str = "") -> str:
    return (
        f"REPORT RequestId: {RID}\tDuration: 9.61 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\t"
        f"Max Memory Used: 23 MB\t{status}\n"
    )


def test_tracing_lines_have_their_level_request_and_trace() -> None:
    docs = parse_case("rust-text-tracing-panic")
    lines = [d for d in docs if d["body"].startswith((" INFO", " WARN", "helloERROR"))]
    assert [(d["severity.text"], d.get("faas.invocation_id"), d.get("traceId")) for d in lines] == [
        ("INFO", None, None),  # printed during init, outside the runtime's span
        ("INFO", RID, TRACE),
        ("WARN", RID, TRACE),
        ("ERROR", RID, TRACE),  # after a print!("hello") that had no newline, as captured
    ]
    assert all(d["lambda.event_type"] == "app_log" for d in lines)


def test_the_span_names_the_request_even_outside_its_start_and_end() -> None:
    """A line of the batch that its START did not reach still belongs to its request."""
    (doc,) = parse([f" WARN {SPAN}: manifest cache miss\n"])
    assert (doc["severity.text"], doc["faas.invocation_id"], doc["traceId"]) == ("WARN", RID, TRACE)


def test_colour_codes_do_not_hide_the_level_request_or_trace() -> None:
    docs = parse_case("rust-text-ansi-handler-error")
    lines = [d for d in docs if d["body"].startswith("\x1b[")]
    assert [d["severity.text"] for d in lines] == ["INFO", "DEBUG", "WARN", "ERROR"]
    assert {d["faas.invocation_id"] for d in lines} == {"d2c41a7e-8f3b-4e59-9a06-71b5c3e8f204"}
    assert {d["traceId"] for d in lines} == {"1-6940f3a1-5b2c7e9d41a8f06c3e7d2b19"}
    assert all("\x1b[" in d["body"] for d in lines)  # the body is kept as printed
    (invocation,) = summarize(docs).invocations.values()
    assert invocation.failed  # REPORT Status: error: the handler returned an Err


def test_a_panic_printed_line_by_line_is_one_unhandled_error_with_its_message() -> None:
    docs = parse_case("rust-text-tracing-panic")
    panics = [d for d in docs if d["lambda.event_type"] == "unhandled_error"]
    assert [(d["exception.type"], d["exception.message"]) for d in panics] == [
        (
            "panic",
            'Could not read manifest: Os { code: 2, kind: NotFound, message: "No such file or directory" }',
        ),
        ("panic", "`spawn_blocking` failure: JoinError::Panic(Id(5), ...)"),
    ]
    first = panics[0]
    assert first["exception.stacktrace"].startswith(
        "thread 'tokio-runtime-worker' panicked at src/program.rs:72:60:"
    )
    assert "note: run with `RUST_BACKTRACE=1`" in first["exception.stacktrace"]
    continued = [d for d in docs if d.get("log.record.parent_uid") == first["log.record.uid"]]
    assert [d["body"][:12] for d in continued] == ["Could not re", "note: run wi"]
    assert first["exception.fingerprint"] != panics[1]["exception.fingerprint"]
    (invocation,) = summarize(docs).invocations.values()
    assert invocation.failed


def test_a_panic_with_its_backtrace_keeps_every_frame() -> None:
    frames = [
        "stack backtrace:\n",
        "   0: rust_begin_unwind\n",
        "             at /rustc/3f5fd8dd41153bc5fdca9427e9e05be2c767ba23/library/std/src/panicking.rs:652:5\n",
        "   1: builder::program::read_manifest\n",
        "             at ./src/program.rs:72:60\n",
        "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n",
    ]
    docs = parse(
        [
            f"START RequestId: {RID} Version: $LATEST\n",
            "thread 'main' panicked at src/program.rs:72:60:\n",
            "called `Option::unwrap()` on a `None` value\n",
            *frames,
            f" INFO {SPAN}: next line of the function\n",  # padded: not a continuation of the panic
            report(),
        ]
    )
    panic = docs[1]
    assert panic["exception.message"] == "called `Option::unwrap()` on a `None` value"
    assert panic["exception.stacktrace"].endswith("".join(frames).rstrip("\n"))
    assert all(d.get("log.record.parent_uid") == panic["log.record.uid"] for d in docs[2:-2])
    assert "log.record.parent_uid" not in docs[-2] and docs[-2]["severity.text"] == "INFO"


def test_a_panic_as_rust_before_1_73_printed_it() -> None:
    """``thread 'main' panicked at '<message>', <location>`` (captured in
    aws/aws-lambda-rust-runtime issue #89, 2019)."""
    docs = parse(
        [
            f"START RequestId: {RID} Version: $LATEST\n",
            "thread 'main' panicked at 'Could not retrieve next event', "
            "/Users/redacted/.cargo/registry/src/github.com-1ecc6299db9ec823/lambda_runtime_core-0.1.0/src/runtime.rs:266:17\n",
            "note: Run with `RUST_BACKTRACE=1` for a backtrace.\n",
        ]
    )
    assert (docs[1]["lambda.event_type"], docs[1]["exception.type"], docs[1]["exception.message"]) == (
        "unhandled_error",
        "panic",
        "Could not retrieve next event",
    )
    assert docs[2]["log.record.parent_uid"] == docs[1]["log.record.uid"]


def test_a_panic_the_invocation_survived_is_a_logged_error() -> None:
    """A panic in a task the handler spawned does not fail the invocation: Lambda's
    ``Status: success`` says so."""
    docs = parse(
        [
            f"START RequestId: {RID} Version: $LATEST\n",
            "thread 'tokio-runtime-worker' panicked at src/metrics.rs:18:9:\n",
            "flush failed\n",
            f" INFO {SPAN}: done\n",
            f"END RequestId: {RID}\n",
            report("Status: success"),
        ]
    )
    assert docs[1]["lambda.event_type"] == "app_log" and docs[1]["exception.type"] == "panic"
    (invocation,) = summarize(docs).invocations.values()
    assert not invocation.failed


def test_json_lines_have_the_request_and_trace_of_the_runtime_span() -> None:
    """The tracing crate's JSON format ("fields", "span", "spans"), captured in a 2023 stream."""
    docs = parse_case("rust-json-tracing")
    lines = [d for d in docs if d["body"].startswith('{"level"')]
    assert [(d["severity.text"], d.get("faas.invocation_id"), d.get("traceId")) for d in lines] == [
        ("INFO", None, None),  # during init: in the function's own "cold start" span only
        ("INFO", "fce53486-160d-41e8-b8c3-8ef0fd0f4051", "1-64a15448-4aa914a00d66aa066325d7e3"),
        ("WARN", "fce53486-160d-41e8-b8c3-8ef0fd0f4051", "1-64a15448-4aa914a00d66aa066325d7e3"),
    ]
    assert lines[2]["attributes"]["fields"] == {
        "message": "method not recognised, using the default",
        "method": "PATCH",
    }
    assert lines[2]["attributes"]["spans"][0] == {"name": "cold start"}  # the spans stay searchable


def test_a_json_line_names_its_request_outside_its_start_and_end() -> None:
    span = {
        "requestId": RID,
        "xrayTraceId": f"Root={TRACE};Parent=60a7d0c22fb2f001;Sampled=0",
        "name": "Lambda runtime invoke",
    }
    line = json.dumps(
        {"level": "ERROR", "fields": {"message": "ServiceError"}, "span": span, "spans": [span]}
    )
    (doc,) = parse([line + "\n"])
    assert (doc["severity.text"], doc["faas.invocation_id"], doc["traceId"]) == ("ERROR", RID, TRACE)
