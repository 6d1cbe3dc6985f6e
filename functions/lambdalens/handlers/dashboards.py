"""The Dashboards import custom resource: the saved objects into the domain's Dashboards at deploy.

``Custom::LambdaLensDashboards`` is served by the bootstrap function (its ``handler`` passes
this resource type here). ``Create`` and ``Update`` import the objects of the index prefix with
``overwrite`` (stable ids: a redeploy updates them in place) into the tenant; ``Delete`` leaves
Dashboards alone.

A failed import **does not fail the resource**: the log pipeline works without its dashboards,
and a failed custom resource would roll the whole stack back. It is reported instead — in the
response (``Status`` ``failed``, ``Message`` saying why, ``Failed`` the number of objects;
the stack output ``OpenSearchDashboardsImport`` shows them), and in the function's log at
ERROR level.

Resource properties (CloudFormation passes every scalar as a string):

========================  ==============================================================  =============
``DashboardsUrl``         e.g. ``https://<domain endpoint>/_dashboards``                   required
``Auth``                  ``basic`` | ``sigv4`` | ``none`` (``aoss``: skipped)              ``sigv4``
``SecretArn``             Secrets Manager secret ``{username, password}`` (basic)
``Region``                region for SigV4                                                 ``AWS_REGION``
``IndexPrefix``           the objects of ``<prefix>-*``                                    ``lambda-logs``
``Tenant``                ``global`` | ``private`` | empty (no multi-tenancy header)        ``global``
``FunctionArchitectures`` JSON ``{"function": "arm64"}`` for the estimated cost
========================  ==============================================================  =============

Returns ``{"PhysicalResourceId": "lambdalens-dashboards:<host>/<prefix>", "Data": {"Status",
"Message", "Imported", "Failed", "OverviewUrl"}}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from lambdalens.config import OpenSearchConfig
from lambdalens.dashboards import export_ndjson
from lambdalens.dashboards.importer import ImportFailed, ImportReport, import_objects
from lambdalens.dashboards.links import TENANTS, DashboardsLinks
from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX
from lambdalens.metrics.settings import parse_architectures

logger = logging.getLogger("lambdalens.dashboards")
logger.setLevel(logging.INFO)

PHYSICAL_ID_PREFIX: Final = "lambdalens-dashboards:"
#: CloudFormation keeps at most 4 KB of a custom resource's response.
MAX_MESSAGE: Final = 1000


def _text(props: Mapping[str, Any], name: str, default: str = "") -> str:
    value = props.get(name)
    return default if value is None or str(value).strip() == "" else str(value).strip()


def _result(
    props: Mapping[str, Any], status: str, message: str, imported: int = 0, failed: int = 0
) -> dict[str, Any]:
    url = _text(props, "DashboardsUrl")
    prefix = _text(props, "IndexPrefix", DEFAULT_INDEX_PREFIX)
    tenant = _text(props, "Tenant") or None
    overview = DashboardsLinks(url, prefix, tenant).overview() if url else ""
    (logger.error if status == "failed" else logger.info)("Dashboards import %s: %s", status, message)
    return {
        "PhysicalResourceId": f"{PHYSICAL_ID_PREFIX}{urlsplit(url).netloc}/{prefix}",
        "Data": {
            "Status": status,
            "Message": message[:MAX_MESSAGE],
            "Imported": imported,
            "Failed": failed,
            "OverviewUrl": overview,
        },
    }


def _config(props: Mapping[str, Any]) -> OpenSearchConfig:
    return OpenSearchConfig(
        endpoint=_text(props, "DashboardsUrl").rstrip("/"),
        auth=_text(props, "Auth", "sigv4").lower(),  # type: ignore[arg-type]
        secret_arn=_text(props, "SecretArn") or None,
        region=_text(props, "Region") or None,
    )


def _summary(report: ImportReport) -> str:
    failed = report.failed()
    if not failed:
        return f"{len(report.outcomes)} saved objects imported (Lambda overview, Function drill-down)"
    reasons = "; ".join(f"{o.type} {o.id}: {o.error}" for o in failed[:5])
    return f"{report.summary()} — {reasons}"


def import_dashboards(props: Mapping[str, Any]) -> dict[str, Any]:
    """Import, and say how it went (never raises)."""
    auth = _text(props, "Auth", "sigv4").lower()
    if auth == "aoss":
        return _result(props, "skipped", "OpenSearch Serverless: import `lambdalens dashboards export` in the "
                       "collection's Dashboards (Saved objects > Import)")  # fmt: skip
    tenant = _text(props, "Tenant", "global").lower() or None
    try:
        if tenant is not None and tenant not in TENANTS:
            raise ValueError(f"resource property Tenant must be global | private, got {tenant!r}")
        architectures = parse_architectures(json.loads(_text(props, "FunctionArchitectures", "{}")))
        arm64 = [name for name, arch in architectures.items() if arch == "arm64"]
        data = export_ndjson(_text(props, "IndexPrefix", DEFAULT_INDEX_PREFIX), arm64=arm64)
        report = import_objects(_config(props), data, overwrite=True, tenant=tenant)
    except (ImportFailed, ValueError) as exc:  # ValueError: properties, no credentials or region
        return _result(props, "failed", f"the saved objects were not imported: {' '.join(str(exc).split())}")
    except Exception as exc:  # anything else must not roll the pipeline back either
        return _result(
            props, "failed", f"the saved objects were not imported: {exc.__class__.__name__}: {exc}"
        )
    status = "imported" if report.success else "failed"
    return _result(
        props, status, _summary(report), len(report.outcomes) - len(report.failed()), len(report.failed())
    )


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Provider-framework ``onEvent``: import on Create/Update, nothing on Delete."""
    request = str(event.get("RequestType", ""))
    props = event.get("ResourceProperties") or {}
    if request == "Delete":
        physical_id = str(event.get("PhysicalResourceId", ""))
        logger.info("Delete of %s: Dashboards left as it is (the saved objects stay)", physical_id)
        return {"PhysicalResourceId": physical_id}
    if request not in ("Create", "Update"):
        raise ValueError(f"unknown RequestType {request!r} (expected Create, Update or Delete)")
    return import_dashboards(props)
