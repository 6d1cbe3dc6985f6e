"""What a redrive did: counts of records and documents by outcome, and one line per source
(an SQS message or an S3 object) saying whether it was completed or left, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lambdalens.indexing.indexer import DUPLICATE, INDEXED, PENDING, REJECTED, SAFE_FORM
from lambdalens.pipeline import BatchOutcome

#: Document status of a dry run: decoded and parsed, would be sent to OpenSearch.
WOULD_INDEX = "would_index"

# Source statuses
DONE = "done"  # replayed whole; the message was deleted / the object moved (or deleted)
REWRITTEN = "rewritten"  # replayed; the object now holds only what is still not indexed
KEPT = "kept"  # left where it was (--keep, --dry-run, or nothing changed)
FAILED = "failed"  # something could not be indexed or written: left for the next run
EXPIRED = "expired"  # records are no longer in the stream: left (or discarded with --discard-expired)
INVALID = "invalid"  # not an on-failure record / not a dead-letter object: left
NOT_ATTEMPTED = "not_attempted"  # the run stopped at an earlier failure


@dataclass
class Counts:
    """Totals of one redrive. Documents are log events (one OpenSearch document each)."""

    records: int = 0  # Kinesis records replayed (read from the stream, or from "record" letters)
    documents: int = 0  # documents parsed from them, plus "document" letters replayed
    indexed: int = 0  # newly indexed, whole
    safe_form: int = 0  # newly indexed in safe form (rejected for their content)
    already_present: int = 0  # OpenSearch answered 409: indexed by an earlier delivery or run
    dead_lettered: int = 0  # dead letters written again (undecodable records, rejected documents)
    truncated: int = 0  # of which: full text of a document indexed truncated
    failed: int = 0  # documents not indexed (OpenSearch unavailable...): left for the next run
    failed_records: int = 0  # records reported failed by the pipeline
    would_index: int = 0  # dry run: documents that would be sent to OpenSearch
    skipped: int = 0  # "truncated" letters not replayed (needs --reindex-truncated)
    expired_records: int = 0  # records of the ranges that are no longer in the stream

    @property
    def reindexed(self) -> int:
        return self.indexed + self.safe_form

    def add_outcome(self, outcome: BatchOutcome) -> None:
        """Add a pipeline outcome (a batch of Kinesis records)."""
        self.records += len(outcome.records)
        self.add_statuses(outcome.status)
        self.dead_lettered += sum(r.dead_letters for r in outcome.records)
        self.truncated += outcome.truncated
        self.failed_records += len(outcome.failed)

    def add_statuses(self, statuses: list[str]) -> None:
        """Add the per-document statuses of an indexing call."""
        self.documents += len(statuses)
        for status in statuses:
            if status == INDEXED:
                self.indexed += 1
            elif status == SAFE_FORM:
                self.safe_form += 1
            elif status == DUPLICATE:
                self.already_present += 1
            elif status == PENDING:
                self.failed += 1
            elif status == WOULD_INDEX:
                self.would_index += 1
            elif status == REJECTED:
                pass  # counted as dead-lettered by the caller, which writes the letter


@dataclass
class SourceResult:
    """One SQS message or S3 object."""

    source: str  # message id, or object key
    status: str
    detail: str = ""
    records: int = 0
    documents: int = 0
    range: str | None = None  # SQS: the stream range it names


@dataclass
class RedriveReport:
    mode: str  # "sqs" | "s3"
    origin: str  # queue URL or s3://bucket/prefix
    dry_run: bool = False
    counts: Counts = field(default_factory=Counts)
    sources: list[SourceResult] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early

    @property
    def noun(self) -> str:
        return "message" if self.mode == "sqs" else "object"

    def by_status(self, status: str) -> list[SourceResult]:
        return [s for s in self.sources if s.status == status]

    @property
    def ok(self) -> bool:
        """Nothing failed, expired or was unreadable (dead-lettered again and skipped are fine)."""
        bad = (FAILED, EXPIRED, INVALID, NOT_ATTEMPTED)
        return self.stopped is None and not any(s.status in bad for s in self.sources)

    def as_dict(self) -> dict[str, Any]:
        counts = asdict(self.counts)
        counts["reindexed"] = self.counts.reindexed
        return {
            "mode": self.mode,
            "origin": self.origin,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "stopped": self.stopped,
            "counts": counts,
            "sources": [asdict(s) for s in self.sources],
        }

    def render(self) -> str:
        """The summary printed at the end of a run."""
        c = self.counts
        n = len(self.sources)
        title = f"redrive from {self.origin}: {n} {self.noun}{'' if n == 1 else 's'}"
        lines = [title + (" (dry run: nothing written, nothing deleted)" if self.dry_run else "")]
        rows: list[tuple[str, int, str]] = [("records replayed", c.records, "")]
        rows.append(("documents", c.documents, ""))
        if self.dry_run:
            rows.append(("would be indexed", c.would_index, "(409 if already present)"))
        else:
            rows.append(("re-indexed", c.reindexed, f"({c.safe_form} in safe form)" if c.safe_form else ""))
            rows.append(("already present (409)", c.already_present, ""))
        rows.append(
            (
                "dead-lettered again" if not self.dry_run else "would be dead-lettered",
                c.dead_lettered,
                f"({c.truncated} full texts of truncated messages)" if c.truncated else "",
            )
        )
        rows.append(("failed", c.failed, "(not indexed: left for the next run)" if c.failed else ""))
        if c.failed_records:
            rows.append(("records failed", c.failed_records, "(left for the next run)"))
        if c.expired_records or self.by_status(EXPIRED):
            rows.append(("expired from the stream", c.expired_records, "records"))
        if c.skipped:
            rows.append(("skipped", c.skipped, "truncated messages (replay with --reindex-truncated)"))
        width = max(len(r[0]) for r in rows)
        for label, value, note in rows:
            lines.append(f"  {label:<{width}}  {value:>8,}  {note}".rstrip())
        tally: dict[str, int] = {}
        for s in self.sources:
            tally[s.status] = tally.get(s.status, 0) + 1
        if tally:
            lines.append(
                f"{self.noun}s: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in tally.items())
            )
        for s in self.sources:
            if s.status in (DONE,) or not s.detail:
                continue
            where = f" {s.range}" if s.range else ""
            lines.append(f"  {s.status:<8} {s.source}{where}: {s.detail}")
        if self.stopped:
            lines.append(f"stopped: {self.stopped}")
        return "\n".join(lines)
