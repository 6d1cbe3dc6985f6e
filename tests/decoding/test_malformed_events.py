"""A malformed log event inside an otherwise valid payload is kept as a salvaged document
(``lambda.parse_error``, the original kept in ``body``): it neither dead-letters the record nor
raises, and the other events of the payload come out exactly as without it."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lambdalens.decoding import decode_kinesis_record
from lambdalens.parsing import EVENT_TYPES, BatchParser, Document

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLE = json.loads((EVENTS / "logs" / "python-text-cold-start.json").read_text(encoding="utf-8"))
BARE = 4  # "validating 3 line items\n": a bare print line in the first invocation
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
OBSERVED_MS = 1_714_600_000_000


def as_kinesis_record(
    payload: Any, sequence: str = "49651384772350143289513092274619438829547006231904894978"
) -> Any:
    data = base64.b64encode(gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), mtime=0))
    return {
        "kinesis": {"sequenceNumber": sequence, "data": data.decode()},
        "eventID": f"shardId-000000000003:{sequence}",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/lambdalens-logs",
    }


def parse_record(payload: Any) -> tuple[list[Document], BatchParser]:
    decoded = decode_kinesis_record(as_kinesis_record(payload))  # must not raise: the record is fine
    parser = BatchParser(observed_at_ms=OBSERVED_MS)
    docs = [doc for p in decoded.payloads for doc in parser.parse(p)]
    parser.finish()
    return docs, parser


def with_event(position: int, event: Any) -> Any:
    payload = copy.deepcopy(SAMPLE)
    payload["logEvents"][position] = event
    return payload


ORIGINAL = SAMPLE["logEvents"][BARE]
MALFORMED = [
    pytest.param({k: v for k, v in ORIGINAL.items() if k != "id"}, id="missing-id"),
    pytest.param({**ORIGINAL, "id": None}, id="null-id"),
    pytest.param({**ORIGINAL, "message": 12345}, id="number-message"),
    pytest.param({**ORIGINAL, "message": {"text": "validating"}}, id="object-message"),
    pytest.param({**ORIGINAL, "message": None}, id="null-message"),
    pytest.param({k: v for k, v in ORIGINAL.items() if k != "message"}, id="missing-message"),
    pytest.param({k: v for k, v in ORIGINAL.items() if k != "timestamp"}, id="missing-timestamp"),
    pytest.param({**ORIGINAL, "timestamp": "yesterday"}, id="string-timestamp"),
    pytest.param("validating 3 line items", id="event-is-a-string"),
    pytest.param(None, id="event-is-null"),
    pytest.param([1, 2], id="event-is-a-list"),
]


@pytest.mark.parametrize("event", MALFORMED)
def test_malformed_event_becomes_a_salvaged_document(event: Any) -> None:
    docs, parser = parse_record(with_event(BARE, event))
    assert len(docs) == len(SAMPLE["logEvents"]), "one document per event, the malformed one included"
    doc = docs[BARE]
    assert isinstance(doc["lambda.parse_error"], str) and doc["lambda.parse_error"]
    assert doc["lambda.event_type"] in EVENT_TYPES
    assert doc["severity.number"] in (1, 5, 9, 13, 17, 21)
    assert ISO_MS.match(doc["@timestamp"])
    assert isinstance(doc["log.record.uid"], str) and doc["log.record.uid"]
    assert doc["aws.log.group"] == SAMPLE["logGroup"]
    assert parser.stats.salvaged == 1
    # body keeps what arrived: the message itself when it is text, otherwise the whole event
    message = event.get("message") if isinstance(event, dict) else None
    if isinstance(message, str):
        assert doc["body"] == message
    else:
        assert isinstance(doc["body"], str)
        assert json.loads(doc["body"]) == event


@pytest.mark.parametrize("event", MALFORMED)
def test_the_other_events_are_untouched_by_a_malformed_one(event: Any) -> None:
    baseline, _ = parse_record(SAMPLE)
    docs, _ = parse_record(with_event(BARE, event))
    for i, (want, got) in enumerate(zip(baseline, docs, strict=True)):
        if i != BARE:
            assert got == want, f"event {i} changed because event {BARE} was malformed"


def test_salvaged_event_keeps_its_id_and_timestamp_when_they_are_valid() -> None:
    docs, _ = parse_record(with_event(BARE, {**ORIGINAL, "message": 12345}))
    assert docs[BARE]["log.record.uid"] == ORIGINAL["id"]
    when = datetime.fromtimestamp(ORIGINAL["timestamp"] / 1000, tz=UTC)
    assert (
        docs[BARE]["@timestamp"] == when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    )


def test_events_without_id_get_distinct_uids_that_survive_redelivery() -> None:
    """The uid is the OpenSearch _id: two id-less events must not overwrite each other, and a
    redelivered record must give the same ids again (no duplicates)."""
    payload = copy.deepcopy(SAMPLE)
    for i in (3, 4, 5):
        del payload["logEvents"][i]["id"]
    first, _ = parse_record(payload)
    again, _ = parse_record(payload)
    uids = [d["log.record.uid"] for d in first]
    assert len(set(uids)) == len(uids)
    assert uids == [d["log.record.uid"] for d in again]
    assert [d["body"] for d in first] == [e["message"] for e in SAMPLE["logEvents"]]


def test_a_payload_of_only_malformed_events_still_gives_one_document_each() -> None:
    payload = copy.deepcopy(SAMPLE)
    payload["logEvents"] = [None, 7, "text", {"id": "1"}, {"message": ["a"]}]
    docs, parser = parse_record(payload)
    assert len(docs) == 5
    assert all("lambda.parse_error" in d for d in docs)
    assert parser.stats.salvaged == 5
    assert parser.stats.events == 5


def test_integer_ids_are_parsed_normally_with_the_id_as_a_string() -> None:
    """moto and LocalStack deliver small integer ids: the event is fine, only its id is a number."""
    as_ints = copy.deepcopy(SAMPLE)
    as_strings = copy.deepcopy(SAMPLE)
    for i, (a, b) in enumerate(zip(as_ints["logEvents"], as_strings["logEvents"], strict=True)):
        a["id"], b["id"] = i, str(i)
    docs, parser = parse_record(as_ints)
    assert parser.stats.salvaged == 0
    assert [d["log.record.uid"] for d in docs] == [str(i) for i in range(len(docs))]
    assert docs == parse_record(as_strings)[0]


def test_an_empty_id_gets_the_synthetic_id_of_a_missing_one() -> None:
    """An empty id cannot be a document _id: it gets the stable synthetic id a missing id gets,
    and the event (whose message is fine) is parsed as usual."""
    empty = with_event(BARE, {**ORIGINAL, "id": ""})
    missing = with_event(BARE, {k: v for k, v in ORIGINAL.items() if k != "id"})
    docs, parser = parse_record(empty)
    again, _ = parse_record(empty)
    uid = docs[BARE]["log.record.uid"]
    assert uid and uid == again[BARE]["log.record.uid"] == parse_record(missing)[0][BARE]["log.record.uid"]
    assert len({d["log.record.uid"] for d in docs}) == len(docs)
    assert parser.stats.salvaged == 0
    baseline, _ = parse_record(SAMPLE)
    assert {**docs[BARE], "log.record.uid": ORIGINAL["id"]} == baseline[BARE]
