"""What can go wrong when lambdalens reads logs back from OpenSearch."""

from __future__ import annotations

from datetime import datetime


class SearchError(Exception):
    """OpenSearch did not answer a query (base class)."""


class SearchUnavailable(SearchError):
    """OpenSearch could not be reached: refused or timed-out connection, DNS, TLS."""


class SearchRequestFailed(SearchError):
    """OpenSearch answered with an error status (403 no permission, 400 bad query, ...)."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class TransactionNotFound(LookupError):
    """No document carries the key as trace id, correlation id or request id."""

    def __init__(self, key: str, index_pattern: str, since: datetime | None = None) -> None:
        when = f" since {since.isoformat(timespec='seconds')}" if since is not None else ""
        super().__init__(
            f"no documents for {key!r} in {index_pattern}{when} "
            "(looked for it as a trace id, a correlation id and a request id)"
        )
        self.key = key
        self.index_pattern = index_pattern
        self.since = since
