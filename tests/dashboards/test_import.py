"""Import through the saved-objects API, against a server that implements its contract."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from dashboards_contract import ContractServer, SigV4Key, contract_server, self_signed

from lambdalens.config import OpenSearchConfig
from lambdalens.dashboards import export_ndjson
from lambdalens.dashboards.importer import ImportFailed, dashboards_base, import_objects, multipart
from lambdalens.dashboards.saved_objects import from_ndjson, to_ndjson


def _config(server: ContractServer, **kw: Any) -> OpenSearchConfig:
    return OpenSearchConfig(endpoint=server.url, auth=kw.pop("auth", "none"), **kw)


def test_an_import_creates_every_object_as_written_and_says_so_object_by_object(
    dashboards: ContractServer,
) -> None:
    data = export_ndjson()
    report = import_objects(_config(dashboards), data)
    sent = from_ndjson(data)
    assert report.success and report.counts() == {"created": len(sent)}
    assert [(o.type, o.id) for o in report.outcomes] == [(o["type"], o["id"]) for o in sent]
    stored = dashboards.objects()
    assert stored == {(o["type"], o["id"]): o for o in sent}
    request = dashboards.state.requests[-1]
    assert request.method == "POST" and request.path == "/_dashboards/api/saved_objects/_import"
    assert request.headers["osd-xsrf"] == "true" and "securitytenant" not in request.headers
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="lambdalens-dashboards.ndjson"' in request.body
    assert "Lambda overview" in report.render() and report.render().endswith(f"imported: {len(sent)} created")


def test_importing_again_never_duplicates_without_overwrite_nothing_is_written_with_it_all_is_updated(
    dashboards: ContractServer,
) -> None:
    config = _config(dashboards)
    first = import_objects(config, export_ndjson())
    again = import_objects(config, export_ndjson())
    assert not again.success and not again.written
    assert {o.action for o in again.outcomes} == {"failed"}
    assert all("import with --overwrite" in o.error for o in again.outcomes)
    assert again.summary().startswith("nothing written")
    updated = import_objects(config, export_ndjson(), overwrite=True)
    assert updated.success and updated.counts() == {"overwritten": len(first.outcomes)}
    assert len(dashboards.objects()) == len(first.outcomes)
    assert dashboards.state.requests[-1].query == "overwrite=true"


def test_a_200_with_success_false_is_reported_per_object_and_a_blocking_error_writes_nothing(
    dashboards: ContractServer,
) -> None:
    objects = from_ndjson(export_ndjson())
    objects = [o for o in objects if o["type"] != "index-pattern"]  # every search and vis references it
    objects.append(
        {"type": "canvas-workpad", "id": "w1", "attributes": {"title": "a workpad"}, "references": []}
    )
    report = import_objects(_config(dashboards), to_ndjson(objects))
    assert not report.success and not report.written and dashboards.objects() == {}
    by_id = {o.id: o for o in report.outcomes}
    assert (
        "references objects that are neither in the file nor in Dashboards: index-pattern lambdalens-lambda-logs"
        in (by_id["lambdalens-lambda-logs-timeouts"].error)
    )
    assert by_id["w1"].error == "this Dashboards has no such saved-object type"
    assert (
        by_id["lambdalens-lambda-logs-links"].action == "not written"
    )  # no index pattern: no error of its own


def test_an_object_dashboards_cannot_store_fails_alone_with_the_reason_it_gave(
    dashboards: ContractServer,
) -> None:
    objects = from_ndjson(export_ndjson())
    objects[5]["attributes"]["tags"] = ["x"]
    report = import_objects(_config(dashboards), to_ndjson(objects))
    assert not report.success and report.written
    failed = report.failed()
    assert [o.id for o in failed] == [objects[5]["id"]]
    assert (
        "mapping set to strict, dynamic introduction of [tags]" in failed[0].error
        and "(HTTP 400)" in failed[0].error
    )
    assert len(dashboards.objects()) == len(objects) - 1


def test_the_tenant_header_puts_the_objects_in_that_tenant(dashboards: ContractServer) -> None:
    report = import_objects(_config(dashboards), export_ndjson(), tenant="private")
    assert report.success and dashboards.state.requests[-1].headers["securitytenant"] == "private"
    assert dashboards.objects("global") == {} and len(dashboards.objects("private")) == len(report.outcomes)


def test_two_prefixes_live_side_by_side_in_one_tenant(dashboards: ContractServer) -> None:
    import_objects(_config(dashboards), export_ndjson("lambda-logs"))
    second = import_objects(_config(dashboards), export_ndjson("prod-lambda"))
    assert second.success and len(dashboards.objects()) == 2 * len(second.outcomes)


def test_basic_auth_reads_the_secret_and_wrong_credentials_are_one_clear_error(aws_env: None) -> None:
    import boto3

    secret = boto3.client("secretsmanager").create_secret(
        Name="dashboards-admin", SecretString=json.dumps({"username": "admin", "password": "s3cret!"})
    )["ARN"]
    other = boto3.client("secretsmanager").create_secret(
        Name="someone-else", SecretString=json.dumps({"username": "admin", "password": "guess"})
    )["ARN"]
    with contract_server("/_dashboards", credentials=("admin", "s3cret!")) as server:
        assert import_objects(_config(server, auth="basic", secret_arn=secret), export_ndjson()).success
        with pytest.raises(ImportFailed, match=r"refused the credentials \(HTTP 401\)"):
            import_objects(_config(server, auth="basic", secret_arn=other), export_ndjson(), overwrite=True)


def test_a_url_that_is_not_dashboards_or_does_not_answer_is_one_clear_error(
    dashboards: ContractServer,
) -> None:
    wrong = OpenSearchConfig(endpoint=dashboards.url.removesuffix("/_dashboards"), auth="none")
    with pytest.raises(ImportFailed, match=r"no saved-objects import API at .* \(HTTP 404\)"):
        import_objects(wrong, export_ndjson())
    closed = OpenSearchConfig(endpoint="http://127.0.0.1:9", auth="none", timeout_seconds=2)
    with pytest.raises(ImportFailed, match=r"cannot connect to Dashboards at http://127\.0\.0\.1:9"):
        import_objects(closed, export_ndjson())


def _raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_contract_server_refuses_what_dashboards_refuses(dashboards: ContractServer) -> None:
    url = f"{dashboards.url}/api/saved_objects/_import"
    body, content_type = multipart(export_ndjson())
    assert _raw(url, body, {"content-type": content_type}) == (
        400,
        {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a osd-xsrf header."},
    )
    json_body, json_type = multipart(export_ndjson(), "objects.json")
    assert (
        _raw(url, json_body, {"content-type": json_type, "osd-xsrf": "true"})[1]["message"]
        == "Invalid file extension .json"
    )
    twice = to_ndjson(from_ndjson(export_ndjson())[:2] * 2)
    twice_body, twice_type = multipart(twice)
    status, answer = _raw(url, twice_body, {"content-type": twice_type, "osd-xsrf": "true"})
    assert status == 400 and "Non-unique import objects detected" in answer["message"]
    assert (
        _raw(
            url + "?overwrite=true&createNewCopies=true",
            body,
            {"content-type": content_type, "osd-xsrf": "true"},
        )[0]
        == 400
    )


def test_an_amazon_opensearch_service_endpoint_gets_its_dashboards_path() -> None:
    assert dashboards_base("https://search-logs-abc.eu-west-1.es.amazonaws.com") == (
        "https://search-logs-abc.eu-west-1.es.amazonaws.com/_dashboards"
    )
    assert dashboards_base("https://search-logs-abc.eu-west-1.es.amazonaws.com/_dashboards/") == (
        "https://search-logs-abc.eu-west-1.es.amazonaws.com/_dashboards"
    )
    assert dashboards_base("http://localhost:5601") == "http://localhost:5601"


def test_sigv4_signs_the_import_for_service_es_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    cert, tls = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the server's certificate
    key = SigV4Key("AKIDEXAMPLE", "secret", None, "eu-west-1")
    with contract_server("/_dashboards", sigv4=key, tls=tls) as server:
        config = OpenSearchConfig(endpoint=server.url, auth="sigv4", region="eu-west-1")
        assert import_objects(config, export_ndjson(), tenant="global").success
        assert (
            server.state.requests[-1]
            .headers["authorization"]
            .startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        )
        wrong = OpenSearchConfig(endpoint=server.url, auth="sigv4", region="us-east-1")
        with pytest.raises(ImportFailed, match=r"refused the credentials \(HTTP 403\)"):
            import_objects(wrong, export_ndjson(), overwrite=True)
