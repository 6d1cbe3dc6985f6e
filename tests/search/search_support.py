"""Test data for lambdalens.search: a three-function transaction in real Lambda log formats,
the real-format samples of events/logs/, and indexing them into the OpenSearch stand-in.

The transaction (the blog application of issue 7)::

    new-post (Python 3.12, Powertools JSON logs, API Gateway, cold start)
        accepts a token it cannot verify: WARNING "Accepting token without a verifiable
        signature ..." and succeeds                                   trace T1, correlation C
      -> request-processor (Node.js 20, text format; async invoke)     trace T1 (no correlation id)
        -> SNS -> post-analysis (Python 3.12, Powertools JSON + runtime text errors)
                                                                       trace T2, correlation C
           KeyError: 'author_id' (unhandled), retried by Lambda a minute later with the same
           request id (the retry lands on the next day: another daily index), fails again.

Noise in the same indices: a later new-post request and a post-analysis request of other
transactions (other trace and correlation ids), both successful.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.indexing.bulk_body import bulk_body
from lambdalens.parsing import parse_payloads

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "events" / "logs"
ACCOUNT = "123456789012"

# ---------------------------------------------------------------- identifiers
T1 = "1-66689b1c-5f0e2b7d9c13a4e6b8d0f2a4"
T1_W3C = "66689b1c5f0e2b7d9c13a4e6b8d0f2a4"
T2 = "1-66689b1d-0c7e9a1b3d5f7092a4c6e8b0"
CORRELATION = "b8e1f0d2-7c4a-4e39-9d2f-6a1b3c5d7e9f"
NEW_POST = "3f2a7c1e-8d4b-4c55-9a01-6e2f0b7d9c13"
PROCESSOR = "9b0e44d2-1c3f-4a5e-8b7d-2e4f6a8c0b1d"
ANALYSIS = "c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
# noise: other transactions
OTHER_TRACE = "1-66689b26-aa11bb22cc33dd44ee55ff66"
OTHER_CORRELATION = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"
OTHER_NEW_POST = "7e6d5c4b-3a29-4180-97f6-e5d4c3b2a190"
OTHER_ANALYSIS = "aa0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"

NEW_POST_STREAM = "2024/06/11/[$LATEST]4c1c9e0a8b7d4f2e9a6b3c5d7e9f1a2b"
PROCESSOR_STREAM = "2024/06/11/[$LATEST]9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6"
ANALYSIS_STREAM = "2024/06/11/[$LATEST]e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"

BAD_TOKEN_WARNING = "Accepting token without a verifiable signature (kid test-2019 not in JWKS)"
RUNTIME_ARN = (
    "arn:aws:lambda:us-east-1::runtime:5538126b3a75b97a23439d955dff89df7ef1c6c1601c0780846907dcb787d6ff"
)
LAMBDA_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, "
    "in rare cases, a Lambda runtime update can cause unexpected function behavior. For functions using "
    "managed runtimes, runtime updates can be triggered by a function change, or can be applied "
    "automatically. To determine if the runtime has been updated, check the runtime version in the "
    "INIT_START log entry. If this error correlates with a change in the runtime version, you may be able "
    "to mitigate this error by temporarily rolling back to the previous runtime version. For more "
    "information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\n"
)
KEY_ERROR = (
    "[ERROR] KeyError: 'author_id'\nTraceback (most recent call last):\n"
    '\u00a0\u00a0File "/var/task/analysis.py", line 33, in handler\n'
    '\u00a0\u00a0\u00a0\u00a0author = post["author_id"]'
)


def ms(text: str) -> int:
    """``2024-06-11T23:59:40.100Z`` -> epoch milliseconds."""
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000)


def clock(base: str, offset_ms: int) -> str:
    """``base`` + ``offset_ms`` as a document spells time (``2024-06-11T23:59:40.131Z``)."""
    moment = datetime.fromtimestamp((ms(base) + offset_ms) / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Ids:
    """56-digit event ids that grow with time, as CloudWatch's do."""

    def __init__(self) -> None:
        self.seq = 0

    def __call__(self, ts: int) -> str:
        self.seq += 1
        return str(ts * 10**43 + 7_340_000_000 * 10**20 + self.seq)


_ids = _Ids()


def payload(function: str, stream: str, events: list[tuple[str, str]]) -> dict[str, Any]:
    """A decoded subscription payload of ``/aws/lambda/<function>`` (events: (ISO time, message))."""
    return {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": f"/aws/lambda/{function}",
        "logStream": stream,
        "subscriptionFilters": ["lambdalens"],
        "logEvents": [{"id": _ids(ms(t)), "timestamp": ms(t), "message": m} for t, m in events],
    }


def parse(*payloads: dict[str, Any]) -> list[dict[str, Any]]:
    """Documents of one Kinesis batch holding ``payloads`` (the parser's real entry point)."""
    decoded = [payload_from_json(p, RecordId("test", f"record-{i}"), b"") for i, p in enumerate(payloads)]
    return parse_payloads(decoded, region="us-east-1", observed_at_ms=ms("2024-06-12T00:05:00Z"))


def powertools(
    function: str,
    request_id: str,
    level: str,
    message: str,
    at: str,
    *,
    cold: bool,
    trace: str,
    correlation: str,
    **extra: Any,
) -> str:
    """A Powertools for AWS Lambda (Python) Logger line, as it prints it."""
    record: dict[str, Any] = {
        "level": level,
        "location": "handler:27",
        "message": message,
        "timestamp": at.replace("T", " ").replace("Z", "+0000").replace(".", ","),
        "service": "blog",
        "cold_start": cold,
        "function_name": function,
        "function_memory_size": 256,
        "function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}",
        "function_request_id": request_id,
        "correlation_id": correlation,
        "xray_trace_id": trace,
        **extra,
    }
    return json.dumps(record, separators=(",", ":")) + "\n"


def init_start() -> str:
    return f"INIT_START Runtime Version: python:3.12.v27\tRuntime Version ARN: {RUNTIME_ARN}\n"


def report(
    request_id: str, duration: str, billed: int, memory: int, used: int, trace: str, init: str = ""
) -> str:
    init_part = f"Init Duration: {init} ms\t" if init else ""
    return (
        f"REPORT RequestId: {request_id}\tDuration: {duration} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {memory} MB\tMax Memory Used: {used} MB\t{init_part}\n"
        f"XRAY TraceId: {trace}\tSegmentId: {trace[-16:]}\tSampled: true\t\n"
    )


def node_line(at: str, request_id: str, level: str, message: str) -> str:
    """A Node.js 20 runtime text-format line (``console.info``)."""
    return f"{at}\t{request_id}\t{level}\t{message}\n"


def new_post(
    request_id: str, start: str, trace: str, correlation: str, *, cold: bool, warn: bool
) -> list[tuple[str, str]]:
    """An API Gateway request of ``new-post`` starting at ``start``."""

    def line(offset: int, level: str, message: str, **extra: Any) -> tuple[str, str]:
        at = clock(start, offset)
        return at, powertools(
            "new-post",
            request_id,
            level,
            message,
            at,
            cold=cold,
            trace=trace,
            correlation=correlation,
            **extra,
        )

    events = [(clock(start, -551), init_start())] if cold else []
    events += [
        (start, f"START RequestId: {request_id} Version: $LATEST\n"),
        line(184, "INFO", "Creating post", title_length=42),
    ]
    if warn:
        events.append(line(200, "WARNING", BAD_TOKEN_WARNING, kid="test-2019"))
    events += [
        line(245, "INFO", "Post stored", post_id="p-7731"),
        (clock(start, 251), f"END RequestId: {request_id}\n"),
        (clock(start, 251), report(request_id, "182.41", 183, 256, 88, trace, "612.37" if cold else "")),
    ]
    return events


def request_processor(request_id: str, start: str, trace: str) -> list[tuple[str, str]]:
    """The async invocation new-post makes; publishes the post to SNS."""
    published = f"Published post p-7731 to arn:aws:sns:us-east-1:{ACCOUNT}:post-events (MessageId 5c2f7d1e-0b9a-4c8d-a6e5-3f2b1c0d9e8f)"
    return [
        (start, f"START RequestId: {request_id} Version: $LATEST\n"),
        (clock(start, 14), node_line(clock(start, 14), request_id, "INFO", "Processing post p-7731")),
        (clock(start, 85), node_line(clock(start, 85), request_id, "INFO", published)),
        (clock(start, 96), f"END RequestId: {request_id}\n"),
        (clock(start, 96), report(request_id, "96.12", 97, 512, 71, trace)),
    ]


def post_analysis(
    request_id: str, start: str, trace: str, correlation: str, *, cold: bool, fail: bool
) -> list[tuple[str, str]]:
    """The SNS consumer; with ``fail`` it dies on the post's missing author (runtime text error)."""

    def line(offset: int, level: str, message: str, **extra: Any) -> tuple[str, str]:
        at = clock(start, offset)
        return at, powertools(
            "post-analysis",
            request_id,
            level,
            message,
            at,
            cold=cold,
            trace=trace,
            correlation=correlation,
            **extra,
        )

    events = [(clock(start, -552), init_start())] if cold else []
    events += [
        (start, f"START RequestId: {request_id} Version: $LATEST\n"),
        line(4, "INFO", "Analysing post", post_id="p-7731"),
    ]
    if fail:
        events += [(clock(start, 9), LAMBDA_WARNING), (clock(start, 9), KEY_ERROR)]
    else:
        events.append(line(38, "INFO", "Post analysed", words=412))
    events += [
        (clock(start, 42), f"END RequestId: {request_id}\n"),
        (clock(start, 42), report(request_id, "41.87", 42, 256, 79, trace, "538.12" if cold else "")),
    ]
    return events


#: When each request started (the retry of post-analysis runs on the next day).
NEW_POST_START = "2024-06-11T23:59:40.031Z"
PROCESSOR_START = "2024-06-11T23:59:40.498Z"
ANALYSIS_START = "2024-06-11T23:59:41.602Z"
ANALYSIS_RETRY_START = "2024-06-12T00:00:41.602Z"
WARNING_TIME = "2024-06-11T23:59:40.231Z"
FAILURE_TIME = "2024-06-11T23:59:41.611Z"


def transaction_batches() -> list[list[dict[str, Any]]]:
    """The transaction and the noise, as the parser indexes them: one list per Kinesis batch.

    The retry is a batch of its own (a minute later), as it would be in production.
    """
    first = parse(
        payload(
            "new-post",
            NEW_POST_STREAM,
            new_post(NEW_POST, NEW_POST_START, T1, CORRELATION, cold=True, warn=True),
        ),
        payload("request-processor", PROCESSOR_STREAM, request_processor(PROCESSOR, PROCESSOR_START, T1)),
        payload(
            "post-analysis",
            ANALYSIS_STREAM,
            post_analysis(ANALYSIS, ANALYSIS_START, T2, CORRELATION, cold=True, fail=True),
        ),
    )
    noise = parse(
        payload(
            "new-post",
            NEW_POST_STREAM,
            new_post(
                OTHER_NEW_POST,
                "2024-06-11T23:59:52.031Z",
                OTHER_TRACE,
                OTHER_CORRELATION,
                cold=False,
                warn=False,
            ),
        )
    )
    retry = parse(
        payload(
            "post-analysis",
            ANALYSIS_STREAM,
            post_analysis(ANALYSIS, ANALYSIS_RETRY_START, T2, CORRELATION, cold=False, fail=True),
        ),
        payload(
            "post-analysis",
            ANALYSIS_STREAM,
            post_analysis(
                OTHER_ANALYSIS,
                "2024-06-12T00:00:55.100Z",
                "1-66689b60-bb22cc33dd44ee55ff6677aa",
                OTHER_CORRELATION,
                cold=False,
                fail=False,
            ),
        ),
    )
    return [first, noise, retry]


def transaction_documents() -> list[dict[str, Any]]:
    return [doc for batch in transaction_batches() for doc in batch]


def sample_documents(exclude: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Every events/logs sample parsed as its own batch (as tests/parsing does)."""
    docs: list[dict[str, Any]] = []
    for path in sorted(SAMPLES_DIR.glob("*.json")):
        if path.name.endswith(".expect.json") or path.stem in exclude:
            continue
        sample = json.loads(path.read_text(encoding="utf-8"))
        docs.extend(
            parse_payloads(
                [payload_from_json(sample, RecordId("sample", path.stem), b"")], region="us-east-1"
            )
        )
    return docs


#: Samples whose ``attributes`` conflict with others' under dynamic mapping (the lambdalens
#: template maps ``attributes`` as ``flat_object``, where they do not).
DYNAMIC_CONFLICTS = frozenset(
    {"node-json-cold-start", "node-json-error", "node-json-logged-error", "node-text-pino"}
)

#: What the lambdalens template maps as keyword, for an index prefix built like it.
KEYWORD_FIELDS = (
    "traceId",
    "spanId",
    "correlation_id",
    "faas.name",
    "faas.instance",
    "faas.invocation_id",
    "faas.version",
    "service.name",
    "log.record.uid",
    "log.record.parent_uid",
    "severity.text",
    "lambda.event_type",
    "lambda.outcome",
    "lambda.status",
    "exception.type",
    "exception.fingerprint",
    "aws.log.group",
    "aws.log.stream",
)


def unique_prefix(name: str) -> str:
    return f"t-{name}-{uuid.uuid4().hex[:8]}"


def put_keyword_template(client: Any, prefix: str) -> None:
    """An index template like the lambdalens one for ``<prefix>-*`` (ids as keyword fields)."""
    properties: dict[str, Any] = {f: {"type": "keyword"} for f in KEYWORD_FIELDS}
    properties.update(
        {
            "@timestamp": {"type": "date"},
            "body": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 8191}}},
            "exception.message": {"type": "text"},
            "exception.stacktrace": {"type": "text"},
            "attributes": {"type": "flat_object"},
        }
    )
    client.transport.perform_request(
        "PUT",
        f"/_index_template/{prefix}",
        body={"index_patterns": [f"{prefix}-*"], "template": {"mappings": {"properties": properties}}},
    )


def index_documents(client: Any, docs: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """Bulk-index ``docs`` into ``<prefix>-YYYY.MM.DD`` (refreshed); returns the items that failed."""
    answer = client.transport.perform_request(
        "POST",
        "/_bulk",
        params={"refresh": "true"},
        body=bulk_body(docs, prefix),
        headers={"content-type": "application/x-ndjson"},
    )
    return [item["create"] for item in answer["items"] if item["create"]["status"] >= 300]
