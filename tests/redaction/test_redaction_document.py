"""Redactor.redact_document / redact_value on parser documents (docs/document-schema.md)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from lambdalens.redaction import RedactionConfig, Redactor, UserRule

R = Redactor()


def powertools_doc(line: str) -> dict[str, Any]:
    """A document as the parser builds one for a JSON line: the raw line as body, the rest as attributes."""
    obj = orjson.loads(line)
    doc: dict[str, Any] = {
        "body": line,
        "log.record.uid": "3681137438182692548534245121323234323984583748729431",
    }
    for key, field in (
        ("level", "severity.text"),
        ("xray_trace_id", "traceId"),
        ("function_request_id", "faas.invocation_id"),
    ):
        if key in obj:
            doc[field] = obj.pop(key)
    if "errorMessage" in obj:
        doc["exception.message"] = obj.pop("errorMessage")
    if obj:
        doc["attributes"] = obj
    return doc


def test_text_fields_and_attributes_are_redacted_in_place() -> None:
    doc: dict[str, Any] = {
        "body": "[ERROR] login failed password=hunter2",
        "exception.message": "bad credentials for postgres://app:s3cret@db/x",
        "exception.stacktrace": "Traceback ...\n  token=abc123\n",
        "traceId": "1-5e34a614-10bd3ec1f0aa4fa8b9cd0ea7",
        "faas.invocation_id": "3f1e6a4c-8a2b-4c1d-9e0f-1a2b3c4d5e6f",
        "attributes": {
            "user": "bob",
            "password": "x",
            "headers": {"Authorization": "Bearer abcdefgh123", "Cookie": "a=1", "Host": "api"},
            "card": 4111111111111111,
            "note": "paid with 5555 5555 5555 4444",
            "tokens": ["refresh_token=def456", "ok"],
            "retries": 3,
            "order_id": 1234567890123456,
            "flags": {"has_password": True, "token": None, "secret": {}},
        },
    }
    counts = R.redact_document(doc)
    assert doc == {
        "body": "[ERROR] login failed password=[REDACTED:password]",
        "exception.message": "bad credentials for postgres://app:[REDACTED:url_password]@db/x",
        "exception.stacktrace": "Traceback ...\n  token=[REDACTED:token]\n",
        "traceId": "1-5e34a614-10bd3ec1f0aa4fa8b9cd0ea7",
        "faas.invocation_id": "3f1e6a4c-8a2b-4c1d-9e0f-1a2b3c4d5e6f",
        "attributes": {
            "user": "bob",
            "password": "[REDACTED:password]",
            "headers": {
                "Authorization": "Bearer [REDACTED:authorization]",
                "Cookie": "[REDACTED:cookie]",
                "Host": "api",
            },
            "card": "[REDACTED:card_number]",
            "note": "paid with [REDACTED:card_number]",
            "tokens": ["refresh_token=[REDACTED:token]", "ok"],
            "retries": 3,
            "order_id": 1234567890123456,
            "flags": {"has_password": True, "token": None, "secret": {}},
        },
    }
    assert counts == {
        "password": 2,
        "url_password": 1,
        "token": 2,
        "authorization": 1,
        "cookie": 1,
        "card_number": 2,
    }


def test_sensitive_key_replaces_any_value() -> None:
    doc: dict[str, Any] = {
        "attributes": {
            "credentials": {"user": "a", "key": "b"},
            "api_key": ["k1", "k2"],
            "pin_pwd": 1234,
            "client_secret": "",
            "session_token": "****",
        }
    }
    assert R.redact_document(doc) == {"secret": 1, "api_key": 1, "password": 1}
    assert doc["attributes"] == {
        "credentials": "[REDACTED:secret]",
        "api_key": "[REDACTED:api_key]",
        "pin_pwd": "[REDACTED:password]",
        "client_secret": "",
        "session_token": "****",
    }


def test_nested_fields_are_found_too() -> None:
    doc: dict[str, Any] = {
        "body": "ok",
        "exception": {"message": "token=abc", "stacktrace": ["at x password=y", 1]},
    }
    assert R.redact_document(doc) == {"token": 1, "password": 1}
    assert doc["exception"] == {
        "message": "token=[REDACTED:token]",
        "stacktrace": ["at x password=[REDACTED:password]", 1],
    }


def test_clean_document_is_untouched() -> None:
    line = (
        '{"level":"INFO","message":"order created","service":"orders","cold_start":false,'
        '"function_request_id":"3f1e6a4c-8a2b-4c1d-9e0f-1a2b3c4d5e6f","xray_trace_id":"1-5e34a614-10bd3ec1f0aa4fa8b9cd0ea7"}'
    )
    doc = powertools_doc(line)
    before = orjson.dumps(doc)
    assert R.redact_document(doc) == {}
    assert R.redact_document(doc, derived_from_body=True) == {}
    assert orjson.dumps(doc) == before


def test_allow_listed_fields_and_paths() -> None:
    r = Redactor(
        RedactionConfig(
            allow_fields=frozenset({"csrf_token", "attributes.session.token", "exception.stacktrace"})
        )
    )
    doc: dict[str, Any] = {
        "body": "csrf_token=abc password=x",
        "exception.stacktrace": "password=kept-for-debugging",
        "attributes": {
            "csrf_token": "abc",
            "session": {"token": "kept", "refresh_token": "gone"},
            "other": {"token": "gone"},
            "deep": [{"csrf_token": "kept"}],
        },
    }
    assert r.redact_document(doc) == {"password": 1, "token": 2}
    assert doc == {
        "body": "csrf_token=abc password=[REDACTED:password]",
        "exception.stacktrace": "password=kept-for-debugging",
        "attributes": {
            "csrf_token": "abc",
            "session": {"token": "kept", "refresh_token": "[REDACTED:token]"},
            "other": {"token": "[REDACTED:token]"},
            "deep": [{"csrf_token": "kept"}],
        },
    }


def test_allow_listing_a_whole_structured_field() -> None:
    r = Redactor(RedactionConfig(allow_fields=frozenset({"attributes"})))
    doc: dict[str, Any] = {"body": "x", "attributes": {"password": "x"}}
    assert r.redact_document(doc) == {} and doc["attributes"] == {"password": "x"}


def test_disabled_key_rule_keeps_structured_values() -> None:
    r = Redactor(RedactionConfig(disabled_rules=frozenset({"token"})))
    doc: dict[str, Any] = {"attributes": {"token": "abc", "password": "x"}}
    assert r.redact_document(doc) == {"password": 1}
    assert doc["attributes"] == {"token": "abc", "password": "[REDACTED:password]"}


def test_derived_from_body_skips_a_clean_document() -> None:
    line = '{"level":"INFO","message":"done","items":3}'
    doc = powertools_doc(line)
    doc["attributes"]["not_from_body"] = "password=x"  # breaks the contract: proves the fast path
    assert R.redact_document(doc, derived_from_body=True) == {}
    assert R.redact_document(doc) == {"password": 1}


def test_derived_from_body_still_redacts_what_the_body_holds() -> None:
    line = '{"level":"ERROR","errorMessage":"auth failed for token=abc","message":"x","password":"hunter2"}'
    doc = powertools_doc(line)
    assert R.redact_document(doc, derived_from_body=True) == {"token": 2, "password": 2}
    assert "hunter2" not in orjson.dumps(doc).decode() and "abc" not in orjson.dumps(doc).decode()


@pytest.mark.parametrize("escaped", ['"\\u0070assword":"hunter2"', '"url":"https:\\/\\/u:hunter2@h\\/x"'])
def test_derived_from_body_walks_when_json_escapes_could_hide_a_secret(escaped: str) -> None:
    doc = powertools_doc('{"message":"x",' + escaped + "}")
    counts = R.redact_document(doc, derived_from_body=True)
    assert counts
    assert "hunter2" not in orjson.dumps(doc["attributes"]).decode()


def test_user_rules_apply_to_documents() -> None:
    r = Redactor(RedactionConfig(rules=(UserRule("customer", r"C-\d{5}"),)))
    doc: dict[str, Any] = {"body": "customer C-12345", "attributes": {"who": "C-54321", "n": [["C-11111"]]}}
    assert r.redact_document(doc, derived_from_body=True) == {"customer": 3}
    assert doc == {
        "body": "customer [REDACTED:customer]",
        "attributes": {"who": "[REDACTED:customer]", "n": [["[REDACTED:customer]"]]},
    }


def test_hostile_structures() -> None:
    deep: Any = {"password": "x"}
    for _ in range(5000):  # deeper than both orjson's and Python's recursion limits
        deep = {"a": [deep]}
    doc: dict[str, Any] = {
        "body": "",
        "attributes": {
            "deep": deep,
            1: "token=abc",
            "huge": 10**40,
            "nan": float("nan"),
            "bytes": b"password=x",
        },
    }
    counts = R.redact_document(doc)
    assert counts == {"password": 1, "token": 1}
    assert doc["attributes"][1] == "token=[REDACTED:token]"
    node = doc["attributes"]["deep"]
    while "a" in node:
        node = node["a"][0]
    assert node == {"password": "[REDACTED:password]"}


def test_missing_and_odd_fields_are_ignored() -> None:
    doc: dict[str, Any] = {
        "body": None,
        "exception.message": 42,
        "attributes": "password=x",
        "exception": "str",
    }
    assert R.redact_document(doc) == {"password": 1}
    assert doc["attributes"] == "password=[REDACTED:password]"
    assert R.redact_document({}) == {}


def test_redact_value() -> None:
    value: Any = {"Authorization": "Basic dXNlcjpwYXNz", "path": "/x"}
    same, counts = R.redact_value(value)
    assert same is value and counts == {"authorization": 1}
    assert value == {"Authorization": "Basic [REDACTED:authorization]", "path": "/x"}
    assert R.redact_value("password=x") == ("password=[REDACTED:password]", {"password": 1})
    assert R.redact_value(42) == (42, {})
    allowed = Redactor(RedactionConfig(allow_fields=frozenset({"alert.detail.token"})))
    detail: Any = {"token": "kept"}
    assert allowed.redact_value(detail, path="alert.detail") == ({"token": "kept"}, {})


def test_sensitive_key() -> None:
    r = Redactor(
        RedactionConfig(allow_fields=frozenset({"csrf_token"}), disabled_rules=frozenset({"cookie"}))
    )
    assert r.sensitive_key("DB_PASSWORD") == "password"
    assert r.sensitive_key("csrf_token") is None
    assert r.sensitive_key("Cookie") is None
    assert r.sensitive_key("order_id") is None


def test_walk_skips_strings_without_the_tokens_found_but_counts_repeats() -> None:
    doc: dict[str, Any] = {
        "attributes": {
            "service": "auth-callback",
            "function_name": "auth-callback",
            "a": "token=x1",
            "b": "token=x1",
            "order_id": 4222468,
            "dsn": "mysql:\\/\\/root:pw@db\\/x",
        }
    }
    assert R.redact_document(doc) == {"token": 2, "url_password": 1}
    assert doc["attributes"] == {
        "service": "auth-callback",
        "function_name": "auth-callback",
        "a": "token=[REDACTED:token]",
        "b": "token=[REDACTED:token]",
        "order_id": 4222468,
        "dsn": "mysql:\\/\\/root:[REDACTED:url_password]@db\\/x",
    }
