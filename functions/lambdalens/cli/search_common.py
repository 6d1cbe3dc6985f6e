"""What ``lambdalens trace`` and ``lambdalens logs`` share: their options (connection,
--since, --limit, the Dashboards URL and tenant), the OpenSearch client, how a failed search
becomes a one-line error and an exit status (0 found, 1 nothing found, 2 invalid options or
OpenSearch unreachable or refusing), and the links into OpenSearch Dashboards printed under
the output (the shipped saved searches and dashboards, with the time range set).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lambdalens.cli.connection import OptionError, opensearch_config
from lambdalens.cli.output import fail, one_line
from lambdalens.config import OpenSearchConfig
from lambdalens.dashboards.links import MARGIN_MS, TENANTS, DashboardsLinks
from lambdalens.indexing import client as client_module
from lambdalens.search.assemble import time_of
from lambdalens.search.errors import SearchUnavailable, TransactionNotFound
from lambdalens.search.logs import LogView
from lambdalens.search.model import Transaction
from lambdalens.search.since import parse_since

EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 2


def since_of(args: argparse.Namespace) -> datetime | None:
    if not args.since:
        return None
    try:
        return parse_since(args.since)
    except ValueError as exc:
        raise OptionError(f"--since: {exc}") from None


def search_options(
    args: argparse.Namespace, env: Mapping[str, str]
) -> tuple[OpenSearchConfig, datetime | None]:
    """The connection and --since the options describe; :class:`OptionError` for a bad one
    (--limit included)."""
    config = opensearch_config(args, env, positive_timeout=True)
    since = since_of(args)
    if args.limit < 1:
        raise OptionError(f"--limit must be 1 or more, got {args.limit}")
    return config, since


def open_client(config: OpenSearchConfig) -> Any:
    """``make_client(config)``; no credentials, region or secret -> :class:`SearchUnavailable`."""
    try:
        return client_module.make_client(config)
    except Exception as exc:  # no AWS credentials / region; the basic-auth secret cannot be read
        raise SearchUnavailable(f"cannot create the OpenSearch client: {one_line(exc)}") from None


def search_failed(prog: str, endpoint: str, exc: Exception) -> int:
    """Print the one-line error for ``exc`` — a ValueError (invalid options),
    :class:`TransactionNotFound`, or a :class:`~lambdalens.search.errors.SearchError` — and
    return the exit status."""
    if isinstance(exc, ValueError):
        return fail(prog, exc, EXIT_USAGE)
    if isinstance(exc, TransactionNotFound):
        return fail(prog, exc, EXIT_NOT_FOUND)
    if isinstance(exc, SearchUnavailable):
        return fail(prog, f"cannot connect to {endpoint}: {exc}", EXIT_UNAVAILABLE)
    return fail(prog, f"{endpoint} refused the search: {exc}", EXIT_UNAVAILABLE)


# --- links into OpenSearch Dashboards ------------------------------------------------------

ENV_DASHBOARDS_URL = "OPENSEARCH_DASHBOARDS_URL"
ENV_DASHBOARDS_TENANT = "OPENSEARCH_DASHBOARDS_TENANT"


def add_dashboards_arguments(group: argparse._ActionsContainer) -> None:
    """Add --dashboards-url and --tenant (the links printed under the output)."""
    group.add_argument(
        "--dashboards-url",
        metavar="URL",
        help=f"print links into OpenSearch Dashboards at URL (default: ${ENV_DASHBOARDS_URL}; none without it)",
    )
    group.add_argument(
        "--tenant",
        choices=TENANTS,
        help=f"the Dashboards tenant of the links (default: ${ENV_DASHBOARDS_TENANT})",
    )


def dashboards_links(args: argparse.Namespace, env: Mapping[str, str], prefix: str) -> DashboardsLinks | None:
    """The links' target, or ``None`` without a Dashboards URL; :class:`OptionError` for a bad tenant."""
    url = str(args.dashboards_url or env.get(ENV_DASHBOARDS_URL, "")).strip()
    if not url:
        return None
    tenant = (args.tenant or env.get(ENV_DASHBOARDS_TENANT, "")).strip().lower() or None
    if tenant is not None and tenant not in TENANTS:
        raise OptionError(f"{ENV_DASHBOARDS_TENANT} must be {' | '.join(TENANTS)}, got {tenant!r}")
    return DashboardsLinks(url, prefix, tenant)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def transaction_links(links: DashboardsLinks, tx: Transaction) -> dict[str, str]:
    """The transaction's lines (One transaction) and its root cause: the invocation and the
    function's drill-down, over the transaction's time."""
    if tx.start is None or tx.end is None:
        return {}
    start, end = _ms(tx.start), _ms(tx.end)
    keys = [*tx.trace_ids, *tx.correlation_ids] or [tx.key]
    out = {"transaction": links.transaction(keys, start, end)}
    cause = tx.root_cause
    if cause is not None:
        out["root cause"] = links.invocation(cause.request_id, _ms(cause.time))
        out[f"{cause.function}"] = links.function_dashboard(
            cause.function, start - MARGIN_MS, end + MARGIN_MS
        )
    return out


def logs_links(links: DashboardsLinks, view: LogView, now: datetime) -> dict[str, str]:
    """The invocation (with a request id), else the function's logs and drill-down, over the
    lines' time (from --since)."""
    if not view.documents:
        return {}
    first, last = time_of(view.documents[0]), time_of(view.documents[-1])
    if view.request_id:
        return {"invocation": links.invocation(view.request_id, _ms(first))}
    start, end = _ms(view.since or first), max(_ms(now), _ms(last))
    return {
        "logs": links.function_logs(view.function, start, end),
        view.function: links.function_dashboard(view.function, start, end),
    }


def render_links(found: Mapping[str, str]) -> str:
    """The links as text under the output (nothing when there are none)."""
    if not found:
        return ""
    width = max(len(label) for label in found) + 2
    return "\nOpenSearch Dashboards:\n" + "".join(
        f"  {label:<{width}}{url}\n" for label, url in found.items()
    )
