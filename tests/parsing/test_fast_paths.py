"""The parser's fast paths (``_FAST_PATHS``: START/END/REPORT, JSON lines, runtime text lines)
give exactly the documents of its general reader: they only save time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalens.bench.workload import generate_payloads
from lambdalens.decoding import RecordId, SubscriptionPayload, payload_from_json
from lambdalens.parsing import parse_payloads
from lambdalens.parsing import parser as parser_module

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "events" / "logs").glob("*.expect.json"))
OBSERVED_MS = 1_714_564_900_000


def _payloads_of_samples() -> list[SubscriptionPayload]:
    payloads = []
    for path in SAMPLES:
        raw = json.loads(path.with_name(path.name.replace(".expect.json", ".json")).read_text())
        payloads.append(payload_from_json(raw, RecordId("sample", path.stem), b""))
    return payloads


def _tricky_payload() -> SubscriptionPayload:
    """Lines that look like a fast path's layout and are not quite it."""
    rid = "6d1c4f8e-2a8b-4c3e-9f0a-1b2c3d4e5f60"
    lines = [
        f"START RequestId: {rid} Version: $LATEST\n",
        '{"level":"INFO","message":"ok","function_request_id":"' + rid + '"}\n',
        '{"level":"ERROR","message":"java.lang.IllegalStateException: boom\\n\\tat a.B.c(B.java:1)"}',
        '{"level":"INFO","message":{"errorType":"TypeError","errorMessage":"x"}}',
        '{"errorType":"Runtime.OutOfMemory","errorMessage":"out of memory"}',
        '{"level":"WARN","requestId":"undefined","message":"no request"}',
        '{"level":"INFO","error":"SecretUnavailableError","message":"m"}',
        '{"level":30,"msg":"pino line","reqId":"' + rid + '"}',
        '{"type":"platform.logsDropped","record":{"reason":"x","droppedRecords":3}}',
        '{"type":"platform.start"}',
        '{"type":"platform.start","record":{"requestId":"' + rid + '","version":"7","tracing":{"spanId":"'
        '5e1b41515ac6c58f","type":"X-Amzn-Trace-Id","value":"Root=1-5e1b4151-5ac6c58f5b4a3e2a1c0d9e8f;'
        'Parent=0c6e8f1a2b3c4d5e;Sampled=1"}}}',
        '{"type":"platform.report","record":{"requestId":"' + rid + '","metrics":{"durationMs":3000.5,'
        '"billedDurationMs":3001,"memorySizeMB":128,"maxMemoryUsedMB":"x","initDurationMs":1}'
        ',"status":"Timeout","errorType":"Sandbox.Timedout"}}',
        '{"type":"platform.start","record":{"requestId":"undefined","version":"$LATEST"}}',
        '{"type":"platform.start","record":{"requestId":"' + rid + '","functionVersion":"3"}}',
        '{"type":"platform.report","record":{"requestId":"' + rid + '","metrics":[1],"status":"success"}}',
        '{"type":"platform.report","record":{"requestId":"' + rid + '","metrics":{},"spans":[]}}',
        '{"type":"platform.report","record":{"requestId":"' + rid + '","status":"","tracing":"Root=x"}}',
        "[1, 2, 3]",
        "{not json",
        f"2024-05-01T12:00:00.000Z\t{rid}\tINFO\tline\n",
        f"2024-05-01T12:00:00.000Z\t{rid}\tERROR\tInvoke Error \t"
        + '{"errorType":"Error","errorMessage":"x"}\n',
        f"2024-05-01T12:00:00.000Z\t{rid}\tfail\tSystem.Exception: bad\n   at A.B() in /src/A.cs:line 3\n",
        f"2024-05-01T12:00:03.000Z {rid} Task timed out after 3.00 seconds\n",
        f"[INFO]\t2024-05-01T12:00:00.000Z\t{rid}\tpython line\n",
        f"[ERROR]\t2024-05-01T12:00:00.000Z\t{rid}\tfailed\n",
        "[ERROR] KeyError: 'k'\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line 3, in h\n",
        "[ERROR] app-printed with a bracket prefix\n",
        "2024/05/01 12:00:00 go log line\n",
        "2024-05-01 12:00:00 " + rid + " INFO  Handler - log4j line\n",
        f"END RequestId: {rid}\n",
        f"END RequestId:  {rid}\n",
        f"REPORT RequestId: {rid}\tDuration: 1.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory\t\n",
        f"REPORT RequestId: {rid}\tDuration: x ms\n",
        "START RequestId: undefined Version: $LATEST\n",
        f"START RequestId: {rid} Version: $LATEST\n",
        f"REPORT RequestId: {rid}\tDuration: 1.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 64 MB\t\nXRAY TraceId: 1-5e1b4151-5ac6c58f5b4a3e2a1c0d9e8f\tSegmentId: 6d1c4f8e2a8b4c3e\t"
        "Sampled: true\t\n",
    ]
    events = [
        {"id": str(10**55 + i), "timestamp": 1_714_564_800_000 + i, "message": line}
        for i, line in enumerate(lines)
    ]
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/tricky",
        "logStream": "2024/05/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": events,
    }
    return payload_from_json(raw, RecordId("tricky", "0"), b"")


def _workload_payloads() -> list[SubscriptionPayload]:
    return [
        payload_from_json(raw, RecordId("bench", str(i)), b"")
        for i, raw in enumerate(generate_payloads(events=4000, seed=3))
    ]


def _combinations_payloads() -> list[SubscriptionPayload]:
    """Every runtime prefix x level x request id x rest below, each printed in an invocation of
    its own log stream (a line after an error would not take a fast path)."""
    payloads: list[SubscriptionPayload] = []
    for template in PREFIXED_TEMPLATES:
        for level in LEVELS:
            for rid in (RID, "c1aa665e-49e7-483b-8f90-6f3dbb1ce902", "short"):
                for rest in RESTS:
                    lines = [
                        f"START RequestId: {RID} Version: $LATEST\n",
                        template.format(level=level, rid=rid, rest=rest),
                    ]
                    raw = {
                        "messageType": "DATA_MESSAGE",
                        "owner": "123456789012",
                        "logGroup": "/aws/lambda/combinations",
                        "logStream": f"2024/05/01/[$LATEST]{len(payloads):032x}",
                        "logEvents": [
                            {
                                "id": str(10**55 + 2 * len(payloads) + i),
                                "timestamp": 1_714_564_800_000,
                                "message": m,
                            }
                            for i, m in enumerate(lines)
                        ],
                    }
                    payloads.append(payload_from_json(raw, RecordId("combinations", str(len(payloads))), b""))
    return payloads


@pytest.mark.parametrize(
    "make_payloads",
    [_payloads_of_samples, _tricky_payload, _workload_payloads, _combinations_payloads],
    ids=["events-samples", "tricky-lines", "bench-workload", "prefix-combinations"],
)
def test_fast_paths_give_the_documents_of_the_general_reader(
    make_payloads: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def parse() -> list[dict[str, Any]]:
        made = make_payloads()
        payloads = made if isinstance(made, list) else [made]
        return parse_payloads(payloads, region="us-east-1", observed_at_ms=OBSERVED_MS)

    fast = parse()
    monkeypatch.setattr(parser_module, "_FAST_PATHS", {})
    general = parse()
    assert len(fast) == len(general)
    for fast_doc, general_doc in zip(fast, general, strict=True):
        assert fast_doc == general_doc, fast_doc["body"][:80]


# Lines shaped like the fast paths' layouts, with the parts they decide on varied, printed inside
# an invocation (where the fast paths complete a line themselves) and outside one.
RID = "29ed9c38-063b-47cf-bde0-95ffeb955004"
LEVELS = [
    "INFO",
    "info",
    "WARNING",
    "warn",
    "ERROR",
    "error",
    "fail",
    "CRITICAL",
    "DEBUG",
    "trce",
    "",
    "Info ",
]
RESTS = [
    "processed order 42",
    "an Error here",
    "com.acme.SoapFault: the service is down",
    "boom: com.acme.Failed\ncom.acme.Failed: boom\n\tat com.acme.H.h(H.java:1)",
    "Unhandled Promise Rejection \t{}",
    "TypeError: Cannot read properties of undefined\n    at handler (/var/task/index.js:3:9)",
    "System.InvalidOperationException: no stock\n   at Orders.Function.Handler() in /src/F.cs:line 3",
    "Shop.Payments.PaymentDeclined: card expired\n   at Shop.Payments.Gateway.Charge() in /src/G.cs:line 5",
    "Payment declined\nSystem.Exception: boom\n   at A.B() in /src/A.cs:line 3",
    "Exception in thread",
    "Invoke Error \t{}",
    "Uncaught Exception \tboom",
    '{"level":"INFO","message":"m"}',
    "{not json",
    "Task timed out after 3.00 seconds",
    "calling the handler function resulted in a panic, the process should exit",
    "tabs\tinside\tthe rest",
    "",
]
PREFIXED_TEMPLATES = [
    "[{level}]\t2024-05-01T12:00:00.123Z\t{rid}\t{rest}\n",
    "2024-05-01T12:00:00.123Z\t{rid}\t{level}\t{rest}\n",
    "2024-05-01T12:00:00.123Z\t{rid}\t{rest}\n",
    "2024-05-01 12:00:00 {rid} {level}  Handler - {rest}\n",
    "[ERROR] {rest}\t{rid}\n",
    "2024/05/01 12:00:00 {rest}\n",
    "2024/05/01 12:00:00 [{level}] {rest}\n",
    "2024/05/01 12:00:00 {level}: {rest}\n",
    "I, [2024-05-01T12:00:00.750000 #8]  {level} -- : {rest}\n",
    "W, [2024-05-01T12:00:00.750000 #8]  {level} {rid} -- : {rest}\n",
    "2024-05-01 12:00:00  {level}  Handler - {rest}\n",
    '{level} Lambda runtime invoke{{requestId="{rid}"}}: {rest}\n',  # Rust's tracing
    ' {level} Lambda runtime invoke{{requestId="{rid}" xrayTraceId="Root=1-2-3"}}:a{{b="c"}}: {rest}\n',
    # Java layouts: a request id first (bare, in brackets), Logback's default, the runtime's LambdaLogger
    "{rid} {level}  OrderHandler:41 - {rest}\n",
    "<{rid}> {level} OrderHandler:41 - {rest}\n",
    "12:00:00.123 [main] {level} com.acme.orders.Handler - {rest}\n",
    "2024-05-01 12:00:00,123 <{rid}> [main] {level} com.acme.Handler:41 - {rest}\n",
    "[{level}] {rest}",
    # extensions' lines (parsing/extensions.py): zap's console encoder, Go's log package, Lambda Web Adapter
    "2024-05-01T12:00:00.123Z\t{level}\tservice/telemetry.go:90\t{rest}\n",
    "2024/05/01 12:00:00 [collector] {rest}\n",
    '{level} Lambda runtime invoke{{requestId="{rid}"}}: lambda_web_adapter: {rest}\n',
]
JSON_KEYS = [
    "level", "log_level", "severity", "message", "timestamp", "type", "requestId", "function_request_id",
    "xray_trace_id", "traceId", "correlation_id", "cold_start", "service", "serviceName", "errorType",
    "errorMessage", "exception", "error", "logger", "location",
    # other spellings: Powertools for .NET in PascalCase, Elastic Common Schema
    "Level", "FunctionRequestId", "XrayTraceId", "CorrelationId", "ColdStart", "Service", "Exception",
    "log.level", "faas.execution", "trace.id", "faas.coldstart", "error.type", "error.message",
    "span", "spans", "fields",  # Rust's tracing
    "ts", "msg", "logger", "caller",  # zap (the OpenTelemetry collector's own lines)
    "err", "stack", "stack_trace", "exc_info", "stacktrace",  # pino, winston, logstash, python-json-logger, zap
]  # fmt: skip
json_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from(
        [
            "",
            "ERROR",
            "x",
            RID,
            "undefined",
            "Root=1-66325b4a-55f7b8a4b2cc6f69abb34cc7;Parent=fb8a",
            "Error: boom\n    at f (/var/task/index.js:1:1)",
            "telemetryAPI.Listener",
            "service@v0.138.0/service.go:245",
            "Launching OpenTelemetry Lambda extension",
        ]
    )
)
json_value = json_scalar | st.dictionaries(
    st.sampled_from(
        ["errorType", "errorMessage", "a", "type", "Message", "stack_trace", "requestId", "xrayTraceId"]
    ),
    json_scalar,
    max_size=2,
)
json_line = st.dictionaries(st.sampled_from(JSON_KEYS), json_value, max_size=6).map(
    lambda o: orjson.dumps(o).decode()
)
prefixed_line = st.builds(
    lambda template, level, rid, rest: template.format(level=level, rid=rid, rest=rest),
    st.sampled_from(PREFIXED_TEMPLATES),
    st.sampled_from(LEVELS),
    st.sampled_from([RID, "c1aa665e-49e7-483b-8f90-6f3dbb1ce902", "undefined", "", "short"]),
    st.sampled_from(RESTS) | st.text(max_size=20),
)


# Whole lines of the shapes the general reader takes by their first words (a fast path must
# decline them, or read them as it does): Lambda's crash lines, runtimes' crash reports, ...
BARE_LINES = [
    f"RequestId: {RID} Error: Runtime exited with error: exit status 1\nRuntime.ExitError\n",
    f"RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n",
    f"RequestId: {RID} Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap]\nRuntime.InvalidEntrypoint\n",
    f"RequestId: {RID} Process exited before completing request\n\n",
    f"RequestId: {RID} processed\n",
    "Unknown application error occurred\nFunction<NoMethodError>\n",
    "Unknown application error occurred\n",
    "Unknown application error occurred twice\n",
    'Critical exception from handler{\n  "errorMessage": "x",\n  "errorType": "Function<NoMethodError>"\n}',
    "Error raised from handler method",
    "[AWS Parameters and Secrets Lambda Extension] 2024/06/26 02:34:50 INFO Serving on port 2773\n",
    "[appconfig agent] 2024/08/29 17:22:53 WARN slow\n",
    "[NR_EXT] New Relic Lambda Extension starting up\n",
    "DD_EXTENSION | DEBUG | Starting Datadog Extension 71\n",
    "2022-05-20 21:16:10 UTC | DD_EXTENSION | ERROR | Error while trying to read an API Key from KMS\n",
    '\u26a1\ufe0f TELEMETRY: [{"type":"function","record":"x\\tERROR\\tUncaught Exception \\t{}"}]\n',
    "TELEMETRY: []\n",
    "LAMBDA_WARNING: Unhandled exception. See the docs.\r"
    '{"timestamp": "2024-03-14T09:12:31Z", "level": "ERROR", "errorMessage": "x", "errorType": "KeyError"}\n',
    "LAMBDA_WARNING: Unhandled exception. See the docs.\r[ERROR] KeyError: 'x'\rTraceback (most recent call last):\n",
    "Class not found: example.Hello: java.lang.ClassNotFoundException\njava.lang.ClassNotFoundException: example.Hello\n"
    "\tat java.net.URLClassLoader.findClass(URLClassLoader.java:381)\n\n",
    "Unable to import module 'index': Error\n    at Function.Module._load (module.js:417:25)\n",
    'Init error when loading handler lambda_function.lambda_handler{"errorType": "Init<LoadError>"}',
]
bare_line = st.sampled_from(BARE_LINES)


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(prefixed_line, json_line, bare_line), min_size=1, max_size=8), st.booleans())
def test_any_line_a_fast_path_may_take_gives_the_general_readers_document(
    lines: list[str], inside: bool
) -> None:
    messages = [f"START RequestId: {RID} Version: $LATEST\n", *lines] if inside else lines
    events = [
        {"id": str(10**40 + i), "timestamp": 1_714_564_800_000 + i, "message": m}
        for i, m in enumerate(messages)
    ]
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/fuzz",
        "logStream": "2024/05/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "logEvents": events,
    }

    def parse() -> list[dict[str, Any]]:
        payload = payload_from_json(orjson.loads(orjson.dumps(raw)), RecordId("fuzz", "0"), b"")
        return parse_payloads([payload], region="us-east-1", observed_at_ms=OBSERVED_MS)

    fast = parse()
    saved = parser_module._FAST_PATHS
    parser_module._FAST_PATHS = {}
    try:
        general = parse()
    finally:
        parser_module._FAST_PATHS = saved
    for fast_doc, general_doc in zip(fast, general, strict=True):
        assert fast_doc == general_doc, fast_doc["body"][:80]
