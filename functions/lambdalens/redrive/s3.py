"""``lambdalens redrive --from-s3``: replay the dead-letter bucket after a fix.

Every object under the prefix (``<prefix>YYYY/MM/DD/HH/<time>-<id>.jsonl.gz``, see
:mod:`lambdalens.indexing.dead_letter`), optionally only from ``--since``/``--until`` a
``YYYY[/MM[/DD[/HH]]]`` key prefix, is read and its letters replayed:

* ``record`` letters (records that could not be decoded, or that crashed the parser) are
  rebuilt into the Kinesis event record they came from and go through the whole pipeline
  again — decoding, parsing, redaction, truncation, indexing;
* ``document`` letters (rejected by OpenSearch even in safe form) are indexed again through
  the indexer (retries, safe form; ``_id`` makes it idempotent);
* ``document`` letters with reason ``truncated`` hold the full text of a message that *was*
  indexed, truncated. They are skipped unless ``reindex_truncated`` is set, which replaces
  the truncated document with the original.

What happens to the object then:

* everything indexed (or already present) -> moved under ``redriven/`` (or deleted);
* some letters still not indexable (dead-lettered again, with their new reason) or skipped
  -> the original is moved under ``redriven/`` and the object is rewritten in place with
  only those letters, so the bucket keeps exactly what is not in OpenSearch; if nothing at
  all changed the object is left untouched;
* OpenSearch could not take everything (unavailable, deadline) -> left untouched for the
  next run.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import logging
import re
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from lambdalens.decoding import RecordId
from lambdalens.indexing.dead_letter import DeadLetter
from lambdalens.indexing.indexer import PENDING, REJECTED, IndexReport
from lambdalens.pipeline import Pipeline
from lambdalens.redrive.progress import Progress
from lambdalens.redrive.replay import (
    CapturingWriter,
    chunked,
    client_error_code,
    dry_run_pipeline,
    error_text,
    overwriting,
)
from lambdalens.redrive.report import (
    DONE,
    FAILED,
    INVALID,
    KEPT,
    NOT_ATTEMPTED,
    REWRITTEN,
    Counts,
    RedriveReport,
    SourceResult,
)
from lambdalens.retry import Deadline

logger = logging.getLogger(__name__)

DEFAULT_REDRIVEN_PREFIX = "redriven/"
_KEY_TIME = re.compile(r"^\d{4}(/\d{2}(/\d{2}(/\d{2})?)?)?$")


def check_key_time(value: str) -> str:
    """``YYYY[/MM[/DD[/HH]]]`` (the dead-letter keys' time part), or ValueError."""
    value = value.strip().strip("/")
    if not _KEY_TIME.match(value):
        raise ValueError(f"expected YYYY/MM/DD (optionally /HH), got {value!r}")
    return value


@dataclass
class Entry:
    """One line of a dead-letter object: its JSON as stored, and the letter it holds."""

    raw: dict[str, Any]
    letter: DeadLetter

    @property
    def signature(self) -> tuple[str, str, str, str, str]:
        return _signature(self.letter)


def _signature(letter: DeadLetter) -> tuple[str, str, str, str, str]:
    uid = str(letter.document.get("log.record.uid", "")) if letter.document else ""
    rid = letter.record_id
    return (letter.kind, letter.reason, rid.shard_id, rid.sequence_number, uid)


def read_entries(body: bytes) -> list[Entry]:
    """The lines of a gzip JSON Lines dead-letter object. Raises ValueError when it is not one."""
    try:
        text = gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"not gzip: {exc}") from None
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"line {number} is not JSON: {exc}") from None
        if not isinstance(obj, dict) or obj.get("kind") not in ("record", "document"):
            raise ValueError(f"line {number} is not a dead letter (no kind record/document)")
        entries.append(Entry(obj, DeadLetter.from_json(obj)))
    return entries


def letter_record(letter: DeadLetter) -> dict[str, Any]:
    """A ``record`` letter -> the Kinesis event record it was, as Lambda delivered it.

    ``data`` holds the record's bytes after base64 decoding, except for ``not_base64``
    letters, which hold the text that was not base64: that text goes back as it was.
    """
    rid: RecordId = letter.record_id
    data = letter.data or b""
    text = data.decode("utf-8", "surrogateescape") if letter.reason == "not_base64" else None
    arn = rid.stream_arn
    region = arn.split(":")[3] if arn.startswith("arn:") and len(arn.split(":")) > 5 else None
    record: dict[str, Any] = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "",
            "sequenceNumber": rid.sequence_number,
            "data": text if text is not None else base64.b64encode(data).decode(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{rid.shard_id}:{rid.sequence_number}",
        "eventName": "aws:kinesis:record",
        "eventSourceARN": arn,
    }
    if region:
        record["awsRegion"] = region
    return record


@dataclass
class _ObjectRun:
    """What replaying one object produced."""

    counts: Counts = field(default_factory=Counts)
    new_letters: list[DeadLetter] = field(default_factory=list)
    carried: list[Entry] = field(default_factory=list)  # skipped, kept verbatim
    failure: str | None = None
    records: int = 0
    documents: int = 0


@dataclass
class S3Redrive:
    """Replays the dead-letter objects of ``bucket`` under ``prefix`` (``s3`` is a boto3 client)."""

    s3: Any
    bucket: str
    prefix: str
    pipeline: Pipeline
    since: str | None = None
    until: str | None = None
    redriven_prefix: str = DEFAULT_REDRIVEN_PREFIX
    delete: bool = False
    reindex_truncated: bool = False
    batch_size: int = 200
    batch_seconds: float = 300.0
    dry_run: bool = False
    keep: bool = False
    keep_going: bool = False
    progress: Progress | None = None

    # ------------------------------------------------------------------
    def keys(self) -> Iterator[str]:
        """The object keys to replay, in key (= time) order."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
        if self.since:
            params["StartAfter"] = self.prefix + self.since
        for page in self.s3.get_paginator("list_objects_v2").paginate(**params):
            for obj in page.get("Contents") or []:
                key = str(obj["Key"])
                if key.endswith("/") or (self.redriven_prefix and key.startswith(self.redriven_prefix)):
                    continue
                when = key[len(self.prefix) :]
                if self.since and when < self.since:
                    continue
                if self.until and when[: len(self.until)] > self.until:
                    continue
                yield key

    def run(self) -> RedriveReport:
        origin = f"s3://{self.bucket}/{self.prefix}"
        report = RedriveReport("s3", origin, dry_run=self.dry_run)
        keys = list(self.keys())
        progress = self.progress
        if progress is not None:
            progress.total = len(keys)
        try:
            for key in keys:
                if report.stopped is not None:
                    report.sources.append(SourceResult(key, NOT_ATTEMPTED))
                    continue
                result = self._one(key, report.counts)
                report.sources.append(result)
                if result.status == FAILED and not self.keep_going:
                    report.stopped = (
                        f"object {key} failed ({result.detail}); fix the cause and run again "
                        "(replaying is idempotent), or use --keep-going"
                    )
                if progress is not None:
                    c = report.counts
                    progress.update(
                        len(report.sources),
                        f"{c.documents:,} docs  {c.dead_lettered} dead-lettered  {c.failed} failed",
                    )
        finally:
            if progress is not None:
                progress.close()
        return report

    # ------------------------------------------------------------------
    def _one(self, key: str, totals: Counts) -> SourceResult:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:
            return SourceResult(key, FAILED, f"could not read the object: {error_text(exc)}")
        try:
            entries = read_entries(body)
        except ValueError as exc:
            return SourceResult(key, INVALID, f"not a dead-letter object ({exc}); left as it is")
        run = self._replay(entries)
        _merge(totals, run.counts)
        result = SourceResult(key, FAILED, records=run.records, documents=run.documents)
        if run.failure is not None:
            result.detail = f"{run.failure}; left as it is"
            return result
        still = _describe_letters(run.new_letters, run.carried)
        if self.dry_run or self.keep:
            result.status = KEPT
            if self.dry_run:
                result.detail = "dry run: " + (
                    f"would leave {still}" if still else f"would {'delete' if self.delete else 'move'} it"
                )
            else:
                result.detail = "replayed; kept (--keep)" + (f"; {still}" if still else "")
            return result
        try:
            if not run.new_letters and not run.carried:
                self._retire(key)
                result.status = DONE
                return result
            before = sorted(e.signature for e in entries)
            after = sorted([*(e.signature for e in run.carried), *(_signature(x) for x in run.new_letters)])
            if before == after:
                result.status = KEPT
                result.detail = f"nothing changed: {still}; left as it is"
                return result
            moved = self._retire(key, keep_in_place=True)
            self._rewrite(key, run)
        except Exception as exc:
            result.detail = f"replayed, but the object could not be moved or rewritten: {error_text(exc)}"
            return result
        result.status = REWRITTEN
        result.detail = f"now holds only {still}" + (f"; the original is at {moved}" if moved else "")
        return result

    def _replay(self, entries: list[Entry]) -> _ObjectRun:
        run = _ObjectRun()
        writer = CapturingWriter()
        base = dry_run_pipeline(self.pipeline) if self.dry_run else self.pipeline
        pipeline = dataclasses.replace(base, dead_letters=writer)
        records = [e.letter for e in entries if e.letter.kind == "record"]
        truncated = [e for e in entries if e.letter.kind == "document" and e.letter.reason == "truncated"]
        documents = [
            e.letter
            for e in entries
            if e.letter.kind == "document"
            and e.letter.reason != "truncated"
            and e.letter.document is not None
        ]
        run.carried.extend(e for e in entries if e.letter.kind == "document" and e.letter.document is None)
        for chunk in chunked((letter_record(letter) for letter in records), self.batch_size):
            outcome = pipeline.run(
                chunk, Deadline.after(self.batch_seconds), f"redrive-{uuid.uuid4().hex[:12]}"
            )
            run.counts.add_outcome(outcome)
            run.records += len(outcome.records)
            run.documents += len(outcome.docs)
            if outcome.failed:
                first = outcome.failed[0]
                run.failure = (
                    f"{len(outcome.failed)} record(s) not indexed, first {first.record_id}: {first.reason}"
                )
                return run
        run.new_letters.extend(writer.letters)
        if documents:
            self._index(pipeline.indexer.index, documents, run)
        if truncated and run.failure is None:
            if self.reindex_truncated:
                self._index(overwriting(pipeline.indexer).index, [e.letter for e in truncated], run)
            else:
                run.carried.extend(truncated)
                run.counts.skipped += len(truncated)
        return run

    def _index(self, index: Any, letters: list[DeadLetter], run: _ObjectRun) -> None:
        docs = [letter.document for letter in letters if letter.document is not None]
        report: IndexReport = index(docs, Deadline.after(self.batch_seconds))
        run.counts.add_statuses(report.status)
        run.documents += len(docs)
        for i, status in enumerate(report.status):
            if status == REJECTED:
                run.counts.dead_lettered += 1
                run.new_letters.append(
                    DeadLetter(
                        "document",
                        "rejected",
                        report.reasons.get(i, ""),
                        letters[i].record_id,
                        document=docs[i],
                    )
                )
            elif status == PENDING and run.failure is None:
                run.failure = (
                    f"document {docs[i].get('log.record.uid')} not indexed: {report.reasons.get(i, '')}"
                )

    def _retire(self, key: str, keep_in_place: bool = False) -> str | None:
        """Move the object under the redriven prefix (or delete it); returns its new key."""
        target = None
        if not self.delete:
            target = self._unused(self.redriven_prefix + key)
            self.s3.copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key}
            )
        if not keep_in_place:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        return target

    def _unused(self, target: str) -> str:
        """``target``, or — when an earlier run already moved an object there (this key was
        rewritten, then replayed again) — ``target`` with the time before its extension."""
        try:
            self.s3.head_object(Bucket=self.bucket, Key=target)
        except Exception as exc:
            if client_error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return target
            raise
        folder, slash, name = target.rpartition("/")
        stem, dot, extension = name.partition(".")
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        return f"{folder}{slash}{stem}-redriven-{stamp}{dot}{extension}"

    def _rewrite(self, key: str, run: _ObjectRun) -> None:
        now = int(time.time() * 1000)
        lines = [orjson.dumps(e.raw, option=orjson.OPT_APPEND_NEWLINE) for e in run.carried]
        lines += [
            orjson.dumps(letter.to_json(now), default=str, option=orjson.OPT_APPEND_NEWLINE)
            for letter in run.new_letters
        ]
        letters = [e.letter for e in run.carried] + run.new_letters
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=gzip.compress(b"".join(lines), compresslevel=6),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
            Metadata={
                "records": str(len({(d.record_id.shard_id, d.record_id.sequence_number) for d in letters})),
                "entries": str(len(letters)),
                "rewritten-by": "lambdalens-redrive",
            },
        )


def _merge(total: Counts, part: Counts) -> None:
    for f in dataclasses.fields(Counts):
        setattr(total, f.name, getattr(total, f.name) + getattr(part, f.name))


def _describe_letters(new: list[DeadLetter], carried: list[Entry]) -> str:
    parts: list[str] = []
    if new:
        reasons: dict[str, int] = {}
        for letter in new:
            reasons[letter.reason] = reasons.get(letter.reason, 0) + 1
        text = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        parts.append(f"{len(new)} dead-lettered again ({text})")
    skipped = sum(1 for e in carried if e.letter.reason == "truncated")
    if skipped:
        parts.append(f"{skipped} truncated message(s) skipped (replay with --reindex-truncated)")
    other = len(carried) - skipped
    if other:
        parts.append(f"{other} letter(s) with nothing to replay")
    return "; ".join(parts)
