"""The on-failure invocation record of a Kinesis event source mapping, as Lambda sends it to
an SQS (or SNS) destination."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from lambdalens.redrive import FailedBatch, NotAnOnFailureRecord, parse_on_failure

# The shape documented in the Lambda developer guide ("Retain discarded batch records for a
# Kinesis Data Streams event source"); values invented.
RECORD = {
    "requestContext": {
        "requestId": "c9b8fa9f-5a7f-4a3e-af9c-0c604cde93a5",
        "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:lambdalens-parser",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 4,
    },
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    "version": "1.0",
    "timestamp": "2024-05-01T12:38:06.021Z",
    "KinesisBatchInfo": {
        "shardId": "shardId-000000000001",
        "startSequenceNumber": "49601189658422359378836298521827638475320189012309704722",
        "endSequenceNumber": "49601189658422359378836298522902373528957594348623495186",
        "approximateArrivalOfFirstRecord": "2024-05-01T12:38:04.835Z",
        "approximateArrivalOfLastRecord": "2024-05-01T12:38:05.580Z",
        "batchSize": 500,
        "streamArn": "arn:aws:kinesis:eu-west-1:123456789012:stream/lambdalens-logs",
    },
}


def test_parses_every_field_of_the_record() -> None:
    batch = parse_on_failure(orjson.dumps(RECORD).decode())
    assert batch == FailedBatch(
        stream_arn="arn:aws:kinesis:eu-west-1:123456789012:stream/lambdalens-logs",
        shard_id="shardId-000000000001",
        start_sequence_number="49601189658422359378836298521827638475320189012309704722",
        end_sequence_number="49601189658422359378836298522902373528957594348623495186",
        batch_size=500,
        first_arrival=datetime(2024, 5, 1, 12, 38, 4, 835000, tzinfo=UTC),
        last_arrival=datetime(2024, 5, 1, 12, 38, 5, 580000, tzinfo=UTC),
        condition="RetryAttemptsExhausted",
        request_id="c9b8fa9f-5a7f-4a3e-af9c-0c604cde93a5",
        function_arn="arn:aws:lambda:eu-west-1:123456789012:function:lambdalens-parser",
        invoke_count=4,
        timestamp="2024-05-01T12:38:06.021Z",
    )
    assert batch.region == "eu-west-1" and batch.stream_name == "lambdalens-logs"
    assert batch.start < batch.end  # compared as numbers: 56-digit sequence numbers
    assert "shardId-000000000001" in batch.describe() and "(500 records)" in batch.describe()


def test_record_age_exceeded_and_bytes_and_a_decoded_object() -> None:
    record = {**RECORD, "requestContext": {**RECORD["requestContext"], "condition": "RecordAgeExceeded"}}  # type: ignore[dict-item]
    assert parse_on_failure(orjson.dumps(record)).condition == "RecordAgeExceeded"
    assert parse_on_failure(record).batch_size == 500


def test_unwraps_an_sns_notification() -> None:
    wrapped = {
        "Type": "Notification",
        "MessageId": "2f6c0a8e-1111-4a5b-9d2e-6b1f3c9d7e10",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:lambdalens-failures",
        "Message": orjson.dumps(RECORD).decode(),
        "Timestamp": "2024-05-01T12:38:06.100Z",
    }
    assert parse_on_failure(orjson.dumps(wrapped)).shard_id == "shardId-000000000001"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (orjson.dumps({"hello": "world"}).decode(), "no KinesisBatchInfo"),
        (
            orjson.dumps({**RECORD, "KinesisBatchInfo": None, "DDBStreamBatchInfo": {}}).decode(),
            "DDBStreamBatchInfo, not KinesisBatchInfo",
        ),
        (
            orjson.dumps(
                {"KinesisBatchInfo": {**RECORD["KinesisBatchInfo"], "startSequenceNumber": "abc"}}  # type: ignore[dict-item]
            ).decode(),
            "startSequenceNumber",
        ),
        (
            orjson.dumps(
                {"KinesisBatchInfo": {**RECORD["KinesisBatchInfo"], "streamArn": "lambdalens-logs"}}  # type: ignore[dict-item]
            ).decode(),
            "not a stream ARN",
        ),
        (
            orjson.dumps(
                {
                    "KinesisBatchInfo": {
                        **RECORD["KinesisBatchInfo"],  # type: ignore[dict-item]
                        "startSequenceNumber": "5",
                        "endSequenceNumber": "4",
                    }
                }
            ).decode(),
            "before startSequenceNumber",
        ),
    ],
)
def test_says_what_is_wrong_with_other_messages(body: str, says: str) -> None:
    with pytest.raises(NotAnOnFailureRecord, match=says):
        parse_on_failure(body)


def test_tolerates_a_string_batch_size_and_missing_arrival_times() -> None:
    info = {**RECORD["KinesisBatchInfo"], "batchSize": "3"}  # type: ignore[dict-item]
    del info["approximateArrivalOfFirstRecord"]
    batch = parse_on_failure({"KinesisBatchInfo": info})
    assert batch.batch_size == 3 and batch.first_arrival is None and batch.condition == ""
