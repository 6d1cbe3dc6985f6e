"""``lambdalens trace``: the terminal timeline, --json, and the error cases."""

from __future__ import annotations

import socket
from typing import Any

import orjson
import pytest
from search_cli_support import ENV_NAMES, run_cli
from search_support import ANALYSIS, BAD_TOKEN_WARNING, NEW_POST, PROCESSOR, T1, T2

from lambdalens.indexing import client as client_module


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server(opensearch_node: Any, keyword_prefix: str) -> list[str]:
    """Connection options for the stand-in and the keyword-mapped data set."""
    return ["--endpoint", opensearch_node.url, "--index-prefix", keyword_prefix]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_timeline_lanes_marks_key_lines_and_root_cause(
    capsys: pytest.CaptureFixture[str], server: list[str]
) -> None:
    result = run_cli(["trace", T2, *server], capsys)
    assert result.code == 0, result.err
    out = result.out
    lines = out.splitlines()
    assert lines[0] == f"Transaction {T2}  (found by traceId)"
    assert "3 functions · 4 invocations · 2024-06-11 23:59:40.031Z → 00:00:41.644Z (61.613 s)" in out
    # one lane per function, in the order they first ran, a row per invocation under each
    lanes = [line for line in lines if line in ("new-post", "request-processor", "post-analysis")]
    assert lanes == ["new-post", "request-processor", "post-analysis"]
    rows = {line.split()[0]: line for line in lines if line.startswith("  ") and "│" in line}
    assert set(rows) == {NEW_POST[:8], PROCESSOR[:8], ANALYSIS[:8]}
    new_post_row = lines[lines.index("new-post") + 1]
    assert "cold" in new_post_row and "+0.000 s" in new_post_row and "182 ms" in new_post_row
    assert new_post_row.rstrip().endswith("✓   88/256 MB")
    analysis_rows = lines[lines.index("post-analysis") + 1 : lines.index("post-analysis") + 3]
    assert all("✗" in row and "KeyError" in row for row in analysis_rows)
    assert (
        "+1.571 s" in analysis_rows[0] and "+61.571 s" in analysis_rows[1] and "attempt 2" in analysis_rows[1]
    )
    # bars are placed on the time axis: the retry's bar sits at the right end
    assert analysis_rows[1].split("│")[1].rstrip().endswith("█")
    assert analysis_rows[0].split("│")[1].startswith(" █ ")
    # key lines: the warning (!) and the errors (✗), in time order
    key = lines[lines.index("Key log lines (warnings and errors)") + 1 :]
    assert key[0].startswith("! 23:59:40.231  new-post") and BAD_TOKEN_WARNING in key[0]
    assert any(
        k.startswith("✗ 23:59:41.611  post-analysis  c1d2e3f4  ERROR  [ERROR] KeyError: 'author_id'")
        for k in key
    )
    assert (
        f"Probable root cause: new-post request {NEW_POST} at 2024-06-11T23:59:40.231Z: {BAD_TOKEN_WARNING}"
        in out
    )
    assert "  why: logged WARN before post-analysis failed (error) 2 hops downstream" in out
    assert (
        f"  failed: post-analysis request {ANALYSIS} at 2024-06-11T23:59:41.611Z: KeyError: 'author_id'"
        in out
    )


def test_status_marks_for_timeout_and_oom(capsys: pytest.CaptureFixture[str], server: list[str]) -> None:
    timeout = run_cli(["trace", "0490c757-d667-43de-bec7-77758fac7824", *server], capsys)
    assert timeout.code == 0 and "⏱" in timeout.out
    oom = run_cli(["trace", "7891b69e-d1a9-4f1d-852d-2b866d242bf7", *server], capsys)
    assert oom.code == 0 and " OOM " in oom.out
    assert "Probable root cause: csv-normalizer request 7891b69e-d1a9-4f1d-852d-2b866d242bf7" in oom.out


def test_ascii_output(capsys: pytest.CaptureFixture[str], server: list[str]) -> None:
    result = run_cli(["trace", T1, *server, "--ascii"], capsys)
    assert result.code == 0
    assert result.out.isascii()
    assert "|#" in result.out and " X " in result.out and " ok " in result.out


def test_json_output_shape(capsys: pytest.CaptureFixture[str], server: list[str]) -> None:
    result = run_cli(["trace", T1, *server, "--json"], capsys)
    assert result.code == 0
    data = orjson.loads(result.out)
    assert set(data) == {
        "key",
        "matched_by",
        "trace_ids",
        "correlation_ids",
        "start",
        "end",
        "duration_ms",
        "functions",
        "invocations",
        "root_cause",
        "truncated",
        "hops_followed",
        "document_count",
        "documents",
    }
    assert (data["key"], data["matched_by"], data["truncated"]) == (T1, ["traceId"], False)
    assert data["functions"] == ["new-post", "request-processor", "post-analysis"]
    assert (data["start"], data["end"], data["duration_ms"]) == (
        "2024-06-11T23:59:40.031Z",
        "2024-06-12T00:00:41.644Z",
        61613.0,
    )
    assert [(i["function"], i["request_id"], i["attempt"], i["outcome"]) for i in data["invocations"]] == [
        ("new-post", NEW_POST, 1, "success"),
        ("request-processor", PROCESSOR, 1, "success"),
        ("post-analysis", ANALYSIS, 1, "error"),
        ("post-analysis", ANALYSIS, 2, "error"),
    ]
    first = data["invocations"][0]
    assert set(first) == {
        "function",
        "request_id",
        "attempt",
        "start",
        "end",
        "duration_ms",
        "billed_duration_ms",
        "init_duration_ms",
        "memory_size_mb",
        "max_memory_used_mb",
        "outcome",
        "cold_start",
        "instance",
        "trace_id",
        "correlation_id",
        "errors",
        "document_count",
    }
    error = data["invocations"][2]["errors"][0]
    assert set(error) == {
        "time",
        "type",
        "message",
        "fingerprint",
        "event_type",
        "severity",
        "line",
        "log_record_uid",
        "count",
    }
    assert (error["type"], error["message"], len(error["fingerprint"])) == ("KeyError", "'author_id'", 16)
    rc = data["root_cause"]
    assert (rc["function"], rc["request_id"], rc["time"], rc["severity"], rc["hops_downstream"]) == (
        "new-post",
        NEW_POST,
        "2024-06-11T23:59:40.231Z",
        "WARN",
        2,
    )
    assert rc["evidence"].startswith(BAD_TOKEN_WARNING)
    assert rc["failure"] == {
        "function": "post-analysis",
        "request_id": ANALYSIS,
        "attempt": 1,
        "time": "2024-06-11T23:59:41.611Z",
        "outcome": "error",
        "error": "KeyError: 'author_id'",
    }
    assert data["document_count"] == len(data["documents"]) == 25
    assert [d["@timestamp"] for d in data["documents"]] == sorted(d["@timestamp"] for d in data["documents"])
    slim = orjson.loads(run_cli(["trace", T1, *server, "--json", "--no-documents"], capsys).out)
    assert "documents" not in slim and slim["document_count"] == 25


def test_unknown_id_exits_1(capsys: pytest.CaptureFixture[str], server: list[str]) -> None:
    result = run_cli(["trace", "1-00000000-000000000000000000000000", *server], capsys)
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("lambdalens trace: no documents for '1-00000000-000000000000000000000000'")


def test_unreachable_endpoint_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    result = run_cli(["trace", T1, "--endpoint", endpoint, "--timeout", "2"], capsys)
    assert result.code == 2
    assert result.err.startswith(f"lambdalens trace: cannot connect to {endpoint}: ")
    assert result.err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trace", T1], "--endpoint (or OPENSEARCH_ENDPOINT) is required"),
        (["trace", T1, "--endpoint", "ftp://example.com"], "OPENSEARCH_ENDPOINT"),
        (["trace", T1, "--endpoint", "http://127.0.0.1:9", "--auth", "sigv4"], "https"),
        (
            ["trace", T1, "--endpoint", "http://127.0.0.1:9", "--since", "yesterday"],
            "--since: expected a duration",
        ),
        (["trace", T1, "--endpoint", "http://127.0.0.1:9", "--limit", "0"], "--limit must be 1 or more"),
        (["trace", "two words", "--endpoint", "http://127.0.0.1:9"], "must not contain blanks"),
    ],
)
def test_invalid_options_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    result = run_cli(argv, capsys)
    assert result.code == 2
    assert message in result.err and result.err.count("\n") == 1


def test_environment_provides_the_defaults(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    opensearch_node: Any,
    keyword_prefix: str,
) -> None:
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", opensearch_node.url)
    monkeypatch.setenv("INDEX_PREFIX", keyword_prefix)
    result = run_cli(["trace", NEW_POST, "--since", "2024-06-11T23:00:00Z"], capsys)
    assert result.code == 0 and "Probable root cause: new-post" in result.out


def test_sigv4_client_for_a_real_domain(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, aws_env: None
) -> None:
    """--auth sigv4 builds the client with make_client and signs with the AWS credentials."""
    made: list[tuple[Any, Any]] = []
    real = client_module.make_client

    def spy(config: Any) -> Any:
        client = real(config)
        made.append((config, client))
        return client

    monkeypatch.setattr(client_module, "make_client", spy)
    endpoint = f"https://127.0.0.1:{closed_port()}"
    result = run_cli(["trace", T1, "--endpoint", endpoint, "--region", "eu-west-1", "--timeout", "2"], capsys)
    assert result.code == 2 and "cannot connect" in result.err
    ((config, client),) = made
    assert (config.endpoint, config.auth, config.region) == (endpoint, "sigv4", "eu-west-1")
    from opensearchpy import Urllib3AWSV4SignerAuth

    assert isinstance(client.transport.kwargs["http_auth"], Urllib3AWSV4SignerAuth)


def test_sigv4_without_credentials_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_credentials(config: Any) -> Any:
        raise ValueError("SigV4 needs AWS credentials and a region (AWS_REGION)")

    monkeypatch.setattr(client_module, "make_client", no_credentials)
    result = run_cli(
        ["trace", T1, "--endpoint", "https://search-logs-abc.eu-west-1.es.amazonaws.com"], capsys
    )
    assert result.code == 2
    assert "cannot create the OpenSearch client: ValueError: SigV4 needs AWS credentials" in result.err


def test_colours(search_client: Any, keyword_prefix: str) -> None:
    from lambdalens.search import find_transaction, render_logs, render_timeline
    from lambdalens.search.logs import find_logs

    tx = find_transaction(search_client, T1, index_prefix=keyword_prefix)
    plain = render_timeline(tx)
    assert "\x1b[" not in plain
    colored = render_timeline(tx, color=True)
    assert "\x1b[32m✓  \x1b[0m" in colored and "\x1b[31m✗  \x1b[0m" in colored  # success green, failure red
    assert "\x1b[33m!\x1b[0m 23:59:40.231" in colored  # the warning yellow
    assert "\x1b[1mProbable root cause:\x1b[0m new-post" in colored
    view = find_logs(search_client, "post-analysis", request_id=ANALYSIS, index_prefix=keyword_prefix)
    assert "\x1b[31mERROR\x1b[0m" in render_logs(view, color=True)
    assert "\x1b[" not in render_logs(view)


def test_colour_only_on_a_terminal() -> None:
    import argparse

    from lambdalens.cli.trace_cmd import wants_color

    class Tty:
        def isatty(self) -> bool:
            return True

    on, off = argparse.Namespace(no_color=False), argparse.Namespace(no_color=True)
    assert wants_color(on, {}, Tty())
    assert not wants_color(off, {}, Tty())
    assert not wants_color(on, {"NO_COLOR": "1"}, Tty())
    assert not wants_color(on, {}, object())


def _link_state(url: str) -> str:
    from urllib.parse import unquote

    return unquote(url.split("#", 1)[1])


def test_links_into_dashboards_open_the_transaction_and_its_root_cause_with_the_time_set(
    capsys: pytest.CaptureFixture[str], server: list[str]
) -> None:
    base = "https://search-logs.us-east-1.es.amazonaws.com/_dashboards"
    result = run_cli(["trace", T2, *server, "--dashboards-url", base, "--tenant", "global"], capsys)
    assert result.code == 0, result.err
    block = result.out.split("\nOpenSearch Dashboards:\n", 1)[1].splitlines()
    links = dict(
        line.split(None, 1) for line in block if line.strip().startswith(("transaction", "root", "new-post"))
    )
    transaction = links["transaction"]
    assert transaction.startswith(f"{base}/app/discover?security_tenant=global#/view/")
    assert f'traceId:"{T2}"' in _link_state(transaction)
    assert "_g=(time:(from:'2024-06-11T23:29:40.031Z',to:'2024-06-12T00:30:41.644Z'))" in _link_state(
        transaction
    )
    cause = next(line for line in block if line.strip().startswith("root cause"))
    assert f'faas.invocation_id:"{NEW_POST}"' in _link_state(cause)
    assert (
        "#/view/" in links["new-post"]
        and "/app/dashboards?security_tenant=global#/view/" in links["new-post"]
    )
    data = orjson.loads(run_cli(["trace", T2, *server, "--json", "--dashboards-url", base], capsys).out)
    assert set(data["dashboards_links"]) == {"transaction", "root cause", "new-post"}
