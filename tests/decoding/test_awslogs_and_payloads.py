"""The direct CloudWatch Logs -> Lambda form (``{"awslogs": {"data": ...}}``), already decoded
subscription payloads, and :func:`iter_any_event`, which the CLI uses to accept all of them."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from lambdalens.decoding import (
    DecodedRecord,
    DecodeError,
    RecordId,
    decode_awslogs_event,
    iter_any_event,
    payload_from_json,
)
from lambdalens.parsing import BatchParser, parse_payloads

EVENTS = Path(__file__).resolve().parents[2] / "events"
AWSLOGS = sorted((EVENTS / "awslogs").glob("*.json"))


def load(relative: str) -> Any:
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def b64_gzip(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data, mtime=0)).decode()


@pytest.mark.parametrize("path", AWSLOGS, ids=[p.stem for p in AWSLOGS])
def test_awslogs_event_decodes_to_the_payload_it_wraps(path: Path) -> None:
    event = json.loads(path.read_text(encoding="utf-8"))
    expected = load(f"logs/{path.name}")
    decoded = decode_awslogs_event(event)
    assert len(decoded.payloads) == 1
    payload = decoded.payloads[0]
    assert not payload.is_control
    assert payload.log_group == expected["logGroup"]
    assert payload.log_stream == expected["logStream"]
    assert payload.owner == expected["owner"]
    assert payload.subscription_filters == expected["subscriptionFilters"]
    assert payload.log_events == expected["logEvents"]
    assert payload.region is None, "the awslogs form does not say the region"
    assert decoded.record_id.shard_id == "awslogs"


@pytest.mark.parametrize("path", AWSLOGS, ids=[p.stem for p in AWSLOGS])
def test_awslogs_event_parses_like_its_decoded_payload(path: Path) -> None:
    event = json.loads(path.read_text(encoding="utf-8"))
    via_awslogs = parse_payloads(decode_awslogs_event(event).payloads, region="eu-west-1", observed_at_ms=0)
    decoded = load(f"logs/{path.name}")
    direct = parse_payloads(
        [payload_from_json(decoded, RecordId("payload", "input"), b"")], region="eu-west-1", observed_at_ms=0
    )
    assert via_awslogs == direct
    assert len(via_awslogs) == len(decoded["logEvents"])
    assert {d["cloud.region"] for d in via_awslogs} == {"eu-west-1"}, "the caller's region is used"


def test_iter_any_event_accepts_every_input_form() -> None:
    kinesis = load("kinesis/two-functions.json")
    awslogs = load("awslogs/node-json-cold-start.json")
    payload = load("logs/ruby-text-logger.json")
    single_record = kinesis["Records"][0]
    groups = {}
    for name, obj in {
        "kinesis": kinesis,
        "awslogs": awslogs,
        "payload": payload,
        "record": single_record,
    }.items():
        results = list(iter_any_event(obj, position="line:7"))
        assert all(isinstance(r, DecodedRecord) for r in results), name
        groups[name] = [p.log_group for r in results if isinstance(r, DecodedRecord) for p in r.payloads]
    assert groups == {
        "kinesis": ["/aws/lambda/orders-api", "/aws/lambda/user-profile", "/aws/lambda/invoice-generator"],
        "awslogs": ["/aws/lambda/cold-start-perf"],
        "payload": ["/aws/lambda/newsletter-sender"],
        "record": ["/aws/lambda/orders-api"],
    }


def test_iter_any_event_names_the_position_of_a_bad_input() -> None:
    (err,) = list(iter_any_event({"hello": "world"}, position="line:3"))
    assert isinstance(err, DecodeError)
    assert err.reason == "not_subscription_payload"
    assert err.record_id.sequence_number == "line:3"
    assert b"hello" in err.raw


@pytest.mark.parametrize("obj", [[1, 2], "text", 42, None, {"Records": "nope"}], ids=repr)
def test_iter_any_event_rejects_what_is_no_known_form(obj: object) -> None:
    results = list(iter_any_event(obj))
    assert len(results) == 1
    assert isinstance(results[0], DecodeError)
    assert results[0].reason == "not_subscription_payload"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        pytest.param({"awslogs": {}}, "not_subscription_payload", id="no-data"),
        pytest.param({"awslogs": "H4sI"}, "not_subscription_payload", id="awslogs-not-an-object"),
        pytest.param({"awslogs": {"data": "%%%"}}, "not_base64", id="not-base64"),
        pytest.param({"awslogs": {"data": base64.b64encode(b"plain").decode()}}, "not_gzip", id="not-gzip"),
        pytest.param({"awslogs": {"data": b64_gzip(b"REPORT RequestId")}}, "not_json", id="not-json"),
        pytest.param(
            {"awslogs": {"data": b64_gzip(b'{"level": "INFO"}')}},
            "not_subscription_payload",
            id="app-log-not-payload",
        ),
    ],
)
def test_bad_awslogs_event_is_a_typed_error(event: Any, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_awslogs_event(event, position="req-1")
    assert info.value.reason == reason
    assert info.value.record_id.shard_id == "awslogs"
    assert info.value.record_id.sequence_number == "req-1"
    results = list(iter_any_event(event, position="req-1"))
    assert [type(r) for r in results] == [DecodeError], "iter_any_event yields, never raises"


def test_decoded_payload_is_validated() -> None:
    good = load("logs/go-text-cold-start.json")
    rid = RecordId("payload", "input")
    payload = payload_from_json(good, rid, b"")
    assert payload.log_events == good["logEvents"]
    for broken in (
        {**good, "messageType": None},
        {**good, "logEvents": "START"},
        {k: v for k, v in good.items() if k != "logGroup"},
        {**good, "logGroup": 7},
    ):
        with pytest.raises(DecodeError) as info:
            payload_from_json(broken, rid, b"raw")
        assert info.value.reason == "not_subscription_payload"
        assert info.value.raw == b"raw"


def test_payload_without_log_events_is_an_empty_payload() -> None:
    payload = payload_from_json(
        {
            "messageType": "DATA_MESSAGE",
            "owner": "123456789012",
            "logGroup": "/aws/lambda/x",
            "logStream": "s",
        },
        RecordId("payload", "input"),
        b"",
    )
    parser = BatchParser()
    assert parser.parse(payload) == []
    parser.finish()
