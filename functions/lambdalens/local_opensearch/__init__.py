"""A real single-node OpenSearch on 127.0.0.1, built from Maven Central artifacts.

Used by ``lambdalens opensearch``, the demo, the end-to-end benchmark and the integration tests.
It needs Java 17+ and, on first use, Maven; ``EngineUnavailable`` says which is missing.
"""

from lambdalens.local_opensearch.build import OPENSEARCH_VERSION, EngineUnavailable, ensure_built
from lambdalens.local_opensearch.node import EngineInfo, LocalOpenSearch

__all__ = ["OPENSEARCH_VERSION", "EngineInfo", "EngineUnavailable", "LocalOpenSearch", "ensure_built"]
