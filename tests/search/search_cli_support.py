"""Run ``lambdalens trace`` / ``lambdalens logs`` in-process (their modules registered on a
parser of their own, so the tests do not depend on the main command list)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from lambdalens.cli import logs_cmd, trace_cmd

ENV_NAMES = (
    "OPENSEARCH_ENDPOINT",
    "OPENSEARCH_AUTH",
    "OPENSEARCH_SECRET_ARN",
    "INDEX_PREFIX",
    "OPENSEARCH_DASHBOARDS_URL",
    "OPENSEARCH_DASHBOARDS_TENANT",
)


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    parser = argparse.ArgumentParser(prog="lambdalens")
    sub = parser.add_subparsers(dest="command")
    trace_cmd.register(sub)
    logs_cmd.register(sub)
    capsys.readouterr()
    args = parser.parse_args(argv)
    code = int(args.func(args))
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)
