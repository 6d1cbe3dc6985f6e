"""Shared test helpers: the real-format samples under events/, the real OpenSearch node of the
integration tier, the in-memory stand-in for the few tests that need its speed, moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from osmem_server import OsmemServer

from lambdalens.local_opensearch import EngineUnavailable, LocalOpenSearch
from testing_support import EVENTS, load_event  # noqa: F401  (re-exported for older tests)

#: The node of this session, once started (named in the summary at the end of the run).
_NODES: list[LocalOpenSearch] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "integration: runs against the real local OpenSearch node (deselect with -m 'not integration')",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the real node is in the integration tier."""
    for item in items:
        if "opensearch_node" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for node in _NODES:
        terminalreporter.write_line(
            f"integration tier: {node.engine.name} {node.engine.version} (build {node.engine.build_hash[:12]})"
            f" at {node.url}, started in {node.startup_s:.1f} s"
        )


@pytest.fixture
def events_dir() -> Path:
    return EVENTS


@pytest.fixture(scope="session")
def opensearch_node() -> Iterator[LocalOpenSearch]:
    """A real single-node OpenSearch 2.19 on 127.0.0.1 for the whole session (stopped at the end).

    Tests share it: each uses index names of its own (a unique prefix). Needs Java 17+ and, for
    the first build, Maven; without them the integration tier errors with the one-line reason.
    """
    try:
        node = LocalOpenSearch.start()
    except EngineUnavailable as exc:
        pytest.fail(f"the integration tier needs the local OpenSearch: {exc}", pytrace=False)
    _NODES.append(node)
    yield node
    node.close()


@pytest.fixture(scope="session")
def osmem_server() -> Iterator[OsmemServer]:
    """The in-memory OpenSearch stand-in on 127.0.0.1, for the whole session (stopped at the end)."""
    server = OsmemServer.start(addr="127.0.0.1:0", japanese=False)
    yield server
    server.close()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS (mock_aws) with fake credentials; nothing leaves the machine."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield
