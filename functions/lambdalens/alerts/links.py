"""Deep links in alerts: OpenSearch Dashboards Discover and the CloudWatch console.

The CloudWatch console keeps its state in the URL fragment, encoded twice: every value is
URL-encoded, the whole fragment part is URL-encoded again, and ``%`` is written ``$``. So
``/aws/lambda/orders`` becomes ``$252Faws$252Flambda$252Forders`` and ``?filterPattern=`` becomes
``$3FfilterPattern$3D``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote


def console_domain(region: str) -> str:
    """Console host of the region's partition."""
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"https://{region}.console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def console_path(value: str) -> str:
    """A path segment of the console's ``#logsV2:`` fragment (double-encoded, ``%`` -> ``$``)."""
    return quote(quote(value, safe=""), safe="").replace("%", "$")


def log_stream_url(
    region: str | None,
    log_group: str | None,
    log_stream: str | None,
    request_id: str | None = None,
    time_ms: int | None = None,
    margin_ms: int = 5 * 60_000,
) -> str | None:
    """CloudWatch console link to the log stream, filtered on the request id, around ``time_ms``."""
    if not (region and log_group and log_stream):
        return None
    url = (
        f"{console_domain(region)}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/"
        f"{console_path(log_group)}/log-events/{console_path(log_stream)}"
    )
    params: list[tuple[str, str]] = []
    if request_id:
        params.append(("filterPattern", f'"{request_id}"'))
    if time_ms is not None:
        params += [("start", str(time_ms - margin_ms)), ("end", str(time_ms + margin_ms))]
    if params:
        query = "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
        url += quote(query, safe="").replace("%", "$")
    return url


def rison_string(value: str) -> str:
    """A rison string literal (the encoding of Dashboards' ``_g`` / ``_a`` URL state)."""
    return "'" + value.replace("!", "!!").replace("'", "!'") + "'"


def kql_phrase(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def discover_url(
    base_url: str | None,
    index_pattern_id: str,
    request_id: str | None,
    time_ms: int | None,
    margin_ms: int = 30 * 60_000,
    field: str = "faas.invocation_id",
) -> str | None:
    """OpenSearch Dashboards Discover, on the index pattern, filtered on one request id.

    Uses the ``/app/discover#/`` URL, which Dashboards 1.x and 2.x open and 2.11+ redirect
    to the new Discover. ``index_pattern_id`` is the saved object id of the index pattern.
    """
    if not (base_url and request_id):
        return None
    parts = []
    if time_ms is not None:
        parts.append(
            f"_g=(time:(from:{rison_string(_iso(time_ms - margin_ms))},to:{rison_string(_iso(time_ms + margin_ms))}))"
        )
    query = f"{field}:{kql_phrase(request_id)}"
    parts.append(
        f"_a=(index:{rison_string(index_pattern_id)},query:(language:kuery,query:{rison_string(query)}))"
    )
    safe = "():,!'*-._~/=:"
    return f"{base_url.rstrip('/')}/app/discover#/?" + "&".join(quote(p, safe=safe) for p in parts)
