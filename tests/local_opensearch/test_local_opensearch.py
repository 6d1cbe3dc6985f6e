"""``lambdalens opensearch``: a real OpenSearch node that starts, answers, keeps its data when
asked, and stops leaving none of its own processes or ports behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from lambdalens.local_opensearch.build import OPENSEARCH_VERSION

pytestmark = pytest.mark.integration

POM = (
    Path(__file__).resolve().parents[2] / "functions" / "lambdalens" / "local_opensearch" / "java" / "pom.xml"
)
MODULES = {
    "org.opensearch.transport.Netty4Plugin",
    "org.opensearch.analysis.common.CommonAnalysisPlugin",
    "org.opensearch.index.mapper.MapperExtrasPlugin",
    "org.opensearch.painless.PainlessPlugin",
    "org.opensearch.ingest.common.IngestCommonPlugin",
}


def get(url: str, method: str = "GET", body: bytes | None = None) -> Any:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@contextmanager
def cli(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """``lambdalens opensearch --json`` in a child process, and its ready line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambdalens", "opensearch", "--port", "0", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        yield proc, json.loads(line)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(60)


def own_ports(url: str) -> set[int]:
    """The node's HTTP port and transport port (its two listeners)."""
    nodes = get(f"{url}/_nodes/_local/http,transport")["nodes"]
    (node,) = nodes.values()
    return {int(node[kind]["publish_address"].rsplit(":", 1)[1]) for kind in ("http", "transport")}


def gone(pid: int, within_s: float = 40) -> bool:
    """The process has exited (and is not a zombie of ours) within the time given."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.2)
    return False


def refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_the_pom_pins_the_version_the_code_expects() -> None:
    pinned = re.search(r"<opensearch.version>([^<]+)</opensearch.version>", POM.read_text())
    assert pinned is not None and pinned.group(1) == OPENSEARCH_VERSION


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_the_node_serves_its_modules_then_stops_leaving_nothing(stop: signal.Signals) -> None:
    with cli() as (proc, ready):
        assert ready["version"] == OPENSEARCH_VERSION and ready["name"] == "opensearch"
        assert re.fullmatch(r"[0-9a-f]{40}", ready["build_hash"])
        assert get(ready["url"])["version"]["number"] == OPENSEARCH_VERSION
        plugins = {p["component"] for p in get(f"{ready['url']}/_cat/plugins?format=json")}
        assert plugins == MODULES
        ports = own_ports(ready["url"])
        assert len(ports) == 2
        proc.send_signal(stop)
        assert proc.wait(60) == 0
        assert "stopped" in (proc.stderr.read() if proc.stderr else "")
    assert gone(ready["pid"]), f"java {ready['pid']} still running"
    assert all(refused(port) for port in ports), ports


def test_a_killed_parent_leaves_no_node_behind() -> None:
    with cli() as (proc, ready):
        ports = own_ports(ready["url"])
        home = Path(
            get(f"{ready['url']}/_nodes/_local/settings")["nodes"].popitem()[1]["settings"]["path"]["home"]
        )
        assert home.is_dir()
        proc.kill()
        proc.wait(30)
        assert gone(ready["pid"]), "the node outlived the process that started it"
    assert all(refused(port) for port in ports), ports
    assert not home.exists(), "the node's temporary home was left behind"


def test_data_kept_with_data_dir_survives_a_restart(tmp_path: Path) -> None:
    with cli("--data", str(tmp_path / "node")) as (proc, ready):
        get(f"{ready['url']}/kept/_doc/1?refresh=true", "PUT", b'{"message": "still here"}')
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    with cli("--data", str(tmp_path / "node")) as (proc, ready):
        assert get(f"{ready['url']}/kept/_doc/1")["_source"] == {"message": "still here"}
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert (tmp_path / "node" / "logs" / "opensearch.log").exists()


def run_without(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdalens", "opensearch", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_without_java_it_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-jdk")}
    done = run_without(env)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Java 17 or newer" in done.stderr and "install" in done.stderr


def test_without_maven_the_first_build_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    java = shutil.which("java")
    assert java is not None
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "java").symlink_to(java)
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env.update(PATH=str(tmp_path / "bin"), LAMBDALENS_CACHE=str(tmp_path / "cache"))
    done = run_without(env)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "needs Maven" in done.stderr and "install" in done.stderr
