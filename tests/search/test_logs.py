"""``lambdalens logs`` and find_logs: one function or one invocation, read like a terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from search_cli_support import ENV_NAMES, run_cli
from search_support import ANALYSIS, BAD_TOKEN_WARNING, NEW_POST, OTHER_ANALYSIS, OTHER_NEW_POST

from lambdalens.search import find_logs, render_logs


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server(opensearch_node: Any, keyword_prefix: str) -> list[str]:
    return ["--endpoint", opensearch_node.url, "--index-prefix", keyword_prefix]


def test_one_request_id(capsys: pytest.CaptureFixture[str], server: list[str]) -> None:
    result = run_cli(["logs", "--function", "new-post", "--request-id", NEW_POST, *server], capsys)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"── new-post · request {NEW_POST} · 2024-06-11 · cold start ──")
    assert lines[1:] == [
        "23:59:39.480  init      INFO   INIT_START Runtime Version: python:3.12.v27 Runtime Version ARN: "
        "arn:aws:lambda:us-east-1::runtime:5538126b3a75b97a23439d955dff89df7ef1c6c1601c0780846907dcb787d6ff",
        "23:59:40.215  3f2a7c1e  INFO   Creating post  title_length=42",
        f"23:59:40.231  3f2a7c1e  WARN   {BAD_TOKEN_WARNING}  kid=test-2019",
        "23:59:40.276  3f2a7c1e  INFO   Post stored  post_id=p-7731",
        "   REPORT 182 ms · billed 183 ms · memory 88/256 MB · init 612 ms · ✓ success",
    ]


def test_function_over_time_groups_by_invocation(
    capsys: pytest.CaptureFixture[str], server: list[str]
) -> None:
    result = run_cli(["logs", "--function", "post-analysis", "--since", "2024-06-11", *server], capsys)
    assert result.code == 0
    separators = [line for line in result.out.splitlines() if line.startswith("── ")]
    assert [s.split(" · ")[1] for s in separators] == [
        f"request {ANALYSIS}",
        f"request {ANALYSIS} (attempt 2)",
        f"request {OTHER_ANALYSIS}",
    ]
    # a stack trace printed as one event: its later lines indented under the message column
    assert "23:59:41.611  c1d2e3f4  ERROR  [ERROR] KeyError: 'author_id'\n" in result.out
    assert "\n                               Traceback (most recent call last):\n" in result.out
    assert '\n                                   author = post["author_id"]\n' in result.out
    assert result.out.count("✗ error") == 2 and result.out.count("✓ success") == 1
    assert "START RequestId" not in result.out and "END RequestId" not in result.out


def test_query_keeps_matching_lines_and_the_summaries(
    capsys: pytest.CaptureFixture[str], server: list[str]
) -> None:
    result = run_cli(
        ["logs", "--function", "post-analysis", "--since", "2024-06-11", "--query", "author_id", *server],
        capsys,
    )
    assert result.code == 0
    body_lines = [line for line in result.out.splitlines() if line[:2].isdigit()]
    assert [line[:40] for line in body_lines] == [
        "23:59:41.611  c1d2e3f4  ERROR  [ERROR] K",
        "00:00:41.611  c1d2e3f4  ERROR  [ERROR] K",
    ]
    assert result.out.count("   REPORT 42 ms · billed 42 ms · memory 79/256 MB") == 2  # read for the summary


def test_limit_keeps_the_newest_lines(server: list[str], search_client: Any, keyword_prefix: str) -> None:
    view = find_logs(
        search_client,
        "new-post",
        since=datetime(2024, 6, 11, tzinfo=UTC),
        limit=3,
        index_prefix=keyword_prefix,
    )
    assert view.truncated
    assert [d["@timestamp"] for d in view.documents] == [
        "2024-06-11T23:59:52.276Z",
        "2024-06-11T23:59:52.282Z",
        "2024-06-11T23:59:52.282Z",
    ]
    assert [g.request_id for g in view.groups] == [OTHER_NEW_POST]
    text = render_logs(view, ascii=True)
    assert text.startswith("(only the newest 3 lines")
    assert text.isascii() and "ok success" in text


def test_json_lines_and_raw(capsys: pytest.CaptureFixture[str], server: list[str]) -> None:
    result = run_cli(["logs", "--function", "new-post", "--request-id", NEW_POST, "--json", *server], capsys)
    docs = [orjson.loads(line) for line in result.out.splitlines()]
    assert [d["lambda.event_type"] for d in docs] == [
        "init_start",
        "start",
        "app_log",
        "app_log",
        "app_log",
        "end",
        "report",
    ]
    assert {d.get("faas.invocation_id") for d in docs} == {None, NEW_POST}  # the init line has none
    raw = run_cli(["logs", "--function", "new-post", "--request-id", NEW_POST, "--raw", *server], capsys)
    assert '{"level":"WARNING","location":"handler:27","message":"Accepting token' in raw.out


def test_no_lines_exit_1(capsys: pytest.CaptureFixture[str], server: list[str]) -> None:
    # the data is from 2024: nothing in the last hour (the default --since)
    result = run_cli(["logs", "--function", "new-post", *server], capsys)
    assert (result.code, result.out) == (1, "")
    assert result.err == "lambdalens logs: no log lines for new-post since 1h\n"
    result = run_cli(["logs", "--function", "new-post", "--request-id", ANALYSIS, *server], capsys)
    assert result.code == 1 and f"no log lines for request {ANALYSIS} of new-post" in result.err


def test_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(
        ["logs", "--function", "new-post", "--endpoint", "http://127.0.0.1:9", "--timeout", "2"], capsys
    )
    assert result.code == 2 and result.err.startswith(
        "lambdalens logs: cannot connect to http://127.0.0.1:9: "
    )
    result = run_cli(
        ["logs", "--function", "new-post", "--endpoint", "http://127.0.0.1:9", "--limit", "0"], capsys
    )
    assert result.code == 2 and "--limit must be 1 or more" in result.err


def test_links_into_dashboards_open_the_invocation_or_the_function(
    capsys: pytest.CaptureFixture[str], server: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import unquote

    monkeypatch.setenv("OPENSEARCH_DASHBOARDS_URL", "http://localhost:5601")
    one = run_cli(["logs", "--function", "new-post", "--request-id", NEW_POST, *server], capsys)
    invocation = one.out.split("\nOpenSearch Dashboards:\n", 1)[1].split()
    assert invocation[0] == "invocation" and invocation[1].startswith(
        "http://localhost:5601/app/discover#/view/"
    )
    assert f'faas.invocation_id:"{NEW_POST}"' in unquote(invocation[1])
    over_time = run_cli(["logs", "--function", "post-analysis", "--since", "2024-06-11", *server], capsys)
    block = dict(
        line.split() for line in over_time.out.split("\nOpenSearch Dashboards:\n", 1)[1].splitlines()
    )
    assert (
        'faas.name:"post-analysis"' in unquote(block["logs"])
        and "from:'2024-06-11T00:00:00.000Z'" in block["logs"]
    )
    assert "/app/dashboards#/view/" in block["post-analysis"]
    monkeypatch.setenv("OPENSEARCH_DASHBOARDS_TENANT", "admins")
    bad = run_cli(["logs", "--function", "new-post", *server], capsys)
    assert bad.code == 2 and "OPENSEARCH_DASHBOARDS_TENANT must be global | private" in bad.err
