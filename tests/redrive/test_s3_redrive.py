"""``redrive --from-s3`` end to end: dead letters written by the real pipeline (poison records,
a parser bug, content rejections, truncated messages) replayed into the local OpenSearch
stand-in after the fix."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest

from indexing.fault_proxy import FaultProxy
from lambdalens.bench.workload import kinesis_event, kinesis_record
from lambdalens.decoding import DecodeError, decode_kinesis_record, iter_kinesis_event, kinesis_record_id
from lambdalens.indexing.dead_letter import DeadLetter, encode_dead_letters
from lambdalens.indexing.retry import Deadline
from lambdalens.parsing import BatchParser
from lambdalens.pipeline import batch as batch_module
from lambdalens.redrive import RedriveReport, S3Redrive, read_entries
from lambdalens.redrive.report import DONE, FAILED, INVALID, KEPT, REWRITTEN
from lambdalens.redrive.s3 import check_key_time, letter_record
from redrive.redrive_support import (
    BUCKET,
    as_one_object,
    dead_letter_objects,
    indexed,
    make_pipeline,
    workload,
)
from testing_support import load_event

PREFIX = "dead-letter/"
BROKEN = "svc01"  # the parser "bug" hits this function's log group


def redrive(url: str, index_prefix: str, s3: Any, **options: Any) -> RedriveReport:
    max_body_chars = options.pop("max_body_chars", 32_768)
    options.setdefault("prefix", PREFIX)
    return S3Redrive(
        s3=s3,
        bucket=BUCKET,
        pipeline=make_pipeline(url, index_prefix, s3, BUCKET, max_body_chars=max_body_chars),
        **options,
    ).run()


def event_ids(event: dict[str, Any]) -> set[str]:
    return {
        e["id"]
        for result in iter_kinesis_event(event)
        if hasattr(result, "payloads")
        for p in result.payloads
        for e in p.log_events
    }


def keys(s3: Any, prefix: str = "") -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def body_of(s3: Any, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def without_observed(docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: v for f, v in d.items() if f != "observedTimestamp"} for k, d in docs.items()}


class BuggyParser(BatchParser):
    """The parser with a bug: it crashes on one function's payloads."""

    def parse(self, payload: Any) -> Any:
        if BROKEN in payload.log_group:
            raise KeyError("lambda.version")
        return super().parse(payload)


@contextmanager
def parser_bug() -> Iterator[None]:
    """The pipeline runs the buggy parser until the block ends (the fix is deployed)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(batch_module, "BatchParser", BuggyParser)
        yield


def test_records_that_crashed_the_parser_are_indexed_after_the_fix(
    opensearch_node: Any, index_prefix: str, s3: Any
) -> None:
    payloads = workload(300)
    event = kinesis_event(payloads)
    broken = [r for r, p in zip(event["Records"], payloads, strict=True) if BROKEN in p["logGroup"]]
    assert broken and len(broken) < len(event["Records"])
    with parser_bug():
        outcome = make_pipeline(opensearch_node.url, index_prefix, s3, BUCKET).run(
            event["Records"], Deadline.after(60)
        )
    assert outcome.failed == [] and outcome.parse_failures == len(broken)
    key = as_one_object(s3, BUCKET)
    assert all(x.reason == "parser_error" for x in dead_letter_objects(s3, BUCKET)[key])

    report = redrive(opensearch_node.url, index_prefix, s3)

    assert set(indexed(opensearch_node.url, index_prefix)) == event_ids(event)
    reference = f"ref-{index_prefix}"
    make_pipeline(opensearch_node.url, reference, s3, BUCKET).run(broken, Deadline.after(60))
    fixed = event_ids({"Records": broken})
    got = without_observed(indexed(opensearch_node.url, index_prefix))
    assert {k: got[k] for k in fixed} == without_observed(indexed(opensearch_node.url, reference))
    assert [s.status for s in report.sources] == [DONE] and report.ok
    assert keys(s3) == [f"redriven/{key}"]  # moved, kept whole
    c = report.counts
    assert (c.records, c.indexed, c.already_present, c.dead_lettered) == (len(broken), len(fixed), 0, 0)


def test_rejected_documents_are_indexed_whole_after_a_mapping_fix(
    proxy: FaultProxy, index_prefix: str, s3: Any
) -> None:
    event = kinesis_event(workload(100))
    rejected = sorted(event_ids(event))[:4]
    proxy.faults.content_rejects = dict.fromkeys(rejected, 2)  # the document and its safe form
    outcome = make_pipeline(proxy.url, index_prefix, s3, BUCKET).run(event["Records"], Deadline.after(60))
    assert outcome.counts()["dead_lettered"] == 4
    key = as_one_object(s3, BUCKET)

    report = redrive(proxy.url, index_prefix, s3)

    docs = indexed(proxy.url, index_prefix)
    assert set(docs) == event_ids(event)
    letters = {
        x.document["log.record.uid"]: x.document for x in read_entries_of(s3, f"redriven/{key}") if x.document
    }
    for doc_id in rejected:
        assert "lambda.rejection" not in docs[doc_id]  # the original, not its safe form
        assert docs[doc_id] == orjson.loads(orjson.dumps(letters[doc_id]))
    assert report.counts.indexed == 4 and report.counts.documents == 4
    assert [s.status for s in report.sources] == [DONE] and keys(s3) == [f"redriven/{key}"]


def read_entries_of(s3: Any, key: str) -> list[DeadLetter]:
    return [e.letter for e in read_entries(body_of(s3, key))]


def test_documents_rejected_again_leave_the_object_untouched(
    proxy: FaultProxy, index_prefix: str, s3: Any
) -> None:
    event = kinesis_event(workload(100))
    rejected = sorted(event_ids(event))[:2]
    proxy.faults.content_rejects = dict.fromkeys(rejected, 2)
    make_pipeline(proxy.url, index_prefix, s3, BUCKET).run(event["Records"], Deadline.after(60))
    key = as_one_object(s3, BUCKET)
    before = body_of(s3, key)

    proxy.faults.content_rejects = dict.fromkeys(rejected, 2)  # not fixed yet
    report = redrive(proxy.url, index_prefix, s3)

    assert [s.status for s in report.sources] == [KEPT]
    assert "nothing changed: 2 dead-lettered again (2 rejected)" in report.sources[0].detail
    assert report.counts.dead_lettered == 2 and report.counts.safe_form == 0 and report.ok
    assert keys(s3) == [key] and body_of(s3, key) == before


def poison_letters(url: str, index_prefix: str, s3: Any) -> str:
    make_pipeline(url, index_prefix, s3, BUCKET).run(
        load_event("kinesis/poison-batch.json")["Records"], Deadline.after(60)
    )
    key = as_one_object(s3, BUCKET)
    return key


def test_poison_records_are_dead_lettered_again_with_the_same_reasons(
    opensearch_node: Any, index_prefix: str, s3: Any
) -> None:
    key = poison_letters(opensearch_node.url, index_prefix, s3)
    originals = read_entries_of(s3, key)
    before = body_of(s3, key)
    count = len(indexed(opensearch_node.url, index_prefix))

    for _ in range(2):  # and again: nothing changes, nothing is duplicated
        report = redrive(opensearch_node.url, index_prefix, s3)
        assert [s.status for s in report.sources] == [KEPT]
        assert report.counts.records == report.counts.dead_lettered == len(originals)
        assert keys(s3) == [key] and body_of(s3, key) == before
        assert len(indexed(opensearch_node.url, index_prefix)) == count
    reasons = sorted(x.reason for x in originals)
    assert {"not_base64", "not_gzip", "not_json", "not_subscription_payload"} <= set(reasons)


def test_letter_record_gives_back_the_record_as_it_was_received() -> None:
    for record in load_event("kinesis/poison-batch.json")["Records"]:
        try:
            decode_kinesis_record(record)
            continue
        except DecodeError as exc:
            letter = DeadLetter("record", exc.reason, exc.detail, exc.record_id, data=exc.raw)
            reason = exc.reason
        rebuilt = letter_record(DeadLetter.from_json(letter.to_json(0)))
        assert rebuilt["kinesis"]["data"] == record["kinesis"]["data"]
        assert rebuilt["eventID"] == record["eventID"]
        assert rebuilt["eventSourceARN"] == record["eventSourceARN"]
        assert rebuilt["awsRegion"] == record["awsRegion"]
        with pytest.raises(DecodeError) as again:
            decode_kinesis_record(rebuilt)
        assert again.value.reason == reason


def test_an_object_partly_fixed_is_rewritten_with_what_is_left(
    opensearch_node: Any, index_prefix: str, s3: Any
) -> None:
    payloads = workload(200)
    records = [kinesis_record(p, i) for i, p in enumerate(payloads)]
    records += load_event("kinesis/poison-batch.json")["Records"]
    with parser_bug():
        make_pipeline(opensearch_node.url, index_prefix, s3, BUCKET).run(records, Deadline.after(60))
    key = as_one_object(s3, BUCKET)
    before = read_entries_of(s3, key)
    assert {x.reason for x in before} >= {"parser_error", "not_gzip"}

    report = redrive(opensearch_node.url, index_prefix, s3)

    assert [s.status for s in report.sources] == [REWRITTEN]
    assert f"the original is at redriven/{key}" in report.sources[0].detail
    assert keys(s3) == sorted([key, f"redriven/{key}"])
    assert read_entries_of(s3, f"redriven/{key}") == before  # the original, whole
    left = read_entries_of(s3, key)
    assert sorted((x.reason, str(x.record_id)) for x in left) == sorted(
        (x.reason, str(x.record_id)) for x in before if x.reason != "parser_error"
    )
    assert all(x.data is not None for x in left)
    assert set(indexed(opensearch_node.url, index_prefix)) == event_ids({"Records": records})
    fixed = sum(1 for x in before if x.reason == "parser_error")
    assert report.counts.dead_lettered == len(left) and report.counts.records == fixed + len(left)

    again = redrive(opensearch_node.url, index_prefix, s3)  # only the poison is left: nothing changes
    assert [s.status for s in again.sources] == [KEPT] and again.counts.documents == 0


def test_truncated_messages_are_skipped_unless_asked(
    opensearch_node: Any, index_prefix: str, s3: Any
) -> None:
    payloads = workload(60)[:2]
    long_event = payloads[0]["logEvents"][1]
    long_event["message"] = "[INFO]\t" + "order lines " * 500 + "\n"
    event = kinesis_event(payloads)
    outcome = make_pipeline(opensearch_node.url, index_prefix, s3, BUCKET, max_body_chars=2000).run(
        event["Records"], Deadline.after(60)
    )
    assert outcome.truncated == 1
    key = as_one_object(s3, BUCKET)
    doc_id = long_event["id"]
    assert indexed(opensearch_node.url, index_prefix)[doc_id]["lambda.truncated"] is True

    report = redrive(opensearch_node.url, index_prefix, s3)
    assert [s.status for s in report.sources] == [KEPT] and report.counts.skipped == 1
    assert "truncated message(s) skipped (replay with --reindex-truncated)" in report.sources[0].detail
    assert "--reindex-truncated" in report.render() and keys(s3) == [key]

    report = redrive(opensearch_node.url, index_prefix, s3, reindex_truncated=True)
    doc = indexed(opensearch_node.url, index_prefix)[doc_id]
    assert doc["body"] == long_event["message"] and "lambda.truncated" not in doc
    assert report.counts.indexed == 1 and report.counts.skipped == 0
    assert [s.status for s in report.sources] == [DONE] and keys(s3) == [f"redriven/{key}"]


def write_object(s3: Any, key: str, letters: list[DeadLetter]) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=encode_dead_letters(letters))


def document_letter(event: dict[str, Any], index: int) -> DeadLetter:
    """A "rejected" letter holding the document the parser makes of one event."""
    parser = BatchParser(region="us-east-1")
    docs = [
        d
        for r in iter_kinesis_event(event)
        if hasattr(r, "payloads")
        for p in r.payloads
        for d in parser.parse(p)
    ]
    parser.finish()
    rid = kinesis_record_id(event["Records"][0])
    return DeadLetter(
        "document", "rejected", "rejected: HTTP 400 (earlier mapping)", rid, document=docs[index]
    )


def test_since_and_until_select_objects_by_their_key_time(
    opensearch_node: Any, index_prefix: str, s3: Any
) -> None:
    event = kinesis_event(workload(40))
    days = ["2024/04/30/23", "2024/05/01/00", "2024/05/01/23", "2024/05/02/00"]
    for i, day in enumerate(days):
        write_object(s3, f"{PREFIX}{day}/20240501T000000-{i}.jsonl.gz", [document_letter(event, i)])
    report = redrive(opensearch_node.url, index_prefix, s3, since="2024/05/01", until="2024/05/01")
    assert [s.source for s in report.sources] == [
        f"{PREFIX}2024/05/01/00/20240501T000000-1.jsonl.gz",
        f"{PREFIX}2024/05/01/23/20240501T000000-2.jsonl.gz",
    ]
    assert report.counts.indexed == 2
    assert keys(s3, "redriven/") == [f"redriven/{s.source}" for s in report.sources]

    report = redrive(opensearch_node.url, index_prefix, s3, since="2024/05/01/12", delete=True)
    assert [s.source for s in report.sources] == [f"{PREFIX}2024/05/02/00/20240501T000000-3.jsonl.gz"]
    assert [s.status for s in report.sources] == [DONE]
    assert keys(s3, PREFIX) == [f"{PREFIX}2024/04/30/23/20240501T000000-0.jsonl.gz"]
    assert len(keys(s3, "redriven/")) == 2  # --delete: gone, not moved


@pytest.mark.parametrize("value", ["2024/05/01", "2024", "2024/05/01/13", "/2024/05/"])
def test_check_key_time_accepts(value: str) -> None:
    assert check_key_time(value) == value.strip("/")


@pytest.mark.parametrize("value", ["2024-05-01", "24/05/01", "2024/5/1", "yesterday"])
def test_check_key_time_refuses(value: str) -> None:
    with pytest.raises(ValueError, match="YYYY/MM/DD"):
        check_key_time(value)


def test_second_run_reports_everything_already_present(
    opensearch_node: Any, index_prefix: str, s3: Any
) -> None:
    event = kinesis_event(workload(60))
    write_object(s3, f"{PREFIX}2024/05/01/12/a.jsonl.gz", [document_letter(event, i) for i in range(5)])
    first = redrive(opensearch_node.url, index_prefix, s3, keep=True)
    assert first.counts.indexed == 5 and [s.status for s in first.sources] == [KEPT]
    second = redrive(opensearch_node.url, index_prefix, s3)
    assert second.counts.already_present == 5 and second.counts.indexed == 0
    assert [s.status for s in second.sources] == [DONE]
    assert keys(s3) == [f"redriven/{PREFIX}2024/05/01/12/a.jsonl.gz"]
    assert redrive(opensearch_node.url, index_prefix, s3).sources == []  # nothing left to replay


def test_dry_run_writes_and_moves_nothing(opensearch_node: Any, index_prefix: str, s3: Any) -> None:
    key = poison_letters(opensearch_node.url, index_prefix, s3)
    event = kinesis_event(workload(40))
    write_object(s3, f"{PREFIX}2099/01/01/00/b.jsonl.gz", [document_letter(event, 0)])
    count = len(indexed(opensearch_node.url, index_prefix))
    report = redrive(opensearch_node.url, index_prefix, s3, dry_run=True)
    assert [s.status for s in report.sources] == [KEPT, KEPT]
    assert "dry run: would leave" in report.sources[0].detail
    assert report.sources[1].detail == "dry run: would move it"
    assert report.counts.would_index == 1 and report.counts.dead_lettered == len(read_entries_of(s3, key))
    assert len(indexed(opensearch_node.url, index_prefix)) == count
    assert keys(s3) == sorted([key, f"{PREFIX}2099/01/01/00/b.jsonl.gz"])


def test_objects_that_are_not_dead_letters_are_left(opensearch_node: Any, index_prefix: str, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}2024/05/01/00/notes.txt", Body=b"hello")
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}2024/05/01/01/x.jsonl.gz", Body=gzip.compress(b'{"a": 1}\n'))
    report = redrive(opensearch_node.url, index_prefix, s3)
    assert [s.status for s in report.sources] == [INVALID, INVALID] and not report.ok
    assert "not gzip" in report.sources[0].detail and "not a dead letter" in report.sources[1].detail
    assert len(keys(s3)) == 2


def test_opensearch_down_leaves_the_object_for_the_next_run(
    proxy: FaultProxy, index_prefix: str, s3: Any
) -> None:
    event = kinesis_event(workload(40))
    for name in ("a", "b"):
        write_object(s3, f"{PREFIX}2024/05/01/12/{name}.jsonl.gz", [document_letter(event, 0)])
    proxy.faults.statuses = [503] * 10_000
    report = redrive(proxy.url, index_prefix, s3, batch_seconds=1.0)
    assert [s.status for s in report.sources] == [FAILED, "not_attempted"]
    assert "not indexed" in report.sources[0].detail and report.stopped
    assert len(keys(s3, PREFIX)) == 2 and keys(s3, "redriven/") == []


def test_an_earlier_copy_under_redriven_is_never_overwritten(
    opensearch_node: Any, index_prefix: str, s3: Any
) -> None:
    event = kinesis_event(workload(40))
    key = f"{PREFIX}2024/05/01/12/a.jsonl.gz"
    write_object(s3, key, [document_letter(event, 0)])
    s3.put_object(Bucket=BUCKET, Key=f"redriven/{key}", Body=b"moved by an earlier run")
    report = redrive(opensearch_node.url, index_prefix, s3)
    assert [s.status for s in report.sources] == [DONE]
    (moved, earlier) = keys(s3)
    assert earlier == f"redriven/{key}" and body_of(s3, earlier) == b"moved by an earlier run"
    assert moved.startswith(f"redriven/{PREFIX}2024/05/01/12/a-redriven-") and moved.endswith(".jsonl.gz")
