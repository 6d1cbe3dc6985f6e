"""Reading a failed batch back from Kinesis (moto): exactly the range, in the shape Lambda
delivers, and a clear account of what has expired."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.kinesis.models import kinesis_backends

from lambdalens.decoding import decode_kinesis_record
from lambdalens.redrive import RangeReader, lambda_event_record, parse_on_failure
from redrive.redrive_support import ACCOUNT, REGION, STREAM, Stream, on_failure_message, workload


def reader_for(stream: Stream, first: int, last: int, **kwargs: Any) -> RangeReader:
    batch = parse_on_failure(on_failure_message(stream, stream.records[first : last + 1]))
    return RangeReader(stream.kinesis, batch, **kwargs)


def trim(stream: Stream, count: int) -> None:
    """What Kinesis does when records pass the retention period: the oldest leave the shard."""
    shard = kinesis_backends[ACCOUNT][REGION].streams[STREAM].shards[stream.shard_id]
    for sequence in list(shard.records)[:count]:
        del shard.records[sequence]


def test_reads_exactly_the_range_as_lambda_delivers_it(stream: Stream) -> None:
    stream.put_payloads(workload(120))
    assert len(stream.records) >= 8
    reader = reader_for(stream, 2, 6, page_size=2)  # several GetRecords pages
    records = list(reader.records())
    assert [r["kinesis"]["sequenceNumber"] for r in records] == [
        p.sequence_number for p in stream.records[2:7]
    ]
    assert reader.complete and reader.found == 5 and reader.problem() is None
    for record, put in zip(records, stream.records[2:7], strict=True):
        assert set(record) == {
            "kinesis",
            "eventSource",
            "eventVersion",
            "eventID",
            "eventName",
            "awsRegion",
            "eventSourceARN",
        }
        assert record["eventSource"] == "aws:kinesis" and record["eventName"] == "aws:kinesis:record"
        assert record["eventVersion"] == "1.0" and record["awsRegion"] == REGION
        assert record["eventSourceARN"] == stream.arn
        assert record["eventID"] == f"{stream.shard_id}:{put.sequence_number}"
        kinesis = record["kinesis"]
        assert kinesis["kinesisSchemaVersion"] == "1.0"
        assert kinesis["partitionKey"] == put.payload["logStream"]
        assert base64.b64decode(kinesis["data"]) == put.data
        assert isinstance(kinesis["approximateArrivalTimestamp"], float)
        decoded = decode_kinesis_record(record)  # the parser's own decoding takes it as a delivery
        assert decoded.record_id.shard_id == stream.shard_id
        assert {e["id"] for p in decoded.payloads for e in p.log_events} == put.event_ids


def test_event_record_of_a_get_records_row() -> None:
    row = {
        "SequenceNumber": "49651384772350143289513092274619438829547006231904894978",
        "ApproximateArrivalTimestamp": datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC),
        "Data": b"\x1f\x8b payload",
        "PartitionKey": "2024/05/01/[$LATEST]3f1e",
        "EncryptionType": "KMS",
    }
    arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/logs"
    record = lambda_event_record(
        row, "shardId-000000000003", arn, "eu-west-1", "arn:aws:iam::123456789012:role/parser"
    )
    assert record == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "2024/05/01/[$LATEST]3f1e",
            "sequenceNumber": "49651384772350143289513092274619438829547006231904894978",
            "data": base64.b64encode(b"\x1f\x8b payload").decode(),
            "approximateArrivalTimestamp": 1714564800.123,
            "encryptionType": "KMS",
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": "shardId-000000000003:49651384772350143289513092274619438829547006231904894978",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/parser",
        "awsRegion": "eu-west-1",
        "eventSourceARN": arn,
    }


def test_a_range_older_than_the_retention_period_is_not_read_and_is_reported(stream: Stream) -> None:
    stream.put_payloads(workload(40))
    old = datetime.now(UTC) - timedelta(hours=30)
    batch = parse_on_failure(on_failure_message(stream, stream.records[:3], arrived=old))
    calls: list[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(stream.kinesis, name)

    reader = RangeReader(Counting(), batch, retention_hours=24)
    assert reader.expired and list(reader.records()) == [] and calls == []
    problem = reader.problem() or ""
    assert problem.startswith("expired:") and "retention 24 h" in problem and STREAM in problem


def test_a_range_whose_first_records_were_trimmed_reports_the_missing_part(stream: Stream) -> None:
    stream.put_payloads(workload(80))
    trim(stream, 3)
    arrived = datetime.now(UTC) - timedelta(hours=23, minutes=59)  # the first ones just left
    batch = parse_on_failure(on_failure_message(stream, stream.records[:6], arrived=arrived))
    reader = RangeReader(stream.kinesis, batch, retention_hours=24)
    got = [r["kinesis"]["sequenceNumber"] for r in reader.records()]
    assert got == [p.sequence_number for p in stream.records[3:6]]
    assert not reader.complete and reader.missing == 3
    problem = reader.problem() or ""
    assert "3 of 6 records expired from the stream" in problem
    assert f"oldest record in the range is {stream.records[3].sequence_number}" in problem


def test_a_range_past_the_end_of_the_shard_is_reported_not_found(stream: Stream) -> None:
    stream.put_payloads(workload(40))
    batch = parse_on_failure(on_failure_message(stream, stream.records[-2:]))
    batch = type(batch)(**{**batch.__dict__, "end_sequence_number": str(batch.end + 5), "batch_size": 7})
    reader = RangeReader(stream.kinesis, batch, retention_hours=24)
    assert len(list(reader.records())) == 2
    assert not reader.complete and "5 of 7 records not found: the shard ends at" in (reader.problem() or "")


def test_a_deleted_stream_is_reported(stream: Stream) -> None:
    stream.put_payloads(workload(20))
    batch = parse_on_failure(on_failure_message(stream, stream.records[:1]))
    stream.kinesis.delete_stream(StreamName=STREAM)
    reader = RangeReader(stream.kinesis, batch)
    assert list(reader.records()) == []
    assert "no longer exists" in (reader.problem() or "")


class FlakyKinesis:
    """Throttles the first GetRecords call and expires the iterator of the third, then reads
    the real stream."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls = 0
        self.iterator_calls: list[dict[str, Any]] = []

    def get_shard_iterator(self, **kwargs: Any) -> Any:
        self.iterator_calls.append(kwargs)
        return self.real.get_shard_iterator(**kwargs)

    def get_records(self, **kwargs: Any) -> Any:
        self.calls += 1
        code = {1: "ProvisionedThroughputExceededException", 3: "ExpiredIteratorException"}.get(self.calls)
        if code:
            raise ClientError({"Error": {"Code": code, "Message": code}}, "GetRecords")
        return self.real.get_records(**kwargs)


def test_throttling_is_retried_and_an_expired_iterator_renewed(stream: Stream) -> None:
    stream.put_payloads(workload(60))
    batch = parse_on_failure(on_failure_message(stream, stream.records[1:6]))
    flaky = FlakyKinesis(stream.kinesis)
    slept: list[float] = []
    reader = RangeReader(flaky, batch, page_size=2, sleep=slept.append)
    assert [r["kinesis"]["sequenceNumber"] for r in reader.records()] == [
        p.sequence_number for p in stream.records[1:6]
    ]
    assert reader.complete and len(slept) == 1
    after = stream.records[2].sequence_number  # the last record of the first page
    assert [(c["ShardIteratorType"], c["StartingSequenceNumber"]) for c in flaky.iterator_calls] == [
        ("AT_SEQUENCE_NUMBER", stream.records[1].sequence_number),
        ("AFTER_SEQUENCE_NUMBER", after),
    ]


def test_other_errors_are_raised(stream: Stream) -> None:
    stream.put_payloads(workload(20))
    batch = parse_on_failure(on_failure_message(stream, stream.records[:1]))

    class Denied:
        def get_shard_iterator(self, **kwargs: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetShardIterator"
            )

    with pytest.raises(ClientError):
        list(RangeReader(Denied(), batch).records())
