#!/usr/bin/env python3
"""Regenerate the encoded fixtures in ``events/kinesis`` and ``events/awslogs`` from ``events/logs``.

The decoded payloads in ``events/logs/<case>.json`` are the source of truth; this script wraps
them the way AWS delivers them to the parser Lambda:

* ``events/kinesis/<name>.json`` — a Kinesis event source mapping event whose records carry
  ``base64(gzip(payload))``, plus ``<name>.expect.json`` naming, per record, the case it carries
  or the :class:`~lambdalens.decoding.DecodeError` reason it must raise;
* ``events/awslogs/<case>.json`` — the direct CloudWatch Logs -> Lambda event
  ``{"awslogs": {"data": base64(gzip(payload))}}``.

Output is deterministic (gzip mtime 0, fixed sequence numbers), so ``--check`` can tell whether
the committed files are in sync with ``events/logs``::

    python3 events/make_encoded.py          # rewrite
    python3 events/make_encoded.py --check  # exit 1 if anything is stale
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LOGS = HERE / "logs"
ACCOUNT = "123456789012"
REGION = "us-east-1"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/lambdalens-logs"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/lambdalens-parser-role"
SHARD = "shardId-000000000000"
FIRST_SEQUENCE = 49651384772350143289513092274619438829547006231904894978

# The health check CloudWatch Logs sends when a subscription filter is created (real shape:
# empty group/stream/filters, owner "CloudwatchLogs", one event with an empty id).
CONTROL_MESSAGE: dict[str, Any] = {
    "messageType": "CONTROL_MESSAGE",
    "owner": "CloudwatchLogs",
    "logGroup": "",
    "logStream": "",
    "subscriptionFilters": [],
    "logEvents": [
        {
            "id": "",
            "timestamp": 1714554832191,
            "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.",
        }
    ],
}

# A record is a case name (a file in events/logs), the control message, or a poison kind.
NOT_BASE64 = "not_base64"
NOT_GZIP = "not_gzip"
TRUNCATED_GZIP = "not_gzip:truncated"
NOT_JSON = "not_json"
NOT_SUBSCRIPTION_PAYLOAD = "not_subscription_payload"
CONTROL = "control"

KINESIS: dict[str, list[str]] = {
    "two-functions": ["python-text-cold-start", "node-text-invoke-error", "java-text-unhandled-exception"],
    "with-control-message": [CONTROL, "go-text-cold-start", "dotnet-text-cold-start"],
    "poison-batch": [
        "python-text-timeout-status",
        NOT_BASE64,
        "node-json-error",
        NOT_GZIP,
        NOT_JSON,
        "ruby-text-unhandled-error",
        NOT_SUBSCRIPTION_PAYLOAD,
        TRUNCATED_GZIP,
    ],
}
AWSLOGS = ["python-text-cold-start", "node-json-cold-start", "java-text-snapstart-restore"]


def load_case(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((LOGS / f"{name}.json").read_text())
    return payload


def compact(obj: object) -> bytes:
    """JSON the way CloudWatch Logs serialises a subscription payload: no whitespace."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def record_data(kind: str) -> tuple[str, str, int]:
    """The ``kinesis.data`` string of one record, the partition key and the arrival time (ms)."""
    if kind == CONTROL:
        return (
            b64(gz(compact(CONTROL_MESSAGE))),
            "CloudwatchLogs",
            CONTROL_MESSAGE["logEvents"][0]["timestamp"],
        )
    if kind == NOT_BASE64:
        return "START RequestId: not base64 at all", "producer-bug", 1714556400000
    if kind == NOT_GZIP:
        raw = compact(
            {"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": "/aws/lambda/x", "logEvents": []}
        )
        return b64(raw), "producer-bug", 1714556400100
    if kind == TRUNCATED_GZIP:
        return b64(gz(compact(load_case("python-text-xray-warm")))[:40]), "producer-bug", 1714556400200
    if kind == NOT_JSON:
        return (
            b64(gz(b"END RequestId: 6f1c7c1e-3f0b-4d8e-9a3c-2b1d0e9f8a7b\n")),
            "producer-bug",
            1714556400300,
        )
    if kind == NOT_SUBSCRIPTION_PAYLOAD:
        app_log = {"level": "INFO", "message": "order stored", "service": "orders"}
        return b64(gz(compact(app_log))), "producer-bug", 1714556400400
    payload = load_case(kind)
    key = hashlib.md5(f"{payload['logGroup']}{payload['logStream']}".encode()).hexdigest()
    return b64(gz(compact(payload))), key, int(payload["logEvents"][-1]["timestamp"]) + 1187


def kinesis_event(kinds: list[str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    records: list[dict[str, Any]] = []
    expect: list[dict[str, str]] = []
    for i, kind in enumerate(kinds):
        sequence = str(FIRST_SEQUENCE + i * 1_000_003_000_000)
        data, key, arrival_ms = record_data(kind)
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": key,
                    "sequenceNumber": sequence,
                    "data": data,
                    "approximateArrivalTimestamp": arrival_ms / 1000,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{SHARD}:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": ROLE_ARN,
                "awsRegion": REGION,
                "eventSourceARN": STREAM_ARN,
            }
        )
        if kind == CONTROL:
            expect.append({"sequenceNumber": sequence, "result": "control"})
        elif kind in (NOT_BASE64, NOT_GZIP, TRUNCATED_GZIP, NOT_JSON, NOT_SUBSCRIPTION_PAYLOAD):
            expect.append({"sequenceNumber": sequence, "result": kind.split(":", 1)[0]})
        else:
            expect.append({"sequenceNumber": sequence, "result": "ok", "payload": f"logs/{kind}.json"})
    return {"Records": records}, expect


def render(obj: object) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def outputs() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for name, kinds in KINESIS.items():
        event, expect = kinesis_event(kinds)
        files[HERE / "kinesis" / f"{name}.json"] = render(event)
        files[HERE / "kinesis" / f"{name}.expect.json"] = render(expect)
    for name in AWSLOGS:
        files[HERE / "awslogs" / f"{name}.json"] = render(
            {"awslogs": {"data": b64(gz(compact(load_case(name))))}}
        )
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path.relative_to(HERE.parent)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
