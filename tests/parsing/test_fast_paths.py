"""The parser's fast paths (``_FAST_PATHS``: START/END/REPORT, JSON lines, runtime text lines)
give exactly the documents of its general reader: they only save time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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


@pytest.mark.parametrize(
    "make_payloads",
    [_payloads_of_samples, _tricky_payload, _workload_payloads],
    ids=["events-samples", "tricky-lines", "bench-workload"],
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
