"""Decoding Kinesis event records: every real-format fixture under events/kinesis/ decodes to the
payload its .expect.json names, bad records become typed errors that can be dead-lettered, and
one bad record never costs the others of the batch."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from lambdalens.decoding import (
    CONTROL_MESSAGE,
    DATA_MESSAGE,
    DecodedRecord,
    DecodeError,
    SubscriptionPayload,
    decode_kinesis_record,
    iter_kinesis_event,
)
from lambdalens.parsing import BatchParser

EVENTS = Path(__file__).resolve().parents[2] / "events"
KINESIS_FIXTURES = sorted(
    p for p in (EVENTS / "kinesis").glob("*.json") if not p.name.endswith(".expect.json")
)
DECODE_REASONS = {"not_base64", "not_gzip", "not_json", "not_subscription_payload"}
SHARD = "shardId-000000000000"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/lambdalens-logs"


def load(relative: str) -> Any:
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def records_with_expectations() -> list[Any]:
    cases = []
    for path in KINESIS_FIXTURES:
        event = json.loads(path.read_text(encoding="utf-8"))
        expect = json.loads(path.with_name(path.stem + ".expect.json").read_text(encoding="utf-8"))
        assert len(event["Records"]) == len(expect), f"{path.name}: one expectation per record"
        for i, (record, want) in enumerate(zip(event["Records"], expect, strict=True)):
            cases.append(pytest.param(record, want, id=f"{path.stem}[{i}]-{want['result']}"))
    return cases


def compact_gzip_b64(obj: object) -> str:
    """What CloudWatch Logs puts in a Kinesis record: base64(gzip(compact JSON))."""
    raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")


def kinesis_record(
    data: object, sequence: str = "49651384772350143289513092274619438829547999999999999999"
) -> Any:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "40b3b8330f229ebb55c4d136da67350e",
            "sequenceNumber": sequence,
            "data": data,
            "approximateArrivalTimestamp": 1714556400.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{SHARD}:{sequence}",
        "eventName": "aws:kinesis:record",
        "awsRegion": "eu-central-1",
        "eventSourceARN": STREAM_ARN,
    }


def assert_is_payload(payload: SubscriptionPayload, expected: Any) -> None:
    """The decoded payload carries exactly what CloudWatch Logs sent, event for event."""
    assert payload.message_type == expected["messageType"]
    assert payload.owner == expected["owner"]
    assert payload.log_group == expected["logGroup"]
    assert payload.log_stream == expected["logStream"]
    assert payload.subscription_filters == expected["subscriptionFilters"]
    assert payload.log_events == expected["logEvents"]


# --------------------------------------------------------------------------- the fixtures


def test_fixtures_cover_every_outcome() -> None:
    results = [case.values[1]["result"] for case in records_with_expectations()]
    assert {"ok", "control"} | DECODE_REASONS <= set(results)


@pytest.mark.parametrize(("record", "want"), records_with_expectations())
def test_each_fixture_record_decodes_as_its_expectation_says(record: Any, want: Any) -> None:
    if want["result"] in DECODE_REASONS:
        with pytest.raises(DecodeError) as info:
            decode_kinesis_record(record)
        err = info.value
        assert err.reason == want["result"]
        assert err.record_id.shard_id == SHARD
        assert err.record_id.sequence_number == want["sequenceNumber"]
        assert err.record_id.stream_arn == STREAM_ARN
        assert err.raw, "the raw bytes travel with the error so the record can be dead-lettered"
        return
    decoded = decode_kinesis_record(record)
    assert decoded.record_id.shard_id == SHARD
    assert decoded.record_id.sequence_number == want["sequenceNumber"]
    assert len(decoded.payloads) == 1
    payload = decoded.payloads[0]
    assert payload.region == "us-east-1"
    assert payload.record_id == decoded.record_id
    if want["result"] == "control":
        assert payload.is_control
        assert payload.message_type == CONTROL_MESSAGE
        assert payload.owner == "CloudwatchLogs"
    else:
        assert want["result"] == "ok"
        assert not payload.is_control
        assert_is_payload(payload, load(want["payload"]))


# --------------------------------------------------------------------------- the poison batch


def test_poison_batch_yields_one_result_per_record_and_never_aborts() -> None:
    event = load("kinesis/poison-batch.json")
    expect = load("kinesis/poison-batch.expect.json")
    results = list(iter_kinesis_event(event))
    assert len(results) == len(event["Records"])
    for result, want in zip(results, expect, strict=True):
        if want["result"] == "ok":
            assert isinstance(result, DecodedRecord), f"good record {want['sequenceNumber']} was lost"
            assert_is_payload(result.payloads[0], load(want["payload"]))
        else:
            assert isinstance(result, DecodeError)
            assert (result.reason, result.record_id.sequence_number) == (
                want["result"],
                want["sequenceNumber"],
            )


def test_poison_batch_good_records_still_become_documents() -> None:
    event = load("kinesis/poison-batch.json")
    expect = load("kinesis/poison-batch.expect.json")
    parser = BatchParser()
    docs = []
    for result in iter_kinesis_event(event):
        if isinstance(result, DecodedRecord):
            for payload in result.payloads:
                docs.extend(parser.parse(payload))
    parser.finish()
    good = [load(want["payload"]) for want in expect if want["result"] == "ok"]
    expected_events = [e for payload in good for e in payload["logEvents"]]
    assert [d["body"] for d in docs] == [e["message"] for e in expected_events]
    assert [d["log.record.uid"] for d in docs] == [e["id"] for e in expected_events]
    assert {d["aws.log.group"] for d in docs} == {p["logGroup"] for p in good}


def test_dead_letter_raw_bytes_are_what_was_received() -> None:
    """not_base64 keeps the data as received; later failures keep the base64-decoded bytes,
    so a dead-lettered record can be inspected and replayed without loss."""
    event = load("kinesis/poison-batch.json")
    by_sequence = {r["kinesis"]["sequenceNumber"]: r for r in event["Records"]}
    errors = [r for r in iter_kinesis_event(event) if isinstance(r, DecodeError)]
    assert [e.reason for e in errors] == [
        "not_base64",
        "not_gzip",
        "not_json",
        "not_subscription_payload",
        "not_gzip",
    ]
    for err in errors:
        data = by_sequence[err.record_id.sequence_number]["kinesis"]["data"]
        if err.reason == "not_base64":
            assert err.raw == data.encode()
        else:
            assert err.raw == base64.b64decode(data)
    not_json = next(e for e in errors if e.reason == "not_json")
    assert gzip.decompress(not_json.raw).startswith(b"END RequestId: ")
    not_payload = next(e for e in errors if e.reason == "not_subscription_payload")
    assert json.loads(gzip.decompress(not_payload.raw)) == {
        "level": "INFO",
        "message": "order stored",
        "service": "orders",
    }


def test_decode_error_is_a_catchable_exception_naming_reason_and_record() -> None:
    event = load("kinesis/poison-batch.json")
    bad = event["Records"][1]
    with pytest.raises(Exception) as info:  # callers may catch broadly; it must still be a DecodeError
        decode_kinesis_record(bad)
    assert isinstance(info.value, DecodeError)
    text = str(info.value)
    assert "not_base64" in text
    assert bad["kinesis"]["sequenceNumber"] in text
    assert SHARD in text


# --------------------------------------------------------------------------- hostile records


def _gz(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data, mtime=0)).decode()


GOOD_PAYLOAD = load("logs/python-text-xray-warm.json")

HOSTILE = [
    pytest.param("!!not base64!!", "not_base64", id="punctuation"),
    pytest.param("abc", "not_base64", id="bad-padding"),
    pytest.param(12345, "not_base64", id="data-not-a-string"),
    pytest.param(None, "not_base64", id="data-null"),
    pytest.param(base64.b64encode(b"START RequestId: x").decode(), "not_gzip", id="plain-text"),
    pytest.param(
        base64.b64encode(gzip.compress(b'{"messageType":"DATA_MESSAGE"}') + b"trailing junk").decode(),
        "not_gzip",
        id="gzip-then-garbage",
    ),
    pytest.param(_gz(b"\xff\xfe\x00not utf-8"), "not_json", id="gzip-of-binary"),
    pytest.param(_gz(b'{"messageType": "DATA_MESSAGE", '), "not_json", id="gzip-of-cut-json"),
    pytest.param(_gz(b"[1, 2, 3]"), "not_subscription_payload", id="json-array"),
    pytest.param(_gz(b'"DATA_MESSAGE"'), "not_subscription_payload", id="json-string"),
    pytest.param(
        _gz(json.dumps({**GOOD_PAYLOAD, "messageType": "SOMETHING_ELSE"}).encode()),
        "not_subscription_payload",
        id="unknown-message-type",
    ),
    pytest.param(
        _gz(json.dumps({k: v for k, v in GOOD_PAYLOAD.items() if k != "logGroup"}).encode()),
        "not_subscription_payload",
        id="data-message-without-log-group",
    ),
    pytest.param(
        _gz(json.dumps({**GOOD_PAYLOAD, "logEvents": {"id": "1"}}).encode()),
        "not_subscription_payload",
        id="log-events-not-a-list",
    ),
]


@pytest.mark.parametrize(("data", "reason"), HOSTILE)
def test_hostile_record_is_a_typed_error_with_its_identity(data: object, reason: str) -> None:
    record = kinesis_record(data, sequence="49651384772350143289513092274619438829547000000000000042")
    with pytest.raises(DecodeError) as info:
        decode_kinesis_record(record)
    err = info.value
    assert err.reason == reason
    assert err.record_id.shard_id == SHARD
    assert err.record_id.sequence_number == "49651384772350143289513092274619438829547000000000000042"
    assert isinstance(err.raw, bytes)


def test_record_without_kinesis_data_is_an_error_not_a_crash() -> None:
    record = kinesis_record("x")
    del record["kinesis"]["data"]
    with pytest.raises(DecodeError) as info:
        decode_kinesis_record(record)
    assert info.value.reason == "not_subscription_payload"
    assert info.value.record_id.sequence_number == record["kinesis"]["sequenceNumber"]


def test_hostile_records_between_good_ones_cost_only_themselves() -> None:
    good = compact_gzip_b64(GOOD_PAYLOAD)
    records = [kinesis_record(good, sequence=f"{i:056d}") for i in range(3)]
    for i, param in enumerate(HOSTILE):
        records.insert(2 * i + 1, kinesis_record(param.values[0], sequence=f"9{i:055d}"))
    results = list(iter_kinesis_event({"Records": records}))
    assert len(results) == len(records)
    decoded = [r for r in results if isinstance(r, DecodedRecord)]
    assert [d.record_id.sequence_number for d in decoded] == [f"{i:056d}" for i in range(3)]
    for d in decoded:
        assert_is_payload(d.payloads[0], GOOD_PAYLOAD)
    assert [r.reason for r in results if isinstance(r, DecodeError)] == [p.values[1] for p in HOSTILE]


# --------------------------------------------------------------------------- control messages


def test_control_message_is_recognised_and_skipped_and_counted() -> None:
    event = load("kinesis/with-control-message.json")
    expect = load("kinesis/with-control-message.expect.json")
    parser = BatchParser()
    docs = []
    kinds = []
    for result in iter_kinesis_event(event):
        assert isinstance(result, DecodedRecord)
        for payload in result.payloads:
            kinds.append(payload.is_control)
            docs.extend(parser.parse(payload))
    parser.finish()
    assert kinds == [want["result"] == "control" for want in expect]
    assert parser.stats.control_messages == 1
    assert parser.stats.payloads == 3
    data = [load(want["payload"]) for want in expect if want["result"] == "ok"]
    assert [d["body"] for d in docs] == [e["message"] for p in data for e in p["logEvents"]]
    assert not any("CWL CONTROL MESSAGE" in d["body"] for d in docs)
    assert parser.stats.events == len(docs)


def test_control_message_produces_no_document_on_its_own() -> None:
    record = kinesis_record(
        compact_gzip_b64(
            {
                "messageType": "CONTROL_MESSAGE",
                "owner": "CloudwatchLogs",
                "logGroup": "",
                "logStream": "",
                "subscriptionFilters": [],
                "logEvents": [
                    {
                        "id": "",
                        "timestamp": 1714554832191,
                        "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.",
                    }
                ],
            }
        )
    )
    (payload,) = decode_kinesis_record(record).payloads
    assert payload.is_control
    parser = BatchParser()
    assert parser.parse(payload) == []
    parser.finish()
    assert (parser.stats.control_messages, parser.stats.events) == (1, 0)


def test_data_message_is_not_control() -> None:
    (payload,) = decode_kinesis_record(kinesis_record(compact_gzip_b64(GOOD_PAYLOAD))).payloads
    assert payload.message_type == DATA_MESSAGE
    assert not payload.is_control


# --------------------------------------------------------------------------- several gzip members


def test_concatenated_gzip_members_give_every_payload_in_order() -> None:
    first = load("logs/python-text-cold-start.json")
    second = load("logs/node-text-invoke-error.json")
    blob = b"".join(
        gzip.compress(json.dumps(p, separators=(",", ":")).encode(), mtime=0) for p in (first, second)
    )
    decoded = decode_kinesis_record(kinesis_record(base64.b64encode(blob).decode()))
    assert len(decoded.payloads) == 2
    assert_is_payload(decoded.payloads[0], first)
    assert_is_payload(decoded.payloads[1], second)
    assert all(p.record_id == decoded.record_id and p.region == "eu-central-1" for p in decoded.payloads)

    parser = BatchParser()
    docs = [doc for p in decoded.payloads for doc in parser.parse(p)]
    parser.finish()
    assert [d["body"] for d in docs] == [e["message"] for p in (first, second) for e in p["logEvents"]]
    assert {d["faas.name"] for d in docs} == {"orders-api", "user-profile"}


def test_a_bad_gzip_member_after_a_good_one_dead_letters_the_whole_record() -> None:
    good = gzip.compress(json.dumps(GOOD_PAYLOAD).encode(), mtime=0)
    blob = good + gzip.compress(b'{"messageType":"DATA_MESSAGE"}', mtime=0)[:15]
    with pytest.raises(DecodeError) as info:
        decode_kinesis_record(kinesis_record(base64.b64encode(blob).decode()))
    assert info.value.reason == "not_gzip"
    assert info.value.raw == blob, "all members are kept for the dead-letter bucket"


def test_kinesis_region_reaches_the_documents_and_wins_over_the_default() -> None:
    (payload,) = decode_kinesis_record(kinesis_record(compact_gzip_b64(GOOD_PAYLOAD))).payloads
    parser = BatchParser(region="us-west-2")
    docs = parser.parse(payload)
    parser.finish()
    assert {d["cloud.region"] for d in docs} == {"eu-central-1"}
    assert {d["cloud.account.id"] for d in docs} == {"123456789012"}
