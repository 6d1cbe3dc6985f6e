"""Fixtures for the search tests: the transaction and the real-format samples indexed into the
OpenSearch stand-in, once with keyword mappings (like the lambdalens template) and once with
dynamic mapping (text + .keyword). Each data set has its own index prefix; they are only read."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The helpers next to this file import whatever pytest's import mode (prepend or importlib).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_support import (
    DYNAMIC_CONFLICTS,
    index_documents,
    put_keyword_template,
    sample_documents,
    transaction_documents,
    unique_prefix,
)

from lambdalens.config import OpenSearchConfig
from lambdalens.indexing.client import make_client


@pytest.fixture(scope="session")
def search_client(opensearch_node: Any) -> Any:
    return make_client(OpenSearchConfig(endpoint=opensearch_node.url, auth="none"))


@pytest.fixture(scope="session")
def keyword_prefix(search_client: Any) -> str:
    """Transaction + every sample, ids mapped as keyword fields."""
    prefix = unique_prefix("kw")
    put_keyword_template(search_client, prefix)
    failed = index_documents(search_client, transaction_documents() + sample_documents(), prefix)
    assert not failed, failed[:3]
    return prefix


@pytest.fixture(scope="session")
def dynamic_prefix(search_client: Any) -> str:
    """Transaction + the samples dynamic mapping accepts together, no template."""
    prefix = unique_prefix("dyn")
    failed = index_documents(
        search_client, transaction_documents() + sample_documents(DYNAMIC_CONFLICTS), prefix
    )
    assert not failed, failed[:3]
    return prefix


@pytest.fixture(params=["keyword", "dynamic"])
def prefix(request: pytest.FixtureRequest) -> str:
    """Each test using it runs against both mappings."""
    return str(request.getfixturevalue(f"{request.param}_prefix"))
