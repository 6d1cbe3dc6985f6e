"""Extensions' own output is ``extension``, at the level it names, never the function's line nor
its error: one published line per entry of the table of known extensions (a new entry without
its line here fails the first test)."""

from __future__ import annotations

import pytest

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.parsing import Document, parse_payloads
from lambdalens.parsing.extensions import KNOWN_EXTENSIONS, KnownExtension

RID = "4c114d5a-d491-4851-b11f-fa77c1cfd0b9"

# (entry text) -> (a line of that extension as published, the severity it names); sources in events/README.md
LINES: dict[str, tuple[str, str]] = {
    "[AWS Parameters and Secrets Lambda Extension] ": (
        "[AWS Parameters and Secrets Lambda Extension] 2024/06/26 02:34:50 INFO Serving on port 2773\n",
        "INFO",
    ),
    "[appconfig agent] ": (
        "[appconfig agent] 2024/08/29 17:22:53 ERROR failed to retrieve configuration 'Shop:Prod:Flags'\n",
        "ERROR",
    ),
    "[NR_EXT": ("[NR_EXT] New Relic Lambda Extension starting up\n", "INFO"),
    "DD_EXTENSION | ": ("DD_EXTENSION | DEBUG | Starting Datadog Extension 71\n", "DEBUG"),
    "\u26a1\ufe0f TELEMETRY: ": (
        '\u26a1\ufe0f TELEMETRY: [{"time":"2023-02-10T20:39:02.172Z","type":"function","record":'
        '"2023-02-10T20:39:02.172Z\\tundefined\\tERROR\\tUncaught Exception \\t{\\"errorType\\":'
        '\\"Runtime.ImportModuleError\\",\\"errorMessage\\":\\"Error: Cannot find module \'does-not-exist\'\\"}\\n"}]\n',
        "INFO",
    ),
    "TELEMETRY: ": (
        'TELEMETRY: [{"time":"2023-02-10T20:39:01.751Z","type":"platform.initStart","record":'
        '{"initializationType":"on-demand","phase":"invoke","runtimeVersion":"nodejs:18.v4"}}]\n',
        "INFO",
    ),
    "[collector] ": (
        "2022/03/30 07:06:21 [collector] Launching OpenTelemetry Lambda extension, version:  v0.1.0\n",
        "INFO",
    ),
    "[opentelemetry-lambda-extension] ": (
        '[opentelemetry-lambda-extension] Received event: {\n\t"eventType": "INVOKE",\n\t"deadlineMs": 1614115570609\n}\n',
        "INFO",
    ),
    "lambda_web_adapter": ("DEBUG lambda_web_adapter: app is not ready\n", "DEBUG"),
    "telemetryAPI.": (
        '{"level":"info","ts":1729814233.4133914,"logger":"telemetryAPI.Listener","msg":"Listening for requests",'
        '"address":"sandbox.localdomain:53612"}',
        "INFO",
    ),
    "lifecycle.manager": (
        '{"level":"warn","ts":1729814240.1,"logger":"lifecycle.manager","msg":"Failed to process events",'
        '"error":"context canceled"}',
        "WARN",
    ),
    "NewCollector": (
        '{"level":"info","ts":1687275264.997873,"logger":"NewCollector","msg":"Using config URI from environment",'
        '"uri":"/var/task/collector.yaml"}',
        "INFO",
    ),
    "Launching OpenTelemetry Lambda extension": (
        '{"level":"info","ts":1729814233.4076462,"msg":"Launching OpenTelemetry Lambda extension","version":"UNSET"}',
        "INFO",
    ),
    "service@v": (
        '{"level":"info","ts":1767138851.1722095,"caller":"service@v0.138.0/service.go:245","msg":"Everything is ready. '
        'Begin running and processing data.","resource":{"service.name":"otelcol-lambda","service.version":"v0.138.0"}}',
        "INFO",
    ),
    "service/telemetry.go:": (
        '{"level":"info","ts":1687275265.0173824,"caller":"service/telemetry.go:90","msg":"Setting up own telemetry..."}',
        "INFO",
    ),
    "service/service.go:": (
        '{"level":"info","ts":1687275265.1,"caller":"service/service.go:161","msg":"Starting otelcol-lambda..."}',
        "INFO",
    ),
    "otlpreceiver": (
        "2021-11-30T00:46:02.843Z\tinfo\totlpreceiver/otlp.go:68\tStarting GRPC server on endpoint 0.0.0.0:4317\t"
        '{"kind": "receiver", "name": "otlp"}\n',
        "INFO",
    ),
    "localhostgate/": (
        '{"level":"warn","ts":1724697595.8106759,"caller":"localhostgate/featuregate.go:63","msg":"The default '
        'endpoints for all servers in components will change to use localhost instead of 0.0.0.0 in a future version."}',
        "WARN",
    ),
    "builder/receivers_builder.go:": (
        "2021-11-30T00:46:02.842Z\tinfo\tbuilder/receivers_builder.go:68\tReceiver is starting...\t"
        '{"kind": "receiver", "name": "otlp"}\n',
        "INFO",
    ),
    "builder/exporters_builder.go:": (
        "2021-11-05T11:04:27.830Z\terror\tbuilder/exporters_builder.go:255\tExporter failed to start\t"
        '{"kind": "exporter", "name": "awsxray"}\n',
        "ERROR",
    ),
}


def parse(messages: list[str]) -> list[Document]:
    raw = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/with-extensions",
        "logStream": "2024/06/26/[$LATEST]534d94021562778cdcdbbbf582bc94aa",
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [
            {"id": str(10**55 + i), "timestamp": 1_719_369_290_100 + i, "message": m}
            for i, m in enumerate(messages)
        ],
    }
    return parse_payloads([payload_from_json(raw, RecordId("ext", "0"), b"")], region="us-east-1")


def test_every_known_extension_has_a_published_line_here() -> None:
    assert {known.text for known in KNOWN_EXTENSIONS} == set(LINES)


@pytest.mark.parametrize("known", KNOWN_EXTENSIONS, ids=[f"{k.where}:{k.text}" for k in KNOWN_EXTENSIONS])
def test_a_known_extensions_line_is_its_own_at_its_level(known: KnownExtension) -> None:
    line, severity = LINES[known.text]
    outside, _start, inside, _end = parse(
        [line, f"START RequestId: {RID} Version: $LATEST\n", line, f"END RequestId: {RID}\n"]
    )
    for doc in (outside, inside):
        assert doc["lambda.event_type"] == "extension", known.name
        assert doc["severity.text"] == severity
        assert "exception.type" not in doc and "exception.message" not in doc
    assert "faas.invocation_id" not in outside
    assert inside["faas.invocation_id"] == RID  # (printed while the request ran)


def test_an_echo_of_the_functions_error_is_no_error_of_the_function() -> None:
    """A Telemetry API extension echoing what it receives prints the function's error record:
    the echo is the extension's line (it was an error of the function, counted twice)."""
    docs = parse(
        [
            f"START RequestId: {RID} Version: $LATEST\n",
            LINES["\u26a1\ufe0f TELEMETRY: "][0],
            f"END RequestId: {RID}\n",
            f"REPORT RequestId: {RID}\tDuration: 41.20 ms\tBilled Duration: 42 ms\tMemory Size: 256 MB\t"
            "Max Memory Used: 102 MB\t\n",
        ]
    )
    assert [d["lambda.event_type"] for d in docs] == ["start", "extension", "end", "report"]
    assert docs[-1]["lambda.outcome"] == "success"


def test_rust_web_adapter_line_in_the_runtimes_span_keeps_its_request() -> None:
    line = (
        f' INFO Lambda runtime invoke{{requestId="{RID}" xrayTraceId="Root=1-6946a1b2-0c5e2f7a9d3b4e6f8a1c2d3e;'
        'Parent=3f9a1c5e7b2d4f60;Sampled=0;Lineage=1:1b2c3d4e:0"}: lambda_web_adapter: app is not ready after 2000ms '
        "url=http://127.0.0.1:8080/health\n"
    )
    (doc,) = parse([line])
    assert doc["lambda.event_type"] == "extension"
    assert doc["faas.invocation_id"] == RID
    assert doc["traceId"] == "1-6946a1b2-0c5e2f7a9d3b4e6f8a1c2d3e"


@pytest.mark.parametrize(
    "line",
    [
        '{"level":"info","ts":1714550400.123,"caller":"orders/main.go:41","msg":"order stored","order":"A-1081"}',
        "2024/05/01 07:40:02 [INFO] reserving 3 line items\n",
        "2024-05-01T07:40:02.000Z\tinfo\torders/main.go:41\torder stored\n",
        "DEBUG hyper::client::connect::http: connecting to 127.0.0.1:8080\n",
        "[INFO]\t2024-06-26T02:34:50.312Z\t4c114d5a-d491-4851-b11f-fa77c1cfd0b9\tfetched secret\n",
    ],
)
def test_the_functions_own_lines_of_the_same_shapes_stay_its_own(line: str) -> None:
    (doc,) = parse([line])
    assert doc["lambda.event_type"] == "app_log"
