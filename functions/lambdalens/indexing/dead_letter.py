"""The S3 dead-letter bucket: what could not be indexed, kept whole so it can be replayed.

One gzip JSON Lines object per parser invocation, under
``<prefix>YYYY/MM/DD/HH/<time>-<id>.jsonl.gz``. Each line is a :class:`DeadLetter`:

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
import time
import uuid
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


def object_key(prefix: str, now_ms: int, request_id: str | None = None) -> str:
    t = time.gmtime(now_ms / 1000)
    stamp = time.strftime("%Y/%m/%d/%H/%Y%m%dT%H%M%S", t)
    return f"{prefix}{stamp}-{request_id or uuid.uuid4().hex}.jsonl.gz"


@dataclass
class DeadLetterWriter:
    """Writes dead letters to S3 (``s3`` is a boto3 S3 client)."""

    s3: Any
    bucket: str
    prefix: str = "dead-letter/"

    def write(self, letters: list[DeadLetter], request_id: str | None = None) -> str:
        """Put one object holding ``letters``; returns its key. Raises what S3 raised."""
        now = int(time.time() * 1000)
        key = object_key(self.prefix, now, request_id)
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
