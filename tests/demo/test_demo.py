"""`lambdalens demo`, smaller: every injected failure is detected, alerts are sent once, the
failing transaction is traced to its root cause, the report names the engine it ran on and is the
same on the real OpenSearch node and on the stand-in, and nothing of the demo is left running."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from lambdalens.cli.main import main
from lambdalens.demo.servers import choose_engine
from lambdalens.local_opensearch import OPENSEARCH_VERSION

#: One start for every run of this module: the same seed and start give the same report.
START = (datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
integration = pytest.mark.integration


def run_demo_cli(out: Path, engine: str) -> dict[str, Any]:
    """``lambdalens demo --scale small`` in this process: the JSON report, its text and its page."""
    args = ["demo", "--scale", "small", "--quiet", "--engine", engine, "--start", START]
    args += ["--report-json", str(out / "report.json"), "--html", str(out / "report.html")]
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert main(args) == 0
    data: dict[str, Any] = json.loads((out / "report.json").read_text())
    data["_html"] = (out / "report.html").read_text()
    data["_text"] = text.getvalue()
    return data


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo on the real local OpenSearch node."""
    return run_demo_cli(tmp_path_factory.mktemp("demo"), "opensearch")


@pytest.fixture(scope="module")
def standin_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo on the in-memory stand-in."""
    return run_demo_cli(tmp_path_factory.mktemp("demo-standin"), "stand-in")


@integration
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


@integration
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


@integration
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


@integration
def test_report_has_fingerprints_pipeline_figures_and_a_page(report: dict[str, Any]) -> None:
    assert any(f["function"] == "post-analysis" for f in report["fingerprints"])
    p = report["pipeline"]
    assert p["documents_in_opensearch"] == p["log_lines"]
    assert p["on_failure_messages"] == 0 and p["dead_letter_objects"] == 0
    assert "<svg" in report["_html"] and "Root cause" in report["_html"]


@integration
def test_the_report_names_the_real_node_it_ran_on(report: dict[str, Any]) -> None:
    engine = report["engine"]
    assert engine["name"] == "opensearch" and engine["version"] == OPENSEARCH_VERSION
    assert re.fullmatch(r"[0-9a-f]{40}", engine["build_hash"])
    header = report["_text"].strip().splitlines()[0]
    assert f"engine: OpenSearch {OPENSEARCH_VERSION} (real node, Java " in header
    assert f"OpenSearch {OPENSEARCH_VERSION} (real node" in report["_html"]
    assert engine["build_hash"][:12] in report["_html"]


def test_the_stand_in_still_runs_the_demo_and_says_so(standin_report: dict[str, Any]) -> None:
    assert standin_report["engine"] == {
        "name": "osmem-server",
        "version": version("osmem-server"),
        "build_hash": "",
    }
    assert "engine: in-memory stand-in osmem-server" in standin_report["_text"].strip().splitlines()[0]
    p = standin_report["pipeline"]
    assert p["documents_in_opensearch"] == p["log_lines"] and p["dead_letter_objects"] == 0
    assert standin_report["root_cause"]["function"] == "new-post"


def _without_times(report: dict[str, Any]) -> Any:
    """The report minus what may differ between engines: timings, the engine, arrival times."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "observedTimestamp"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(
        {k: v for k, v in report.items() if k not in ("timings_s", "engine") and not k.startswith("_")}
    )


@integration
def test_both_engines_give_the_same_report_for_the_same_seed(
    report: dict[str, Any], standin_report: dict[str, Any]
) -> None:
    real, stand_in = _without_times(report), _without_times(standin_report)
    for section in ("functions", "alerts", "fingerprints", "root_cause", "pipeline", "transaction"):
        assert real[section] == stand_in[section], section
    assert real == stand_in


def test_auto_without_java_takes_the_stand_in_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    choice = choose_engine("auto")
    assert not choice.real and "no `java` 17+ found" in choice.why and "install a JDK 17" in choice.why


def test_auto_with_java_but_no_maven_nor_a_built_node_takes_the_stand_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.skip("needs a `java` on PATH")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "java").symlink_to(java)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("LAMBDALENS_CACHE", str(tmp_path / "cache"))
    choice = choose_engine("auto")
    assert not choice.real and "no `mvn`" in choice.why and "install Maven" in choice.why


def test_engine_opensearch_without_java_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    assert main(["demo", "--scale", "small", "--engine", "opensearch"]) != 0
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("lambdalens demo: ") and "Java 17 or newer" in err
    assert "AWS_ENDPOINT_URL" not in os.environ


# ------------------------------------------------------------------ the demo's own processes


def _descendants(pid: int) -> set[int]:
    """The processes ``pid`` started, and theirs (Linux ``/proc``)."""
    found: set[int] = set()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in map(int, children.read_text().split()):
                found |= {child, *_descendants(child)}
    return found


def _listening_ports(pid: int) -> set[int]:
    """The TCP ports a process listens on: its socket inodes matched in its ``net/tcp`` tables."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = row.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _gone(pid: int, within_s: float = 40) -> bool:
    """The process has exited (a zombie waiting for its reaper counts) within the time given."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.2)
    return False


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


@contextlib.contextmanager
def demo_process(until: str) -> Iterator[tuple[subprocess.Popen[bytes], int, set[int], set[int], Path]]:
    """The demo on the real node in a child process, once it printed ``until``: the process, the
    node's pid, every pid of the demo, every port they listen on, the node's home."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambdalens", "demo", "--scale", "small", "--engine", "opensearch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    node_pid, home = 0, Path()
    try:
        assert proc.stderr is not None
        seen = []
        for raw in proc.stderr:
            seen.append(raw.decode())
            if found := re.search(r"real node.*\(pid (\d+),", seen[-1]):
                node_pid = int(found.group(1))
                arguments = Path(f"/proc/{node_pid}/cmdline").read_text().split("\0")
                home = Path(next(a for a in arguments if a.startswith("-Epath.home=")).split("=", 1)[1])
            if until in seen[-1]:
                break
        assert node_pid and until in seen[-1], "".join(seen)[-2000:]
        pids = {proc.pid, *_descendants(proc.pid)}
        ports = {port for pid in pids for port in _listening_ports(pid)}
        assert node_pid in pids
        yield proc, node_pid, pids, ports, home
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(60)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if node_pid and _gone(node_pid):
            shutil.rmtree(home, ignore_errors=True)  # a killed demo cannot remove it


@integration
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_ctrl_c_stops_the_demos_processes_and_ports() -> None:
    with demo_process(until="wave 1/") as (proc, node_pid, pids, ports, home):  # the pipeline runs
        assert len(_listening_ports(node_pid)) == 2 and len(ports) >= 3  # node http+transport, moto
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=90)
        assert proc.returncode == 130, err.decode()[-2000:]
        assert "interrupted; servers stopped" in err.decode()
        assert [pid for pid in pids if not _gone(pid, within_s=5)] == []
        assert [port for port in ports if not _refused(port)] == []
        assert not home.exists(), f"the node's home {home} is left behind"


@integration
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_killed_demo_leaves_no_node_behind() -> None:
    with demo_process(until="moto (AWS) on") as (proc, node_pid, _, _, _):
        node_ports = _listening_ports(node_pid)
        proc.kill()
        proc.wait(30)
        assert _gone(node_pid), f"java {node_pid} outlived the demo that started it"
        assert [port for port in node_ports if not _refused(port)] == []
