"""Shared test helpers: the real-format samples under events/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from osmem_server import OsmemServer

from testing_support import EVENTS, load_event  # noqa: F401  (re-exported for older tests)


@pytest.fixture
def events_dir() -> Path:
    return EVENTS


@pytest.fixture(scope="session")
def osmem_server() -> Iterator[OsmemServer]:
    """The local OpenSearch stand-in on 127.0.0.1, for the whole session (stopped at the end)."""
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
