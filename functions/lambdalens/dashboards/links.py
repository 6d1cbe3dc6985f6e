"""Links into the shipped Dashboards views, with the time range set.

A link opens a saved search (Discover) or a dashboard by its stable id
(:mod:`lambdalens.dashboards.ids`), with the time range in ``_g`` and a KQL query in ``_a`` (the
invocation, transaction or function), in rison as Dashboards keeps its URL state. Discover links
use ``/app/discover#/view/<id>``: Dashboards 1.x and 2.x open it, 2.11+ redirects it to the new
Discover keeping the saved search, the query and the time range. Where multi-tenancy is on,
``security_tenant`` selects the tenant the objects were imported into.

Example::

    >>> links = DashboardsLinks("https://search-x.eu-west-1.es.amazonaws.com/_dashboards")
    >>> links.invocation("3f2a7c1e-8d4b-4c55-9a01-6e2f0b7d9c13", 1714564800000)  # doctest: +ELLIPSIS
    'https://search-x.eu-west-1.es.amazonaws.com/_dashboards/app/discover#/view/lambdalens-lambda-logs-invocation?_g=...'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote

from lambdalens.dashboards import catalog, ids
from lambdalens.dashboards.kql import phrase
from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX

TENANTS: Final = ("global", "private")
#: Margin around one moment (an invocation, an alert): half an hour each side.
MARGIN_MS: Final = 30 * 60_000
_SAFE: Final = "():,!'*-._~/=:"


def rison_string(value: str) -> str:
    """A rison string literal (the encoding of Dashboards' ``_g`` / ``_a`` URL state)."""
    return "'" + value.replace("!", "!!").replace("'", "!'") + "'"


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def state(query: str | None, start_ms: int | None, end_ms: int | None, index: str | None = None) -> str:
    """``_g=(time:…)&_a=(…query…)`` for a KQL ``query`` and a time range (epoch ms)."""
    parts: list[str] = []
    if start_ms is not None and end_ms is not None:
        parts.append(f"_g=(time:(from:{rison_string(iso(start_ms))},to:{rison_string(iso(end_ms))}))")
    app: list[str] = []
    if index is not None:
        app.append(f"index:{rison_string(index)}")
    if query:
        app.append(f"query:(language:kuery,query:{rison_string(query)})")
    if app:
        parts.append(f"_a=({','.join(app)})")
    return "&".join(quote(p, safe=_SAFE) for p in parts)


@dataclass(frozen=True)
class DashboardsLinks:
    """URLs into one Dashboards (``base_url``: ``https://<domain>/_dashboards`` on Amazon
    OpenSearch Service) for the objects of ``prefix``, in ``tenant`` when set."""

    base_url: str
    prefix: str = DEFAULT_INDEX_PREFIX
    tenant: str | None = None

    def _app(self, app: str) -> str:
        tenant = f"?security_tenant={self.tenant}" if self.tenant else ""
        return f"{self.base_url.rstrip('/')}/app/{app}{tenant}"

    def search(self, name: str, query: str | None, start_ms: int | None, end_ms: int | None) -> str:
        """The saved search ``name`` with ``query`` (replacing the search's own) over the range."""
        view = f"{self._app('discover')}#/view/{ids.object_id(name, self.prefix)}"
        query_state = state(query, start_ms, end_ms)
        return f"{view}?{query_state}" if query_state else view

    def dashboard(self, name: str, query: str | None, start_ms: int | None, end_ms: int | None) -> str:
        view = f"{self._app('dashboards')}#/view/{ids.object_id(name, self.prefix)}"
        query_state = state(query, start_ms, end_ms)
        return f"{view}?{query_state}" if query_state else view

    def overview(self, since: str = "now-24h") -> str:
        """Lambda overview over the last day (what the stack output opens)."""
        window = quote(f"_g=(time:(from:{since},to:now))", safe=_SAFE)
        return f"{self._app('dashboards')}#/view/{ids.object_id(ids.OVERVIEW, self.prefix)}?{window}"

    # --- what alerts and the CLI link to ---------------------------------------------------

    def invocation(self, request_id: str, time_ms: int, margin_ms: int = MARGIN_MS) -> str:
        """Every line of one invocation (One invocation)."""
        query = f"faas.invocation_id:{phrase(request_id)}"
        return self.search(catalog.INVOCATION, query, time_ms - margin_ms, time_ms + margin_ms)

    def transaction(self, keys: list[str], start_ms: int, end_ms: int, margin_ms: int = MARGIN_MS) -> str:
        """Every line of one transaction: its trace and correlation ids (One transaction)."""
        query = " or ".join(f"traceId:{phrase(k)} or correlation_id:{phrase(k)}" for k in keys)
        return self.search(catalog.TRANSACTION, query, start_ms - margin_ms, end_ms + margin_ms)

    def function_logs(self, function: str, start_ms: int, end_ms: int) -> str:
        return self.search(catalog.FUNCTION_LOGS, f"faas.name:{phrase(function)}", start_ms, end_ms)

    def function_dashboard(self, function: str, start_ms: int, end_ms: int) -> str:
        """Function drill-down, narrowed to ``function``."""
        return self.dashboard(ids.FUNCTION_DRILL_DOWN, f"faas.name:{phrase(function)}", start_ms, end_ms)

    def function_search(self, name: str, function: str, start_ms: int, end_ms: int, extra: str = "") -> str:
        """The category search ``name`` (timeouts, out-of-memory kills…) of one function."""
        saved = next(s.query for s in catalog.searches() if s.name == name)
        query = f"({saved}) and faas.name:{phrase(function)}" + (f" and {extra}" if extra else "")
        return self.search(name, query, start_ms, end_ms)


def discover_url(
    base_url: str,
    index_pattern_id: str,
    query: str,
    start_ms: int | None,
    end_ms: int | None,
) -> str:
    """Plain Discover on an index pattern of the user's own (not the shipped one), with a query."""
    return f"{base_url.rstrip('/')}/app/discover#/?" + state(query, start_ms, end_ms, index_pattern_id)
