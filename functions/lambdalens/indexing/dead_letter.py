"""The S3 dead-letter bucket: what could not be indexed, kept whole so it can be replayed.

One gzip JSON Lines object per Kinesis record, under
``<prefix>YYYY/MM/DD/HH/<time>-<shard>-<sequence number>.jsonl.gz``, the time being when the
record reached Kinesis: a poison record delivered again writes the same object again, never a
second one. Each line is a :class:`DeadLetter`:

* ``kind: "record"`` — a Kinesis record that could not be decoded; ``data_base64`` holds its
  bytes exactly as received;
* ``kind: "document"`` — a parsed document OpenSearch rejected even in its safe form, or
  whose message was too long to index whole; ``document`` holds it.

Both carry the reason, the source shard and sequence number and the time, so
``lambdalens redrive --from-s3`` can replay them after a fix.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from lambdalens.decoding.errors import RecordId
from lambdalens.parsing.document import Document


@dataclass
class DeadLetter:
    kind: str  # "record" | "document"
    reason: str
    detail: str
    record_id: RecordId
    data: bytes | None = None
    document: Document | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self, now_ms: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "reason": self.reason,
            "detail": self.detail[:2000],
            "shard_id": self.record_id.shard_id,
            "sequence_number": self.record_id.sequence_number,
            "stream_arn": self.record_id.stream_arn,
            "dead_lettered_at": now_ms,
        }
        if self.data is not None:
            out["data_base64"] = base64.b64encode(self.data).decode()
        if self.document is not None:
            out["document"] = self.document
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> DeadLetter:
        data = obj.get("data_base64")
        return cls(
            kind=str(obj.get("kind", "")),
            reason=str(obj.get("reason", "")),
            detail=str(obj.get("detail", "")),
            record_id=RecordId(
                str(obj.get("shard_id", "")),
                str(obj.get("sequence_number", "")),
                str(obj.get("stream_arn", "")),
            ),
            data=base64.b64decode(data) if isinstance(data, str) else None,
            document=obj.get("document") if isinstance(obj.get("document"), dict) else None,
        )


def encode_dead_letters(letters: list[DeadLetter], now_ms: int | None = None) -> bytes:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    lines = b"".join(
        orjson.dumps(letter.to_json(now), default=str, option=orjson.OPT_APPEND_NEWLINE) for letter in letters
    )
    return gzip.compress(lines, compresslevel=6)


def decode_dead_letters(data: bytes) -> Iterator[DeadLetter]:
    for line in gzip.decompress(data).splitlines():
        if line.strip():
            yield DeadLetter.from_json(orjson.loads(line))


_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._=-]")
_MAX_KEY_PART = 120


def _key_part(value: str) -> str:
    """``value`` as it can stand in a key; one that had to be changed gets a hash of the
    original, so two records never share a key."""
    safe = _UNSAFE_KEY_CHARS.sub("_", value) or "_"
    if safe == value and len(safe) <= _MAX_KEY_PART:
        return safe
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    return f"{safe[:_MAX_KEY_PART]}~{digest}"


def object_key(prefix: str, record_id: RecordId, arrived_ms: int) -> str:
    """The key of a record's dead letters: its arrival time, shard and sequence number."""
    t = time.gmtime(arrived_ms / 1000)
    stamp = time.strftime("%Y/%m/%d/%H/%Y%m%dT%H%M%S", t)
    shard, sequence = _key_part(record_id.shard_id), _key_part(record_id.sequence_number)
    return f"{prefix}{stamp}-{shard}-{sequence}.jsonl.gz"


@dataclass
class DeadLetterWriter:
    """Writes dead letters to S3 (``s3`` is a boto3 S3 client)."""

    s3: Any
    bucket: str
    prefix: str = "dead-letter/"

    def write(self, letters: list[DeadLetter], arrived_ms: int | None = None) -> str:
        """Put the object of one record's ``letters`` (replacing what an earlier delivery of
        the record wrote there); returns its key. ``arrived_ms`` is when the record reached
        Kinesis (now when unknown: not a Kinesis record). Raises what S3 raised."""
        now = int(time.time() * 1000)
        key = object_key(self.prefix, letters[0].record_id, now if arrived_ms is None else arrived_ms)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=encode_dead_letters(letters, now),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
            Metadata={
                "records": str(len({(d.record_id.shard_id, d.record_id.sequence_number) for d in letters})),
                "entries": str(len(letters)),
            },
        )
        return key
