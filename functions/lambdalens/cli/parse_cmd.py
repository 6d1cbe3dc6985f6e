"""``lambdalens parse [FILE|-]``: subscription records in, one JSON document per log event out.

Accepts a Kinesis event, a ``{"awslogs": ...}`` event, a decoded subscription payload, or
JSON Lines of any of these. The documents are the ones the parser Lambda would index: they go
through its document stage (:mod:`lambdalens.pipeline.documents`: redaction as the
``REDACTION_*`` variables configure it, on by default; a body longer than ``MAX_BODY_CHARS``
cut) and are written as its bulk encoder writes them. ``--no-redact`` shows them unredacted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from lambdalens.decoding import DecodedRecord, DecodeError, RecordId, iter_any_event
from lambdalens.indexing.bulk_body import encode_item
from lambdalens.parsing import BatchParser, Document
from lambdalens.pipeline.documents import DocumentStage
from lambdalens.redaction import RedactionConfigError
from lambdalens.settings import SettingsError


class InputError(Exception):
    """The input is not JSON or JSON Lines."""


def read_objects(stream: BinaryIO) -> Iterator[tuple[str, Any]]:
    """(position, JSON value) of a JSON document or of each line of JSON Lines."""
    data = stream.read()
    if not data.strip():
        raise InputError("input is empty")
    try:
        yield "input", orjson.loads(data)
        return
    except orjson.JSONDecodeError:
        pass
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line:{number}", orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield (
                f"line:{number}",
                DecodeError(
                    "not_json",
                    f"line {number} is not JSON ({exc})",
                    RecordId("input", f"line:{number}"),
                    line,
                ),
            )


def parse_input(
    stream: BinaryIO, keep_going: bool, region: str | None = None
) -> tuple[list[Document], list[DecodeError]]:
    """Parse everything in ``stream``; without ``keep_going`` stop at the first bad record. The
    documents as the parser makes them (before the document stage)."""
    parser = BatchParser(region=region)
    docs: list[Document] = []
    bad: list[DecodeError] = []
    for position, obj in read_objects(stream):
        results: list[DecodedRecord | DecodeError] = (
            [obj] if isinstance(obj, DecodeError) else list(iter_any_event(obj, position))
        )
        for result in results:
            if isinstance(result, DecodeError):
                bad.append(result)
                if not keep_going:
                    return docs, bad
                continue
            for payload in result.payloads:
                docs.extend(parser.parse(payload))
    parser.finish()
    return docs, bad


def indexed_source(doc: Document) -> bytes:
    """The document's JSON as the bulk body carries it to OpenSearch (newline-terminated)."""
    return encode_item(doc).split(b"\n", 1)[1]


def finish_documents(docs: list[Document], stage: DocumentStage) -> int:
    """Put ``docs`` through the parser Lambda's document stage, in place; returns how many had a
    body cut (the Lambda dead-letters their whole text)."""
    cut = 0
    for doc in docs:
        if stage.finish(doc)[1] is not None:
            cut += 1
    return cut


def run(args: argparse.Namespace) -> int:
    try:
        stage = DocumentStage.from_env(os.environ, redact=not args.no_redact)
    except (RedactionConfigError, SettingsError) as exc:
        print(f"lambdalens parse: {exc}", file=sys.stderr)
        return 2
    try:
        if args.file == "-":
            docs, bad = parse_input(sys.stdin.buffer, args.keep_going, args.region)
        else:
            with open(args.file, "rb") as fh:
                docs, bad = parse_input(fh, args.keep_going, args.region)
    except OSError as exc:
        print(f"lambdalens parse: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"lambdalens parse: {args.file}: {exc}", file=sys.stderr)
        return 1
    for err in bad:
        print(f"lambdalens parse: bad record {err.record_id}: {err.reason}: {err.detail}", file=sys.stderr)
    if bad and not args.keep_going:
        return 1
    cut = finish_documents(docs, stage)
    if cut:
        print(
            f"lambdalens parse: {cut} document(s) with a body longer than MAX_BODY_CHARS={stage.max_body_chars}"
            " cut, as the index holds them (the parser Lambda dead-letters their whole text)",
            file=sys.stderr,
        )
    out = sys.stdout.buffer
    for doc in docs:
        source = indexed_source(doc)
        out.write(
            orjson.dumps(orjson.loads(source), option=orjson.OPT_INDENT_2) + b"\n" if args.pretty else source
        )
    out.flush()
    return 1 if bad else 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "parse",
        help="parse Kinesis / awslogs events or subscription payloads into documents (JSON Lines)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", default="-", help="input file, or - for standard input (default)")
    p.add_argument("--pretty", action="store_true", help="indent each document for humans")
    p.add_argument(
        "--keep-going", action="store_true", help="report bad records to stderr and go on (exit 1 at the end)"
    )
    p.add_argument("--region", help="cloud.region for records that do not carry one")
    p.add_argument(
        "--no-redact",
        action="store_true",
        help="do not redact (the documents as parsed; REDACTION_* configure what is redacted otherwise)",
    )
    p.set_defaults(func=run)
