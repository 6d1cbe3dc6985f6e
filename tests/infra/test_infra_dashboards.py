"""The Dashboards import at deploy: a second custom resource on the bootstrap function, the stack
outputs that open Lambda overview and say how the import went, the tenant the alerts link into."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from infra_support import Synthesized, synthesize

from lambdalens.dashboards import export_ndjson

ENDPOINT = "https://search-logs-abc123.eu-west-1.es.amazonaws.com"


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    return synthesize()


def _one(synth: Synthesized, resource_type: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = synth.resources(resource_type).items()
    return logical_id, resource


def _outputs(synth: Synthesized) -> dict[str, Any]:
    return {name: o["Value"] for name, o in synth.templates["LambdaLens"]["Outputs"].items()}


def _joined(value: Any) -> str:
    """An Fn::Join as text, each non-string part as its JSON."""
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(p if isinstance(p, str) else json.dumps(p) for p in parts)
    return str(value)


def test_the_import_is_a_custom_resource_of_the_bootstrap_function_after_the_bootstrap(
    synth: Synthesized,
) -> None:
    logical_id, resource = _one(synth, "Custom::LambdaLensDashboards")
    bootstrap_id, bootstrap = _one(synth, "Custom::LambdaLensBootstrap")
    props = resource["Properties"]
    assert props["ServiceToken"] == bootstrap["Properties"]["ServiceToken"]
    assert bootstrap_id in resource["DependsOn"]
    assert props["Auth"] == "basic" and props["SecretArn"] == bootstrap["Properties"]["SecretArn"]
    assert props["Tenant"] == "global" and props["IndexPrefix"] == "lambda-logs"
    assert _joined(props["DashboardsUrl"]).startswith("https://") and _joined(
        props["DashboardsUrl"]
    ).endswith("/_dashboards")
    assert props["ObjectsHash"] == hashlib.sha256(export_ndjson("lambda-logs")).hexdigest()[:16]
    mapping = next(iter(synth.resources("AWS::Lambda::EventSourceMapping").values()))
    assert (
        bootstrap_id in mapping["DependsOn"] and logical_id not in mapping["DependsOn"]
    )  # the data path waits for no import


def test_the_outputs_open_lambda_overview_in_the_tenant_and_say_how_the_import_went(
    synth: Synthesized,
) -> None:
    logical_id, _ = _one(synth, "Custom::LambdaLensDashboards")
    outputs = _outputs(synth)
    url = _joined(outputs["OpenSearchDashboardsUrl"])
    assert url.startswith("https://") and url.endswith(
        "/_dashboards/app/dashboards?security_tenant=global#/view/lambdalens-lambda-logs-overview"
        "?_g=(time:(from:now-24h,to:now))"
    )
    assert outputs["OpenSearchDashboardsImport"] == {
        "Fn::Join": [": ", [{"Fn::GetAtt": [logical_id, "Status"]}, {"Fn::GetAtt": [logical_id, "Message"]}]]
    }


def test_alerts_link_into_the_tenant_the_objects_are_imported_into(synth: Synthesized) -> None:
    parser = next(
        f for f in synth.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "lambdalens.handlers.parser.handler"
    )  # fmt: skip
    env = parser["Properties"]["Environment"]["Variables"]
    assert env["OPENSEARCH_DASHBOARDS_TENANT"] == "global"
    assert _joined(env["OPENSEARCH_DASHBOARDS_URL"]).endswith("/_dashboards")


def test_an_existing_endpoint_signs_the_import_and_the_import_can_be_turned_off() -> None:
    existing = synthesize({
        "openSearchEndpoint": ENDPOINT, "openSearchAuth": "sigv4",
        "openSearchDomainArn": "arn:aws:es:eu-west-1:123456789012:domain/logs",
        "indexPrefix": "prod-lambda", "openSearchDashboardsTenant": "private",
    })  # fmt: skip
    _, resource = _one(existing, "Custom::LambdaLensDashboards")
    props = resource["Properties"]
    assert (props["Auth"], props["DashboardsUrl"], props["Tenant"]) == (
        "sigv4",
        f"{ENDPOINT}/_dashboards",
        "private",
    )
    assert _outputs(existing)["OpenSearchDashboardsUrl"] == (
        f"{ENDPOINT}/_dashboards/app/dashboards?security_tenant=private#/view/lambdalens-prod-lambda-overview"
        "?_g=(time:(from:now-24h,to:now))"
    )
    off = synthesize({"openSearchDashboardsImport": "false"})
    assert off.resources("Custom::LambdaLensDashboards") == {}
    assert "OpenSearchDashboardsImport" not in _outputs(off)
    assert _joined(_outputs(off)["OpenSearchDashboardsUrl"]).endswith("/_dashboards")
