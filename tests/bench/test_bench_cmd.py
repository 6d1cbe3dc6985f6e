"""``lambdalens bench --json``: the result object the issue asks for, on the generated workload and
on a given Kinesis event file. Only its shape and its arithmetic are tested here: speed is
measured by ``make bench``, never asserted by a test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdalens.cli.main import main

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
    assert main(["bench", "--json", "--rounds", "1", "--no-handler", *argv]) == 0
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
