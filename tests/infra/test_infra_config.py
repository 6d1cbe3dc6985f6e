"""Context validation, the app's own -c parsing, the Lambda requirements pins and the bundler.

No synthesis here (fast): configuration errors are raised while the stacks are built.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from infra_support import ROOT, cdk_json_context, make_app
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lambdalens_infra import ConfigError, LambdaLensPipeline, PipelineConfig, SubscriptionConfig
from lambdalens_infra.bundling import LocalPythonBundler, Wheelhouse, pinned_requirements
from lambdalens_infra.config import all_context_keys
from lambdalens_infra.pipeline import function_name_patterns

sys.path.insert(0, str(ROOT / "infra"))
import app as cdk_app


def _config(**context: Any) -> PipelineConfig:
    merged = {**cdk_json_context(), **context}
    return PipelineConfig.from_context(merged.get, list(merged))


def test_cdk_json_defaults_are_valid_and_complete() -> None:
    config = _config()
    assert config.subscriptions.log_group_prefixes == ("/aws/lambda/",)
    assert config.stream.mode == "on-demand"
    assert config.event_source.batch_size == 500
    own_keys = {key for key in cdk_json_context() if not any(c in key for c in ":@/")}
    assert own_keys <= all_context_keys(PipelineConfig)


def test_cli_strings_are_converted() -> None:
    config = _config(
        batchSize="800",
        openSearchZoneAwareness="false",
        openSearchInstanceCount="3",
        alertEmails='["a@example.com"]',
        logGroupNames="/aws/lambda/a, /aws/lambda/b",
        alertTimeoutRatio="0.8",
    )
    assert config.event_source.batch_size == 800
    assert config.opensearch.zone_awareness is False
    assert config.alerts.emails == ("a@example.com",)
    assert config.subscriptions.log_group_names == ("/aws/lambda/a", "/aws/lambda/b")
    assert config.monitored_function_names == ("a", "b")
    assert config.alerts.parser_environment()["ALERT_TIMEOUT_RATIO"] == "0.8"


@pytest.mark.parametrize(
    ("context", "key", "message"),
    [
        ({"batchSize": "20000"}, "batchSize", "between 1 and 10000"),
        ({"batchSize": "many"}, "batchSize", "expected int"),
        ({"retryAttempts": "-1"}, "retryAttempts", "would block a shard"),
        ({"maxRecordAgeSeconds": "-1"}, "maxRecordAgeSeconds", "between 60 and 604800"),
        ({"parallelizationFactor": "11"}, "parallelizationFactor", "between 1 and 10"),
        ({"kinesisMode": "serverless"}, "kinesisMode", "on-demand, provisioned"),
        ({"subscriptionMode": "all"}, "subscriptionMode", "filters, account-policy"),
        ({"logGroupPrefixes": "[]", "logGroupNames": "[]"}, "logGroupPrefixes", "nothing to subscribe"),
        ({"logGroupNames": "/aws/lambda/with space"}, "logGroupNames", "is not valid"),
        ({"alertEmails": "not-an-email"}, "alertEmails", "is not valid"),
        ({"alertHttpsEndpoints": "http://insecure.example.com"}, "alertHttpsEndpoints", "is not valid"),
        ({"openSearchEndpoint": "http://search.example.com"}, "openSearchEndpoint", "is not valid"),
        (
            {"openSearchEndpoint": "https://search.example.com", "openSearchAuth": "basic"},
            "openSearchSecretArn",
            "required with openSearchAuth=basic",
        ),
        ({"openSearchEndpoint": "https://search.example.com"}, "openSearchDomainArn", "required"),
        (
            {"openSearchEndpoint": "https://x.example.com", "openSearchAuth": "aoss"},
            "openSearchCollectionArn",
            "required",
        ),
        ({"openSearchAuth": "kerberos"}, "openSearchAuth", "one of"),
        (
            {"openSearchInstanceCount": "3"},
            "openSearchInstanceCount",
            "multiple of openSearchAvailabilityZones",
        ),
        ({"openSearchDedicatedMasterCount": "2"}, "openSearchDedicatedMasterCount", "one of 0, 3, 5"),
        ({"openSearchVersion": "2.19"}, "openSearchVersion", "is not valid"),
        ({"openSearchDomainName": "Logs"}, "openSearchDomainName", "is not valid"),
        ({"logRetentionDays": "31"}, "logRetentionDays", "one of"),
        ({"lambdaRuntime": "python3.9"}, "lambdaRuntime", "python3.12"),
        ({"removalPolicy": "snapshot"}, "removalPolicy", "retain, destroy"),
        ({"sourceAccountIds": "12345"}, "sourceAccountIds", "is not valid"),
        ({"openSearchZoneAwareness": "maybe"}, "openSearchZoneAwareness", "true or false"),
        ({"alertTimeoutRatio": "1.5"}, "alertTimeoutRatio", "between"),
        ({"logGroupPrefix": "/aws/lambda/"}, "logGroupPrefix", "did you mean 'logGroupPrefixes'"),
        (
            {"subscriptionMode": "account-policy", "excludeLogGroups": "/aws/lambda/noisy-*"},
            "excludeLogGroups",
            "exact names only",
        ),
    ],
)
def test_invalid_context_is_a_clear_error_naming_the_key(
    context: dict[str, str], key: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        _config(**context)
    assert raised.value.key == key
    assert str(raised.value).startswith(f"context '{key}': ")


def test_building_the_app_with_a_bad_value_fails_before_synthesis() -> None:
    with pytest.raises(ConfigError, match="context 'batchSize'"):
        make_app({"batchSize": "0"})


def test_too_many_account_policy_exclusions_name_the_key() -> None:
    names = ",".join(f"/aws/lambda/noisy-{i}" for i in range(50))
    with pytest.raises(
        ConfigError, match="context 'excludeLogGroups': an account policy excludes at most 50"
    ):
        make_app({"subscriptionMode": "account-policy", "excludeLogGroups": names})


def test_a_pipeline_fed_only_by_source_accounts_has_no_subscriber() -> None:
    app = make_app({"logGroupPrefixes": "[]", "sourceAccountIds": "111111111111"})
    stack = app.node.find_child("LambdaLens")
    pipeline = stack.node.find_child("Pipeline")
    assert isinstance(pipeline, LambdaLensPipeline)
    assert pipeline.subscriptions.subscriber is None
    assert pipeline.destination is not None


def test_the_app_reports_a_bad_value_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = cdk_app.main(["-c", "aws:cdk:bundling-stacks=[]", "-c", "kinesisMode=fast"])
    assert code == 2
    assert "lambdalens: invalid configuration: context 'kinesisMode'" in capsys.readouterr().err


def test_app_direct_context_reads_cdk_json_and_overrides() -> None:
    context = cdk_app.direct_context(["-c", "batchSize=900", "--context=aws:cdk:bundling-stacks=[]"])
    assert context["batchSize"] == "900"
    assert context["aws:cdk:bundling-stacks"] == []
    assert context["pipelineName"] == "lambdalens"
    with pytest.raises(SystemExit, match="key=value"):
        cdk_app.direct_context(["-c", "batchSize"])


def test_typed_props_validate_for_other_cdk_apps() -> None:
    with pytest.raises(ConfigError, match="logGroupNames"):
        SubscriptionConfig(log_group_names=("bad name",))
    config = PipelineConfig(subscriptions=SubscriptionConfig(log_group_prefixes=["/aws/lambda/app-"]))  # type: ignore[arg-type]
    assert config.subscriptions.log_group_prefixes == ("/aws/lambda/app-",)


@pytest.mark.parametrize(
    ("context", "patterns"),
    [
        ({"logGroupPrefixes": "/aws/lambda/"}, ["*"]),
        ({"logGroupPrefixes": "/aws/"}, ["*"]),
        (
            {"logGroupPrefixes": "/aws/lambda/shop-,/ecs/", "logGroupNames": "/aws/lambda/api"},
            ["api", "shop-*"],
        ),
        ({"logGroupPrefixes": "/ecs/"}, []),
        ({"subscriptionMode": "account-policy"}, ["*"]),
    ],
)
def test_function_configuration_is_readable_only_for_monitored_functions(
    context: dict[str, str], patterns: list[str]
) -> None:
    assert function_name_patterns(_config(**context)) == patterns


# --- the Lambda bundle's requirements -----------------------------------------------------------

RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}


def test_requirements_are_exact_pins_without_the_runtime_sdk() -> None:
    pins = pinned_requirements()
    names = [canonicalize_name(name) for name, _ in pins]
    assert len(names) == len(set(names))
    assert not RUNTIME_PROVIDED & set(names)


def test_requirements_cover_the_package_dependencies() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = {canonicalize_name(name): version for name, version in pinned_requirements()}
    for spec in pyproject["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        if name in RUNTIME_PROVIDED:
            continue
        assert name in pins, f"{name} is a dependency of lambdalens but not pinned for the Lambda bundle"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            name,
            pins[name],
            str(requirement),
        )


def test_requirements_pin_the_whole_closure() -> None:
    """Every dependency of a pinned package is pinned too (checked where the venv has that version)."""
    pins = {canonicalize_name(name): version for name, version in pinned_requirements()}
    environment = {
        "python_version": "3.13",
        "python_full_version": "3.13.0",
        "sys_platform": "linux",
        "platform_machine": "aarch64",
        "implementation_name": "cpython",
        "extra": "",
    }
    checked = 0
    for name, version in pins.items():
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if distribution.version != version:
            continue
        checked += 1
        for spec in distribution.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            dependency = canonicalize_name(requirement.name)
            if dependency in RUNTIME_PROVIDED:
                continue
            assert dependency in pins, f"{name} needs {dependency}, which is not pinned"
            assert requirement.specifier.contains(pins[dependency], prereleases=True), (name, spec)
    assert checked >= 3, (
        "the development environment no longer has the pinned versions: re-pin requirements-lambda.txt"
    )


# --- the bundler --------------------------------------------------------------------------------


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "functions"
    (source / "lambdalens" / "handlers" / "__pycache__").mkdir(parents=True)
    (source / "lambdalens" / "__init__.py").write_text("")
    (source / "lambdalens" / "handlers" / "subscriber.py").write_text("def handler(e, c): pass\n")
    (source / "lambdalens" / "handlers" / "__pycache__" / "subscriber.cpython-311.pyc").write_bytes(b"x")
    (source / "lambdalens" / "local_opensearch" / "java").mkdir(parents=True)
    (source / "lambdalens" / "local_opensearch" / "java" / "pom.xml").write_text("<project/>")
    (source / "requirements-lambda.txt").write_text("# pins\norjson==3.13.0\nsix==1.17.0  # why\n")
    return source


def test_wheelhouse_knows_what_is_missing(tmp_path: Path) -> None:
    wheelhouse = Wheelhouse("3.13", root=tmp_path / "wh", source_dir=_source(tmp_path))
    assert wheelhouse.directory.name == "manylinux2014_aarch64-cp313"
    assert wheelhouse.missing() == ["orjson==3.13.0", "six==1.17.0"]
    wheelhouse.directory.mkdir(parents=True)
    (
        wheelhouse.directory / "orjson-3.13.0-cp313-cp313-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    ).write_bytes(b"")
    (wheelhouse.directory / "six-1.17.0-py2.py3-none-any.whl").write_bytes(b"")
    assert wheelhouse.missing() == []
    assert wheelhouse.fetch() == (True, "")  # nothing to download


def test_bundler_installs_arm64_wheels_offline_and_copies_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path)
    wheelhouse = Wheelhouse("3.13", root=tmp_path / "wh", source_dir=source)
    wheelhouse.directory.mkdir(parents=True)
    for wheel in ("orjson-3.13.0-cp313-cp313-manylinux2014_aarch64.whl", "six-1.17.0-py2.py3-none-any.whl"):
        (wheelhouse.directory / wheel).write_bytes(b"")
    commands: list[list[str]] = []

    def fake_pip(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "bin").mkdir(parents=True)
        (target / "six.py").write_text("")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    out = tmp_path / "asset"
    out.mkdir()

    assert LocalPythonBundler("3.13", source_dir=source, wheelhouse=wheelhouse).try_bundle(str(out))

    (command,) = commands
    joined = " ".join(command)
    for flag in (
        "--platform manylinux2014_aarch64",
        "--only-binary=:all:",
        "--python-version 3.13",
        "--implementation cp",
        "--no-index",
        f"--find-links {wheelhouse.directory}",
        "--no-deps",
        "--no-compile",
    ):
        assert flag in joined
    assert (out / "lambdalens" / "handlers" / "subscriber.py").exists()
    assert not (out / "lambdalens" / "handlers" / "__pycache__").exists()
    assert not (out / "lambdalens" / "local_opensearch").exists()  # a developer's tool, never run in Lambda
    assert not (out / "bin").exists()
    assert (out / "six.py").exists()


def test_bundler_fails_loudly_without_wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambdalens_infra.bundling import BundlingError

    source = _source(tmp_path)
    monkeypatch.setattr(
        subprocess,
        "run",
        lambda command, **_: subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution"),
    )
    bundler = LocalPythonBundler(
        "3.13", source_dir=source, wheelhouse=Wheelhouse("3.13", root=tmp_path, source_dir=source)
    )
    with pytest.raises(BundlingError, match="could not be downloaded"):
        bundler.try_bundle(str(tmp_path / "out"))


def test_redaction_context_becomes_parser_environment_and_bad_rules_fail_synth() -> None:
    rules = [{"name": "github_token", "pattern": "\\bgh[pousr]_[A-Za-z0-9]{36}\\b"}]
    config = _config(redactionEmails="true", redactionRules=rules, redactionAllowFields="csrf_token")
    env = config.redaction.parser_environment()
    assert env["REDACTION_EMAILS"] == "true" and env["REDACTION_ENABLED"] == "true"
    assert json.loads(env["REDACTION_RULES"]) == rules
    assert json.loads(env["REDACTION_ALLOW_FIELDS"]) == ["csrf_token"]
    with pytest.raises(ConfigError, match=r"context 'redactionRules'.*github_token.*invalid regex"):
        _config(redactionRules='[{"name": "github_token", "pattern": "(gh"}]')
