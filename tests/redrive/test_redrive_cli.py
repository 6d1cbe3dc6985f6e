"""``lambdalens redrive`` from the command line: options, output, exit status, the progress
bar, and a run against a moto *server* reached through boto3's ``AWS_ENDPOINT_URL``."""

from __future__ import annotations

import io
import json
import re
import sys
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lambdalens.cli import main as cli_main
from lambdalens.cli import redrive_cmd
from lambdalens.indexing.retry import Deadline
from lambdalens.redrive import Progress
from redrive.redrive_support import (
    BUCKET,
    REGION,
    dead_letter_objects,
    indexed,
    make_pipeline,
    make_stream,
    on_failure_message,
    queue_messages,
    workload,
)
from testing_support import load_event


@pytest.fixture(autouse=True)
def with_redrive(monkeypatch: pytest.MonkeyPatch) -> None:
    """``lambdalens redrive`` registered, whether or not main lists it yet."""
    if "lambdalens.cli.redrive_cmd" not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(
            cli_main, "COMMAND_MODULES", (*cli_main.COMMAND_MODULES, "lambdalens.cli.redrive_cmd")
        )
    for name in ("OPENSEARCH_ENDPOINT", "OPENSEARCH_AUTH", "INDEX_PREFIX", "DEAD_LETTER_BUCKET"):
        monkeypatch.delenv(name, raising=False)


def lambdalens(*argv: str) -> int:
    return cli_main.main(list(argv))


def test_from_sqs_end_to_end_json(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, kinesis: Any, capsys: Any
) -> None:
    stream = make_stream(kinesis)
    stream.put_payloads(workload(300))
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[:6]))
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[6:9]))
    code = lambdalens(
        "redrive",
        "--from-sqs",
        queue_url,
        "--endpoint",
        opensearch_node.url,
        "--index-prefix",
        index_prefix,
        "--dead-letter-bucket",
        BUCKET,
        "--wait-seconds",
        "0",
        "--batch-size",
        "4",
        "--json",
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["ok"] is True and out["mode"] == "sqs" and out["origin"] == queue_url
    expected = {i for r in stream.records[:9] for i in r.event_ids}
    assert set(indexed(opensearch_node.url, index_prefix)) == expected
    assert out["counts"]["records"] == 9 and out["counts"]["reindexed"] == len(expected)
    assert [s["status"] for s in out["sources"]] == ["done", "done"]
    assert out["sources"][0]["range"].startswith("lambdalens-logs shardId-000000000000 [")
    assert queue_messages(sqs, queue_url) == []


def test_from_s3_text_summary_and_second_run(
    opensearch_node: Any, index_prefix: str, s3: Any, capsys: Any
) -> None:
    make_pipeline(opensearch_node.url, index_prefix, s3, BUCKET).run(
        load_event("kinesis/poison-batch.json")["Records"], Deadline.after(60)
    )
    argv = ["redrive", "--from-s3", BUCKET, "--endpoint", opensearch_node.url, "--index-prefix", index_prefix]
    assert lambdalens(*argv, "--since", "2000/01/01") == 0
    text = capsys.readouterr().out
    assert text.startswith(f"redrive from s3://{BUCKET}/dead-letter/: 5 objects")  # one per record
    assert "dead-lettered again" in text and "objects: 5 kept" in text
    assert "nothing changed" in text
    assert lambdalens(*argv, "--until", "2000/01/01") == 0
    assert "0 objects" in capsys.readouterr().out


def test_expired_range_exits_1_and_says_so(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, kinesis: Any, capsys: Any
) -> None:
    stream = make_stream(kinesis)
    stream.put_payloads(workload(40))
    old = datetime.now(UTC) - timedelta(days=3)
    sqs.send_message(
        QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[:2], arrived=old)
    )
    code = lambdalens(
        "redrive",
        "--from-sqs",
        queue_url,
        "--endpoint",
        opensearch_node.url,
        "--dead-letter-bucket",
        BUCKET,
        "--wait-seconds",
        "0",
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "expired from the stream" in out and "expired: the records arrived at" in out
    assert "--discard-expired" in out and len(queue_messages(sqs, queue_url)) == 1


def test_dry_run_needs_no_opensearch(s3: Any, capsys: Any) -> None:
    pipeline = make_pipeline("http://127.0.0.1:9", "unused", s3, BUCKET)  # only writes the dead letters
    pipeline.run(load_event("kinesis/poison-batch.json")["Records"], Deadline.after(5))
    before = {k: [x.reason for x in v] for k, v in dead_letter_objects(s3, BUCKET).items()}
    assert lambdalens("redrive", "--from-s3", BUCKET, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "dry run: nothing written, nothing deleted" in out and "would be dead-lettered" in out
    assert {k: [x.reason for x in v] for k, v in dead_letter_objects(s3, BUCKET).items()} == before


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--from-s3", BUCKET], "--endpoint (or OPENSEARCH_ENDPOINT) is required"),
        (
            ["--from-sqs", "https://sqs.us-east-1.amazonaws.com/1/q", "--endpoint", "http://x:9200"],
            "--dead-letter-bucket",
        ),
        (
            ["--from-sqs", "https://sqs.us-east-1.amazonaws.com/1/q", "--since", "2024/05/01"],
            "use them with --from-s3",
        ),
        (["--from-s3", BUCKET, "--endpoint", "http://x:9200", "--since", "May 1st"], "expected YYYY/MM/DD"),
        (["--from-s3", BUCKET, "--endpoint", "ftp://x"], "OPENSEARCH_ENDPOINT"),
    ],
)
def test_invalid_options_exit_2(argv: list[str], says: str, capsys: Any) -> None:
    assert lambdalens("redrive", *argv) == 2
    assert says in capsys.readouterr().err


def test_one_source_is_required(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        lambdalens("redrive", "--from-s3", BUCKET, "--from-sqs", "https://sqs.us-east-1.amazonaws.com/1/q")
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        lambdalens("redrive", "--endpoint", "http://x:9200")
    assert "one of the arguments --from-sqs --from-s3 is required" in capsys.readouterr().err


def test_queue_region_and_default_auth() -> None:
    assert redrive_cmd.queue_region("https://sqs.eu-west-1.amazonaws.com/123456789012/q") == "eu-west-1"
    assert redrive_cmd.queue_region("https://eu-west-2.queue.amazonaws.com/123456789012/q") == "eu-west-2"
    assert redrive_cmd.queue_region("http://127.0.0.1:5000/123456789012/q") is None
    assert redrive_cmd.default_auth("https://search-x.eu-west-1.es.amazonaws.com", {}) == "sigv4"
    assert redrive_cmd.default_auth("https://abc.eu-west-1.aoss.amazonaws.com", {}) == "aoss"
    assert redrive_cmd.default_auth("http://127.0.0.1:9200", {}) == "none"
    assert redrive_cmd.default_auth("http://127.0.0.1:9200", {"OPENSEARCH_AUTH": "basic"}) == "basic"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only(
    opensearch_node: Any, index_prefix: str, s3: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    make_pipeline(opensearch_node.url, index_prefix, s3, BUCKET).run(
        load_event("kinesis/poison-batch.json")["Records"], Deadline.after(60)
    )
    argv = ["redrive", "--from-s3", BUCKET, "--endpoint", opensearch_node.url, "--index-prefix", index_prefix]
    captured = sys.stderr
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert lambdalens(*argv) == 0
    drawn = terminal.getvalue()
    assert "\r[####" in drawn and "/5 objects" in drawn and "dead-lettered" in drawn
    assert drawn.endswith("\r")  # erased before the summary

    quiet = FakeTerminal()
    monkeypatch.setattr("sys.stderr", quiet)
    assert lambdalens(*argv, "--quiet") == 0
    assert quiet.getvalue() == ""
    monkeypatch.setattr("sys.stderr", captured)
    assert lambdalens(*argv) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no bar


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on 127.0.0.1; boto3 reaches it through AWS_ENDPOINT_URL (no mock_aws)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    try:
        yield url
    finally:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=5)
        server.stop()


def test_against_a_moto_server_through_aws_endpoint_url(
    moto_server: str, opensearch_node: Any, index_prefix: str, capsys: Any
) -> None:
    name = f"logs-{uuid.uuid4().hex[:6]}"
    kinesis = boto3.client("kinesis")
    stream = make_stream(kinesis, name=name)
    stream.put_payloads(workload(120))
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"failures-{name}")["QueueUrl"]
    assert queue_url.startswith(moto_server)
    boto3.client("s3").create_bucket(Bucket=f"dlq-{name}")
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[:5]))
    code = lambdalens(
        "redrive",
        "--from-sqs",
        queue_url,
        "--endpoint",
        opensearch_node.url,
        "--index-prefix",
        index_prefix,
        "--dead-letter-bucket",
        f"dlq-{name}",
        "--wait-seconds",
        "0",
        "--json",
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert set(indexed(opensearch_node.url, index_prefix)) == {
        i for r in stream.records[:5] for i in r.event_ids
    }
    assert queue_messages(sqs, queue_url) == []


def test_progress_line_rendering() -> None:
    ticks = iter([0.0, 75.0, 75.05])
    stream = FakeTerminal()
    progress = Progress(stream, 40, "objects", clock=lambda: next(ticks))
    assert progress.enabled
    progress.update(10, "3,412 docs  0 failed")
    assert stream.getvalue() == "\r[#####...............] 10/40 objects  3,412 docs  0 failed  1:15"
    progress.update(11)  # within 0.1 s: not redrawn
    assert stream.getvalue().count("\r") == 1
    drawn = len(stream.getvalue()) - 1
    progress.close()
    assert stream.getvalue().endswith("\r" + " " * drawn + "\r")
    assert Progress(io.StringIO(), None, "messages").enabled is False
    unknown = Progress(FakeTerminal(), None, "messages", clock=lambda: 0.0)
    unknown.update(3)
    assert unknown.line() == "3 messages  0:00"


def parser_function(env: dict[str, str]) -> str:
    """A parser Lambda in moto (never invoked: only its configuration is read)."""
    role = boto3.client("iam").create_role(
        RoleName="lambdalens-parser",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="lambdalens-parser",
        Runtime="python3.12",
        Role=role,
        Handler="lambdalens.handlers.parser.handler",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": env},
    )
    return "lambdalens-parser"


def test_parser_function_settings_make_the_same_documents(
    opensearch_node: Any, index_prefix: str, s3: Any, sqs: Any, queue_url: str, kinesis: Any, capsys: Any
) -> None:
    rule = [{"name": "order", "pattern": r"order \d+", "replacement": "order [ORDER]"}]
    function = parser_function(
        {
            "OPENSEARCH_ENDPOINT": opensearch_node.url,
            "OPENSEARCH_AUTH": "none",
            "INDEX_PREFIX": index_prefix,
            "DEAD_LETTER_BUCKET": BUCKET,
            "REDACTION_RULES": json.dumps(rule),
        }
    )
    stream = make_stream(kinesis)
    stream.put_payloads(workload(100))
    sqs.send_message(QueueUrl=queue_url, MessageBody=on_failure_message(stream, stream.records[:4]))
    code = lambdalens(
        "redrive", "--from-sqs", queue_url, "--parser-function", function, "--wait-seconds", "0"
    )
    assert code == 0, capsys.readouterr()
    docs = indexed(opensearch_node.url, index_prefix)  # the function's endpoint and index prefix
    assert set(docs) == {i for r in stream.records[:4] for i in r.event_ids}
    bodies = [d["body"] for d in docs.values()]
    assert any("order [ORDER]" in b for b in bodies)  # the function's own redaction rule
    assert not any(re.search(r"order \d+", b) for b in bodies)


def test_parser_function_that_cannot_be_read_exits_1(aws_env: None, capsys: Any) -> None:
    code = lambdalens("redrive", "--from-s3", BUCKET, "--parser-function", "missing", "--dry-run")
    assert code == 1 and "cannot read the configuration of missing" in capsys.readouterr().err


def test_a_queue_that_cannot_be_read_exits_1(opensearch_node: Any, aws_env: None, capsys: Any) -> None:
    missing = "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue"
    code = lambdalens(
        "redrive", "--from-sqs", missing, "--endpoint", opensearch_node.url, "--dead-letter-bucket", BUCKET
    )
    assert code == 1 and "NonExistentQueue" in capsys.readouterr().err
