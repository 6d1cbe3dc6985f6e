"""Measurements: decode + parse + bulk-body serialisation against the raw floor, peak RSS and the
cost of redaction (the handler end to end into a real node: :mod:`lambdalens.bench.handler`).

The floor is the least any consumer of these records must do: base64 + gzip decode,
``orjson.loads`` of the payload, and one minimal ``orjson.dumps`` per event. Both are
timed in the same process, interleaved, best of several rounds (a shared machine only ever
slows a run down: the best is the closest to the code's own speed), on one core, with the C
allocator set as the parser function runs it (:data:`lambdalens.pipeline.memory.MALLOC_SETTINGS`).
"""

from __future__ import annotations

import base64
import gzip
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson

from lambdalens.bench.workload import generate_payloads, kinesis_event, maximal_batch
from lambdalens.decoding import DecodeError, iter_kinesis_event
from lambdalens.indexing.bulk_body import build_chunks
from lambdalens.parsing import BatchParser, Document
from lambdalens.pipeline.memory import malloc_environment, paused_gc, tune_allocator


def floor(event: dict[str, Any]) -> int:
    """Raw decode of every record and one minimal serialisation per event; returns events seen."""
    n = 0
    dumps = orjson.dumps
    for record in event["Records"]:
        payload = orjson.loads(gzip.decompress(base64.b64decode(record["kinesis"]["data"])))
        for ev in payload.get("logEvents", ()):
            dumps({"id": ev["id"], "message": ev["message"]})
            n += 1
    return n


def pipeline(event: dict[str, Any], document_hook: Callable[[Document], object] | None = None) -> int:
    """What the parser Lambda does before HTTP: decode, parse, finish, serialise bulk bodies
    (and, with ``document_hook``, redact each document as the handler does)."""
    with paused_gc():  # as the handler's pipeline does
        parser = BatchParser(region="us-east-1")
        docs: list[Document] = []
        for result in iter_kinesis_event(event):
            if isinstance(result, DecodeError):
                continue
            for payload in result.payloads:
                docs.extend(parser.parse(payload))
        parser.finish()
        if document_hook is not None:
            for doc in docs:
                document_hook(doc)
        return sum(len(chunk) for chunk in build_chunks(docs))


def best_rate(func: Callable[[dict[str, Any]], int], event: dict[str, Any], rounds: int) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        count = func(event)
        best = min(best, time.perf_counter() - t0)
    return count / best, count


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def peak_rss_mb(event_path: str) -> dict[str, Any]:
    """Run :func:`pipeline` on the event file in a fresh process; its peak RSS in MB."""
    code = (
        "import resource, sys, orjson\n"
        "from lambdalens.bench.runner import pipeline\n"
        "raw = open(sys.argv[1], 'rb').read()\n"
        "event = orjson.loads(raw); del raw\n"
        "n = pipeline(event)\n"
        "print(orjson.dumps({'events': n, 'records': len(event['Records']),"
        " 'rss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}).decode())\n"
    )
    env = {**os.environ, **malloc_environment()}  # the allocator as the parser function runs it
    out = subprocess.run(
        [sys.executable, "-c", code, event_path], check=True, capture_output=True, text=True, env=env
    )
    result = orjson.loads(out.stdout)
    return {
        "peak_rss_mb": round(result["rss_kb"] / 1024, 1),
        "batch_records": result["records"],
        "batch_events": result["events"],
        "batch_bytes": os.path.getsize(event_path),
    }


def redaction_cost(event: dict[str, Any], rounds: int = 3) -> dict[str, Any]:
    """The parser pipeline with and without redaction of every document, same batch."""
    from lambdalens.handlers.parser import redact_parsed
    from lambdalens.redaction import Redactor

    hook = partial(redact_parsed, Redactor())
    plain = with_hook = float("inf")
    n = 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        n = pipeline(event)
        plain = min(plain, time.perf_counter() - t0)
        t0 = time.perf_counter()
        pipeline(event, document_hook=hook)
        with_hook = min(with_hook, time.perf_counter() - t0)
    return {
        "events_per_s_without": round(n / plain),
        "events_per_s_with": round(n / with_hook),
        "overhead_pct": round((with_hook / plain - 1) * 100, 1),
    }


def run(input_path: str | None = None, events: int = 30_000, rounds: int = 10) -> dict[str, Any]:
    """The benchmark result object (see ``lambdalens bench --help``)."""
    allocator_tuned = tune_allocator()  # as the parser function runs (see MALLOC_SETTINGS)
    if input_path:
        with open(input_path, "rb") as fh:
            event = orjson.loads(fh.read())
        source = input_path
    else:
        event = kinesis_event(generate_payloads(events=events))
        source = "generated"
    floor(event)
    pipeline(event)  # warm caches and imports
    floor_rates, rates = [], []
    n = 0
    for _ in range(rounds):
        floor_rates.append(best_rate(floor, event, 1)[0])
        rate, n = best_rate(pipeline, event, 1)
        rates.append(rate)
    events_per_s = max(rates)
    floor_per_s = max(floor_rates)
    with tempfile.TemporaryDirectory() as tmp:
        if input_path:
            rss = peak_rss_mb(input_path)
        else:
            path = os.path.join(tmp, "batch.json")
            with open(path, "wb") as fh:
                fh.write(orjson.dumps(maximal_batch()))
            rss = peak_rss_mb(path)
    return {
        "events_per_s": round(events_per_s),
        "floor_events_per_s": round(floor_per_s),
        "ratio_to_floor": round(events_per_s / floor_per_s, 3),
        "peak_rss_mb": rss["peak_rss_mb"],
        "peak_rss_batch": {k: rss[k] for k in ("batch_records", "batch_events", "batch_bytes")},
        "events": n,
        "records": len(event["Records"]),
        "input": source,
        "python": platform.python_version(),
        "cpu": cpu_name(),
        "cores_used": 1,
        "allocator_tuned": allocator_tuned,
        "redaction": redaction_cost(event),
    }
