"""A generated, realistic Lambda log workload, as CloudWatch Logs delivers it to Kinesis.

Many functions across runtimes (Python, Node.js, Java, Go, .NET, Ruby), text and JSON log
formats, Powertools structured lines, cold starts, and failures at realistic rates
(about 2 % timeouts, 1 % out-of-memory kills, 3 % unhandled errors). Deterministic for a seed.
"""

from __future__ import annotations

import base64
import gzip
import random
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

RUNTIMES = ("python", "node", "java", "go", "dotnet", "ruby")
_BASE_MS = 1_714_564_800_000  # 2024-05-01T12:00:00Z


def _iso(ms: int) -> str:
    from lambdalens.parsing import iso_ms

    return iso_ms(ms)


@dataclass(frozen=True)
class _Function:
    name: str
    runtime: str
    json: bool
    memory: int
    streams: list[str]


class _Clock:
    def __init__(self, start: int) -> None:
        self.ms = start

    def tick(self, rng: random.Random, lo: int = 1, hi: int = 30) -> int:
        self.ms += rng.randint(lo, hi)
        return self.ms


def _app_lines(rng: random.Random, runtime: str, json_format: bool, rid: str, ts: str, fn: str) -> list[str]:
    n = rng.randint(1, 6)
    out = []
    for i in range(n):
        order = rng.randint(1000, 99999)
        pick = rng.random()
        if json_format or pick < 0.35:
            out.append(
                orjson.dumps(
                    {
                        "level": rng.choice(("INFO", "INFO", "INFO", "DEBUG", "WARNING")),
                        "location": f"handler:{rng.randint(10, 200)}",
                        "message": f"processed order {order} step {i}",
                        "timestamp": ts,
                        "service": fn,
                        "cold_start": False,
                        "function_name": fn,
                        "function_request_id": rid,
                        "correlation_id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "xray_trace_id": f"1-6632{rng.getrandbits(16):04x}-{rng.getrandbits(96):024x}",
                        "order_id": order,
                        "items": rng.randint(1, 9),
                    }
                ).decode()
                + "\n"
            )
        elif runtime == "python":
            out.append(f"[INFO]\t{ts}\t{rid}\tprocessed order {order} in {rng.randint(1, 900)} ms\n")
        elif runtime in ("node", "dotnet"):
            level = "INFO" if runtime == "node" else "info"
            out.append(f"{ts}\t{rid}\t{level}\tprocessed order {order} in {rng.randint(1, 900)} ms\n")
        elif runtime == "java":
            out.append(f"{ts[:10]} {ts[11:19]} {rid} INFO  OrderHandler - processed order {order}\n")
        elif runtime == "ruby":
            out.append(f"I, [{ts[:-1]}000 #8]  INFO -- : processed order {order}\n")
        else:
            out.append(f"{ts[:4]}/{ts[5:7]}/{ts[8:10]} {ts[11:19]} processed order {order}\n")
    return out


def _error_lines(runtime: str, rid: str, ts: str, n: int) -> list[str]:
    if runtime == "python":
        return [
            f"[ERROR] KeyError: 'customer_{n % 7}'\nTraceback (most recent call last):\n"
            f'  File "/var/task/app.py", line {40 + n % 3}, in handler\n    customer = event["customer_{n % 7}"]\n'
        ]
    if runtime == "node":
        err = {
            "errorType": "TypeError",
            "errorMessage": "Cannot read properties of undefined (reading 'id')",
            "stack": [
                "TypeError: Cannot read properties of undefined (reading 'id')",
                "    at Runtime.handler (file:///var/task/index.mjs:12:27)",
                "    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)",
            ],
        }
        return [f"{ts}\t{rid}\tERROR\tInvoke Error \t{orjson.dumps(err).decode()}\n"]
    if runtime == "java":
        return [
            "java.lang.IllegalStateException: order 42 has no lines\n",
            "\tat com.example.orders.OrderHandler.handleRequest(OrderHandler.java:57)\n",
            "\tat com.example.orders.OrderHandler.handleRequest(OrderHandler.java:21)\n",
        ]
    if runtime == "go":
        return [
            "panic: runtime error: invalid memory address or nil pointer dereference\n",
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a6e1c]\n",
            "\n",
            "goroutine 1 [running]:\n",
            "main.handler({0x0, 0x0})\n",
            "\t/build/main.go:27 +0x1c\n",
            f"RequestId: {rid} Error: Runtime exited with error: exit status 2\nRuntime.ExitError\n",
        ]
    if runtime == "dotnet":
        return [
            f"{ts}\t{rid}\tfail\tSystem.InvalidOperationException: no stock\n   at Orders.Function.Handler(Order o) in /src/Function.cs:line 33\n"
        ]
    err = {"errorMessage": "undefined method `id' for nil:NilClass", "errorType": "Function<NoMethodError>",
           "stackTrace": ["/var/task/lambda_function.rb:9:in `lambda_handler'"]}  # fmt: skip
    return [orjson.dumps(err).decode() + "\n"]


def generate_payloads(events: int = 25_000, seed: int = 7, functions: int = 40) -> list[dict[str, Any]]:
    """Subscription payloads (as CloudWatch Logs sends them) holding about ``events`` log events."""
    rng = random.Random(seed)
    fns = [
        _Function(
            name=f"svc{i:02d}-{('orders', 'payments', 'search', 'users', 'images')[i % 5]}-{RUNTIMES[i % len(RUNTIMES)]}",
            runtime=RUNTIMES[i % len(RUNTIMES)],
            json=i % 4 == 3,
            memory=(128, 256, 512, 1024)[i % 4],
            streams=[f"2024/05/01/[$LATEST]{rng.getrandbits(128):032x}" for _ in range(3)],
        )
        for i in range(functions)
    ]
    payloads: list[dict[str, Any]] = []
    clock = _Clock(_BASE_MS)
    total = 0
    event_id = 38_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000
    while total < events:
        fn = rng.choice(fns)
        stream = rng.choice(fn.streams)
        messages: list[tuple[int, str]] = []
        for _ in range(rng.randint(1, 4)):  # invocations in this payload
            rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            cold = rng.random() < 0.05
            roll = rng.random()
            kind = "timeout" if roll < 0.02 else "oom" if roll < 0.03 else "error" if roll < 0.06 else "ok"
            mem = fn.memory
            if fn.json:
                if cold:
                    init = {
                        "initializationType": "on-demand",
                        "phase": "init",
                        "runtimeVersion": "python:3.12.v36",
                    }
                    messages.append(
                        (
                            clock.tick(rng),
                            orjson.dumps(
                                {"time": _iso(clock.ms), "type": "platform.initStart", "record": init}
                            ).decode(),
                        )
                    )
                start = {"requestId": rid, "version": "$LATEST"}
                messages.append(
                    (
                        clock.tick(rng),
                        orjson.dumps(
                            {"time": _iso(clock.ms), "type": "platform.start", "record": start}
                        ).decode(),
                    )
                )
            else:
                if cold:
                    messages.append(
                        (
                            clock.tick(rng),
                            "INIT_START Runtime Version: python:3.12.v36\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:0e1f\n",
                        )
                    )
                messages.append((clock.tick(rng), f"START RequestId: {rid} Version: $LATEST\n"))
            for line in _app_lines(rng, fn.runtime, fn.json, rid, _iso(clock.ms), fn.name):
                messages.append((clock.tick(rng), line))
            duration = rng.uniform(2, 900)
            used = rng.randint(40, mem - 1)
            status = ""
            if kind == "timeout":
                duration = 3000.0
                messages.append(
                    (clock.tick(rng), f"{_iso(clock.ms)} {rid} Task timed out after 3.00 seconds\n")
                )
                status = "timeout"
            elif kind == "oom":
                used = mem
                messages.append(
                    (
                        clock.tick(rng),
                        f"RequestId: {rid} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n",
                    )
                )
                status = "error"
            elif kind == "error":
                for line in _error_lines(fn.runtime, rid, _iso(clock.ms), rng.randint(0, 99)):
                    messages.append((clock.tick(rng), line))
            billed = int(duration) + 1
            if fn.json:
                metrics: dict[str, Any] = {
                    "durationMs": round(duration, 2),
                    "billedDurationMs": billed,
                    "memorySizeMB": mem,
                    "maxMemoryUsedMB": used,
                }
                if cold:
                    metrics["initDurationMs"] = round(rng.uniform(150, 900), 2)
                record = {"requestId": rid, "metrics": metrics, "status": status or "success"}
                if kind == "oom":
                    record["errorType"] = "Runtime.OutOfMemory"
                messages.append(
                    (
                        clock.tick(rng),
                        orjson.dumps(
                            {"time": _iso(clock.ms), "type": "platform.report", "record": record}
                        ).decode(),
                    )
                )
            else:
                messages.append((clock.tick(rng), f"END RequestId: {rid}\n"))
                report = (
                    f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: {billed} ms\t"
                    f"Memory Size: {mem} MB\tMax Memory Used: {used} MB\t"
                )
                if cold:
                    report += f"Init Duration: {rng.uniform(150, 900):.2f} ms\t"
                if status:
                    report += f"Status: {status}\t" + (
                        "Error Type: Runtime.OutOfMemory\t" if kind == "oom" else ""
                    )
                if rng.random() < 0.3:
                    report += f"\nXRAY TraceId: 1-6632{rng.getrandbits(16):04x}-{rng.getrandbits(96):024x}\tSegmentId: {rng.getrandbits(64):016x}\tSampled: true\t"
                messages.append((clock.tick(rng), report + "\n"))
        log_events = []
        for ts, message in messages:
            event_id += rng.randint(1, 10**6)
            log_events.append({"id": str(event_id), "timestamp": ts, "message": message})
        total += len(log_events)
        payloads.append(
            {
                "messageType": "DATA_MESSAGE",
                "owner": "123456789012",
                "logGroup": f"/aws/lambda/{fn.name}",
                "logStream": stream,
                "subscriptionFilters": ["lambdalens"],
                "logEvents": log_events,
            }
        )
    return payloads


def kinesis_record(payload: dict[str, Any], sequence: int, region: str = "us-east-1") -> dict[str, Any]:
    seq = f"{49_650_000_000_000_000_000_000_000_000_000_000_000_000_000 + sequence}"
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": payload.get("logStream", ""),
            "sequenceNumber": seq,
            "data": base64.b64encode(gzip.compress(orjson.dumps(payload), compresslevel=6)).decode(),
            "approximateArrivalTimestamp": 1714564800.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambdalens-parser",
        "awsRegion": region,
        "eventSourceARN": f"arn:aws:kinesis:{region}:123456789012:stream/lambdalens-logs",
    }


def kinesis_event(payloads: list[dict[str, Any]], region: str = "us-east-1") -> dict[str, Any]:
    """A Kinesis event source mapping event with one record per payload."""
    return {"Records": [kinesis_record(p, i, region) for i, p in enumerate(payloads)]}


def maximal_batch(
    max_bytes: int = 6 * 1024 * 1024, max_records: int = 10_000, seed: int = 11
) -> dict[str, Any]:
    """The largest batch Lambda hands a Kinesis consumer: 10,000 records or a 6 MB event."""
    payloads = generate_payloads(events=max_records * 12, seed=seed)
    records: list[dict[str, Any]] = []
    size = 20
    for i, payload in enumerate(payloads):
        record = kinesis_record(payload, i)
        record_size = len(orjson.dumps(record)) + 1
        if size + record_size > max_bytes or len(records) >= max_records:
            break
        records.append(record)
        size += record_size
    return {"Records": records}
