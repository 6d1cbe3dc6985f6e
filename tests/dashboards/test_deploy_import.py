"""The deploy-time import (the Dashboards custom resource): it imports into the tenant, updates
in place on a redeploy, and reports a failure in its response instead of failing the stack."""

from __future__ import annotations

from typing import Any

import pytest
from dashboards_contract import ContractServer

from lambdalens.dashboards import export_ndjson
from lambdalens.dashboards.importer import read_answer
from lambdalens.dashboards.saved_objects import from_ndjson
from lambdalens.handlers import bootstrap
from lambdalens.handlers import dashboards as dashboards_module

COUNT = len(from_ndjson(export_ndjson()))


def _event(request: str, url: str, **props: str) -> dict[str, Any]:
    return {
        "RequestType": request,
        "ResourceType": "Custom::LambdaLensDashboards",
        "PhysicalResourceId": "lambdalens-dashboards:x/lambda-logs",
        "ResourceProperties": {"DashboardsUrl": url, "Auth": "none", "IndexPrefix": "lambda-logs", **props},
    }


def test_create_imports_into_the_tenant_and_update_updates_in_place(dashboards: ContractServer) -> None:
    created = bootstrap.handler(_event("Create", dashboards.url, Tenant="global"), None)
    assert created["Data"]["Status"] == "imported" and created["Data"]["Imported"] == COUNT
    assert created["Data"]["OverviewUrl"] == (
        f"{dashboards.url}/app/dashboards?security_tenant=global#/view/lambdalens-lambda-logs-overview"
        "?_g=(time:(from:now-24h,to:now))"
    )
    assert (
        created["PhysicalResourceId"] == f"lambdalens-dashboards:{dashboards.url.split('/')[2]}/lambda-logs"
    )
    assert dashboards.state.requests[-1].headers["securitytenant"] == "global"
    updated = bootstrap.handler(_event("Update", dashboards.url, Tenant="global"), None)
    assert updated["Data"]["Status"] == "imported" and dashboards.state.requests[-1].query == "overwrite=true"
    assert len(dashboards.objects()) == COUNT


def test_the_cost_prices_the_functions_the_deploy_names_as_arm64(dashboards: ContractServer) -> None:
    bootstrap.handler(_event("Create", dashboards.url, FunctionArchitectures='{"orders": "arm64"}'), None)
    pattern = dashboards.objects()[("index-pattern", "lambdalens-lambda-logs")]
    assert "def arm64 = ['orders'];" in pattern["attributes"]["fields"]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"DashboardsUrl": "http://127.0.0.1:9"}, "cannot connect to Dashboards at http://127.0.0.1:9"),
        ({"Tenant": "admins"}, "resource property Tenant must be global | private"),
        ({"Auth": "sigv4"}, "an https URL (SigV4 signs TLS requests)"),
    ],
)
def test_a_failed_import_is_reported_in_the_response_and_never_fails_the_stack(
    dashboards: ContractServer, props: dict[str, str], message: str, caplog: pytest.LogCaptureFixture
) -> None:
    event = _event("Create", dashboards.url)
    event["ResourceProperties"].update(props)
    answer = bootstrap.handler(event, None)
    assert answer["Data"]["Status"] == "failed" and message in answer["Data"]["Message"]
    assert any(r.levelname == "ERROR" and message in r.getMessage() for r in caplog.records)


def test_objects_dashboards_refuses_are_named_in_the_message(
    dashboards: ContractServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboards.state, "credentials", ("admin", "secret"))
    refused = bootstrap.handler(_event("Create", dashboards.url), None)["Data"]
    assert (refused["Status"], refused["Imported"]) == ("failed", 0)
    assert "refused the credentials (HTTP 401)" in refused["Message"]
    objects = from_ndjson(export_ndjson())
    answer = {  # what Dashboards answers when it cannot store one object
        "success": False,
        "successCount": COUNT - 1,
        "successResults": [{"type": o["type"], "id": o["id"], "overwrite": True} for o in objects[1:]],
        "errors": [{"type": objects[0]["type"], "id": objects[0]["id"],
                    "error": {"type": "unknown", "message": "index [.kibana_1] blocked", "statusCode": 403}}],
    }  # fmt: skip
    monkeypatch.setattr(dashboards_module, "import_objects", lambda *a, **k: read_answer(answer, objects))
    partial = bootstrap.handler(_event("Update", dashboards.url), None)["Data"]
    assert (partial["Status"], partial["Imported"], partial["Failed"]) == ("failed", COUNT - 1, 1)
    assert "index-pattern lambdalens-lambda-logs: index [.kibana_1] blocked (HTTP 403)" in partial["Message"]


def test_serverless_is_skipped_with_what_to_do_and_delete_leaves_dashboards_alone(
    dashboards: ContractServer,
) -> None:
    skipped = dashboards_handler(
        _event("Create", "https://abc.eu-west-1.aoss.amazonaws.com/_dashboards", Auth="aoss")
    )
    assert skipped["Data"]["Status"] == "skipped" and "Saved objects > Import" in skipped["Data"]["Message"]
    deleted = bootstrap.handler(_event("Delete", dashboards.url), None)
    assert deleted == {"PhysicalResourceId": "lambdalens-dashboards:x/lambda-logs"}
    assert dashboards.state.requests == []


def dashboards_handler(event: dict[str, Any]) -> dict[str, Any]:
    return dashboards_module.handler(event, None)
