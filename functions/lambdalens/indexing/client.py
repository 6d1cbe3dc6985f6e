"""The OpenSearch client: authentication (SigV4 for Amazon OpenSearch Service / Serverless,
basic auth from Secrets Manager, or none for local) and the one raw call the indexer needs.

TLS certificates are always verified. Credentials come from the Lambda role (SigV4) or
Secrets Manager (basic); they are never read from environment variables or logged.
"""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass
from typing import Any

import orjson

from lambdalens.config import OpenSearchConfig

#: The bulk response fields the indexer reads; everything else is left on the server.
BULK_FILTER_PATH = "took,errors,items.*.status,items.*.error.type,items.*.error.reason"
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
#: gzip level of request bodies when ``OPENSEARCH_COMPRESS`` is on. opensearch-py's own is 9: on
#: the bench workload's bulk bodies it took 5x the CPU of level 1 (54 against 297 MB/s) to make
#: them 15.6x rather than 11.3x smaller.
GZIP_LEVEL = 1


class BulkRequestError(Exception):
    """A ``_bulk`` request failed as a whole (no per-item answer)."""

    def __init__(self, message: str, status: int | None, retryable: bool, refused: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        #: a 4xx for the whole request that is not OpenSearch's (no error object of its: a proxy
        #: or gateway answering it): nothing to do with the documents, retried a few times only
        self.refused = refused


class PayloadTooLarge(BulkRequestError):
    """HTTP 413: the body is above the cluster's ``http.max_content_length``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 413, retryable=False)


def _basic_auth(secret_arn: str, region: str | None) -> tuple[str, str]:
    import boto3

    secret = boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=secret_arn)
    data = orjson.loads(secret["SecretString"])
    try:
        return str(data["username"]), str(data["password"])
    except (KeyError, TypeError):
        raise ValueError(f"secret {secret_arn} must be JSON with 'username' and 'password'") from None


def make_client(config: OpenSearchConfig, connections: int = 4) -> Any:
    """An ``opensearchpy.OpenSearch`` client for ``config`` (no client-side retries: the indexer
    retries), keeping up to ``connections`` open (at least the indexer's requests in flight)."""
    from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth

    http_auth: Any = None
    if config.auth in ("sigv4", "aoss"):
        import boto3

        session = boto3.Session()
        credentials = session.get_credentials()
        region = config.region or session.region_name
        if credentials is None or region is None:
            raise ValueError("SigV4 needs AWS credentials and a region (AWS_REGION)")
        http_auth = Urllib3AWSV4SignerAuth(credentials, region, "aoss" if config.auth == "aoss" else "es")
    elif config.auth == "basic":
        assert config.secret_arn is not None  # OpenSearchConfig checked it
        http_auth = _basic_auth(config.secret_arn, config.region)
    return OpenSearch(
        hosts=[config.endpoint],
        http_auth=http_auth,
        connection_class=_connection_class(),
        verify_certs=True,
        ssl_show_warn=True,
        http_compress=config.compress,
        timeout=config.timeout_seconds,
        max_retries=0,
        retry_on_timeout=False,
        pool_maxsize=max(1, connections),
    )


@functools.cache
def _connection_class() -> type:
    """opensearch-py's urllib3 connection, compressing request bodies at :data:`GZIP_LEVEL`."""
    from opensearchpy import Urllib3HttpConnection

    class Connection(Urllib3HttpConnection):
        def _gzip_compress(self, body: Any) -> bytes:
            return gzip.compress(body, compresslevel=GZIP_LEVEL)

    return Connection


def _is_opensearch_error(info: object) -> bool:
    """Whether an error answer is OpenSearch's own (``{"error": {"type": ...}, "status": ...}``)."""
    error = info.get("error") if isinstance(info, dict) else None
    return isinstance(error, dict) and isinstance(error.get("type"), str)


def _stored_source(doc: object) -> dict[str, Any] | None:
    """The ``_source`` of one ``_mget`` answer, None when not found (or its index is missing)."""
    if not isinstance(doc, dict) or not doc.get("found"):
        return None
    source = doc.get("_source")
    return source if isinstance(source, dict) else {}


@dataclass
class BulkTransport:
    """Sends one ``_bulk`` body and returns OpenSearch's answer, or raises :class:`BulkRequestError`."""

    client: Any

    def send(self, body: bytes, timeout: float) -> dict[str, Any]:
        from opensearchpy.exceptions import ConnectionError as OSConnectionError
        from opensearchpy.exceptions import TransportError

        try:
            answer = self.client.transport.perform_request(
                "POST",
                "/_bulk",
                params={"filter_path": BULK_FILTER_PATH},
                body=body,
                timeout=timeout,
                headers={"content-type": "application/x-ndjson"},
            )
        except OSConnectionError as exc:  # includes ConnectionTimeout
            raise BulkRequestError(
                f"connection failed: {exc.__class__.__name__}: {exc.info}", None, retryable=True
            ) from None
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else None
            if status == 413:
                raise PayloadTooLarge(f"HTTP 413 for a body of {len(body)} bytes") from None
            if status == 400 and not _is_opensearch_error(exc.info):
                raise BulkRequestError(
                    f"HTTP 400 from something other than OpenSearch: {str(exc.error)[:300]}",
                    status,
                    retryable=True,
                    refused=True,
                ) from None
            retryable = status in RETRYABLE_STATUSES or status is None
            raise BulkRequestError(f"HTTP {status}: {str(exc.error)[:300]}", status, retryable) from None
        if not isinstance(answer, dict) or "items" not in answer:
            raise BulkRequestError(f"unexpected bulk answer: {str(answer)[:300]}", None, retryable=True)
        return answer

    def stored(
        self, refs: list[tuple[str, str]], fields: tuple[str, ...], timeout: float
    ) -> list[dict[str, Any] | None]:
        """The ``fields`` of the documents stored at ``refs`` (``(_index, _id)``), in order; None
        for one that is not there. Raises :class:`BulkRequestError` when the lookup fails."""
        from opensearchpy.exceptions import ConnectionError as OSConnectionError
        from opensearchpy.exceptions import TransportError

        docs = [{"_index": index, "_id": doc_id, "_source": list(fields)} for index, doc_id in refs]
        try:
            answer = self.client.transport.perform_request(
                "POST", "/_mget", body={"docs": docs}, timeout=timeout
            )
        except OSConnectionError as exc:
            raise BulkRequestError(f"_mget connection failed: {exc.__class__.__name__}", None, True) from None
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else None
            raise BulkRequestError(f"_mget HTTP {status}: {str(exc.error)[:300]}", status, True) from None
        found = answer.get("docs") if isinstance(answer, dict) else None
        if not isinstance(found, list) or len(found) != len(refs):
            raise BulkRequestError(f"unexpected _mget answer: {str(answer)[:300]}", None, retryable=True)
        return [_stored_source(doc) for doc in found]
