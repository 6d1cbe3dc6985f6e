"""Bulk indexing that loses nothing and duplicates nothing.

* Bodies are cut by bytes and by count; an HTTP 413 splits the body in two and resends.
* Every item's status is read: OpenSearch answers HTTP 200 with ``errors: true`` and
  per-item 429s under load.
* ``create`` with the CloudWatch event id as ``_id``: a 409 means already indexed.
* Only failed items are retried — on 429, 502, 503, 504, timeouts and connection errors —
  with full-jitter backoff, while the Lambda has time left.
* An item rejected for its content (400-class) is resent once in its safe form; if that is
  rejected too, it is returned as rejected for the dead-letter bucket.
* What the deadline leaves undone is returned as pending: the caller reports its records as
  batch item failures and Kinesis redelivers them (``_id`` keeps that idempotent).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from lambdalens.indexing.bulk_body import (
    DEFAULT_INDEX_PREFIX,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ITEMS,
    build_chunks,
)
from lambdalens.indexing.client import RETRYABLE_STATUSES, BulkRequestError, PayloadTooLarge
from lambdalens.indexing.safe_form import safe_form
from lambdalens.parsing.document import Document
from lambdalens.retry import Backoff, Deadline

logger = logging.getLogger(__name__)

INDEXED = "indexed"
DUPLICATE = "duplicate"
SAFE_FORM = "safe_form"
REJECTED = "rejected"  # rejected even in safe form: dead-letter it
PENDING = "pending"  # not done before the deadline, or OpenSearch refused the request: redeliver


class Transport(Protocol):
    def send(self, body: bytes, timeout: float) -> dict[str, object]: ...


@dataclass
class IndexReport:
    """Outcome of one :meth:`BulkIndexer.index` call; ``status[i]`` is the outcome of ``docs[i]``."""

    status: list[str]
    reasons: dict[int, str] = field(default_factory=dict)
    requests: int = 0
    retried_items: int = 0  # documents sent again after a transient failure, each counted once
    retried_requests: int = 0
    splits: int = 0
    http_seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for s in self.status if s == outcome)


@dataclass
class BulkIndexer:
    """Indexes documents through ``transport`` (see :class:`~lambdalens.indexing.client.BulkTransport`)."""

    transport: Transport
    index_prefix: str = DEFAULT_INDEX_PREFIX
    max_bytes: int = DEFAULT_MAX_BYTES
    max_items: int = DEFAULT_MAX_ITEMS
    request_timeout: float = 30.0
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.perf_counter

    def index(self, docs: list[Document], deadline: Deadline) -> IndexReport:
        report = IndexReport(status=[PENDING] * len(docs))
        variant: dict[int, Document] = {}  # safe forms of content-rejected documents
        todo = list(range(len(docs)))
        retried: set[int] = set()
        attempt = 0
        while todo:
            retry: list[int] = []
            rejected_now: list[int] = []
            queue = [todo]
            while queue:
                group = queue.pop(0)
                if deadline.expired():
                    self._leave_pending(report, [i for g in [group, *queue] for i in g], "deadline")
                    queue.clear()
                    retry.clear()
                    break
                self._send_group(group, docs, variant, report, deadline, retry, rejected_now, queue)
            new_safe_forms: set[int] = set()
            for i in rejected_now:
                if i in variant:  # the safe form was rejected too
                    report.status[i] = REJECTED
                    continue
                variant[i] = safe_form(docs[i], report.reasons[i])
                new_safe_forms.add(i)
                retry.append(i)  # resend at once in its safe form
            if not retry:
                break
            if not new_safe_forms.issuperset(retry):  # something transient failed: back off first
                attempt += 1
                if not self.backoff.wait(attempt, deadline):
                    self._leave_pending(report, retry, "retries exhausted before the deadline")
                    break
                retried.update(i for i in retry if i not in new_safe_forms)
                report.retried_items = len(retried)
            todo = sorted(retry)
        return report

    # ------------------------------------------------------------------
    def _send_group(
        self,
        group: list[int],
        docs: list[Document],
        variant: dict[int, Document],
        report: IndexReport,
        deadline: Deadline,
        retry: list[int],
        rejected_now: list[int],
        queue: list[list[int]],
    ) -> None:
        """Send ``group`` (indices into ``docs``) in as many bodies as the limits need."""
        offset = 0
        chunks = build_chunks(
            (variant.get(i, docs[i]) for i in group), self.index_prefix, self.max_bytes, self.max_items
        )
        for chunk in chunks:
            members = group[offset : offset + len(chunk)]
            offset += len(chunk)
            if deadline.expired():
                self._leave_pending(report, group[offset - len(chunk) :], "deadline")
                return
            timeout = max(0.5, min(self.request_timeout, deadline.left_ms() / 1000))
            started = self.clock()
            report.requests += 1
            try:
                answer = self.transport.send(bytes(chunk.body), timeout)
            except PayloadTooLarge as exc:
                self._split_or_reject(members, str(exc), report, rejected_now, queue)
                continue
            except BulkRequestError as exc:
                if exc.retryable:
                    report.retried_requests += 1
                    retry.extend(members)
                    for i in members:
                        report.reasons[i] = str(exc)
                elif exc.status == 400:  # a body OpenSearch cannot read: isolate the item that breaks it
                    self._split_or_reject(members, str(exc), report, rejected_now, queue)
                else:  # 401/403/404/...: a configuration problem, not the data's: redeliver later
                    logger.error("bulk request refused: %s", exc)
                    self._leave_pending(report, members, str(exc))
                continue
            finally:
                report.http_seconds += self.clock() - started
            self._read_items(members, variant, answer, report, retry, rejected_now)

    def _read_items(
        self,
        members: list[int],
        variant: dict[int, Document],
        answer: dict[str, object],
        report: IndexReport,
        retry: list[int],
        rejected_now: list[int],
    ) -> None:
        items = answer.get("items")
        if not isinstance(items, list) or len(items) != len(members):
            # Cannot tell which item is which: resend them all (409s make that safe).
            reason = (
                f"bulk answer had {len(items) if isinstance(items, list) else 'no'} items for {len(members)}"
            )
            for i in members:
                report.reasons[i] = reason
            retry.extend(members)
            return
        for i, item in zip(members, items, strict=True):
            result = next(iter(item.values())) if isinstance(item, dict) and item else {}
            status = result.get("status", 0) if isinstance(result, dict) else 0
            if 200 <= status < 300:
                report.status[i] = SAFE_FORM if i in variant else INDEXED
            elif status == 409:
                report.status[i] = DUPLICATE
            elif status in RETRYABLE_STATUSES:
                report.reasons[i] = f"HTTP {status} {_error_text(result)}"
                retry.append(i)
            else:
                report.reasons[i] = f"rejected: HTTP {status} {_error_text(result)}"
                rejected_now.append(i)

    @staticmethod
    def _split_or_reject(
        members: list[int], reason: str, report: IndexReport, rejected_now: list[int], queue: list[list[int]]
    ) -> None:
        if len(members) > 1:
            report.splits += 1
            half = len(members) // 2
            queue[:0] = [members[:half], members[half:]]
        else:
            report.reasons[members[0]] = f"rejected: {reason}"
            rejected_now.append(members[0])

    @staticmethod
    def _leave_pending(report: IndexReport, members: list[int], reason: str) -> None:
        for i in members:
            if report.status[i] == PENDING:
                report.reasons[i] = reason


def _error_text(result: object) -> str:
    if not isinstance(result, dict):
        return ""
    error = result.get("error")
    if isinstance(error, dict):
        return f"{error.get('type', '')}: {str(error.get('reason', ''))[:300]}"
    return str(error or "")[:300]
