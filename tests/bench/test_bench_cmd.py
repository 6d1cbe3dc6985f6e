"""``lambdalens bench --json``: the result object the issue asks for, on the generated workload and
on a given Kinesis event file; ``--e2e`` / ``--variant`` against a real node of their own. Only
the shape and the arithmetic of the figures are tested here: speed is measured by ``make bench``,
never asserted by a test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lambdalens.cli import bench_cmd
from lambdalens.cli.main import main
from lambdalens.config import ParserConfig
from lambdalens.local_opensearch import OPENSEARCH_VERSION

EVENTS = Path(__file__).resolve().parents[2] / "events"
REQUIRED = {
    "events_per_s",
    "floor_events_per_s",
    "ratio_to_floor",
    "peak_rss_mb",
    "events",
    "python",
    "cpu",
}


def bench(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["bench", "--json", "--rounds", "1", *argv]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "one JSON object on one line"
    result: dict[str, Any] = json.loads(out)
    return result


def test_generated_workload_gives_every_field_with_consistent_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = bench(capsys, "--events", "1500")
    assert result.keys() >= REQUIRED
    assert result["input"] == "generated"
    assert result["events"] >= 1500  # whole invocations: a few more events than asked for
    assert result["ratio_to_floor"] == pytest.approx(
        result["events_per_s"] / result["floor_events_per_s"], abs=0.001
    )
    batch = result["peak_rss_batch"]  # the maximal batch: Lambda's 6 MB invocation payload
    assert 5.5 * 2**20 < batch["batch_bytes"] <= 6 * 2**20 + 2**19
    assert batch["batch_records"] <= 10_000
    assert 0 < result["peak_rss_mb"] < 1024
    assert result["targets"]["ratio_to_floor"] == 0.25 and result["targets"]["peak_rss_mb"] == 256
    assert result["targets"]["met"] == (result["ratio_to_floor"] >= 0.25 and result["peak_rss_mb"] <= 256)


def test_input_file_is_measured_instead_with_the_same_fields(capsys: pytest.CaptureFixture[str]) -> None:
    path = EVENTS / "kinesis" / "two-functions.json"
    result = bench(capsys, "--input", str(path))
    assert result.keys() >= REQUIRED
    assert result["input"] == str(path)
    records = json.loads(path.read_text(encoding="utf-8"))["Records"]
    assert result["records"] == len(records)
    assert result["peak_rss_batch"]["batch_records"] == len(records)  # measured on that file too
    decoded = json.loads((EVENTS / "kinesis" / "two-functions.expect.json").read_text(encoding="utf-8"))
    payloads = [json.loads((EVENTS / w["payload"]).read_text(encoding="utf-8")) for w in decoded]
    assert result["events"] == sum(len(p["logEvents"]) for p in payloads)  # one document per event


E2E_REQUIRED = {
    "e2e_events_per_s",
    "bulk_floor_events_per_s",
    "ratio_to_bulk_floor",
    "parse_share",
    "http_share",
    "engine",
    "node_startup_s",
    "node_rss_mb",
    "cpu",
    "cpus",
    "python",
    "events",
    "records",
    "bulk_requests",
    "bulk_bytes",
    "settings",
    "cpu_ms_per_1k_events",
    "target",
}


def assert_consistent(figures: dict[str, Any], rounds: int) -> None:
    """One variant's figures: the ratio is the quotient of the rates shown, the floor sent the very
    bodies the handler sent, the shares are parts of the e2e time."""
    assert figures["ratio_to_bulk_floor"] == pytest.approx(
        figures["e2e_events_per_s"] / figures["bulk_floor_events_per_s"], abs=0.001
    )
    assert figures["floor_requests"] == figures["bulk_requests"] > 0
    assert figures["floor_bytes"] == figures["bulk_bytes"] > 0
    assert 0 < figures["parse_share"] < 1 and 0 < figures["http_share"] < 1
    assert figures["parse_share"] + figures["http_share"] <= 1.0  # parsing ends before the first request
    assert len(figures["e2e_rates"]) == len(figures["floor_rates"]) == rounds
    assert figures["e2e_events_per_s"] == max(figures["e2e_rates"])
    assert figures["bulk_floor_events_per_s"] == max(figures["floor_rates"])
    round_ratios = [e / f for e, f in zip(figures["e2e_rates"], figures["floor_rates"], strict=True)]
    assert min(round_ratios) - 0.01 <= figures["median_round_ratio"] <= max(round_ratios) + 0.01
    for side in ("e2e", "floor"):
        assert figures["cpu_ms_per_1k_events"][side]["client"] > 0


@pytest.mark.integration
def test_e2e_runs_the_handler_into_a_real_node_against_the_bulk_floor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--e2e", "--json", "--events", "600", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "one JSON object on one line"
    result = json.loads(out)
    assert result.keys() >= E2E_REQUIRED
    assert_consistent(result, rounds=1)
    assert result["engine"]["name"] == "opensearch" and result["engine"]["version"] == OPENSEARCH_VERSION
    assert re.fullmatch(r"[0-9a-f]{40}", result["engine"]["build_hash"])
    assert result["node_startup_s"] > 0 and result["node_rss_mb"] > 100
    assert result["events"] >= 600 and result["records"] > 0
    assert result["settings"] == shipped_settings()
    assert result["target"] == {
        "ratio_to_bulk_floor": 0.85,
        "met": result["ratio_to_bulk_floor"] >= 0.85,
    }


def shipped_settings() -> dict[str, str]:
    """The parser's defaults, as the variables that set them."""
    config = ParserConfig.from_env(
        {"OPENSEARCH_ENDPOINT": "http://127.0.0.1", "OPENSEARCH_AUTH": "none", "DEAD_LETTER_BUCKET": "b"}
    )
    return {
        "BULK_CONCURRENCY": str(config.bulk_concurrency),
        "BULK_MAX_BYTES": str(config.bulk_max_bytes),
        "BULK_MAX_ITEMS": str(config.bulk_max_items),
        "OPENSEARCH_COMPRESS": "true" if config.opensearch.compress else "false",
    }


@pytest.mark.integration
def test_variants_are_each_measured_against_a_floor_of_their_shape(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--variant", "c=2,bytes=64k,items=100,plain", "--variant", "c=1,bytes=5m,items=5000,gzip"]
    assert main(["bench", "--json", "--events", "600", "--rounds", "1", *argv]) == 0
    result = json.loads(capsys.readouterr().out)
    small, gzipped = result["variants"]
    assert small["settings"] == {
        "BULK_CONCURRENCY": "2",
        "BULK_MAX_BYTES": "65536",
        "BULK_MAX_ITEMS": "100",
        "OPENSEARCH_COMPRESS": "false",
    }
    assert gzipped["settings"]["OPENSEARCH_COMPRESS"] == "true"
    for figures in (small, gzipped):
        assert_consistent(figures, rounds=1)
        best = max(f["bulk_floor_events_per_s"] for f in result["variants"])
        assert figures["ratio_to_best_floor"] == pytest.approx(figures["e2e_events_per_s"] / best, abs=0.001)
    assert result["e2e_events_per_s"] == small["e2e_events_per_s"], "the first variant is the headline"
    assert small["bulk_requests"] >= 6  # 600 events, 100 a request
    assert gzipped["bulk_requests"] == 1 and gzipped["floor_wire_bytes"] < gzipped["bulk_bytes"] / 4
    assert small["floor_wire_bytes"] == small["bulk_bytes"]
    bench_cmd.print_e2e(result)
    table = capsys.readouterr().out
    assert small["variant"] in table and gzipped["variant"] in table


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--variant", "c=17"], "BULK_CONCURRENCY must be an integer between 1 and 16"),
        (["--variant", "speed=fast"], "expected c=N, bytes=N[k|m], items=N, gzip or plain"),
        (["--variant", "bytes=10m"], "BULK_MAX_BYTES must be bytes between 1024 and"),
        (["--e2e", "--input", str(EVENTS / "kinesis" / "two-functions.json")], "measures the parser only"),
    ],
)
def test_bad_e2e_arguments_get_one_line_and_start_nothing(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["bench", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err


def test_e2e_without_java_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-jdk")}
    done = subprocess.run(
        [sys.executable, "-m", "lambdalens", "bench", "--e2e", "--events", "100"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Java 17 or newer" in done.stderr
