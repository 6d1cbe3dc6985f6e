"""The demo's local servers: moto's AWS server and an OpenSearch — the real local node or the
in-memory stand-in — on 127.0.0.1 only, stopped when the ``with`` block ends, also on Ctrl-C or
SIGTERM.

``--engine auto`` takes the real node when it can run here (Java 17+, and Maven or a node built
before) and says why it did not otherwise; ``opensearch`` insists on it, ``stand-in`` skips it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from types import FrameType
from typing import Any, Final

from lambdalens.local_opensearch import EngineUnavailable, LocalOpenSearch

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_SESSION_TOKEN": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
ENGINES: Final = ("auto", "opensearch", "stand-in")
STAND_IN: Final = "osmem-server"


@dataclass(frozen=True)
class EngineChoice:
    """Which OpenSearch the demo runs on (``real``) and why, in a few words."""

    real: bool
    why: str


@dataclass
class LocalServers:
    """Where the servers answer; ``engine`` is name/version/build_hash, ``engine_note`` says which and why."""

    aws_url: str
    opensearch_url: str
    engine: dict[str, str]
    engine_note: str
    node: LocalOpenSearch | None = None


def choose_engine(requested: str) -> EngineChoice:
    """The engine for ``--engine``; ``opensearch`` without Java raises EngineUnavailable (one line)."""
    from lambdalens.local_opensearch.build import is_built, java_command, maven_command

    if requested == "stand-in":
        return EngineChoice(False, "--engine stand-in")
    try:
        _, major = java_command()
    except EngineUnavailable:
        if requested == "opensearch":
            raise
        return EngineChoice(False, "no `java` 17+ found — install a JDK 17 and Maven for the real node")
    if requested == "auto" and not is_built():
        try:
            maven_command()
        except EngineUnavailable:
            return EngineChoice(
                False, f"Java {major} found but no `mvn` to fetch the real node — install Maven"
            )
    return EngineChoice(True, f"Java {major} found")


def _stand_in(stack: ExitStack, why: str) -> tuple[str, dict[str, str], str]:
    from importlib.metadata import version

    from osmem_server import OsmemServer

    server = OsmemServer.start(addr="127.0.0.1:0", japanese=False)
    stack.callback(server.close)
    return (
        server.url,
        {"name": STAND_IN, "version": version(STAND_IN), "build_hash": ""},
        f"in-memory stand-in {STAND_IN} {version(STAND_IN)} ({why})",
    )


def _opensearch(
    stack: ExitStack, requested: str, log: Callable[[str], None]
) -> tuple[str, dict[str, str], str, LocalOpenSearch | None]:
    choice = choose_engine(requested)
    if not choice.real:
        return (*_stand_in(stack, choice.why), None)
    try:
        node = stack.enter_context(LocalOpenSearch.start(port=0, log=log))
    except EngineUnavailable as exc:
        if requested == "opensearch":
            raise
        return (*_stand_in(stack, f"the real node did not start ({str(exc)[:160]})"), None)
    note = f"OpenSearch {node.engine.version} (real node, {choice.why})"
    return node.url, node.engine.as_dict(), note, node


def _reset_moto(url: str) -> None:
    """Empty moto's AWS (its state lives in this process, shared by every server it starts)."""
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30):
        pass


@contextmanager
def local_servers(engine: str = "auto", log: Callable[[str], None] | None = None) -> Iterator[LocalServers]:
    """Start moto and the chosen OpenSearch, point boto3 at moto (``AWS_ENDPOINT_URL``); restore all after.

    Raises EngineUnavailable (one line) when ``engine`` is ``opensearch`` and the node cannot run.
    """
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    saved = {k: os.environ.get(k) for k in [*FAKE_CREDENTIALS, "AWS_ENDPOINT_URL", "AWS_PROFILE"]}
    previous_term = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    with suppress(ValueError):  # not the main thread: no signal handler, Ctrl-C still works
        signal.signal(signal.SIGTERM, on_term)
    try:
        with ExitStack() as stack:
            url, info, note, node = _opensearch(stack, engine, log or (lambda message: None))
            moto: Any = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            moto.start()
            stack.callback(moto.stop)
            host, port = moto.get_host_and_port()
            aws = f"http://{host}:{port}"
            _reset_moto(aws)  # moto's state is per process: start clean and leave nothing behind
            stack.callback(_reset_moto, aws)
            os.environ.update(FAKE_CREDENTIALS)
            os.environ.pop("AWS_PROFILE", None)
            os.environ["AWS_ENDPOINT_URL"] = aws
            yield LocalServers(aws, url, info, note, node)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with suppress(ValueError):
            signal.signal(signal.SIGTERM, previous_term)
