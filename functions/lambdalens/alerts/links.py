"""Deep links in alerts to the CloudWatch console (the Dashboards links are
:mod:`lambdalens.dashboards.links`).

The CloudWatch console keeps its state in the URL fragment, encoded twice: every value is
URL-encoded, the whole fragment part is URL-encoded again, and ``%`` is written ``$``. So
``/aws/lambda/orders`` becomes ``$252Faws$252Flambda$252Forders`` and ``?filterPattern=`` becomes
``$3FfilterPattern$3D``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from lambdalens.alerts.kinds import AlertKind
from lambdalens.dashboards import catalog
from lambdalens.dashboards.kql import phrase
from lambdalens.dashboards.links import MARGIN_MS, DashboardsLinks, discover_url


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


#: The saved search of each alert kind (the category of the failure); others link to the invocation only.
KIND_SEARCH: Final[Mapping[AlertKind, str]] = {
    AlertKind.TIMEOUT: catalog.TIMEOUT_SEARCH,
    AlertKind.OUT_OF_MEMORY: catalog.OOM_SEARCH,
    AlertKind.INIT_ERROR: catalog.INIT_SEARCH,
    AlertKind.NEW_ERROR: catalog.ALL_ERRORS,
    AlertKind.ERROR_BURST: catalog.ALL_ERRORS,
}
#: How far before the alert the function's views start (an error burst spans its window).
LOOK_BACK_MS: Final = 60 * 60_000
LOOK_AHEAD_MS: Final = 15 * 60_000


@dataclass(frozen=True)
class DashboardsTarget:
    """Where an alert's Dashboards links point: the URL, the index prefix of the shipped objects,
    the tenant, and the user's own index pattern id when it is not the shipped one."""

    base_url: str
    prefix: str
    tenant: str | None = None
    own_index_pattern_id: str | None = None


def dashboards_links(
    target: DashboardsTarget | None,
    kind: AlertKind,
    function: str,
    time_ms: int,
    request_id: str | None = None,
    fingerprint: str | None = None,
) -> dict[str, str | None]:
    """The alert's links into Dashboards, all with the time range set:

    * ``opensearch_discover``: the invocation's lines (One invocation);
    * ``opensearch_search``: the kind's saved search (Timeouts, Out-of-memory kills, Init errors,
      All errors — of this fingerprint for a new error) narrowed to the function;
    * ``opensearch_dashboard``: Function drill-down on the function.

    With an index pattern of the user's own, only ``opensearch_discover`` (plain Discover on it).
    """
    keys = ("opensearch_discover", "opensearch_search", "opensearch_dashboard")
    if target is None:
        return dict.fromkeys(keys)
    if target.own_index_pattern_id is not None:
        query = f"faas.invocation_id:{phrase(request_id)}" if request_id else f"faas.name:{phrase(function)}"
        start, end = time_ms - MARGIN_MS, time_ms + MARGIN_MS
        return {
            **dict.fromkeys(keys),
            keys[0]: discover_url(target.base_url, target.own_index_pattern_id, query, start, end),
        }
    links = DashboardsLinks(target.base_url, target.prefix, target.tenant)
    start, end = time_ms - LOOK_BACK_MS, time_ms + LOOK_AHEAD_MS
    search = KIND_SEARCH.get(kind)
    extra = (
        f"exception.fingerprint:{phrase(fingerprint)}" if kind is AlertKind.NEW_ERROR and fingerprint else ""
    )
    return {
        "opensearch_discover": links.invocation(request_id, time_ms) if request_id else None,
        "opensearch_search": links.function_search(search, function, start, end, extra) if search else None,
        "opensearch_dashboard": links.function_dashboard(function, start, end),
    }
