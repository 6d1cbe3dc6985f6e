"""``lambdalens bootstrap``: templates, ISM policy and security roles, idempotent.

Two servers: the real local OpenSearch node of the integration tier (templates, mappings,
real documents; each test bootstraps a prefix of its own), and a recording stub of the ISM
and security APIs (opensearch_stub.py), whose requests are asserted exactly. The node has
neither plugin — the ISM plugin is not published on Maven Central, where the node comes
from — so against it those steps must be reported skipped, as on any cluster without them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lambdalens.cli import bootstrap_cmd
from lambdalens.config import OpenSearchConfig
from lambdalens.decoding import RecordId, payload_from_json
from lambdalens.handlers import bootstrap as bootstrap_handler
from lambdalens.indexing.bootstrap import Action, BootstrapError, Kind, bootstrap, covers
from lambdalens.indexing.bulk_body import build_chunks
from lambdalens.indexing.client import make_client
from lambdalens.indexing.templates import (
    FIELD_TYPES,
    FIELDS_BEYOND_SCHEMA_DOC,
    BootstrapOptions,
    mappings,
    merged_role_mapping,
    nest,
)
from lambdalens.parsing import parse_payloads

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DOC = ROOT / "docs" / "document-schema.md"
SAMPLES = sorted(p for p in (ROOT / "events" / "logs").glob("*.json") if not p.name.endswith(".expect.json"))
PARSER_ROLE = "arn:aws:iam::123456789012:role/lambdalens-parser"
OTHER_ROLE = "arn:aws:iam::123456789012:role/legacy-shipper"
#: The format OpenSearch gives a date field that names none; it leaves it out of GET _mapping.
DEFAULT_DATE_FORMAT = "strict_date_optional_time||epoch_millis"


def _load_stub() -> ModuleType:
    """opensearch_stub.py next to this file, whatever pytest's import mode."""
    name = "lambdalens_test_opensearch_stub"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("opensearch_stub.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


stub_module = _load_stub()
OpenSearchStub = stub_module.OpenSearchStub


def client_for(url: str) -> Any:
    return make_client(OpenSearchConfig(url, auth="none", timeout_seconds=60))


def parse_samples() -> list[dict[str, Any]]:
    payloads = [
        payload_from_json(json.loads(path.read_text()), RecordId("sample", path.stem), b"")
        for path in SAMPLES
    ]
    return parse_payloads(payloads, region="us-east-1")


def by_action(report: Any) -> dict[str, str]:
    return {f"{s.kind.value}:{s.name}": s.action.value for s in report.steps}


def mapping_at(properties: dict[str, Any], dotted: str) -> dict[str, Any]:
    *parents, leaf = dotted.split(".")
    for parent in parents:
        properties = properties[parent]["properties"]
    return properties[leaf]  # type: ignore[no-any-return]


def leaf_fields(properties: dict[str, Any], parent: str = "") -> dict[str, dict[str, Any]]:
    """``{"a": {"properties": {"b": m}}}`` -> ``{"a.b": m}``: a mapping's fields by dotted name."""
    out: dict[str, dict[str, Any]] = {}
    for name, mapping in properties.items():
        if "properties" in mapping:
            out.update(leaf_fields(mapping["properties"], f"{parent}{name}."))
        else:
            out[f"{parent}{name}"] = mapping
    return out


@pytest.fixture
def node_url(opensearch_node: Any) -> str:
    """The real node of the session (shared: every test bootstraps a prefix of its own)."""
    return str(opensearch_node.url)


@pytest.fixture
def prefix() -> str:
    return f"boot-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def stub() -> Iterator[Any]:
    with OpenSearchStub() as server:
        yield server


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the mapping is the document schema --------------------------------------------------------


def schema_doc_fields() -> dict[str, str]:
    """field -> type, from the table of docs/document-schema.md."""
    kinds = {"int": "integer", "date": "date", "text": "text", "keyword": "keyword", "boolean": "boolean"}
    out: dict[str, str] = {}
    for line in SCHEMA_DOC.read_text().split("## Which")[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        types = [t.strip() for t in re.split(r"[/,]", re.sub(r"\(.*?\)", "", cells[1]))]
        if len(types) == 1:
            types *= len(names)
        assert len(types) == len(names), line
        for name, kind in zip(names, types, strict=True):
            out[name] = kinds.get(kind, kind)
    return out


def test_mapping_has_every_schema_field_with_its_type() -> None:
    documented = schema_doc_fields()
    assert len(documented) > 35
    for name, kind in documented.items():
        assert name in FIELD_TYPES, f"{name} is in docs/document-schema.md but not mapped"
        assert FIELD_TYPES[name]["type"] == kind, name
    assert FIELD_TYPES["body"]["fields"]["keyword"] == {"type": "keyword", "ignore_above": 8191}
    assert FIELD_TYPES["@timestamp"]["format"] == "strict_date_optional_time||epoch_millis"
    assert set(FIELD_TYPES) - set(documented) == FIELDS_BEYOND_SCHEMA_DOC


def test_every_field_the_parser_writes_is_mapped_explicitly() -> None:
    seen = {key for doc in parse_samples() for key in doc}
    assert seen - set(FIELD_TYPES) == set()


def test_mappings_nest_dotted_fields_and_send_other_strings_to_keyword() -> None:
    body = mappings()
    assert mapping_at(body["properties"], "log.record.uid") == {"type": "keyword", "ignore_above": 1024}
    assert mapping_at(body["properties"], "cloud.account.id")["type"] == "keyword"
    assert body["dynamic_templates"] == [
        {
            "strings_as_keyword": {
                "match_mapping_type": "string",
                "mapping": {"type": "keyword", "ignore_above": 1024},
            }
        }
    ]
    assert body["date_detection"] is False
    with pytest.raises(ValueError, match="not an object"):
        nest({"a": {"type": "keyword"}, "a.b": {"type": "keyword"}})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"index_prefix": "Lambda Logs"}, "index prefix"),
        ({"retention_days": 0}, "retention days"),
        ({"retention_days": 7, "warm_after_days": 7}, "warm-after days"),
        ({"shards": 0}, "shards"),
        ({"replicas": -1}, "replicas"),
        ({"refresh_interval": "soon"}, "refresh interval"),
        ({"warm_mode": "cold"}, "warm mode"),
    ],
)
def test_invalid_options_are_refused_with_the_option_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BootstrapOptions(**kwargs)


def test_covers_ignores_server_additions_but_not_changed_or_missing_values() -> None:
    wanted = {"a": [{"x": 1}], "b": True}
    assert covers({"a": [{"x": "1", "retry": {}}], "b": "true", "extra": 1}, wanted)
    assert not covers({"a": [{"x": 2}], "b": True}, wanted)
    assert not covers({"a": [{"x": 1}, {"x": 1}], "b": True}, wanted)
    assert not covers({"a": [{"x": 1}]}, wanted)


def test_role_mapping_merge_keeps_what_is_there() -> None:
    existing = {
        "reserved": False,
        "hidden": False,
        "backend_roles": [OTHER_ROLE],
        "and_backend_roles": [],
        "hosts": [],
        "users": ["ops"],
        "description": "by hand",
    }
    assert merged_role_mapping(existing, [PARSER_ROLE, OTHER_ROLE]) == {
        "backend_roles": [OTHER_ROLE, PARSER_ROLE],
        "and_backend_roles": [],
        "hosts": [],
        "users": ["ops"],
        "description": "by hand",
    }
    assert merged_role_mapping(None, [PARSER_ROLE]) == {
        "backend_roles": [PARSER_ROLE],
        "hosts": [],
        "users": [],
    }


# -- against the real node --------------------------------------------------------------------


def settings_of(client: Any, index: str) -> dict[str, Any]:
    return client.indices.get_settings(index=index)[index]["settings"]["index"]  # type: ignore[no-any-return]


def test_first_run_creates_the_templates_and_skips_what_the_node_lacks(
    opensearch_node: Any, prefix: str
) -> None:
    client = client_for(opensearch_node.url)
    report = bootstrap(client, index_prefix=prefix)

    assert report.server == f"OpenSearch {opensearch_node.engine.version}"
    assert by_action(report) == {
        f"component template:{prefix}-settings": "created",
        f"component template:{prefix}-mappings": "created",
        f"index template:{prefix}": "created",
        f"ISM policy:{prefix}-retention": "skipped",
        f"security role:lambdalens_writer_{prefix}, lambdalens_reader_{prefix}": "skipped",
    }
    assert {s.kind: s.detail for s in report.skipped()} == {
        Kind.ISM_POLICY: f"ISM not available: no handler found for uri [/_plugins/_ism/policies/{prefix}-retention] and method [GET]",
        Kind.SECURITY_ROLE: "security plugin not available: no handler found for uri [/_plugins/_security/api/account] and method [GET]",
    }
    assert report.changed

    def component(name: str) -> dict[str, Any]:
        (entry,) = client.cluster.get_component_template(name=name)["component_templates"]
        return entry["component_template"]["template"]  # type: ignore[no-any-return]

    assert component(f"{prefix}-settings") == {
        "settings": {
            "index": {
                "number_of_shards": "1",
                "number_of_replicas": "1",
                "refresh_interval": "5s",
                "mapping": {"total_fields": {"limit": "2000"}},
            }
        }
    }
    assert component(f"{prefix}-mappings") == {"mappings": mappings()}  # stored as sent, formats too
    (template,) = client.indices.get_index_template(name=prefix)["index_templates"]
    assert template["index_template"]["index_patterns"] == [f"{prefix}-*"]
    assert template["index_template"]["composed_of"] == [f"{prefix}-settings", f"{prefix}-mappings"]
    assert (template["index_template"]["priority"], template["index_template"]["version"]) == (200, 1)


def test_second_run_changes_nothing_and_says_so(node_url: str, prefix: str) -> None:
    client = client_for(node_url)
    bootstrap(client, index_prefix=prefix, retention_days=14)

    again = bootstrap(client, index_prefix=prefix, retention_days=14)

    assert not again.changed
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 3, "skipped": 2}
    assert again.render().splitlines()[-1] == "nothing to change (3 unchanged, 2 skipped)"


def test_a_changed_option_updates_only_the_template_it_lives_in(node_url: str, prefix: str) -> None:
    client = client_for(node_url)
    bootstrap(client, index_prefix=prefix)

    dry = bootstrap(client, index_prefix=prefix, replicas=0, refresh_interval="1s", dry_run=True)
    assert by_action(dry)[f"component template:{prefix}-settings"] == "updated"
    assert "would update" in dry.render()
    assert bootstrap(client, index_prefix=prefix).changed is False  # the dry run wrote nothing

    report = bootstrap(client, index_prefix=prefix, replicas=0, refresh_interval="1s")
    assert by_action(report)[f"component template:{prefix}-settings"] == "updated"
    assert by_action(report)[f"component template:{prefix}-mappings"] == "unchanged"
    assert by_action(report)[f"index template:{prefix}"] == "unchanged"
    settings = client.cluster.get_component_template(name=f"{prefix}-settings")
    index = settings["component_templates"][0]["component_template"]["template"]["settings"]["index"]
    assert (index["number_of_replicas"], index["refresh_interval"]) == ("0", "1s")
    assert bootstrap(client, index_prefix=prefix, replicas=0, refresh_interval="1s").changed is False


def test_an_index_created_by_writing_a_document_gets_the_mapping_field_by_field(
    node_url: str, prefix: str
) -> None:
    client = client_for(node_url)
    bootstrap(client, index_prefix=prefix, replicas=0)
    index = f"{prefix}-2024.05.20"
    doc = {
        "@timestamp": "2024-05-20T16:29:44.833Z",
        "observedTimestamp": 1716222590000,
        "body": "START RequestId: 920de62f-0c11-4966-a7aa-3cd731e7e2cb Version: $LATEST",
        "log.record.uid": "38273042568324339803547423014563173285559940693248311296",
        "faas.invocation_id": "920de62f-0c11-4966-a7aa-3cd731e7e2cb",
        "faas.coldstart": True,
        "lambda.duration_ms": 11.642,
        "lambda.memory_size_mb": 128,
        "attributes": {"order": {"id": 42, "lines": ["a", "b"]}, "level": "info"},
    }
    client.index(index=index, body=doc, id=doc["log.record.uid"], params={"op_type": "create"})

    got = client.indices.get_mapping(index=index)[index]["mappings"]
    wanted = mappings()
    # OpenSearch leaves a date's format out of GET _mapping when it is the default one
    expected = {
        name: {k: v for k, v in m.items() if not (k == "format" and v == DEFAULT_DATE_FORMAT)}
        for name, m in leaf_fields(wanted["properties"]).items()
    }
    assert leaf_fields(got["properties"]) == expected  # every field, as designed, nothing else
    assert leaf_fields(got["properties"])["attributes"] == {"type": "flat_object"}
    assert {k: got[k] for k in ("dynamic", "date_detection", "numeric_detection")} == {
        "dynamic": "true",
        "date_detection": False,
        "numeric_detection": False,
    }
    assert got["dynamic_templates"] == wanted["dynamic_templates"]
    dates = client.transport.perform_request(
        "GET", f"/{index}/_mapping/field/@timestamp,observedTimestamp", params={"include_defaults": "true"}
    )[index]["mappings"]
    assert {name: field["mapping"][name]["format"] for name, field in dates.items()} == {
        "@timestamp": FIELD_TYPES["@timestamp"]["format"],
        "observedTimestamp": FIELD_TYPES["observedTimestamp"]["format"],
    }

    later = {**doc, "log.record.uid": "2", "some.new_field": "2024-05-20T16:29:44.833Z", "some.count": 3}
    client.index(index=index, body=later, id="2", params={"op_type": "create", "refresh": "true"})
    fields = leaf_fields(client.indices.get_mapping(index=index)[index]["mappings"]["properties"])
    assert fields["some.new_field"] == {"type": "keyword", "ignore_above": 1024}  # not a date: detection off
    assert fields["some.count"] == {"type": "long"}
    hits = client.search(
        index=index,
        body={
            "query": {"term": {"faas.invocation_id": doc["faas.invocation_id"]}},
            "docvalue_fields": ["@timestamp", "observedTimestamp"],
            "_source": False,
        },
    )["hits"]["hits"]
    assert [h["fields"] for h in hits] == [
        {"@timestamp": ["2024-05-20T16:29:44.833Z"], "observedTimestamp": ["2024-05-20T16:29:50.000Z"]}
    ] * 2
    settings = settings_of(client, index)
    assert settings["mapping"]["total_fields"]["limit"] == "2000"
    assert (settings["number_of_shards"], settings["number_of_replicas"], settings["refresh_interval"]) == (
        "1",
        "0",
        "5s",
    )


def test_real_format_documents_and_the_safe_form_index_without_mapping_errors(
    node_url: str, prefix: str
) -> None:
    client = client_for(node_url)
    bootstrap(client, index_prefix=prefix, replicas=0)
    docs = parse_samples()
    for doc in docs:  # one daily index, not the samples' 37: a new index costs the node seconds
        doc["@timestamp"] = "2024-05-20" + doc["@timestamp"][10:]
    safe_form = {
        "@timestamp": "2024-05-20T16:30:00.000Z",
        "body": '{"level":"INFO","order":{"id":"x"}}',
        "log.record.uid": "99999999999999999999999999999999999999999999999999999999",
        "lambda.event_type": "app_log",
        "lambda.rejection": "mapper_parsing_exception: failed to parse field [attributes]",
        "attributes_raw": '{"order": {"id": "x"}}',
        "lambda.parse_error": "JSONDecodeError: Expecting value",
    }
    docs.append(safe_form)

    errors = []
    for chunk in build_chunks(docs, prefix=prefix):
        answer = client.transport.perform_request(
            "POST", "/_bulk", body=bytes(chunk.body), headers={"content-type": "application/x-ndjson"}
        )
        errors += [item["create"] for item in answer["items"] if item["create"]["status"] != 201]
    assert errors == []
    client.indices.refresh(index=f"{prefix}-*")
    assert client.count(index=f"{prefix}-*")["count"] == len(docs) > 300
    hits = client.search(
        index=f"{prefix}-*", body={"query": {"term": {"lambda.rejection": safe_form["lambda.rejection"]}}}
    )
    assert hits["hits"]["total"]["value"] == 1
    expected = leaf_fields(mappings()["properties"])
    for index, data in client.indices.get_mapping(index=f"{prefix}-*").items():
        # the samples' many JSON keys are all inside attributes: no field was added
        assert leaf_fields(data["mappings"]["properties"]).keys() == expected.keys(), index


def test_overlapping_prefixes_are_refused_by_opensearch_with_one_clear_line(
    node_url: str, prefix: str
) -> None:
    client = client_for(node_url)
    bootstrap(client, index_prefix=prefix, replicas=0)

    with pytest.raises(BootstrapError) as caught:
        bootstrap(client, index_prefix=f"{prefix}-eu", replicas=0)
    assert str(caught.value).startswith(
        f"write index template {prefix}-eu failed (HTTP 400): illegal_argument_exception: "
        f"index template [{prefix}-eu] has index patterns [{prefix}-eu-*] matching patterns from "
        f"existing templates [{prefix}]"
    )
    assert by_action(caught.value.report)[f"component template:{prefix}-eu-mappings"] == "created"


def test_serverless_leaves_out_cluster_settings_and_does_not_ask_for_ism_or_security(
    node_url: str, prefix: str
) -> None:
    client = client_for(node_url)
    report = bootstrap(client, index_prefix=prefix, serverless=True, parser_role_arn=PARSER_ROLE)

    (entry,) = client.cluster.get_component_template(name=f"{prefix}-settings")["component_templates"]
    assert entry["component_template"]["template"]["settings"] == {
        "index": {"mapping": {"total_fields": {"limit": "2000"}}}
    }
    # (had they been asked for, the node would have answered "no handler found")
    assert [s.detail for s in report.skipped()] == [
        "OpenSearch Serverless: retention is a collection data lifecycle policy (AWS API)",
        "OpenSearch Serverless: access is a collection data access policy (AWS API)",
    ]


def test_fgac_required_on_a_node_without_the_security_plugin_fails(node_url: str, prefix: str) -> None:
    with pytest.raises(BootstrapError) as caught:
        bootstrap(client_for(node_url), index_prefix=prefix, fgac=True)
    assert str(caught.value) == (
        "fine-grained access control requested, but security plugin not available: "
        "no handler found for uri [/_plugins/_security/api/account] and method [GET]"
    )
    assert by_action(caught.value.report)[f"index template:{prefix}"] == "created"


# -- ISM, against the recording stub ----------------------------------------------------------


def test_ism_policy_is_created_with_the_delete_age_and_ism_template(stub: Any) -> None:
    report = bootstrap(client_for(stub.url), retention_days=14, fgac=False)

    assert by_action(report)["ISM policy:lambda-logs-retention"] == "created"
    puts = [r for r in stub.requests if r.path == "/_plugins/_ism/policies/lambda-logs-retention"]
    assert [(r.method, r.params) for r in puts] == [("GET", {}), ("PUT", {})]
    assert puts[1].body == {
        "policy": {
            "description": "lambdalens: delete lambda-logs-* indices 14d after creation (lambdalens bootstrap)",
            "default_state": "hot",
            "states": [
                {
                    "name": "hot",
                    "actions": [],
                    "transitions": [{"state_name": "delete", "conditions": {"min_index_age": "14d"}}],
                },
                {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
            ],
            "ism_template": [{"index_patterns": ["lambda-logs-*"], "priority": 100}],
        }
    }


def test_equal_ism_policy_is_left_unchanged(stub: Any) -> None:
    client = client_for(stub.url)
    bootstrap(client, retention_days=14, fgac=False)
    stub.clear()

    report = bootstrap(client, retention_days=14, fgac=False)

    assert not report.changed
    assert stub.writes() == []
    assert "GET /_plugins/_ism/policies/lambda-logs-retention" in stub.lines()


def test_changed_retention_updates_the_policy_with_seq_no_and_primary_term(stub: Any) -> None:
    client = client_for(stub.url)
    bootstrap(client, retention_days=30, fgac=False)
    seq_no = stub.policies["lambda-logs-retention"].seq_no
    stub.indices.update({"lambda-logs-2024.05.19": "lambda-logs-retention", "lambda-logs-2024.05.20": None})
    stub.indices["other-2024.05.20"] = None
    stub.clear()

    report = bootstrap(client, retention_days=7, fgac=False)

    assert by_action(report)["ISM policy:lambda-logs-retention"] == "updated"
    put = next(r for r in stub.writes() if r.path == "/_plugins/_ism/policies/lambda-logs-retention")
    assert put.params == {"if_seq_no": str(seq_no), "if_primary_term": "1"}
    assert put.body["policy"]["states"][0]["transitions"] == [
        {"state_name": "delete", "conditions": {"min_index_age": "7d"}}
    ]
    assert [(r.line, r.body) for r in stub.writes() if "_ism/add" in r.path or "change_policy" in r.path] == [
        ("POST /_plugins/_ism/add/lambda-logs-2024.05.20", {"policy_id": "lambda-logs-retention"}),
        ("POST /_plugins/_ism/change_policy/lambda-logs-2024.05.19", {"policy_id": "lambda-logs-retention"}),
    ]
    attach = next(s for s in report.steps if s.kind is Kind.ISM_INDICES)
    assert attach.detail == "attached to 1 unmanaged indices; 1 indices moved to the new version"
    assert stub.indices["other-2024.05.20"] is None
    stub.clear()
    assert bootstrap(client, retention_days=7, fgac=False).changed is False
    assert stub.writes() == []


def test_a_concurrent_change_answers_409_and_the_update_starts_over(stub: Any) -> None:
    client = client_for(stub.url)
    bootstrap(client, retention_days=30, fgac=False)
    stub.concurrent_policy_changes = 1
    stub.clear()

    report = bootstrap(client, retention_days=10, fgac=False)

    policy_calls = [
        (r.method, r.params)
        for r in stub.requests
        if r.path == "/_plugins/_ism/policies/lambda-logs-retention"
    ]
    first, second = policy_calls[1][1], policy_calls[3][1]
    assert [m for m, _ in policy_calls] == ["GET", "PUT", "GET", "PUT"]
    assert int(second["if_seq_no"]) > int(first["if_seq_no"])
    assert by_action(report)["ISM policy:lambda-logs-retention"] == "updated"
    assert stub.policies["lambda-logs-retention"].body["states"][0]["transitions"][0]["conditions"] == {
        "min_index_age": "10d"
    }


def test_a_policy_that_keeps_changing_fails_after_three_attempts(stub: Any) -> None:
    client = client_for(stub.url)
    bootstrap(client, retention_days=30, fgac=False)
    stub.concurrent_policy_changes = 5

    with pytest.raises(BootstrapError, match="kept changing") as caught:
        bootstrap(client, retention_days=10, fgac=False)
    assert caught.value.status == 409
    assert by_action(caught.value.report)["index template:lambda-logs"] == "unchanged"


@pytest.mark.parametrize(
    ("warm_mode", "action"),
    [
        ("allocation", {"allocation": {"require": {"temp": "warm"}, "wait_for": False}}),
        ("ultrawarm", {"warm_migration": {}}),
    ],
)
def test_optional_warm_phase_needs_no_rollover(stub: Any, warm_mode: str, action: dict[str, Any]) -> None:
    bootstrap(client_for(stub.url), retention_days=90, warm_after_days=7, warm_mode=warm_mode, fgac=False)  # type: ignore[arg-type]

    states = stub.policies["lambda-logs-retention"].body["states"]
    assert [s["name"] for s in states] == ["hot", "warm", "delete"]
    assert states[0]["transitions"] == [{"state_name": "warm", "conditions": {"min_index_age": "7d"}}]
    assert states[1] == {
        "name": "warm",
        "actions": [action],
        "transitions": [{"state_name": "delete", "conditions": {"min_index_age": "90d"}}],
    }
    assert "rollover" not in json.dumps(states)


# -- security, against the recording stub -----------------------------------------------------


WRITER_ROLE_BODY = {
    "description": "lambdalens parser: writes log documents to lambda-logs-* (lambdalens bootstrap)",
    "cluster_permissions": ["cluster_monitor", "indices:data/write/bulk*"],
    "index_permissions": [
        {
            "index_patterns": ["lambda-logs-*"],
            "allowed_actions": ["create_index", "indices:data/write/*", "indices:admin/mapping/put"],
        }
    ],
}


def test_roles_and_role_mapping_are_created_where_fgac_is_on(stub: Any) -> None:
    report = bootstrap(client_for(stub.url), parser_role_arn=PARSER_ROLE)

    security = [(r.line, r.body) for r in stub.writes() if "_security" in r.path]
    assert security[0] == ("PUT /_plugins/_security/api/roles/lambdalens_writer", WRITER_ROLE_BODY)
    assert security[1][0] == "PUT /_plugins/_security/api/roles/lambdalens_reader"
    assert security[1][1]["index_permissions"][0]["allowed_actions"][0] == "read"
    assert security[2] == (
        "PUT /_plugins/_security/api/rolesmapping/lambdalens_writer",
        {"backend_roles": [PARSER_ROLE], "hosts": [], "users": []},
    )
    assert len(security) == 3
    assert by_action(report)["role mapping:lambdalens_writer"] == "created"


def test_role_mapping_is_merged_with_existing_backend_roles(stub: Any) -> None:
    stub.roles_mapping["lambdalens_writer"] = {
        "backend_roles": [OTHER_ROLE],
        "users": ["ops-admin"],
        "hosts": [],
        "description": "mapped by hand",
    }
    stub.roles["lambdalens_writer"] = {**WRITER_ROLE_BODY, "cluster_permissions": ["cluster_monitor"]}

    report = bootstrap(client_for(stub.url), parser_role_arn=PARSER_ROLE)

    puts = {r.path.rsplit("/", 2)[-2] + "/" + r.path.rsplit("/", 1)[-1]: r.body for r in stub.writes()}
    assert puts["rolesmapping/lambdalens_writer"] == {
        "backend_roles": [OTHER_ROLE, PARSER_ROLE],
        "and_backend_roles": [],
        "hosts": [],
        "users": ["ops-admin"],
        "description": "mapped by hand",
    }
    assert puts["roles/lambdalens_writer"] == WRITER_ROLE_BODY  # the missing permission is back
    assert by_action(report)["security role:lambdalens_writer"] == "updated"
    mapping = next(s for s in report.steps if s.kind is Kind.ROLE_MAPPING)
    assert (mapping.action, mapping.detail) == (
        Action.UPDATED,
        f"added backend roles: {PARSER_ROLE}; kept 1 existing",
    )

    stub.clear()
    again = bootstrap(client_for(stub.url), parser_role_arn=PARSER_ROLE)
    assert not again.changed
    assert stub.writes() == []


def test_reader_backend_roles_and_a_non_default_prefix(stub: Any) -> None:
    bootstrap(
        client_for(stub.url), index_prefix="payments-logs", reader_backend_roles=["analysts"], fgac=True
    )

    assert set(stub.roles) == {"lambdalens_writer_payments-logs", "lambdalens_reader_payments-logs"}
    assert stub.roles_mapping == {
        "lambdalens_reader_payments-logs": {"backend_roles": ["analysts"], "hosts": [], "users": []}
    }
    writer = stub.roles["lambdalens_writer_payments-logs"]
    assert writer["index_permissions"][0]["index_patterns"] == ["payments-logs-*"]


def test_no_role_arn_skips_only_the_mapping(stub: Any) -> None:
    report = bootstrap(client_for(stub.url))
    mapping = next(s for s in report.steps if s.kind is Kind.ROLE_MAPPING)
    assert (mapping.action, mapping.detail) == (Action.SKIPPED, "no parser role ARN given (--role-arn)")
    assert set(stub.roles) == {"lambdalens_writer", "lambdalens_reader"}


def test_fgac_off_sends_no_security_request(stub: Any) -> None:
    report = bootstrap(client_for(stub.url), parser_role_arn=PARSER_ROLE, fgac=False)
    assert not [r for r in stub.requests if "_security" in r.path]
    step = next(s for s in report.steps if s.kind is Kind.SECURITY_ROLE)
    assert (step.action, step.detail) == (Action.SKIPPED, "fine-grained access control off (by option)")


def test_dry_run_reads_everything_and_writes_nothing(stub: Any) -> None:
    stub.indices["lambda-logs-2024.05.20"] = None
    report = bootstrap(client_for(stub.url), parser_role_arn=PARSER_ROLE, dry_run=True)
    assert stub.writes() == []
    assert report.changed and report.dry_run
    assert report.render().splitlines()[-1] == "dry run, nothing written: 7 would create, 1 would update"


# -- errors -----------------------------------------------------------------------------------


def test_connection_refused_is_one_clear_error(free_port: int) -> None:
    with pytest.raises(BootstrapError, match=r"^cannot connect to OpenSearch: .*refused"):
        bootstrap(client_for(f"http://127.0.0.1:{free_port}"))


def test_a_server_that_never_answers_is_a_timeout_error() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        client = make_client(OpenSearchConfig(f"http://127.0.0.1:{port}", auth="none", timeout_seconds=0.3))
        with pytest.raises(BootstrapError, match=r"^OpenSearch did not answer GET / in time$"):
            bootstrap(client)


def test_rejected_credentials_are_an_authentication_error(stub: Any) -> None:
    stub.answer_all = (
        401,
        {"error": {"type": "security_exception", "reason": "Unauthorized"}, "status": 401},
    )
    with pytest.raises(
        BootstrapError, match=r"authentication failed \(HTTP 401\) on connect: security_exception"
    ):
        bootstrap(client_for(stub.url))


def test_a_refused_write_names_the_step_and_keeps_the_report(stub: Any) -> None:
    denied = {
        "error": {
            "root_cause": [{"type": "security_exception", "reason": "no permissions for []"}],
            "type": "security_exception",
            "reason": "no permissions for []",
        },
        "status": 403,
    }
    stub.overrides.append(("PUT", r"/_plugins/_security/api/roles/.*", 403, denied))

    with pytest.raises(BootstrapError) as caught:
        bootstrap(client_for(stub.url), parser_role_arn=PARSER_ROLE)
    assert str(caught.value) == (
        "not authorized (HTTP 403) to write security role lambdalens_writer: security_exception: no permissions for []"
    )
    assert by_action(caught.value.report)["ISM policy:lambda-logs-retention"] == "created"


@pytest.mark.parametrize(
    ("distribution", "version", "message"),
    [
        ("elasticsearch", "7.10.2", "the server is elasticsearch 7.10.2"),
        ("opensearch", "2.5.0", r"the flat_object field type\); the server is OpenSearch 2.5.0"),
    ],
)
def test_servers_without_flat_object_are_refused(
    stub: Any, distribution: str, version: str, message: str
) -> None:
    stub.distribution, stub.version = distribution, version
    with pytest.raises(BootstrapError, match=message):
        bootstrap(client_for(stub.url))
    assert stub.writes() == []


# -- the CLI ----------------------------------------------------------------------------------


def run_cli(argv: list[str], env: dict[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lambdalens")
    bootstrap_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["bootstrap", *argv])
    return bootstrap_cmd.run(args, env={} if env is None else env)


def test_cli_prints_each_step_and_a_second_run_says_nothing_changed(
    node_url: str, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--endpoint", node_url, "--index-prefix", prefix, "--replicas", "0"]) == 0
    first = capsys.readouterr().out
    assert first.splitlines()[0].startswith(f"{node_url} (OpenSearch 2.")
    assert re.search(rf"created +component template +{prefix}-mappings", first)
    assert re.search(rf"skipped +ISM policy +{prefix}-retention +\(ISM not available", first)
    assert first.splitlines()[-1] == "3 created, 2 skipped"

    env = {"OPENSEARCH_ENDPOINT": node_url, "INDEX_PREFIX": prefix}
    assert run_cli(["--replicas", "0", "--json"], env=env) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["changed"] is False
    assert data["counts"] == {"created": 0, "updated": 0, "unchanged": 3, "skipped": 2}


def test_cli_is_reachable_through_lambdalens_main(
    node_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdalens.cli import main

    if "lambdalens.cli.bootstrap_cmd" not in main.COMMAND_MODULES:
        monkeypatch.setattr(main, "COMMAND_MODULES", (*main.COMMAND_MODULES, "lambdalens.cli.bootstrap_cmd"))
    monkeypatch.delenv("OPENSEARCH_AUTH", raising=False)
    assert main.main(["bootstrap", "--endpoint", node_url, "--index-prefix", prefix, "--dry-run"]) == 0
    assert "would create" in capsys.readouterr().out
    client = client_for(node_url)
    assert not client.indices.exists_index_template(name=prefix)  # a dry run writes nothing


def test_cli_errors_are_one_line_and_nonzero(
    free_port: int, stub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port}"
    assert run_cli(["--endpoint", url]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == (
        "",
        f"lambdalens bootstrap: {url}: cannot connect to OpenSearch: Connection refused\n",
    )

    stub.answer_all = (403, {"Message": "User: anonymous is not authorized to perform: es:ESHttpGet"})
    assert run_cli(["--endpoint", stub.url, "--auth", "none"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"lambdalens bootstrap: {stub.url}: not authorized (HTTP 403) to connect: "
        "User: anonymous is not authorized to perform: es:ESHttpGet\n"
    )

    assert run_cli(["--endpoint", stub.url, "--retention-days", "7", "--warm-after-days", "9"]) == 2
    assert "warm-after days must be between 1 and the retention (7) - 1" in capsys.readouterr().err
    assert run_cli([]) == 2
    assert "--endpoint (or OPENSEARCH_ENDPOINT) is required" in capsys.readouterr().err
    assert run_cli(["--endpoint", "http://127.0.0.1:9", "--auth", "sigv4"]) == 2
    assert "OPENSEARCH_ENDPOINT must be an https URL" in capsys.readouterr().err
    stub.clear()
    assert run_cli(["--endpoint", stub.url, "--timeout", "0"]) == 2
    assert "--timeout must be above 0, got 0.0" in capsys.readouterr().err
    assert stub.requests == [], "refused before any request"


def test_cli_takes_the_region_from_aws_region_as_the_other_commands_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdalens.indexing import client

    used: list[OpenSearchConfig] = []

    def no_client(config: OpenSearchConfig) -> Any:
        used.append(config)
        raise RuntimeError("no credentials in this test")

    monkeypatch.setattr(client, "make_client", no_client)
    endpoint = "https://search-x.eu-west-1.es.amazonaws.com"
    env = {"AWS_REGION": "eu-west-1"}
    assert run_cli(["--endpoint", endpoint], env=env) == 1
    assert run_cli(["--endpoint", endpoint, "--region", "us-east-2"], env=env) == 1
    assert [c.region for c in used] == ["eu-west-1", "us-east-2"]
    assert (
        "cannot create the OpenSearch client: RuntimeError: no credentials in this test"
        in capsys.readouterr().err
    )


def test_cli_defaults_follow_the_endpoint() -> None:
    assert bootstrap_cmd.default_auth("https://search-x.eu-west-1.es.amazonaws.com", {}) == "sigv4"
    assert bootstrap_cmd.default_auth("https://abc.eu-west-1.aoss.amazonaws.com", {}) == "aoss"
    assert bootstrap_cmd.default_auth("http://localhost:9200", {}) == "none"
    assert bootstrap_cmd.default_auth("http://localhost:9200", {"OPENSEARCH_AUTH": "basic"}) == "basic"
    assert bootstrap_cmd.default_warm_mode("https://search-x.eu-west-1.es.amazonaws.com") == "ultrawarm"
    assert bootstrap_cmd.default_warm_mode("https://opensearch.internal:9200") == "allocation"


# -- the custom resource handler --------------------------------------------------------------


class FakeContext:
    function_name = "lambdalens-BootstrapProviderframeworkonEvent"
    aws_request_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

    def get_remaining_time_in_millis(self) -> int:
        return 840_000


def cfn_event(request: str, props: dict[str, Any], *, physical_id: str | None = None, old: Any = None) -> Any:
    """A CloudFormation custom-resource event as the CDK Provider framework passes it on."""
    token = "arn:aws:lambda:eu-west-1:123456789012:function:lambdalens-BootstrapProviderframeworkonEvent-Xy12"
    event: dict[str, Any] = {
        "RequestType": request,
        "ServiceToken": token,
        "ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/"
        "arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack/lambdalens/5b6c2a10?X-Amz-Signature=abc",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/lambdalens/5b6c2a10-1b2c-11ef-9a1b-0a1b2c3d4e5f",
        "RequestId": "8d2f4c6a-1e3b-4d5f-a7c9-0b1d3f5a7c9e",
        "LogicalResourceId": "IndexBootstrap3F1A2B4C",
        "ResourceType": "Custom::LambdalensIndexBootstrap",
        "ResourceProperties": {"ServiceToken": token, **props},
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old is not None:
        event["OldResourceProperties"] = {"ServiceToken": token, **old}
    return event


def test_handler_create_update_delete(stub: Any) -> None:
    props = {"Endpoint": stub.url, "Auth": "none", "RetentionDays": "30", "ParserRoleArn": PARSER_ROLE}
    host = stub.url.removeprefix("http://")

    created = bootstrap_handler.handler(cfn_event("Create", props), FakeContext())

    assert created["PhysicalResourceId"] == f"lambdalens-bootstrap:{host}/lambda-logs"
    assert created["Data"] == {
        "IndexPattern": "lambda-logs-*",
        "IndexTemplate": "lambda-logs",
        "IsmPolicyId": "lambda-logs-retention",
        "WriterRole": "lambdalens_writer",
        "ReaderRole": "lambdalens_reader",
        "Server": "OpenSearch 2.17.0",
        "Created": 7,
        "Updated": 0,
        "Unchanged": 0,
        "Skipped": "",
    }
    assert stub.roles_mapping["lambdalens_writer"]["backend_roles"] == [PARSER_ROLE]

    stub.clear()
    updated = bootstrap_handler.handler(
        cfn_event(
            "Update", {**props, "RetentionDays": "7"}, physical_id=created["PhysicalResourceId"], old=props
        ),
        FakeContext(),
    )
    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert (updated["Data"]["Updated"], updated["Data"]["Unchanged"]) == (1, 6)
    assert [r.line for r in stub.writes()] == ["PUT /_plugins/_ism/policies/lambda-logs-retention"]
    assert stub.writes()[0].params["if_seq_no"]

    stub.clear()
    deleted = bootstrap_handler.handler(
        cfn_event("Delete", {**props, "RetentionDays": "7"}, physical_id=created["PhysicalResourceId"]),
        FakeContext(),
    )
    assert deleted == {"PhysicalResourceId": created["PhysicalResourceId"]}
    assert stub.requests == []


def test_handler_against_the_node_reports_what_it_skipped(node_url: str, prefix: str) -> None:
    props = {"Endpoint": node_url, "Auth": "none", "IndexPrefix": prefix, "Replicas": "0"}
    result = bootstrap_handler.handler(cfn_event("Create", props), FakeContext())
    assert result["Data"]["Created"] == 3
    assert result["Data"]["Skipped"].startswith(f"ISM policy {prefix}-retention: ISM not available")
    again = bootstrap_handler.handler(
        cfn_event("Update", props, physical_id=result["PhysicalResourceId"], old=props), FakeContext()
    )
    assert (again["Data"]["Created"], again["Data"]["Unchanged"]) == (0, 3)


def test_handler_failures_raise_a_clear_message(stub: Any) -> None:
    stub.answer_all = (403, {"Message": "User: arn:aws:sts::123456789012:assumed-role/x is not authorized"})
    with pytest.raises(
        RuntimeError, match=rf"^lambdalens bootstrap of {stub.url} failed: not authorized \(HTTP 403\)"
    ):
        bootstrap_handler.handler(cfn_event("Create", {"Endpoint": stub.url, "Auth": "none"}), FakeContext())

    with pytest.raises(
        ValueError, match="resource property RetentionDays must be a whole number, got 'thirty'"
    ):
        bootstrap_handler.handler(
            cfn_event("Create", {"Endpoint": stub.url, "Auth": "none", "RetentionDays": "thirty"}),
            FakeContext(),
        )
    with pytest.raises(
        ValueError, match="invalid resource properties: OPENSEARCH_ENDPOINT must be an https URL"
    ):
        bootstrap_handler.handler(cfn_event("Create", {"Endpoint": stub.url, "Auth": "sigv4"}), FakeContext())
