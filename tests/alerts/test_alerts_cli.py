"""``lambdalens alerts test`` and ``lambdalens fingerprints`` (modules registered by hand here;
main.py lists them in COMMAND_MODULES)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import orjson
import pytest

from lambdalens.cli import alerts_cmd, fingerprints_cmd
from lambdalens.metrics.samples import SampleLog

if TYPE_CHECKING:
    from conftest import AwsEnv


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lambdalens")
    sub = parser.add_subparsers(dest="command")
    alerts_cmd.register(sub)
    fingerprints_cmd.register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_alerts_test_sends_one_sample_of_each_kind(aws: AwsEnv, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["alerts", "test", "--topic", aws.topic_arn]) == 0
    sent = aws.received()
    kinds = [(m.kind, m.alert["digest"]) for m in sent]
    assert kinds == [
        ("timeout", False),
        ("out_of_memory", False),
        ("init_error", False),
        ("new_error", False),
        ("error_burst", False),
        ("near_timeout", False),
        ("duration_regression", False),
        ("timeout", True),
    ]
    assert all(len(m.subject) < 100 for m in sent)
    assert "8 of 8 sample alerts sent" in capsys.readouterr().out


def test_alerts_test_reports_failure(aws: AwsEnv, capsys: pytest.CaptureFixture[str]) -> None:
    missing = aws.topic_arn.replace("lambdalens-alerts", "nope")
    assert run(["alerts", "test", "--topic", missing, "--kind", "timeout", "--no-digest"]) == 1
    assert "0 of 1 sample alerts sent" in capsys.readouterr().out


def test_alerts_test_dry_run_and_bad_topic(capsys: pytest.CaptureFixture[str]) -> None:
    topic = "arn:aws:sns:eu-west-1:123456789012:alerts"
    assert run(["alerts", "test", "--topic", topic, "--dry-run", "--kind", "near_timeout"]) == 0
    out = capsys.readouterr().out
    assert "Subject: LambdaLens Near timeout in orders-api (eu-west-1)" in out
    assert (
        run(["alerts", "test", "--topic", topic, "--dry-run", "--json", "--kind", "new_error", "--no-digest"])
        == 0
    )
    assert orjson.loads(capsys.readouterr().out)["alert"]["kind"] == "new_error"
    assert run(["alerts", "test", "--topic", "not-an-arn"]) == 2
    assert "--topic must be an SNS topic ARN" in capsys.readouterr().err
    assert run(["alerts"]) == 2


def test_fingerprints_lists_counts(aws: AwsEnv, capsys: pytest.CaptureFixture[str]) -> None:
    engine = aws.engine()
    log = SampleLog("orders-api")
    engine.process(log.invocation(outcome="error") + log.invocation(outcome="error") + [log.logged_error()])
    engine.process([SampleLog("billing").logged_error("card declined <@here>")])
    assert run(["fingerprints", "--table", "lambdalens-alerts", "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["FUNCTION", "FINGERPRINT", "COUNT", "FIRST", "SEEN", "LAST", "SEEN", "ERROR"]
    assert len(out) == 4
    keyerror = next(line for line in out if "KeyError" in line)
    assert keyerror.split()[:1] == ["orders-api"] and keyerror.split()[2] == "2"
    assert "&lt;＠here&gt;" in next(line for line in out if "billing" in line)

    assert run(["fingerprints", "--table", "lambdalens-alerts", "--function", "billing", "--json"]) == 0
    (row,) = orjson.loads(capsys.readouterr().out)
    assert row["function"] == "billing" and row["count"] == 1 and row["error_type"] == "GatewayError"
    assert row["first_seen"].endswith("Z") and len(row["fingerprint"]) == 16


def test_fingerprints_needs_a_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ALERT_STATE_TABLE", raising=False)
    assert run(["fingerprints"]) == 2
    assert "ALERT_STATE_TABLE" in capsys.readouterr().err


def test_fingerprints_reports_a_missing_table(aws: AwsEnv, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["fingerprints", "--table", "nope-table"]) == 1
    assert "cannot read nope-table" in capsys.readouterr().err
