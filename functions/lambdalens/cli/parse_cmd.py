"""``lambdalens parse [FILE|-]``: subscription records in, one JSON document per log event out.

Accepts a Kinesis event, a ``{"awslogs": ...}`` event, a decoded subscription payload, or
JSON Lines of any of these.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from lambdalens.decoding import DecodedRecord, DecodeError, RecordId, iter_any_event
from lambdalens.parsing import BatchParser, Document


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
    """Parse everything in ``stream``; without ``keep_going`` stop at the first bad record."""
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


def run(args: argparse.Namespace) -> int:
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
    option = orjson.OPT_INDENT_2 if args.pretty else 0
    out = sys.stdout.buffer
    for doc in docs:
        out.write(orjson.dumps(doc, option=option | orjson.OPT_NON_STR_KEYS))
        out.write(b"\n")
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
    p.set_defaults(func=run)
