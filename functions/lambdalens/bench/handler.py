"""The parser's end-to-end throughput: the batch pipeline (decode, parse, redact, bulk index,
dead-letter) against the local OpenSearch stand-in on 127.0.0.1, with S3 from moto in-process.

The stand-in is the bottleneck here (about 3,000 documents/s on this kind of machine, server
bound), so the figure is a floor for a real domain, not a ceiling. What is worth reading is
the split: the share of the time spent parsing versus in HTTP.
"""

from __future__ import annotations

import os
import time
from functools import partial
from typing import Any


def handler_throughput(events: int = 6_000, seed: int = 5) -> dict[str, Any]:
    """Events/s through :func:`lambdalens.pipeline.process_records`, and where the time went."""
    from moto import mock_aws
    from osmem_server import OsmemServer

    from lambdalens.bench.workload import generate_payloads, kinesis_event
    from lambdalens.config import OpenSearchConfig
    from lambdalens.handlers.parser import redact_parsed
    from lambdalens.indexing.client import BulkTransport, make_client
    from lambdalens.indexing.dead_letter import DeadLetterWriter
    from lambdalens.indexing.indexer import BulkIndexer
    from lambdalens.indexing.retry import Deadline
    from lambdalens.pipeline import Pipeline
    from lambdalens.redaction import Redactor

    event = kinesis_event(generate_payloads(events=events, seed=seed))
    saved = {
        k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    try:
        with OsmemServer.start(addr="127.0.0.1:0", japanese=False) as server, mock_aws():
            import boto3

            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket="bench-dead-letters")
            client = make_client(OpenSearchConfig(endpoint=server.url, auth="none"))
            pipeline = Pipeline(
                indexer=BulkIndexer(BulkTransport(client), index_prefix="bench"),
                dead_letters=DeadLetterWriter(s3, "bench-dead-letters"),
                region="us-east-1",
                document_hook=partial(redact_parsed, Redactor()),
            )
            started = time.perf_counter()
            outcome = pipeline.run(event["Records"], Deadline.after(600))
            elapsed = time.perf_counter() - started
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    report = outcome.index_report
    http = report.http_seconds if report is not None else 0.0
    return {
        "events": len(outcome.docs),
        "events_per_s": round(len(outcome.docs) / elapsed),
        "bulk_requests": report.requests if report is not None else 0,
        "parse_share": round(outcome.parse_seconds / elapsed, 3),
        "http_share": round(http / elapsed, 3),
        "failed_records": len(outcome.failed),
        "opensearch": "osmem-server stand-in on 127.0.0.1 (server-bound)",
    }


def redaction_cost(event: dict[str, Any], rounds: int = 3) -> dict[str, Any]:
    """The parser pipeline with and without redaction of every document, same batch."""
    from lambdalens.bench.runner import pipeline
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
