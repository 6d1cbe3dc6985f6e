"""How much redaction costs: lines per second with and without it, on a realistic mix.

``measure()`` is meant for ``make bench`` (``lambdalens bench``); ``python -m
lambdalens.redaction.bench`` prints its result as JSON. The default workload
(:func:`sample_lines`) is mostly harmless Lambda output — platform lines, plain-text and
Powertools JSON application logs, stack traces, URLs and words such as "token" or "auth" that
trigger a closer look — with about 1% of lines carrying a secret.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from lambdalens.redaction.config import RedactionConfig
from lambdalens.redaction.redactor import Redactor


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _trace(rng: random.Random) -> str:
    return f"1-{_hex(rng, 8)}-{_hex(rng, 24)}"


def _ts(rng: random.Random) -> str:
    return f"2024-05-01T12:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"


def _harmless(rng: random.Random) -> str:
    rid, fn = _uuid(rng), rng.choice(["orders-api", "payments-worker", "thumbnailer", "auth-callback"])
    kind = rng.randrange(100)
    if kind < 12:
        return f"START RequestId: {rid} Version: $LATEST"
    if kind < 24:
        return f"END RequestId: {rid}"
    if kind < 36:
        d = rng.uniform(1, 900)
        return (
            f"REPORT RequestId: {rid}\tDuration: {d:.2f} ms\tBilled Duration: {int(d) + 1} ms\t"
            f"Memory Size: 256 MB\tMax Memory Used: {rng.randrange(60, 250)} MB\t\n"
            f"XRAY TraceId: {_trace(rng)}\tSegmentId: {_hex(rng, 16)}\tSampled: true"
        )
    if kind < 60:
        msg = rng.choice(
            [
                f"Processing order {rng.randrange(10**6)} for customer c-{rng.randrange(10**4)}",
                f"fetched {rng.randrange(50)} items from table orders in {rng.randrange(90)} ms",
                f"cache miss for key user#{rng.randrange(10**5)}",
                f"GET https://api.example.com/v1/orders/{rng.randrange(10**5)}?page=2 returned 200",
                "token refreshed for session",  # a trigger word, nothing to redact
                f"user {rng.randrange(10**5)} authenticated via SSO",
                f"put object s3://uploads-bucket/{_hex(rng, 40)}.jpg etag {_hex(rng, 32)}",
            ]
        )
        return f"[INFO]\t{_ts(rng)}\t{rid}\t{msg}"
    if kind < 85:
        return orjson.dumps(
            {
                "level": rng.choice(["INFO", "DEBUG", "WARNING"]),
                "location": f"handler:{rng.randrange(200)}",
                "message": rng.choice(["order created", "payment captured", "retrying", "done"]),
                "timestamp": "2024-05-01 12:00:00,123+0000",
                "service": fn,
                "cold_start": False,
                "function_name": fn,
                "function_memory_size": "256",
                "function_arn": f"arn:aws:lambda:eu-west-1:123456789012:function:{fn}",
                "function_request_id": rid,
                "correlation_id": _uuid(rng),
                "xray_trace_id": _trace(rng),
                "order_id": rng.randrange(10**9),
            }
        ).decode()
    if kind < 93:
        return (
            f"[ERROR] KeyError: 'customer_id'\nTraceback (most recent call last):\n"
            f'  File "/var/task/app.py", line {rng.randrange(300)}, in handler\n'
            f"    customer = event['customer_id']\n"
            f'  File "/var/task/orders/service.py", line 88, in load\n    return table.get_item(Key=key)'
        )
    return (
        f"{_ts(rng)}\t{rid}\tINFO\tsqs message {_uuid(rng)} sequence "
        f"{rng.randrange(10**55, 10**56)} md5 {_hex(rng, 32)}"
    )


_SECRETS = (
    "login failed for bob password=Winter2024!",
    "connecting to postgres://app:s3cr3t-P4ss@db.internal:5432/orders",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    '{"level":"DEBUG","message":"token exchange","refresh_token":"def502001a9c7b","client_secret":"7Fjfp0ZBr1KtDRbnfVdmIw"}',
    "boto creds aws_access_key_id=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "charging card 4111 1111 1111 1111 for order 1234",
    "headers={'Cookie': 'session=9f8e7d6c5b4a; theme=dark', 'x-api-key': 'a1b2c3d4e5f6g7h8'}",
)


def sample_lines(n: int = 20_000, secret_ratio: float = 0.01, seed: int = 7) -> list[str]:
    """``n`` generated log lines, about ``secret_ratio`` of them with a secret; deterministic per seed."""
    rng = random.Random(seed)
    return [rng.choice(_SECRETS) if rng.random() < secret_ratio else _harmless(rng) for _ in range(n)]


def _document(line: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"body": line}
    if line.startswith("{"):
        try:
            parsed = orjson.loads(line)
        except orjson.JSONDecodeError:
            return doc
        if isinstance(parsed, dict):
            doc["attributes"] = {
                k: v for k, v in parsed.items() if k not in ("message", "level", "timestamp")
            }
    return doc


def _best_rate(run: Callable[[], int], rounds: int) -> float:
    best = float("inf")
    n = 0
    for _ in range(max(1, rounds)):
        start = time.perf_counter()
        n = run()
        best = min(best, time.perf_counter() - start)
    return n / best if best > 0 else float("inf")


def measure(
    lines: Sequence[str] | None = None,
    *,
    config: RedactionConfig | None = None,
    rounds: int = 5,
) -> dict[str, Any]:
    """Throughput of :meth:`Redactor.redact_text` and :meth:`Redactor.redact_document`.

    Parameters
    ----------
    lines:
        The workload; default :func:`sample_lines` (20,000 lines, 1% with a secret).
    config:
        The redaction config measured (default: built-in defaults).
    rounds:
        Each figure is the best of this many passes over the workload.

    Returns a JSON-ready dict: ``lines``, ``mean_line_chars``, ``lines_redacted`` and
    ``redactions`` (per rule); ``text_lines_per_s`` with redaction and
    ``text_lines_per_s_disabled`` (the same loop with redaction off), their difference
    ``text_overhead_us_per_line``, and ``clean_lines_per_s`` / ``secret_lines_per_s`` for the two
    kinds of line; for whole documents (``body``, plus ``attributes`` for JSON lines)
    ``docs_per_s`` with ``derived_from_body=True`` (what the parser uses), ``docs_per_s_full_walk``
    without it, ``docs_per_s_disabled``, and the overheads per document.
    """
    work = list(lines) if lines is not None else sample_lines()
    redactor = Redactor(config)
    disabled = Redactor(RedactionConfig(enabled=False))

    totals: dict[str, int] = {}
    changed: list[str] = []
    clean: list[str] = []
    for line in work:
        out, counts = redactor.redact_text(line)
        for rule, n in counts.items():
            totals[rule] = totals.get(rule, 0) + n
        (changed if out != line else clean).append(line)

    def text_loop(r: Redactor, batch: Sequence[str]) -> Callable[[], int]:
        def run() -> int:
            redact = r.redact_text
            for line in batch:
                redact(line)
            return len(batch)

        return run

    # redact_document works in place: each pass gets fresh documents, built outside the timing.
    def doc_rate(r: Redactor, derived: bool) -> float:
        best = float("inf")
        for _ in range(max(1, rounds)):
            docs = [_document(line) for line in work]
            redact = r.redact_document
            start = time.perf_counter()
            for doc in docs:
                redact(doc, derived_from_body=derived)
            best = min(best, time.perf_counter() - start)
        return len(work) / best if best > 0 else float("inf")

    with_rate = _best_rate(text_loop(redactor, work), rounds)
    without_rate = _best_rate(text_loop(disabled, work), rounds)
    docs_derived = doc_rate(redactor, True)
    docs_full = doc_rate(redactor, False)
    docs_without = doc_rate(disabled, True)
    return {
        "lines": len(work),
        "mean_line_chars": round(sum(map(len, work)) / max(1, len(work)), 1),
        "lines_redacted": len(changed),
        "redactions": dict(sorted(totals.items())),
        "text_lines_per_s": round(with_rate),
        "text_lines_per_s_disabled": round(without_rate),
        "text_overhead_us_per_line": round(1e6 / with_rate - 1e6 / without_rate, 3),
        "clean_lines_per_s": round(_best_rate(text_loop(redactor, clean), rounds)) if clean else None,
        "secret_lines_per_s": round(_best_rate(text_loop(redactor, changed), rounds)) if changed else None,
        "docs_per_s": round(docs_derived),
        "docs_per_s_full_walk": round(docs_full),
        "docs_per_s_disabled": round(docs_without),
        "doc_overhead_us_per_doc": round(1e6 / docs_derived - 1e6 / docs_without, 3),
        "doc_overhead_us_per_doc_full_walk": round(1e6 / docs_full - 1e6 / docs_without, 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print :func:`measure` on the default workload as JSON (``python -m lambdalens.redaction.bench``)."""
    del argv
    sys.stdout.write(orjson.dumps(measure(), option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
