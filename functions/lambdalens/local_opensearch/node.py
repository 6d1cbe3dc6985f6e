"""A real single-node OpenSearch on 127.0.0.1, run as a child process and stopped with it.

``LocalOpenSearch.start()`` builds the node if needed (see ``build``), starts it, waits until
the cluster answers yellow and reads its version. ``close()`` stops it (SIGTERM, then SIGKILL
after a grace period) and removes its temporary home. The child also stops by itself when the
parent dies: it exits when its standard input closes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

import orjson

from lambdalens.local_opensearch.build import MAIN_CLASS, EngineUnavailable, NodeBuild, ensure_built

#: Heap of the node; ``LAMBDALENS_OPENSEARCH_HEAP`` overrides (e.g. ``1g``).
DEFAULT_HEAP: Final = "512m"
HEAP_ENV: Final = "LAMBDALENS_OPENSEARCH_HEAP"
_START_TIMEOUT_S: Final = 180.0
_STOP_GRACE_S: Final = 30.0

#: JVM options of the OpenSearch distribution (config/jvm.options and its launcher) that
#: matter for a node on Java 17+.
_JVM_OPTIONS: Final = (
    "-XX:+UseG1GC",
    "-XX:G1ReservePercent=25",
    "-XX:InitiatingHeapOccupancyPercent=30",
    "-XX:-OmitStackTraceInFastThrow",
    "-Dfile.encoding=UTF-8",
    "-Djava.locale.providers=SPI,COMPAT",
    "-Djna.nosys=true",
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dio.netty.allocator.numDirectArenas=0",
    "-Dlog4j.shutdownHookEnabled=false",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j2.formatMsgNoLookups=true",
)


@dataclass(frozen=True)
class EngineInfo:
    """What answers at the URL: ``GET /``'s distribution, version and build hash."""

    name: str
    version: str
    build_hash: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "build_hash": self.build_hash}


class LocalOpenSearch:
    """A running local node: ``url``, ``pid``, ``engine``, ``home``, ``startup_s``; a context manager."""

    def __init__(
        self, process: subprocess.Popen[bytes], home: Path, owns_home: bool, build: NodeBuild
    ) -> None:
        self.process = process
        self.home = home
        self.build = build
        self._owns_home = owns_home
        self.url = ""
        self.engine = EngineInfo("opensearch", "", "")
        self.startup_s = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @classmethod
    def start(
        cls,
        *,
        port: int = 0,
        data: str | os.PathLike[str] | None = None,
        settings: Mapping[str, str | int] | None = None,
        heap: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> LocalOpenSearch:
        """Start a node on 127.0.0.1:``port`` (0: any free port) and wait until it serves.

        ``data`` keeps the node's home (data, logs) in that folder across runs; without it the
        home is a temporary folder removed by ``close()``. ``settings`` are node settings
        (``thread_pool.write.queue_size``, …). Raises ``EngineUnavailable`` with one line.
        """
        build = ensure_built(log)
        began = time.monotonic()
        home, owns = _home(data)
        _write_config(home, build)
        command = [build.java, f"-Xms{heap or _heap()}", f"-Xmx{heap or _heap()}", *_JVM_OPTIONS]
        command += [f"-Djava.io.tmpdir={home / 'tmp'}", f"-XX:ErrorFile={home / 'logs' / 'hs_err_pid%p.log'}"]
        if owns:
            command.append("-Dlambdalens.home.temporary=true")  # removed by the node even if we are killed
        if build.java_major >= 18:
            command.append("-Djava.security.manager=allow")
        command += ["-cp", build.classpath, MAIN_CLASS, f"-Epath.home={home}", f"-Ehttp.port={port}"]
        command += [f"-E{key}={value}" for key, value in (settings or {}).items()]
        stderr = open(home / "logs" / "stderr.log", "ab")  # noqa: SIM115  (closed with the node)
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
        )
        stderr.close()
        node = cls(process, home, owns, build)
        try:
            node._await_ready(began)
        except BaseException:
            node.close()
            raise
        return node

    def _await_ready(self, began: float) -> None:
        assert self.process.stdout is not None
        line = _read_ready_line(self.process.stdout, self.process, began + _START_TIMEOUT_S)
        if not line:
            raise EngineUnavailable(f"the local OpenSearch exited before it was ready: {self._stderr_tail()}")
        self.url = "http://" + str(orjson.loads(line)["http"])
        health = _get(f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=60s")
        if health.get("status") not in ("green", "yellow"):
            raise EngineUnavailable(f"the local OpenSearch did not become healthy: {health}")
        about = _get(self.url)
        version = about.get("version", {})
        self.engine = EngineInfo(
            str(version.get("distribution", "opensearch")), str(version["number"]), str(version["build_hash"])
        )
        self.startup_s = round(time.monotonic() - began, 2)

    def rss_mb(self) -> float:
        """Resident memory of the node process (Linux ``/proc``), in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def close(self) -> None:
        """Stop the node and wait for it; remove a temporary home. Safe to call twice."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        if self._owns_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def _stderr_tail(self) -> str:
        try:
            lines = (self.home / "logs" / "stderr.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no output"
        errors = [line for line in lines if line.strip() and not line.startswith("\t")]
        return (errors[-1] if errors else "no output")[:300]

    def __enter__(self) -> LocalOpenSearch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _heap() -> str:
    return os.environ.get(HEAP_ENV) or DEFAULT_HEAP


def _home(data: str | os.PathLike[str] | None) -> tuple[Path, bool]:
    if data is None:
        return Path(tempfile.mkdtemp(prefix="lambdalens-opensearch-")), True
    home = Path(data).resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home, False


def _write_config(home: Path, build: NodeBuild) -> None:
    for name in ("config", "logs", "tmp", "plugins"):
        (home / name).mkdir(exist_ok=True)
    shutil.copyfile(build.log_config, home / "config" / "log4j2.properties")


def _read_ready_line(stdout: IO[bytes], process: subprocess.Popen[bytes], deadline: float) -> bytes:
    """The child's ready line, or b"" if it exits first; EngineUnavailable past the deadline."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                return stdout.readline().strip()
            if process.poll() is not None:
                return b""
    raise EngineUnavailable(f"the local OpenSearch did not start within {_START_TIMEOUT_S:.0f} s")


def _get(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=90) as response:
            body: dict[str, Any] = orjson.loads(response.read())
            return body
    except (urllib.error.URLError, OSError) as exc:
        raise EngineUnavailable(f"the local OpenSearch at {url} does not answer: {exc}") from exc
