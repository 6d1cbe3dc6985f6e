"""One batch of Kinesis records -> indexed documents, dead letters and an outcome per record.

A record succeeds when every one of its events is indexed, already indexed (409), indexed
in safe form, or written to the dead-letter bucket. It fails — and is reported as a batch
item failure so Kinesis redelivers it — only when OpenSearch could not take its documents
before the deadline, or the dead letter could not be written. A record that cannot be
decoded at all is dead-lettered whole and never blocks the shard.

Metrics and alerts are computed from :attr:`BatchOutcome.countable_docs`: the documents of
records that succeeded *and* that Kinesis will not redeliver (those before the first failed
record of the batch: Kinesis resumes from the lowest failed sequence number) *and* that were
not already indexed by an earlier delivery. So a redelivered record is never counted twice.

Each document is redacted (and a too long body cut) just before it is first serialised for
OpenSearch, while the bulk requests before it are out; documents the deadline leaves unsent
are finished too, so the outcome is the same as if it had all happened first.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdalens.decoding import (
    DecodeError,
    RecordId,
    decode_kinesis_record,
    kinesis_arrival_ms,
    kinesis_record_id,
)
from lambdalens.indexing.dead_letter import DeadLetter, DeadLetterWriter
from lambdalens.indexing.indexer import (
    DUPLICATE,
    INDEXED,
    PENDING,
    REJECTED,
    SAFE_FORM,
    BulkIndexer,
    IndexReport,
)
from lambdalens.parsing import BatchParser, Document
from lambdalens.pipeline.documents import DocumentHook, finish_document
from lambdalens.pipeline.memory import paused_gc
from lambdalens.retry import Deadline

logger = logging.getLogger(__name__)


@dataclass
class RecordOutcome:
    record_id: RecordId
    ok: bool = True
    reason: str | None = None
    events: int = 0
    control_messages: int = 0
    dead_letters: int = 0
    first: int = 0  # position of the record's documents in BatchOutcome.docs
    count: int = 0


@dataclass
class BatchOutcome:
    records: list[RecordOutcome]
    docs: list[Document]
    status: list[str]  # per document: indexed, duplicate, safe_form, rejected, pending
    index_report: IndexReport | None = None
    dead_letter_keys: list[str] = field(default_factory=list)
    redactions: dict[str, int] = field(default_factory=dict)
    parse_failures: int = 0
    truncated: int = 0
    parse_seconds: float = 0.0  # decoding and parsing; redaction and truncation overlap indexing
    index_seconds: float = 0.0

    @property
    def failed(self) -> list[RecordOutcome]:
        return [r for r in self.records if not r.ok]

    @property
    def countable_docs(self) -> list[Document]:
        """Documents to derive metrics and alerts from (see the module docstring)."""
        out: list[Document] = []
        for record in self.records:
            if not record.ok:
                break  # Kinesis redelivers this record and every one after it
            statuses = self.status[record.first : record.first + record.count]
            if record.count and all(s == DUPLICATE for s in statuses):
                continue  # an earlier delivery indexed (and counted) it
            out.extend(self.docs[record.first : record.first + record.count])
        return out

    def counts(self) -> dict[str, int]:
        return {
            "records": len(self.records),
            "events": len(self.docs),
            "indexed": sum(1 for s in self.status if s == INDEXED),
            "duplicates": sum(1 for s in self.status if s == DUPLICATE),
            "safe_form": sum(1 for s in self.status if s == SAFE_FORM),
            "dead_lettered": sum(r.dead_letters for r in self.records),
            "retried": self.index_report.retried_items if self.index_report else 0,
            "parse_failures": self.parse_failures,
            "control_messages": sum(r.control_messages for r in self.records),
            "batch_item_failures": len(self.failed),
            "truncated": self.truncated,
        }


@dataclass
class Pipeline:
    """The stages a batch goes through, wired once per process (cold start)."""

    indexer: BulkIndexer
    dead_letters: DeadLetterWriter
    region: str | None = None
    max_body_chars: int = 32_768
    document_hook: DocumentHook | None = None

    def run(
        self, records: Sequence[Mapping[str, Any]], deadline: Deadline, request_id: str | None = None
    ) -> BatchOutcome:
        return process_records(self, records, deadline, request_id)


def process_records(
    pipeline: Pipeline,
    records: Sequence[Mapping[str, Any]],
    deadline: Deadline,
    request_id: str | None = None,
) -> BatchOutcome:
    """Run ``records`` (Kinesis event records, in shard order) through the pipeline."""
    with paused_gc():
        return _process_records(pipeline, records, deadline, request_id)


def _write_dead_letters(
    pipeline: Pipeline,
    records: Sequence[Mapping[str, Any]],
    outcomes: list[RecordOutcome],
    letters: list[tuple[int, DeadLetter]],
) -> list[str]:
    """One object per record (see :mod:`lambdalens.indexing.dead_letter`), so a redelivered
    poison record writes the same one again; returns the keys. After a failed write the
    records left are failed without trying (Kinesis redelivers them), not lost."""
    by_record: dict[int, list[DeadLetter]] = {}
    for position, letter in letters:
        by_record.setdefault(position, []).append(letter)
    keys: list[str] = []
    failure: str | None = None
    for position, group in by_record.items():
        if failure is None:
            try:
                keys.append(pipeline.dead_letters.write(group, kinesis_arrival_ms(records[position])))
                outcomes[position].dead_letters += len(group)
                continue
            except Exception as exc:  # S3 unavailable: do not lose the records, let Kinesis redeliver them
                logger.exception("could not write the dead letters of record %s", group[0].record_id)
                failure = f"dead-letter write failed: {exc}"
        outcomes[position].ok = False
        outcomes[position].reason = failure
    return keys


def _process_records(
    pipeline: Pipeline,
    records: Sequence[Mapping[str, Any]],
    deadline: Deadline,
    request_id: str | None,
) -> BatchOutcome:
    started = time.perf_counter()
    parser = BatchParser(region=pipeline.region)
    outcomes: list[RecordOutcome] = []
    docs: list[Document] = []
    letters: list[tuple[int, DeadLetter]] = []  # (record position, letter)
    parse_failures = 0
    for position, record in enumerate(records):
        try:
            decoded = decode_kinesis_record(record)
        except DecodeError as exc:
            parse_failures += 1
            outcome = RecordOutcome(exc.record_id, first=len(docs))
            outcomes.append(outcome)
            letters.append(
                (position, DeadLetter("record", exc.reason, exc.detail, exc.record_id, data=exc.raw))
            )
            continue
        outcome = RecordOutcome(decoded.record_id, first=len(docs))
        try:
            record_docs: list[Document] = []
            for payload in decoded.payloads:
                if payload.is_control:
                    outcome.control_messages += 1
                record_docs.extend(parser.parse(payload))
        except Exception as exc:  # a parser bug must not block the shard: keep the record whole
            logger.exception("parser failed on record %s", decoded.record_id)
            parse_failures += 1
            raw = _raw_data(record)
            letters.append(
                (position, DeadLetter("record", "parser_error", repr(exc), decoded.record_id, data=raw))
            )
            outcomes.append(outcome)
            continue
        docs.extend(record_docs)
        outcome.count = outcome.events = len(record_docs)
        outcomes.append(outcome)
    parser.finish()

    owner = [0] * len(docs)
    for position, outcome in enumerate(outcomes):
        for i in range(outcome.first, outcome.first + outcome.count):
            owner[i] = position
    finishing = _Finishing(pipeline, outcomes, owner, letters)
    parse_seconds = time.perf_counter() - started

    started = time.perf_counter()
    report = pipeline.indexer.index(docs, deadline, prepare=finishing) if docs else None
    status = report.status if report else []
    index_seconds = time.perf_counter() - started

    if report is not None:
        for i, s in enumerate(status):
            if s == REJECTED:
                record_id = outcomes[owner[i]].record_id
                letters.append(
                    (
                        owner[i],
                        DeadLetter(
                            "document", "rejected", report.reasons.get(i, ""), record_id, document=docs[i]
                        ),
                    )
                )
            elif s == PENDING:
                outcome = outcomes[owner[i]]
                outcome.ok = False
                outcome.reason = outcome.reason or report.reasons.get(i, "not indexed before the deadline")

    keys = _write_dead_letters(pipeline, records, outcomes, letters)
    return BatchOutcome(
        records=outcomes,
        docs=docs,
        status=status,
        index_report=report,
        dead_letter_keys=keys,
        redactions=finishing.redactions,
        parse_failures=parse_failures,
        truncated=finishing.truncated,
        parse_seconds=parse_seconds,
        index_seconds=index_seconds,
    )


@dataclass
class _Finishing:
    """What every document goes through just before it is first sent (the indexer runs it, so it
    overlaps the requests already out): redaction, then truncation of a too long body, whose
    original goes to the dead-letter bucket. Documents never sent go through it too."""

    pipeline: Pipeline
    outcomes: list[RecordOutcome]
    owner: list[int]  # per document: the position of its record
    letters: list[tuple[int, DeadLetter]]
    redactions: dict[str, int] = field(default_factory=dict)
    truncated: int = 0

    def __call__(self, i: int, doc: Document) -> None:
        counts, original = finish_document(doc, self.pipeline.document_hook, self.pipeline.max_body_chars)
        for rule, n in counts.items():
            self.redactions[rule] = self.redactions.get(rule, 0) + n
        if original is not None:
            self.truncated += 1
            position = self.owner[i]
            detail = f"body of {len(original.get('body', ''))} characters"
            record_id = self.outcomes[position].record_id
            self.letters.append(
                (position, DeadLetter("document", "truncated", detail, record_id, document=original))
            )


def _raw_data(record: Mapping[str, Any]) -> bytes:
    """The record's bytes (base64-decoded; the record decoded, so this cannot fail)."""
    kinesis = record.get("kinesis")
    data = kinesis.get("data") if isinstance(kinesis, Mapping) else None
    return base64.b64decode(data) if isinstance(data, str) else b""


__all__ = ["BatchOutcome", "Pipeline", "RecordOutcome", "kinesis_record_id", "process_records"]
