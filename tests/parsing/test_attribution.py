"""What the parser works out from the order of events, within one batch: which request printed a
bare line, which events are one stack trace, and what the whole invocation showed (trace id,
correlation id, cold start, how it ended) — also when CloudWatch delivered the invocation's
events in several payloads (several Kinesis records) of the batch."""

from __future__ import annotations

import base64
import copy
import gzip
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from lambdalens.decoding import DecodedRecord, RecordId, iter_kinesis_event, payload_from_json
from lambdalens.parsing import BatchParser, Document, parse_payloads

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLES = sorted(p.name[: -len(".json")] for p in (EVENTS / "logs").glob("*.json") if ".expect" not in p.name)
OBSERVED_MS = 1_714_600_000_000


def sample(case: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((EVENTS / "logs" / f"{case}.json").read_text(encoding="utf-8"))
    return payload


def pieces(payload: dict[str, Any], *cuts: int) -> list[dict[str, Any]]:
    """The payload's events cut into consecutive payloads of the same log stream."""
    bounds = [0, *cuts, len(payload["logEvents"])]
    out = []
    for start, end in itertools.pairwise(bounds):
        part = copy.deepcopy(payload)
        part["logEvents"] = part["logEvents"][start:end]
        out.append(part)
    return out


def one_per_event(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return pieces(payload, *range(1, len(payload["logEvents"])))


def kinesis_event(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """A Kinesis batch with one record per payload, as CloudWatch Logs writes them."""
    records = []
    for i, payload in enumerate(payloads):
        sequence = str(49651384772350143289513092274619438829547006231904894978 + i * 1_000_003_000_000)
        data = gzip.compress(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode(), mtime=0)
        records.append(
            {
                "kinesis": {"sequenceNumber": sequence, "data": base64.b64encode(data).decode()},
                "eventID": f"shardId-000000000000:{sequence}",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/lambdalens-logs",
            }
        )
    return {"Records": records}


def parse_batch(payloads: list[dict[str, Any]]) -> list[Document]:
    """Decode a Kinesis batch of these payloads and parse it as the parser Lambda does."""
    parser = BatchParser(observed_at_ms=OBSERVED_MS)
    docs: list[Document] = []
    for result in iter_kinesis_event(kinesis_event(payloads)):
        assert isinstance(result, DecodedRecord)
        for payload in result.payloads:
            docs.extend(parser.parse(payload))
    parser.finish()
    return docs


def by_body(docs: list[Document], body: str) -> list[Document]:
    found = [d for d in docs if d["body"] == body]
    assert found, f"no document for {body!r}"
    return found


# --------------------------------------------------------------------------- bare lines

BARE_LINES = [
    # (sample, bare line, the request id of each occurrence; None: printed during init)
    ("python-text-cold-start", "Loading configuration from /var/task/config.json\n", [None]),
    ("python-text-cold-start", "validating 3 line items\n", ["eb39a9ad-0f7b-499c-a916-bc2d335680fd"]),
    ("python-text-cold-start", "validating 1 line items\n", ["ff4f4bf1-6559-43cd-8335-2614f2f74e67"]),
    (
        "python-text-timeout-status",
        "Start to sleep 4s...\n",
        ["2e4ec73b-5771-49ff-9e0c-e0a8d79a5576", "e56895d5-590a-4771-aa5c-dd6887de5efa"],
    ),
    ("python-text-init-timeout", "[timing] loading summarizer...\n", [None, None]),
    (
        "go-text-cold-start",
        "2024/05/01 06:30:00 checking 2 points against fence fz-berlin-mitte\n",
        ["5acf4c8c-9adb-42d7-ba76-38d8e024961e"],
    ),
    (
        "java-text-cold-start-log4j2",
        "Template cache: 14 templates loaded",
        ["ba8924e9-b337-4918-894a-4e8af13ec5f4"],
    ),
    ("ruby-text-logger", "batch 1/3 queued", ["97fa4192-21da-49ae-bf33-46a84fbea471"]),
    (
        "extension-text-lines",
        "fetched secret prod/db/readonly (version AWSCURRENT)\n",
        ["4c114d5a-d491-4851-b11f-fa77c1cfd0b9"],
    ),
    (
        "java-text-snapshot-init",
        "Spring context ready in 2987 ms\n",
        [None],
    ),
]


@pytest.mark.parametrize(
    "split", ["one-record", "one-record-per-event"], ids=["one-record", "one-record-per-event"]
)
@pytest.mark.parametrize(
    ("case", "body", "request_ids"), BARE_LINES, ids=[f"{c}:{b[:24]}" for c, b, _ in BARE_LINES]
)
def test_bare_line_gets_the_request_whose_start_end_encloses_it(
    case: str, body: str, request_ids: list[str | None], split: str
) -> None:
    payload = sample(case)
    docs = parse_batch([payload] if split == "one-record" else one_per_event(payload))
    assert [d.get("faas.invocation_id") for d in by_body(docs, body)] == request_ids


RID_A = "b2b1cf3c-0c0c-4a53-9d5c-3f3a6e0f8a11"
RID_B = "0d6f0a6e-7d2c-4c7e-8d1a-6a1b2c3d4e5f"


def synthetic_stream(stream: str, messages: list[str], t0: int = 1_714_556_472_000) -> dict[str, Any]:
    return {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders-api",
        "logStream": stream,
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": f"{t0 + i}000{i:04d}", "timestamp": t0 + i, "message": m} for i, m in enumerate(messages)
        ],
    }


def report(rid: str) -> str:
    return (
        f"REPORT RequestId: {rid}\tDuration: 12.03 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\t"
        "Max Memory Used: 81 MB\t\n"
    )


def test_stderr_lines_belong_to_the_open_invocation_and_lines_after_report_to_none() -> None:
    messages = [
        f"START RequestId: {RID_A} Version: $LATEST\n",
        "/var/task/app.py:12: DeprecationWarning: datetime.datetime.utcnow() is deprecated\n",
        "  now = datetime.utcnow()\n",
        'time=2024-05-01T09:41:12Z level=info msg="cache warm" entries=42\n',
        f"END RequestId: {RID_A}\n",
        report(RID_A),
        "flushing metrics in background thread\n",
        f"START RequestId: {RID_B} Version: $LATEST\n",
        "validating 2 line items\n",
        f"END RequestId: {RID_B}\n",
        report(RID_B),
    ]
    docs = parse_batch([synthetic_stream("2024/05/01/[$LATEST]3b68986ab0542147c60337622815f83d", messages)])
    assert [d.get("faas.invocation_id") for d in docs] == [RID_A] * 6 + [None] + [RID_B] * 4


@pytest.mark.parametrize(
    "line",
    ["[ERROR] - payment failed for order A-1042\n", "[ERROR] (charge) card declined\n", "[ERROR] \n"],
)
def test_an_error_line_printed_by_the_application_is_parsed_not_salvaged(line: str) -> None:
    """``print("[ERROR] - ...")`` is not the Python runtime's ``[ERROR] <type>: <message>``
    record: it is an ERROR line of the request that printed it (it used to trip an assertion
    and be salvaged as a WARN document without request id)."""
    messages = [
        f"START RequestId: {RID_A} Version: $LATEST\n",
        line,
        f"END RequestId: {RID_A}\n",
        report(RID_A),
    ]
    docs = parse_batch([synthetic_stream("2024/05/01/[$LATEST]3b68986ab0542147c60337622815f83d", messages)])
    doc = docs[1]
    assert "lambda.parse_error" not in doc
    assert doc["severity.text"] == "ERROR"
    assert doc["faas.invocation_id"] == RID_A


def test_interleaved_containers_keep_their_own_requests() -> None:
    """Two execution environments of one function print at the same time; their payloads arrive
    interleaved in the batch. A bare line belongs to the request open in its own log stream."""
    a = synthetic_stream(
        "2024/05/01/[$LATEST]aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        [
            f"START RequestId: {RID_A} Version: $LATEST\n",
            "A working\n",
            "A done\n",
            f"END RequestId: {RID_A}\n",
            report(RID_A),
        ],
    )
    b = synthetic_stream(
        "2024/05/01/[$LATEST]bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        [
            f"START RequestId: {RID_B} Version: $LATEST\n",
            "B working\n",
            "B done\n",
            f"END RequestId: {RID_B}\n",
            report(RID_B),
        ],
        t0=1_714_556_472_001,
    )
    a1, a2 = pieces(a, 2)
    b1, b2 = pieces(b, 2)
    docs = parse_batch([a1, b1, a2, b2])
    owner = {d["body"]: d.get("faas.invocation_id") for d in docs}
    assert owner["A working\n"] == owner["A done\n"] == RID_A
    assert owner["B working\n"] == owner["B done\n"] == RID_B


def test_requests_run_at_the_same_time_in_one_environment_keep_their_own_lines() -> None:
    """Lambda Managed Instances run several invocations at once in one execution environment
    (one log stream). A line that names its request belongs to it; a bare line printed while
    two requests were open belongs to neither for certain, and gets none rather than a wrong one."""
    docs = parse_batch([sample("python-json-managed-instances")])
    named = [d for d in docs if d["body"].startswith('{"timestamp"')]
    assert [json.loads(d["body"])["requestId"] for d in named] == [d["faas.invocation_id"] for d in named]
    bare = [(d["body"], d.get("faas.invocation_id")) for d in docs if d["body"][0] not in "{"]
    assert bare == [
        ("loaded template invoice-v7.html from /tmp/templates\n", "5c0f2e1a-7b3d-4c9e-8a16-2d4f6b8e0a13"),
        ("loaded template invoice-v7.html from /tmp/templates\n", None),  # two requests open
        ("wrote /tmp/out/INV-88121.pdf\n", None),  # not the request that started last
    ]
    reports = {d["faas.invocation_id"]: d for d in docs if d["lambda.event_type"] == "report"}
    assert len(reports) == 3 and all(r["lambda.outcome"] == "success" for r in reports.values())


INTERLEAVED = [
    ("ruby-text-logger", "ruby-text-unhandled-error"),  # two containers of newsletter-sender
    ("python-text-cold-start", "node-text-invoke-error"),
    ("java-text-stacktrace-stdout", "go-text-panic-goroutine"),  # two split stack traces at once
    ("powertools-python-structured", "node-json-error"),
]


@pytest.mark.parametrize(("first", "second"), INTERLEAVED, ids=[f"{a}+{b}" for a, b in INTERLEAVED])
def test_another_stream_between_two_payloads_changes_nothing(first: str, second: str) -> None:
    a, b = sample(first), sample(second)
    alone_a = parse_batch([a])
    alone_b = parse_batch([b])
    for cut in range(1, len(a["logEvents"])):
        a1, a2 = pieces(a, cut)
        for b_cut in (1, len(b["logEvents"]) // 2):
            b1, b2 = pieces(b, b_cut)
            docs = parse_batch([a1, b1, a2, b2])
            got_a = [d for d in docs if d["aws.log.stream"] == a["logStream"]]
            got_b = [d for d in docs if d["aws.log.stream"] == b["logStream"]]
            assert got_a == alone_a, f"{first} cut at {cut}, {second} at {b_cut}"
            assert got_b == alone_b, f"{second} cut at {b_cut}, {first} at {cut}"


@pytest.mark.parametrize("case", SAMPLES)
def test_splitting_a_stream_into_several_records_changes_no_document(case: str) -> None:
    """CloudWatch cuts a stream into payloads wherever it likes; the documents must not depend
    on where the cuts fall (as long as the batch holds all of them)."""
    payload = sample(case)
    whole = parse_batch([payload])
    assert len(whole) == len(payload["logEvents"])
    for cut in range(1, len(payload["logEvents"])):
        assert parse_batch(pieces(payload, cut)) == whole, f"cut before event {cut}"
    assert parse_batch(one_per_event(payload)) == whole, "one record per event"


# --------------------------------------------------------------------------- split stack traces

SPLIT_TRACES = [
    # (sample, event type of the error, exception.type, body that starts it, bodies right after it)
    (
        "java-text-stacktrace-stdout",
        "unhandled_error",
        "com.example.ledger.ImportException",
        "com.example.ledger.ImportException: Failed to import ledger file 2024-04-b.csv\n",
        "2024-05-01 09:41:13 29ed9c38-063b-47cf-bde0-95ffeb955004 WARN  LedgerImport:78 - Skipped 1 of 3 files; see previous error\n",
    ),
    (
        "go-text-panic-goroutine",
        "unhandled_error",
        "panic",
        "panic: runtime error: invalid memory address or nil pointer dereference\n",
        "RequestId: c1aa665e-49e7-483b-8f90-6f3dbb1ce902 Error: Runtime exited with error: exit status 2\nRuntime.ExitError\n",
    ),
    (
        "node-text-oom-heap",
        "oom",
        "FatalProcessOutOfMemory",
        "<--- Last few GCs --->\n",
        "RequestId: 73e47e9c-6dd2-494d-883f-d0c22bf42ac2 Error: Runtime exited with error: signal: aborted (core dumped)\nRuntime.ExitError\n",
    ),
]


@pytest.mark.parametrize("split", ["one-record", "one-record-per-event"])
@pytest.mark.parametrize(
    ("case", "event_type", "exc_type", "first", "after"), SPLIT_TRACES, ids=[t[0] for t in SPLIT_TRACES]
)
def test_stack_trace_split_over_events_is_one_error(
    case: str, event_type: str, exc_type: str, first: str, after: str, split: str
) -> None:
    payload = sample(case)
    docs = parse_batch([payload] if split == "one-record" else one_per_event(payload))
    bodies = [d["body"] for d in docs]
    start, end = bodies.index(first), bodies.index(after)
    head, continuation = docs[start], docs[start + 1 : end]
    assert len(continuation) >= 3

    # (the line after a trace may be an error of its own: Lambda's "Runtime exited with error")
    errors = [d for d in docs[:end] if d["lambda.event_type"] in ("unhandled_error", "oom", "init_error")]
    assert errors == [head], "one error document for the whole trace"
    assert head["lambda.event_type"] == event_type
    assert head["exception.type"] == exc_type
    assert "log.record.parent_uid" not in head
    for doc in continuation:
        assert doc["lambda.event_type"] == "app_log"
        assert doc["log.record.parent_uid"] == head["log.record.uid"]
        assert doc["faas.invocation_id"] == head["faas.invocation_id"]
        assert doc["severity.text"] == head["severity.text"]
        assert "exception.fingerprint" not in doc, "the trace is counted once"
    trace_lines = head["exception.stacktrace"].split("\n")
    for doc in continuation:
        assert doc["body"].rstrip("\n") in trace_lines, f"{doc['body']!r} missing from the stack trace"
    assert "log.record.parent_uid" not in docs[end], "the line after the trace is not part of it"


def invocation_of(lines: list[str], status: str = "") -> list[Document]:
    """The documents of one invocation of ``RID_A`` that printed ``lines``."""
    messages = [
        f"START RequestId: {RID_A} Version: $LATEST\n",
        *lines,
        f"END RequestId: {RID_A}\n",
        report(RID_A).replace("\t\n", f"\t{status}\n"),
    ]
    return parse_batch([synthetic_stream("2024/05/01/[$LATEST]f3c496501d8a9e6efba61744d9326171", messages)])


def test_python_traceback_printed_line_by_line_is_one_error() -> None:
    """``traceback.print_exc()`` / a logging handler on stderr: Lambda makes one event per line.
    The Python traceback names its type on the LAST line: the first event carries the error
    (type and message from the last line, the whole trace), the others point at it."""
    trace = [
        "Traceback (most recent call last):\n",
        '  File "/var/task/app.py", line 12, in handler\n',
        "    ratio = width / height\n",
        "ZeroDivisionError: division by zero\n",
    ]
    docs = invocation_of(trace)
    errors = [d for d in docs if "exception.type" in d and d["lambda.event_type"] != "report"]
    assert len(errors) == 1
    head = errors[0]
    assert head["body"] == trace[0], "the first event of the trace carries the error"
    assert (head["exception.type"], head["exception.message"]) == ("ZeroDivisionError", "division by zero")
    assert 'File "/var/task/app.py", line 12, in handler' in head["exception.stacktrace"]
    for doc in docs[2:5]:
        assert doc["log.record.parent_uid"] == head["log.record.uid"]
        assert doc["lambda.event_type"] == "app_log"


def test_chained_python_tracebacks_printed_line_by_line_are_one_error_of_the_last_type() -> None:
    """``During handling of the above exception ...``: the exception raised last is the error."""
    trace = [
        "Traceback (most recent call last):\n",
        '  File "/var/task/app.py", line 12, in handler\n',
        '    sku = item["sku"]\n',
        "KeyError: 'sku'\n",
        "\n",
        "During handling of the above exception, another exception occurred:\n",
        "\n",
        "Traceback (most recent call last):\n",
        '  File "/var/task/app.py", line 14, in handler\n',
        "    raise InvalidOrder(order_id)\n",
        "app.InvalidOrder: A-1042\n",
    ]
    docs = invocation_of([*trace, "order rejected\n"])
    head = docs[1]
    assert (head["exception.type"], head["exception.message"]) == ("app.InvalidOrder", "A-1042")
    assert head["exception.stacktrace"].split("\n") == [line.rstrip("\n") for line in trace]
    assert [d.get("log.record.parent_uid") for d in docs[2 : 2 + len(trace)]] == [head["log.record.uid"]] * (
        len(trace) - 1
    ) + [None], "the line after the trace is not part of it"


def test_dotnet_unhandled_exception_of_a_crashing_process_is_an_error() -> None:
    """The .NET host prints ``Unhandled exception. <Type>: <message>`` and the frames to stderr
    when the process dies (exception on a background thread, async void); Lambda splits it per line."""
    crash = [
        "Unhandled exception. System.InvalidOperationException: Collection was modified; enumeration operation may not execute.\n",
        "   at System.Collections.Generic.List`1.Enumerator.MoveNext()\n",
        "   at ShippingQuotes.Cache.Refresh() in /src/ShippingQuotes/Cache.cs:line 41\n",
        "   at System.Threading.Thread.StartCallback()\n",
    ]
    exit_line = f"RequestId: {RID_A} Error: Runtime exited with error: signal: aborted (core dumped)\nRuntime.ExitError\n"
    docs = invocation_of([*crash, exit_line], status="Status: error\tError Type: Runtime.ExitError\t")
    head = docs[1]
    assert head["exception.type"] == "System.InvalidOperationException"
    assert head["exception.message"] == "Collection was modified; enumeration operation may not execute."
    assert head["severity.text"] in ("ERROR", "FATAL")
    assert head["lambda.event_type"] == "unhandled_error"
    assert "ShippingQuotes.Cache.Refresh" in head["exception.stacktrace"]
    for doc in docs[2:5]:
        assert doc["log.record.parent_uid"] == head["log.record.uid"]
    assert "log.record.parent_uid" not in docs[5], "the runtime's exit line is not part of the trace"
    (report_doc,) = [d for d in docs if d["lambda.event_type"] == "report"]
    assert report_doc["lambda.outcome"] == "error"


def test_split_trace_fingerprint_uses_frames_of_every_event() -> None:
    """The frames that decide the fingerprint arrive in continuation events: a different code
    path further down the trace must give a different signature."""
    payload = sample("java-text-stacktrace-stdout")
    changed = copy.deepcopy(payload)
    for event in changed["logEvents"]:
        event["message"] = event["message"].replace("LedgerImport.importFile(", "LedgerImport.importArchive(")
    (one,) = [d for d in parse_batch(one_per_event(payload)) if d["lambda.event_type"] == "unhandled_error"]
    (two,) = [d for d in parse_batch(one_per_event(changed)) if d["lambda.event_type"] == "unhandled_error"]
    assert one["body"] == two["body"], "the first event is identical"
    assert one["exception.fingerprint"] != two["exception.fingerprint"]


def test_init_panic_printed_twice_is_two_init_errors_each_with_its_trace() -> None:
    docs = parse_batch(one_per_event(sample("go-text-init-panic")))
    errors = [d for d in docs if d["lambda.event_type"] == "init_error"]
    assert len(errors) == 2
    assert all("faas.invocation_id" not in e for e in errors), "printed during init, no request yet"
    for error in errors:
        children = [d for d in docs if d.get("log.record.parent_uid") == error["log.record.uid"]]
        assert [c["body"] for c in children] == [
            "goroutine 1 [running]:\n",
            "main.mustLoadConfig({0x6f2c1a, 0x17})\n",
            "\t/build/cmd/orders/config.go:27 +0x7d\n",
            "main.main()\n",
            "\t/build/cmd/orders/main.go:19 +0x25\n",
        ]
        assert "main.mustLoadConfig" in error["exception.stacktrace"]
    assert errors[0]["exception.fingerprint"] == errors[1]["exception.fingerprint"]


# --------------------------------------------------------------------------- whole invocation

PROPAGATION = [
    # (sample, request id, traceId, correlation_id, faas.coldstart)
    (
        "powertools-python-structured",
        "04b33bf1-b5c3-45b1-abc2-29c8223857f0",
        "1-66322ec0-96b34cc019d276c3df8f6c82",
        "c6a2e0d4-3d0a-4b8e-9f41-0f2b9d7a6e15",
        True,
    ),
    (
        "powertools-typescript-structured",
        "a3757d1c-3655-47f4-ac7c-fdda3617b1e7",
        "1-68c563c3-afab8e40d915864cf79f20e7",
        "9f0d1c34-6f7e-4b2c-8a5d-3e1f0c2b7a90",
        True,
    ),
    (
        "python-text-xray-warm",
        "4517707e-5d9f-4cdf-9ee8-2dfe798a6c85",
        "1-66322157-5aa638a8fe95e1bc5765e334",
        None,
        False,
    ),
    ("java-text-snapstart-restore", "2031a7bc-4090-406b-972a-ee8d089ec98b", None, None, True),
    ("python-text-cold-start", "eb39a9ad-0f7b-499c-a916-bc2d335680fd", None, None, True),
    ("python-text-cold-start", "ff4f4bf1-6559-43cd-8335-2614f2f74e67", None, None, False),
]


@pytest.mark.parametrize(
    ("case", "rid", "trace_id", "correlation_id", "coldstart"),
    PROPAGATION,
    ids=[f"{p[0]}:{p[1][:8]}" for p in PROPAGATION],
)
def test_trace_correlation_and_cold_start_reach_every_document_of_the_invocation(
    case: str, rid: str, trace_id: str | None, correlation_id: str | None, coldstart: bool
) -> None:
    payload = sample(case)
    n = len(payload["logEvents"])
    layouts = {"one record": [payload], "one record per event": one_per_event(payload)}
    layouts.update({f"cut at {k}": pieces(payload, k) for k in range(1, n)})
    for layout, payloads in layouts.items():
        docs = [d for d in parse_batch(payloads) if d.get("faas.invocation_id") == rid]
        types = [d["lambda.event_type"] for d in docs]
        assert "start" in types and "report" in types, layout
        for doc in docs:
            where = f"{layout}: {doc['body'][:50]!r}"
            assert doc.get("traceId") == trace_id, where
            assert doc.get("correlation_id") == correlation_id, where
            assert doc.get("faas.coldstart") is coldstart, where


def test_x_ray_trace_id_printed_only_in_the_report_reaches_lines_of_an_earlier_record() -> None:
    payload = sample("python-text-xray-warm")
    first, second = pieces(payload, 3)  # START + two lines | a line, END, REPORT (with XRAY)
    assert "XRAY TraceId" not in json.dumps(first)
    docs = parse_batch([first, second])
    assert [d["traceId"] for d in docs] == ["1-66322157-5aa638a8fe95e1bc5765e334"] * len(docs)
    assert [d["spanId"] for d in docs] == ["d714c8c5b76ccc19"] * len(docs)


def test_correlation_id_of_the_first_record_reaches_the_report_in_the_second() -> None:
    payload = sample("powertools-python-structured")
    first, second = pieces(payload, 3)  # INIT_START, START, one Powertools line | the rest
    docs = parse_batch([first, second])
    (report_doc,) = [d for d in docs if d["lambda.event_type"] == "report"]
    (start_doc,) = [d for d in docs if d["lambda.event_type"] == "start"]
    assert (
        report_doc["correlation_id"] == start_doc["correlation_id"] == "c6a2e0d4-3d0a-4b8e-9f41-0f2b9d7a6e15"
    )
    assert report_doc["faas.coldstart"] is True


def test_cold_start_needs_the_init_in_the_same_stream() -> None:
    """INIT_START in one container does not make another container's invocation cold."""
    cold = sample("python-text-cold-start")
    warm = sample("python-text-xray-warm")
    init, rest = pieces(cold, 1)
    docs = parse_batch([init, warm, rest])
    warm_docs = [d for d in docs if d["aws.log.stream"] == warm["logStream"]]
    assert {d["faas.coldstart"] for d in warm_docs} == {False}


def test_provisioned_concurrency_init_does_not_make_a_cold_start() -> None:
    """Provisioned concurrency runs the init ahead of any request (``platform.initStart``
    ``initializationType: provisioned-concurrency``): the first invocation after it is not cold,
    while an on-demand init makes it cold."""
    records = [
        {"time": "2024-05-20T16:29:44.833Z", "type": "platform.initStart",
         "record": {"initializationType": "provisioned-concurrency", "phase": "init", "runtimeVersion": "python:3.12.v27"}},
        {"time": "2024-05-20T16:29:45.236Z", "type": "platform.initReport",
         "record": {"initializationType": "provisioned-concurrency", "phase": "init", "status": "success",
                    "metrics": {"durationMs": 403.112}}},
        {"time": "2024-05-20T16:29:45.237Z", "type": "platform.start", "record": {"requestId": RID_A, "version": "$LATEST"}},
        {"time": "2024-05-20T16:29:45.292Z", "type": "platform.report",
         "record": {"requestId": RID_A, "status": "success",
                    "metrics": {"durationMs": 53.0, "billedDurationMs": 54, "memorySizeMB": 256, "maxMemoryUsedMB": 78}}},
    ]  # fmt: skip
    stream = "2024/05/20/[$LATEST]5d0c4a4e6b8f4f0fa4f3c3b2a1f0e9d8"
    lines = [json.dumps(r, separators=(",", ":")) for r in records]
    docs = parse_batch([synthetic_stream(stream, lines)])
    (report_doc,) = [d for d in docs if d["lambda.event_type"] == "report"]
    assert report_doc["faas.coldstart"] is False
    on_demand = [line.replace("provisioned-concurrency", "on-demand") for line in lines]
    (report_doc,) = [
        d for d in parse_batch([synthetic_stream(stream, on_demand)]) if d["lambda.event_type"] == "report"
    ]
    assert report_doc["faas.coldstart"] is True


OUTCOMES = [
    ("python-text-timeout-legacy", ["timeout"]),  # "Task timed out" printed after the REPORT
    ("node-text-timeout", ["timeout"]),  # ... before END
    ("python-text-timeout-status", ["timeout", "timeout"]),  # REPORT Status: timeout only
    ("node-json-timeout", ["timeout"]),
    ("python-text-init-timeout", ["timeout"]),
    ("python-text-oom-killed", ["oom"]),  # signal: killed before END
    ("python-text-oom-status", ["oom"]),  # Error Type: Runtime.OutOfMemory
    ("python-text-oom-legacy-process-exited", ["oom"]),  # exit line after REPORT, max = size
    ("java-text-oom-heap", ["oom"]),
    ("node-text-oom-heap", ["oom"]),
    ("python-text-unhandled-error", ["error"]),
    ("node-text-invoke-error", ["error"]),
    ("node-text-uncaught-exception", ["error"]),
    ("go-text-panic-goroutine", ["error"]),
    ("java-text-stacktrace-stdout", ["error"]),
    ("python-text-import-module-error", ["error"]),
    ("ruby-text-unhandled-error", ["error"]),
    ("python-text-cold-start", ["success", "success"]),
    ("python-text-status-success-2025", ["success"]),
    ("node-json-cold-start", ["success"]),
    ("python-json-modern-minimal", ["success", "success"]),
]


@pytest.mark.parametrize("split", ["one-record", "one-record-per-event"])
@pytest.mark.parametrize(("case", "outcomes"), OUTCOMES, ids=[o[0] for o in OUTCOMES])
def test_report_outcome(case: str, outcomes: list[str], split: str) -> None:
    payload = sample(case)
    docs = parse_batch([payload] if split == "one-record" else one_per_event(payload))
    reports = [d for d in docs if d["lambda.event_type"] == "report"]
    assert [r["lambda.outcome"] for r in reports] == outcomes
    assert all("lambda.outcome" not in d for d in docs if d["lambda.event_type"] != "report")


@pytest.mark.parametrize("split", ["one-record", "one-record-per-event"])
def test_an_async_retry_in_the_same_batch_is_an_invocation_of_its_own(split: str) -> None:
    """Lambda retries a failed asynchronous invocation under the same request id, often in the
    same execution environment a minute later: the retry (a second START after the first
    attempt's REPORT) must not inherit the first attempt's cold start or outcome."""
    messages = [
        "INIT_START Runtime Version: python:3.12.v27\tRuntime Version ARN: "
        "arn:aws:lambda:us-east-1::runtime:c9875014fc7d8e4d4b8d4f1d8d5e3b9c5a5e7a0e1f2b3c4d5e6f708192a3b4c5\n",
        f"START RequestId: {RID_A} Version: $LATEST\n",
        "[ERROR] ConnectionError: inventory service unavailable\nTraceback (most recent call last):\n"
        '\u00a0\u00a0File "/var/task/app.py", line 21, in handler\n\u00a0\u00a0\u00a0\u00a0reserve(order)',
        f"END RequestId: {RID_A}\n",
        f"REPORT RequestId: {RID_A}\tDuration: 812.40 ms\tBilled Duration: 813 ms\tMemory Size: 256 MB\t"
        "Max Memory Used: 81 MB\tInit Duration: 402.11 ms\t\n",
        f"START RequestId: {RID_A} Version: $LATEST\n",
        "inventory reserved\n",
        f"END RequestId: {RID_A}\n",
        report(RID_A),
    ]
    payload = synthetic_stream("2024/05/01/[$LATEST]7d1e0c5a9f2b4e6d8c3a1b0f9e8d7c6b", messages)
    docs = parse_batch([payload] if split == "one-record" else one_per_event(payload))
    reports = [d for d in docs if d["lambda.event_type"] == "report"]
    assert [r["lambda.outcome"] for r in reports] == ["error", "success"]
    assert [r["faas.coldstart"] for r in reports] == [True, False]
    first, retry = docs[1:5], docs[5:]
    assert {d["faas.invocation_id"] for d in docs[1:]} == {RID_A}
    assert {d["faas.coldstart"] for d in first} == {True}
    assert {d["faas.coldstart"] for d in retry} == {False}


def test_outcome_counts_only_what_the_same_invocation_showed() -> None:
    """A timeout line of one request must not mark the neighbouring request of the same stream."""
    timed_out = "2024-05-01T09:41:15.040Z " + RID_A + " Task timed out after 3.00 seconds\n\n"
    messages = [
        f"START RequestId: {RID_A} Version: $LATEST\n",
        f"END RequestId: {RID_A}\n",
        report(RID_A),
        timed_out,
        f"START RequestId: {RID_B} Version: $LATEST\n",
        f"END RequestId: {RID_B}\n",
        report(RID_B),
    ]
    docs = parse_payloads(
        [
            payload_from_json(
                synthetic_stream("2020/06/09/[$LATEST]4e5738d52f6ef614c5f4088c298b4feb", messages),
                RecordId("s", "1"),
                b"",
            )
        ]
    )
    outcomes = {
        d["faas.invocation_id"]: d["lambda.outcome"] for d in docs if d["lambda.event_type"] == "report"
    }
    assert outcomes == {RID_A: "timeout", RID_B: "success"}
    (timeout,) = [d for d in docs if d["lambda.event_type"] == "timeout"]
    assert timeout["faas.invocation_id"] == RID_A
