"""``lambdalens dashboards export`` and ``import``, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dashboards_contract import ContractServer

from lambdalens.cli.main import main
from lambdalens.dashboards import export_ndjson
from lambdalens.dashboards.saved_objects import from_ndjson


def _scripts(data: bytes) -> dict[str, str]:
    pattern = next(o for o in from_ndjson(data) if o["type"] == "index-pattern")
    return {f["name"]: f["script"] for f in json.loads(pattern["attributes"]["fields"]) if f["scripted"]}


def test_export_writes_the_ndjson_to_stdout_or_a_file(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INDEX_PREFIX", raising=False)
    assert main(["dashboards", "export"]) == 0
    assert capsysbinary.readouterr().out == export_ndjson()
    target = tmp_path / "objects.ndjson"
    assert main(["dashboards", "export", "-o", str(target), "--index-prefix", "prod-lambda"]) == 0
    assert target.read_bytes() == export_ndjson("prod-lambda")
    assert (
        f"wrote {len(from_ndjson(target.read_bytes()))} saved objects to {target}"
        in capsysbinary.readouterr().err.decode()
    )


def test_the_estimated_cost_uses_the_parsers_prices_and_architectures(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setenv("FUNCTION_ARCHITECTURES", '{"view-post": "arm64", "orders": "x86_64"}')
    monkeypatch.setenv("LAMBDA_PRICES", '{"gb_second": {"x86_64": 0.00002}}')
    assert main(["dashboards", "export"]) == 0
    cost = _scripts(capsysbinary.readouterr().out)["lambdalens.estimated_cost_usd"]
    assert "def arm64 = ['view-post'];" in cost and "? 0.0000133334 : 0.00002;" in cost
    assert main(["dashboards", "export", "--arm64", "a,b"]) == 0
    assert (
        "def arm64 = ['a', 'b'];" in _scripts(capsysbinary.readouterr().out)["lambdalens.estimated_cost_usd"]
    )


def test_a_bad_setting_or_an_unwritable_file_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("LAMBDA_PRICES", "cheap")
    assert main(["dashboards", "export"]) == 2
    assert capsys.readouterr().err.startswith("lambdalens dashboards export: LAMBDA_PRICES must be")
    monkeypatch.delenv("LAMBDA_PRICES")
    assert main(["dashboards", "export", "--index-prefix", "Bad Prefix"]) == 2
    assert "index prefix must be a lowercase OpenSearch index name" in capsys.readouterr().err
    assert main(["dashboards", "export", "-o", str(tmp_path / "no" / "such" / "dir.ndjson")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_import_prints_each_object_and_is_idempotent(
    dashboards: ContractServer, capsys: pytest.CaptureFixture[str]
) -> None:
    count = len(from_ndjson(export_ndjson()))
    assert main(["dashboards", "import", "--endpoint", dashboards.url, "--tenant", "global"]) == 0
    out = capsys.readouterr().out
    assert "  created      dashboard      lambdalens-lambda-logs-overview  Lambda overview" in out
    assert out.strip().endswith(f"imported: {count} created")
    assert dashboards.state.requests[-1].headers["securitytenant"] == "global"
    assert main(["dashboards", "import", "--endpoint", dashboards.url]) == 1
    assert "nothing written" in capsys.readouterr().out and len(dashboards.objects()) == count
    assert main(["dashboards", "import", "--endpoint", dashboards.url, "--overwrite", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["success"] and report["counts"] == {"overwritten": count}
    assert len(dashboards.objects()) == count


def test_import_reads_the_dashboards_url_from_the_parsers_environment_and_a_file(
    dashboards: ContractServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENSEARCH_DASHBOARDS_URL", dashboards.url)
    target = tmp_path / "objects.ndjson"
    target.write_bytes(export_ndjson("other"))
    assert main(["dashboards", "import", "--file", str(target)]) == 0
    assert all(object_id.startswith("lambdalens-other") for _, object_id in dashboards.objects())
    assert main(["dashboards", "import", "--file", str(tmp_path / "missing.ndjson")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_import_without_a_url_or_with_sigv4_over_http_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENSEARCH_DASHBOARDS_URL", raising=False)
    assert main(["dashboards", "import"]) == 2
    assert "--endpoint (or OPENSEARCH_DASHBOARDS_URL) is required" in capsys.readouterr().err
    assert main(["dashboards", "import", "--endpoint", "http://127.0.0.1:5601", "--auth", "sigv4"]) == 2
    assert "an https URL (SigV4 signs TLS requests)" in capsys.readouterr().err


def test_a_dashboards_that_refuses_is_one_line_and_exit_2(
    dashboards: ContractServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dashboards", "import", "--endpoint", dashboards.url + "/nope"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("lambdalens dashboards import: no saved-objects import API at")
        and err.count("\n") == 1
    )


def test_import_signs_for_amazon_uses_basic_with_a_secret_and_nothing_elsewhere_by_default() -> None:
    from lambdalens.cli.dashboards_cmd import default_import_auth

    assert default_import_auth("https://search-x.eu-west-1.es.amazonaws.com/_dashboards", None) == "sigv4"
    assert (
        default_import_auth("https://search-x.eu-west-1.es.amazonaws.com/_dashboards", "arn:secret")
        == "basic"
    )
    assert default_import_auth("http://localhost:5601", None) == "none"
