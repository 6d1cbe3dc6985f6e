"""Indexing: documents -> OpenSearch bulk requests, retries and dead letters."""
