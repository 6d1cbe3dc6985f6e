"""``lambdalens parse [FILE|-]``: every accepted input form in, one JSON document per log event
out; bad input is a clear one-line error and a non-zero exit; ``--keep-going`` reports each bad
record and still prints the good documents."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdalens.cli.main import main
from lambdalens.parsing import EVENT_TYPES
from lambdalens.redaction.constants import ENV_VARS as REDACTION_VARS

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(relative: str) -> Any:
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def events_of(*payload_files: str) -> list[dict[str, Any]]:
    return [e for f in payload_files for e in load(f)["logEvents"]]


def good_payloads(kinesis_fixture: str) -> list[str]:
    return [w["payload"] for w in load(f"kinesis/{kinesis_fixture}.expect.json") if w["result"] == "ok"]


def compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def run(
    capsys: pytest.CaptureFixture[str], *argv: str | Path, stdin: bytes | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))  # restored by the fixture below
    code = main(["parse", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _restore_stdin() -> Iterator[None]:
    saved = sys.stdin
    yield
    sys.stdin = saved


def documents(out: str) -> list[dict[str, Any]]:
    """JSON Lines -> documents; every non-empty line must be one JSON object."""
    lines = out.splitlines()
    docs = [json.loads(line) for line in lines]
    assert all(isinstance(d, dict) for d in docs)
    return docs


def assert_documents_of(docs: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    assert len(docs) == len(events), "one document per log event"
    assert [d["body"] for d in docs] == [e["message"] for e in events]
    assert [d["log.record.uid"] for d in docs] == [e["id"] for e in events]
    for doc in docs:
        assert doc["lambda.event_type"] in EVENT_TYPES
        assert doc["cloud.provider"] == "aws"


def assert_one_line_error(err: str, *words: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith("lambdalens parse: ")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


# --------------------------------------------------------------------------- accepted forms


def test_kinesis_event_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, EVENTS / "kinesis" / "two-functions.json")
    assert (code, err) == (0, "")
    docs = documents(out)
    assert_documents_of(docs, events_of(*good_payloads("two-functions")))
    assert {d["cloud.region"] for d in docs} == {"us-east-1"}
    assert {d["faas.name"] for d in docs} == {"orders-api", "user-profile", "invoice-generator"}


def test_kinesis_event_with_control_message_prints_only_log_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, EVENTS / "kinesis" / "with-control-message.json")
    assert (code, err) == (0, "")
    assert_documents_of(documents(out), events_of(*good_payloads("with-control-message")))


@pytest.mark.parametrize(
    "case", ["python-text-cold-start", "node-json-cold-start", "java-text-snapstart-restore"]
)
def test_awslogs_event_file(capsys: pytest.CaptureFixture[str], case: str) -> None:
    code, out, err = run(capsys, EVENTS / "awslogs" / f"{case}.json")
    assert (code, err) == (0, "")
    assert_documents_of(documents(out), events_of(f"logs/{case}.json"))


def test_decoded_payload_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, EVENTS / "logs" / "java-text-stacktrace-stdout.json", "--region", "eu-west-1"
    )
    assert (code, err) == (0, "")
    docs = documents(out)
    assert_documents_of(docs, events_of("logs/java-text-stacktrace-stdout.json"))
    assert {d["cloud.region"] for d in docs} == {"eu-west-1"}
    (report,) = [d for d in docs if d["lambda.event_type"] == "report"]
    assert report["lambda.outcome"] == "error"


def test_json_lines_mixing_every_form(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lines = [
        compact(load("kinesis/two-functions.json")),
        "",
        compact(load("awslogs/node-json-cold-start.json")),
        compact(load("logs/ruby-text-logger.json")),
        compact(load("kinesis/with-control-message.json")["Records"][1]),  # a single Kinesis record
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(capsys, path)
    assert (code, err) == (0, "")
    assert_documents_of(
        documents(out),
        events_of(
            *good_payloads("two-functions"),
            "logs/node-json-cold-start.json",
            "logs/ruby-text-logger.json",
            "logs/go-text-cold-start.json",
        ),
    )


def test_json_lines_of_one_invocation_are_one_batch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An invocation split over two lines is still understood as a whole (cold start, trace id)."""
    payload = load("logs/powertools-python-structured.json")
    first, second = dict(payload), dict(payload)
    first["logEvents"], second["logEvents"] = payload["logEvents"][:3], payload["logEvents"][3:]
    path = tmp_path / "split.jsonl"
    path.write_text(compact(first) + "\n" + compact(second) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, path)
    assert code == 0
    docs = [d for d in documents(out) if d.get("faas.invocation_id")]
    assert {d["traceId"] for d in docs} == {"1-66322ec0-96b34cc019d276c3df8f6c82"}
    assert {d["faas.coldstart"] for d in docs} == {True}


def test_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    data = (EVENTS / "awslogs" / "python-text-cold-start.json").read_bytes()
    code, out, err = run(capsys, "-", stdin=data)
    assert (code, err) == (0, "")
    assert_documents_of(documents(out), events_of("logs/python-text-cold-start.json"))


def test_stdin_is_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    data = (EVENTS / "kinesis" / "two-functions.json").read_bytes()
    sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    code = main(["parse"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert_documents_of(documents(out), events_of(*good_payloads("two-functions")))


def test_pretty_prints_the_same_documents_indented(capsys: pytest.CaptureFixture[str]) -> None:
    path = EVENTS / "logs" / "node-text-invoke-error.json"
    _, plain, _ = run(capsys, path)
    code, pretty, err = run(capsys, path, "--pretty")
    assert (code, err) == (0, "")
    decoder = json.JSONDecoder()
    docs, pos = [], 0
    while pos < len(pretty):
        doc, end = decoder.raw_decode(pretty, pos)
        docs.append(doc)
        assert pretty[end] == "\n"
        pos = end + 1
    assert len(pretty.splitlines()) > 5 * len(docs), "indented, one key per line"
    assert pretty.splitlines()[1].startswith("  ")

    def strip(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if k != "observedTimestamp"}

    assert [strip(d) for d in docs] == [strip(d) for d in documents(plain)]


def test_documents_are_json_lines_with_unicode_and_control_characters_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    payload = load("logs/python-text-unhandled-error-legacy-cr.json")  # \r and U+00A0 in a message
    payload["logEvents"].append(
        {"id": "1", "timestamp": 1591714943185, "message": "tab\there\nnew line \u2603 \x00 end"}
    )
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    code, out, _ = run(capsys, path)
    assert code == 0
    docs = documents(out)  # a raw newline inside a message would break this
    assert_documents_of(docs, payload["logEvents"])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(b"hello, this is not JSON\n", ["not_json"], id="not-json"),
        pytest.param(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage", ["not_json"], id="binary"),
        pytest.param(b"", ["empty"], id="empty"),
        pytest.param(b"  \n\n\t\n", ["empty"], id="whitespace-only"),
        pytest.param(
            b'{"level": "INFO", "message": "order stored"}', ["not_subscription_payload"], id="app-log"
        ),
        pytest.param(b"[1, 2, 3]", ["not_subscription_payload"], id="json-array"),
        pytest.param(
            b'{"Records": [{"kinesis": {"data": "%%%"}, "eventID": "shardId-1:7"}]}',
            ["not_base64"],
            id="bad-record",
        ),
        pytest.param(b'{"awslogs": {"data": "aGVsbG8="}}', ["not_gzip"], id="awslogs-not-gzip"),
    ],
)
def test_bad_input_is_a_one_line_error_and_a_failing_exit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, words: list[str]
) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    code, out, err = run(capsys, path)
    assert code != 0
    assert out == ""
    assert_one_line_error(err, *words)
    code_stdin, out_stdin, err_stdin = run(capsys, "-", stdin=content)
    assert code_stdin == code
    assert out_stdin == ""
    assert_one_line_error(err_stdin, *words)


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    code, out, err = run(capsys, missing)
    assert code != 0
    assert out == ""
    assert_one_line_error(err, str(missing))


def test_a_directory_is_not_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, tmp_path)
    assert code != 0
    assert out == ""
    assert_one_line_error(err, str(tmp_path))


def test_poison_batch_without_keep_going_fails_on_the_first_bad_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    expect = load("kinesis/poison-batch.expect.json")
    first_bad = next(w for w in expect if w["result"] != "ok")
    code, _, err = run(capsys, EVENTS / "kinesis" / "poison-batch.json")
    assert code == 1
    assert_one_line_error(err, first_bad["result"], first_bad["sequenceNumber"])


def test_keep_going_reports_every_bad_record_and_prints_the_good_documents(
    capsys: pytest.CaptureFixture[str],
) -> None:
    expect = load("kinesis/poison-batch.expect.json")
    code, out, err = run(capsys, "--keep-going", EVENTS / "kinesis" / "poison-batch.json")
    assert code == 1, "bad records make the run fail even when it goes on"
    bad = [w for w in expect if w["result"] != "ok"]
    lines = err.splitlines()
    assert len(lines) == len(bad), err
    for line, want in zip(lines, bad, strict=True):
        assert line.startswith("lambdalens parse: ")
        assert want["sequenceNumber"] in line
        assert want["result"] in line
    assert "Traceback" not in err
    assert_documents_of(documents(out), events_of(*good_payloads("poison-batch")))


def test_keep_going_over_json_lines_names_the_bad_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [
                compact(load("awslogs/python-text-cold-start.json")),
                "{not json",
                '{"level": "INFO"}',
                compact(load("logs/go-text-cold-start.json")),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "--keep-going", path)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 2
    assert "line:2" in lines[0] and "not_json" in lines[0]
    assert "line:3" in lines[1] and "not_subscription_payload" in lines[1]
    assert_documents_of(
        documents(out), events_of("logs/python-text-cold-start.json", "logs/go-text-cold-start.json")
    )


def test_keep_going_on_good_input_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--keep-going", EVENTS / "kinesis" / "two-functions.json")
    assert (code, err) == (0, "")
    assert len(documents(out)) == len(events_of(*good_payloads("two-functions")))


# --------------------------------------------------------------------------- as a real process


def lambdalens(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "lambdalens", *args], input=stdin, capture_output=True, timeout=60, check=False
    )


def test_subprocess_parses_a_kinesis_file() -> None:
    proc = lambdalens("parse", str(EVENTS / "kinesis" / "two-functions.json"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    assert_documents_of(documents(proc.stdout.decode()), events_of(*good_payloads("two-functions")))


def test_subprocess_reads_stdin_and_fails_cleanly_on_bad_input() -> None:
    good = lambdalens("parse", "-", stdin=(EVENTS / "awslogs" / "node-json-cold-start.json").read_bytes())
    assert good.returncode == 0, good.stderr
    assert_documents_of(documents(good.stdout.decode()), events_of("logs/node-json-cold-start.json"))

    bad = lambdalens("parse", "-", stdin=b"START RequestId: this is a log line, not an event\n")
    assert bad.returncode != 0
    assert bad.stdout == b""
    assert_one_line_error(bad.stderr.decode(), "not_json")


# --------------------------------------------------------------------------- the handler's documents


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No REDACTION_* or MAX_BODY_CHARS from the shell that runs the tests."""
    for name in (*REDACTION_VARS, "MAX_BODY_CHARS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def payload_with_secrets() -> dict[str, Any]:
    """python-text-cold-start with a line that leaks a password and a database URL."""
    payload = load("logs/python-text-cold-start.json")
    rid = payload["logEvents"][1]["message"].split()[2]
    payload["logEvents"][2]["message"] = (
        f"[INFO]\t2024-05-01T10:00:00.100Z\t{rid}\tconnecting to "
        "postgres://app:hunter2-Secret@db.internal:5432/shop password=hunter2\n"
    )
    return payload


def write_json(tmp_path: Path, obj: Any) -> Path:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def test_documents_are_redacted_by_default_as_the_handler_redacts_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, write_json(tmp_path, payload_with_secrets()))
    assert (code, err) == (0, "")
    body = documents(out)[2]["body"]
    assert "hunter2" not in body
    assert "[REDACTED:url_password]" in body and "[REDACTED:password]" in body


def test_no_redact_shows_the_documents_as_parsed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    payload = payload_with_secrets()
    code, out, err = run(capsys, write_json(tmp_path, payload), "--no-redact")
    assert (code, err) == (0, "")
    assert documents(out)[2]["body"] == payload["logEvents"][2]["message"]


def test_redaction_follows_the_handlers_redaction_variables(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    path = write_json(tmp_path, payload_with_secrets())
    clean_env.setenv("REDACTION_RULES", json.dumps([{"name": "shop_db", "pattern": r"db\.internal"}]))
    body = documents(run(capsys, path)[1])[2]["body"]
    assert "[REDACTED:shop_db]" in body and "hunter2" not in body
    clean_env.setenv("REDACTION_ENABLED", "false")
    assert "hunter2" in documents(run(capsys, path)[1])[2]["body"]


def test_a_bad_redaction_variable_is_a_one_line_error_naming_it(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("REDACTION_RULES", '[{"name": "github_token", "pattern": "(gh"}]')
    code, out, err = run(capsys, EVENTS / "logs" / "python-text-cold-start.json")
    assert code == 2 and out == ""
    assert_one_line_error(err, "REDACTION_RULES", "github_token")


def test_a_body_longer_than_max_body_chars_is_cut_as_the_index_holds_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    payload = load("logs/python-text-cold-start.json")
    long_line = "[INFO]\t2024-05-01T10:00:00.100Z\t\t" + "x" * 5000 + "\n"
    payload["logEvents"][2]["message"] = long_line
    clean_env.setenv("MAX_BODY_CHARS", "1024")
    code, out, err = run(capsys, write_json(tmp_path, payload))
    assert code == 0
    assert_one_line_error(err, "1 document(s)", "MAX_BODY_CHARS=1024")
    doc = documents(out)[2]
    assert doc["body"].startswith(long_line[:1024]) and len(doc["body"]) < 1200
    assert doc["lambda.truncated"] is True and doc["lambda.original_length"] == len(long_line)


class CapturingTransport:
    """Stands in for OpenSearch's ``_bulk``: keeps each item's source, answers 201 to all."""

    def __init__(self) -> None:
        self.sources: list[bytes] = []

    def send(self, body: bytes, timeout: float) -> dict[str, object]:
        lines = body.split(b"\n")[:-1]
        sources = lines[1::2]
        self.sources.extend(line + b"\n" for line in sources)
        return {"took": 1, "errors": False, "items": [{"create": {"status": 201}} for _ in sources]}


def without_observed_time(source: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(source)
    doc.pop("observedTimestamp")  # (when each ran)
    return doc


def test_parse_prints_the_documents_the_handler_indexes_for_the_same_records(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, aws_env: None, clean_env: pytest.MonkeyPatch
) -> None:
    """One document stage: the same redaction (REDACTION_* of the handler's environment), the same
    cut of a too long body (MAX_BODY_CHARS), the same serialisation — event for event."""
    import boto3

    from lambdalens.bench.workload import kinesis_record
    from lambdalens.handlers import parser as parser_handler
    from testing_support import FakeContext

    long_payload = load("logs/node-text-invoke-error.json")
    long_payload["logEvents"][1]["message"] = (
        long_payload["logEvents"][1]["message"][:-1] + " " + "y" * 3000 + "\n"
    )
    payloads = [payload_with_secrets(), long_payload, load("logs/extension-vendor-agents-text.json")]
    event = {"Records": [kinesis_record(p, i) for i, p in enumerate(payloads)]}
    env = {
        "OPENSEARCH_ENDPOINT": "http://127.0.0.1:9",  # never contacted: the transport is replaced
        "OPENSEARCH_AUTH": "none",
        "DEAD_LETTER_BUCKET": "dlq",
        "AWS_REGION": "us-east-1",
        "FUNCTION_ARCHITECTURES": "{}",
        "MAX_BODY_CHARS": "2048",
        "REDACTION_RULES": json.dumps([{"name": "shop_db", "pattern": r"db\.internal"}]),
    }
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="dlq")
    rt = parser_handler.build_runtime(env)
    transport = CapturingTransport()
    rt.pipeline.indexer = dataclasses.replace(rt.pipeline.indexer, transport=transport)
    assert parser_handler.handle(event, FakeContext(), rt) == {"batchItemFailures": []}
    capsys.readouterr()  # (the handler's metrics and log lines)

    for name in ("MAX_BODY_CHARS", "REDACTION_RULES"):
        clean_env.setenv(name, env[name])
    code, out, _ = run(capsys, write_json(tmp_path, event))
    assert code == 0
    printed = [line.encode() + b"\n" for line in out.splitlines()]
    assert len(printed) == len(transport.sources) == sum(len(p["logEvents"]) for p in payloads)
    assert [without_observed_time(s) for s in printed] == [
        without_observed_time(s) for s in transport.sources
    ]
    redacted = without_observed_time(printed[2])
    assert "[REDACTED:shop_db]" in redacted["body"] and "hunter2" not in redacted["body"]
    assert any(json.loads(s).get("lambda.truncated") for s in printed)
