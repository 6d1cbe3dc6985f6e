"""Fixtures of the Dashboards tests: the saved-objects import contract server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dashboards_contract import ContractServer, contract_server


@pytest.fixture
def dashboards() -> Iterator[ContractServer]:
    """A Dashboards import endpoint under /_dashboards, as on Amazon OpenSearch Service."""
    with contract_server("/_dashboards") as server:
        yield server
