"""Property-based fuzzing of the parser (issue 8: hostile and broken input).

Logs are attacker-controlled text. Whatever a function prints — NUL bytes, control characters,
text decoded from invalid UTF-8, very long lines, deeply nested JSON, lines that imitate
Lambda's own platform records, error objects with the wrong types — and in whatever order,
the parser must not raise, must give one document per event, must keep the original message
in ``body`` unmodified and must give every document a valid ``lambda.event_type``.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import EVENT_TYPES, BatchParser, Document

SEVERITY = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
T0 = 1_714_556_472_503
REQUEST_IDS = [
    "29ed9c38-063b-47cf-bde0-95ffeb955004",
    "c1aa665e-49e7-483b-8f90-6f3dbb1ce902",
    "undefined",
    "",
    "not-a-request-id",
]
STREAMS = [
    ("/aws/lambda/orders-api", "2024/05/01/[$LATEST]f3c496501d8a9e6efba61744d9326171"),
    ("/aws/lambda/orders-api", "2024/05/01/[$LATEST]0e0902d14a747d960a621bb3d822f51e"),
    ("/custom/app-logs", "2024/05/01/billing-worker[$LATEST]316fa505dfd910942781806be3799ed0"),
]
FAST = settings(deadline=None, max_examples=250, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- strategies

request_id = st.sampled_from(REQUEST_IDS) | st.uuids().map(str)
hole = st.text(max_size=24)
number = st.sampled_from(
    ["0", "-1", "3.00", "1e999", "nan", "abc", "1.2.3", "", " 7 ", "0x1f"]
) | st.integers(-(10**6), 10**6).map(str)
controls = st.text(
    alphabet=st.sampled_from(
        '\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\u00a0\u2028\u2029\ufeff\ufffd{}[]":\\ aZ9'
    )
)
from_invalid_utf8 = st.binary(max_size=120).map(lambda b: b.decode("utf-8", errors="replace"))
latin1 = st.binary(max_size=120).map(lambda b: b.decode("latin-1"))

json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
LOG_KEYS = [
    "level", "message", "timestamp", "time", "type", "record", "requestId", "function_request_id",
    "AWSRequestId", "xray_trace_id", "traceId", "spanId", "correlation_id", "correlationId",
    "cold_start", "service", "errorType", "errorMessage", "stackTrace", "stack", "exception",
    "exception_name", "error", "logger", "location",
]  # fmt: skip
structured_line = st.dictionaries(
    st.sampled_from(LOG_KEYS) | st.text(max_size=8), json_value, max_size=8
).map(lambda obj: orjson.dumps(obj).decode())
PLATFORM_TYPES = [
    "start", "report", "runtimeDone", "initStart", "initReport", "initRuntimeDone", "restoreStart",
    "restoreReport", "restoreRuntimeDone", "extension", "telemetrySubscription", "logsDropped", "bogus",
]  # fmt: skip
RECORD_KEYS = ["requestId", "status", "errorType", "phase", "version", "runtimeVersion", "initializationType"]
METRIC_KEYS = [
    "durationMs",
    "billedDurationMs",
    "memorySizeMB",
    "maxMemoryUsedMB",
    "initDurationMs",
    "restoreDurationMs",
]
platform_record = st.one_of(
    json_value,
    st.fixed_dictionaries(
        {},
        optional={
            **dict.fromkeys(RECORD_KEYS, json_value | request_id),
            "metrics": json_value | st.dictionaries(st.sampled_from(METRIC_KEYS), json_value, max_size=6),
            "tracing": json_value
            | st.fixed_dictionaries({}, optional={"spanId": json_value, "value": hole, "type": hole}),
        },
    ),
)
platform_json = st.builds(
    lambda kind, record, time: orjson.dumps(
        {"time": time, "type": f"platform.{kind}", "record": record}
    ).decode(),
    st.sampled_from(PLATFORM_TYPES),
    platform_record,
    json_value,
)

# Lines that look like what Lambda and the runtimes print, with the variable parts broken.
IMITATIONS = [
    "START RequestId: {rid} Version: {a}",
    "END RequestId: {rid}",
    "REPORT RequestId: {rid} Duration: {n}",
    "REPORT RequestId: {rid}\tDuration: {n} ms\tBilled Duration: {n} ms\tMemory Size: {n} MB\tMax Memory Used: {n} MB\t{a}",
    "REPORT RequestId: {rid}\tDuration: {n} ms\tStatus: {a}\tError Type: {b}\n",
    "REPORT RequestId: {rid}\t\nXRAY TraceId: {a}\tSegmentId: {b}\tSampled: {n}\t\n",
    "INIT_START Runtime Version: {a}\tRuntime Version ARN: {b}",
    "INIT_REPORT Init Duration: {n} ms\tPhase: {a}\tStatus: {b}\tError Type: {a}",
    "INIT_REPORT Init Duration: {n} ms Phase: {a} Status: {b}",
    "RESTORE_START Runtime Version: {a}",
    "RESTORE_REPORT Restore Duration: {n} ms{a}",
    "EXTENSION\tName: {a}\tState: {b}\tEvents: [{a}",
    "LOGS Name: {a} State: {b} Types: [{a}]",
    "RequestId: {rid} Error: {a}\n{b}",
    "RequestId: {rid} Process exited before completing request{a}",
    "{ts} {rid} Task timed out after {n} seconds{a}",
    '[ERROR] {a}: {b}\nTraceback (most recent call last):\n  File "{a}", line {n}, in {b}',
    "[ERROR] {a}",
    "[{a}]\t{ts}\t{rid}\t{b}",
    '[INFO]\t{ts}\t{rid}\t{{"level": {n}, "message": {n}}}',
    "{ts}\t{rid}\t{a}\t{b}",
    '{ts}\t{rid}\tERROR\tInvoke Error \t{{"errorType":{n},"errorMessage":"{a}","stack":[{n}]}}',
    "{ts}\t{rid}\tERROR\tUncaught Exception \t{b}",
    "2024-05-01 12:00:00 {rid} {a} {b}",
    "{a}, [{b}]  INFO {rid} -- : {a}",
    '2024/05/01 12:00:00 {{"errorMessage":"{a}","errorType":{n},"stackTrace":[{{"label":{n}}}]}}',
    "panic: {a}\n\ngoroutine {n} [running]:\nmain.{b}({a})",
    "<--- Last few GCs --->{a}",
    "FATAL ERROR: {a} JavaScript heap out of memory",
    "{a}: java.lang.{b}Exception\njava.lang.{b}Exception: {a}\n\tat {a}({b})",
    "Caused by: {a}",
    "\tat {a}.{b}({a}.java:{n})",
    "Traceback (most recent call last):{a}",
    "System.{a}Exception: {b}\n   at {a}.{b}() in {a}:line {n}",
    "/var/task/{a}.rb:{n}:in `{b}'",
    "Error raised from handler method{a}",
    "Init error when loading handler {a}",
    '{{\n  "errorMessage": "{a}",\n  "errorType": "Init<{b}>",\n  "stackTrace": [{n}]\n}}',
    "Unknown application error occurred\nRuntime.{a}",
    "LAMBDA_WARNING: {a}",
]
imitation = st.builds(
    lambda template, rid, a, b, n, ts: template.format(rid=rid, a=a, b=b, n=n, ts=ts),
    st.sampled_from(IMITATIONS),
    request_id,
    hole,
    hole,
    number,
    st.sampled_from(
        ["2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00Z", "9999-99-99T99:99:99.999Z", "x" * 24]
    ),
)
nested_json = st.builds(
    lambda depth, opener, leaf: (
        opener * depth + leaf + "".join({"[": "]", '{"a":': "}"}[opener] for _ in range(depth))
    ),
    st.integers(min_value=1, max_value=3000),
    st.sampled_from(["[", '{"a":']),
    st.sampled_from(["1", '"x"', "null", "{}", "[]"]),
)
long_line = st.builds(
    lambda piece, length: (piece * (length // len(piece) + 1))[:length],
    st.text(min_size=1, max_size=12) | st.sampled_from(["a", "x ", "\t", "\n", "ERROR ", "{", "[", "0"]),
    st.integers(min_value=1_000, max_value=262_144),  # CloudWatch's maximum event size
)
message = st.one_of(
    st.text(),
    controls,
    from_invalid_utf8,
    latin1,
    imitation,
    structured_line,
    platform_json,
    nested_json,
)

# --------------------------------------------------------------------------- helpers


def payload(events: list[Any], stream: int = 0, seq: int = 0) -> Any:
    group, name = STREAMS[stream]
    obj = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": group,
        "logStream": name,
        "subscriptionFilters": ["lambdalens"],
        "logEvents": events,
    }
    # what arrives has been through JSON, as CloudWatch delivers it
    return payload_from_json(orjson.loads(orjson.dumps(obj)), RecordId("shardId-000000000000", str(seq)), b"")


def events_of(messages: list[str], start: int = 0) -> list[dict[str, Any]]:
    return [
        {"id": str(10**40 + start + i), "timestamp": T0 + start + i, "message": m}
        for i, m in enumerate(messages)
    ]


def check(doc: Document, event: dict[str, Any]) -> None:
    assert doc["body"] == event["message"], "the original message is kept unmodified"
    assert type(doc["body"]) is str
    assert doc["log.record.uid"] == event["id"]
    assert doc["lambda.event_type"] in EVENT_TYPES
    assert SEVERITY[doc["severity.text"]] == doc["severity.number"]
    assert ISO_MS.match(doc["@timestamp"])
    if "exception.fingerprint" in doc:
        assert FINGERPRINT.match(doc["exception.fingerprint"])
    for key in ("faas.invocation_id", "traceId", "correlation_id", "exception.type"):
        assert key not in doc or isinstance(doc[key], str), key
    if "faas.coldstart" in doc:
        assert isinstance(doc["faas.coldstart"], bool)


# --------------------------------------------------------------------------- properties


@FAST
@given(message)
def test_any_message_is_kept_and_typed(text: str) -> None:
    events = events_of([text])
    parser = BatchParser()
    docs = parser.parse(payload(events))
    parser.finish()
    assert len(docs) == 1
    check(docs[0], events[0])


@FAST
@given(message)
def test_any_message_inside_an_invocation_is_kept_and_typed(text: str) -> None:
    rid = REQUEST_IDS[0]
    messages = [f"START RequestId: {rid} Version: $LATEST\n", text, f"END RequestId: {rid}\n"]
    messages.append(
        f"REPORT RequestId: {rid}\tDuration: 1.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\t\n"
    )
    events = events_of(messages)
    parser = BatchParser()
    docs = parser.parse(payload(events))
    parser.finish()
    assert len(docs) == 4
    for doc, event in zip(docs, events, strict=True):
        check(doc, event)
    assert docs[0]["lambda.event_type"] == "start", "a hostile line does not rewrite its neighbours"
    assert docs[3]["lambda.event_type"] == "report"
    assert docs[3]["lambda.outcome"] in ("success", "error", "timeout", "oom")


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            message | st.sampled_from(["\n", "", " ", "\tat x(y.java:1)\n", "goroutine 1 [running]:\n"]),
            st.integers(0, 2),
        ),
        max_size=40,
    ),
    st.lists(st.integers(min_value=1, max_value=40), max_size=6),
)
def test_any_sequence_of_events_over_streams_and_payloads(
    lines: list[tuple[str, int]], cuts: list[int]
) -> None:
    """Events of three streams, cut into payloads anywhere, parsed as one batch."""
    events = events_of([text for text, _ in lines])
    streams = [stream for _, stream in lines]
    bounds = sorted({0, len(events), *(c for c in cuts if c < len(events))})
    parser = BatchParser()
    docs: list[Document] = []
    expected: list[dict[str, Any]] = []
    for seq, (start, end) in enumerate(itertools.pairwise(bounds)):
        for stream in range(len(STREAMS)):
            chunk = [e for e, s in zip(events[start:end], streams[start:end], strict=True) if s == stream]
            if chunk:
                docs.extend(parser.parse(payload(chunk, stream, seq)))
                expected.extend(chunk)
    parser.finish()
    assert len(docs) == len(events)
    for doc, event in zip(docs, expected, strict=True):
        check(doc, event)
    assert parser.stats.events == len(events)


@settings(deadline=None, max_examples=100)
@given(
    st.lists(
        json_value
        | st.fixed_dictionaries(
            {},
            optional={
                "id": json_value,
                "timestamp": json_value | st.integers(-(2**63), 2**63 - 1),
                "message": json_value | message,
            },
        ),
        max_size=8,
    )
)
def test_malformed_events_are_salvaged_never_raised(events: list[Any]) -> None:
    parser = BatchParser()
    docs = parser.parse(payload(events))
    parser.finish()
    assert len(docs) == len(events)
    for doc, event in zip(docs, events, strict=True):
        assert doc["lambda.event_type"] in EVENT_TYPES
        assert type(doc["body"]) is str
        original = event.get("message") if isinstance(event, dict) else None
        if isinstance(original, str):
            assert doc["body"] == original
        if "lambda.parse_error" in doc and not isinstance(original, str):
            assert orjson.loads(doc["body"]) == event, "the whole event is kept when it has no text"
        assert isinstance(doc["log.record.uid"], str)
        if "lambda.parse_error" in doc:
            assert doc["log.record.uid"], "a salvaged event still gets an id to be indexed under"


@settings(
    deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(long_line, st.sampled_from(["", "START RequestId: ", "[ERROR] ", '{"message": "', "\tat "]))
def test_very_long_lines_are_kept_whole(line: str, prefix: str) -> None:
    events = events_of([prefix + line])
    parser = BatchParser()
    (doc,) = parser.parse(payload(events))
    parser.finish()
    check(doc, events[0])
    assert len(doc["body"]) == len(prefix) + len(line)
