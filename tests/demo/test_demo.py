"""`lambdalens demo`, smaller: every injected failure is detected, alerts are sent once, the
failing transaction is traced to its root cause, and nothing is left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lambdalens.cli.main import main


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo")
    assert (
        main(
            [
                "demo",
                "--scale",
                "small",
                "--quiet",
                "--report-json",
                str(out / "report.json"),
                "--html",
                str(out / "report.html"),
            ]
        )
        == 0
    )
    data: dict[str, Any] = json.loads((out / "report.json").read_text())
    data["_html"] = (out / "report.html").read_text()
    return data


def test_every_injected_failure_is_detected(report: dict[str, Any]) -> None:
    from lambdalens.demo.app import Application
    from lambdalens.demo.runner import SCALES

    app = Application(seed=42)
    app.run(*SCALES["small"])
    expected = app.expected
    functions = report["functions"]
    assert {name: row["invocations"] for name, row in functions.items()} == expected.invocations
    assert {n: r["timeouts"] for n, r in functions.items() if r["timeouts"]} == expected.timeouts
    assert {n: r["oom"] for n, r in functions.items() if r["oom"]} == expected.oom
    assert {n: r["cold_starts"] for n, r in functions.items() if r["cold_starts"]} == expected.cold_starts
    assert (
        functions["request-processor"]["init_errors"] >= 1
    )  # the failed init and its retry in the invoke phase
    assert functions["post-analysis"]["errors"] == 1
    for row in functions.values():
        assert row["duration_ms"]["p50"] is not None and row["estimated_cost_usd"] > 0


def test_alerts_are_sent_once_per_failure(report: dict[str, Any]) -> None:
    kinds = sorted((a["kind"], a["function"]) for a in report["alerts"])
    assert kinds == sorted(
        [
            ("timeout", "view-post"),
            ("out_of_memory", "request-processor"),
            ("init_error", "request-processor"),
            ("new_error", "post-analysis"),
        ]
    )


def test_the_root_cause_is_the_hop_that_accepted_the_bad_token(report: dict[str, Any]) -> None:
    from lambdalens.demo.app import Application
    from lambdalens.demo.runner import SCALES

    app = Application(seed=42)
    app.run(*SCALES["small"])
    cause = report["root_cause"]
    assert cause["function"] == "new-post"
    assert cause["request_id"] == app.expected.root_cause_request_id
    functions = [inv["function"] for inv in report["transaction"]["invocations"]]
    assert functions[0] == "new-post" and "post-analysis" in functions and "request-processor" in functions


def test_report_has_fingerprints_pipeline_figures_and_a_page(report: dict[str, Any]) -> None:
    assert any(f["function"] == "post-analysis" for f in report["fingerprints"])
    p = report["pipeline"]
    assert p["documents_in_opensearch"] == p["log_lines"]
    assert p["on_failure_messages"] == 0 and p["dead_letter_objects"] == 0
    assert "<svg" in report["_html"] and "Root cause" in report["_html"]


def _listeners() -> set[str]:
    try:
        out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return set()
    return {line.split()[3] for line in out.splitlines() if len(line.split()) > 3}


def _osmem_processes() -> set[int]:
    pids = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"osmem" in (proc / "cmdline").read_bytes():
                    pids.add(int(proc.name))
            except OSError:
                continue
    return pids


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    before_ports, before_procs = _listeners(), _osmem_processes()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambdalens", "demo", "--scale", "small"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the servers are up
        line = proc.stderr.readline().decode()
        if "OpenSearch stand-in" in line:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-2000:]
    time.sleep(0.5)
    assert _osmem_processes() - before_procs == set()
    assert _listeners() - before_ports == set()
