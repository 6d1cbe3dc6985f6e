"""RedactionConfig, UserRule and parsing them from REDACTION_* environment variables."""

from __future__ import annotations

import dataclasses

import pytest

from lambdalens.redaction import BUILTIN_RULES, RedactionConfig, RedactionConfigError, Redactor, UserRule
from lambdalens.redaction import constants as c


def test_defaults_are_safe() -> None:
    cfg = RedactionConfig.from_env({})
    assert cfg == RedactionConfig()
    assert cfg.enabled and not cfg.emails and not cfg.ip_addresses
    assert [r for r in BUILTIN_RULES if cfg.rule_enabled(r)] == [
        r for r in BUILTIN_RULES if r not in ("email", "ip_address")
    ]


def test_from_env_reads_every_variable() -> None:
    cfg = RedactionConfig.from_env(
        {
            "REDACTION_ENABLED": "yes",
            "REDACTION_EMAILS": "TRUE",
            "REDACTION_IPS": "1",
            "REDACTION_RULES": '[{"name": "github_token", "pattern": "gh[pousr]_[A-Za-z0-9]{36}"},'
            ' {"name": "customer", "pattern": "(customer=)C-\\\\d+", "replacement": "\\\\1C-***"}]',
            "REDACTION_ALLOW_FIELDS": "csrf_token, attributes.http.session_token",
            "REDACTION_DISABLE_RULES": '["card_number"]',
        }
    )
    assert cfg.enabled and cfg.emails and cfg.ip_addresses
    assert [(r.name, r.pattern, r.replacement) for r in cfg.rules] == [
        ("github_token", "gh[pousr]_[A-Za-z0-9]{36}", None),
        ("customer", "(customer=)C-\\d+", "\\1C-***"),
    ]
    assert cfg.allow_fields == {"csrf_token", "attributes.http.session_token"}
    assert cfg.disabled_rules == {"card_number"}
    assert Redactor(cfg).redact_text("customer=C-42 card 4111111111111111") == (
        "customer=C-*** card 4111111111111111",
        {"customer": 1},
    )


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDACTION_EMAILS", "on")
    assert RedactionConfig.from_env().emails
    assert Redactor.from_env().redact_text("mail a@example.com")[0] == "mail [REDACTED:email]"


def test_explicit_arguments_override_environment() -> None:
    cfg = dataclasses.replace(RedactionConfig.from_env({"REDACTION_EMAILS": "true"}), emails=False)
    assert not cfg.emails


def test_disabled_by_environment() -> None:
    r = Redactor.from_env({"REDACTION_ENABLED": "off"})
    assert r.redact_text("password=hunter2") == ("password=hunter2", {})
    doc = {"body": "password=hunter2", "attributes": {"password": "x"}}
    assert r.redact_document(doc) == {} and doc["attributes"] == {"password": "x"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDACTION_ENABLED": "maybe"}, "REDACTION_ENABLED: expected true or false, got 'maybe'"),
        ({"REDACTION_IPS": "2"}, "REDACTION_IPS: expected true or false"),
        ({"REDACTION_RULES": "[{"}, "REDACTION_RULES: not valid JSON"),
        ({"REDACTION_RULES": '{"name": "x"}'}, "REDACTION_RULES: expected a JSON list"),
        ({"REDACTION_RULES": '["x"]'}, "REDACTION_RULES: rule #1: expected an object"),
        ({"REDACTION_RULES": '[{"name": "x"}]'}, "REDACTION_RULES: rule 'x' (#1): missing pattern"),
        (
            {"REDACTION_RULES": '[{"name": "x", "regex": "a"}]'},
            "REDACTION_RULES: rule 'x' (#1): unknown key(s) regex; expected name, pattern, replacement",
        ),
        (
            {"REDACTION_RULES": '[{"name": "ok", "pattern": "a"}, {"name": "github", "pattern": "(gh"}]'},
            "REDACTION_RULES: rule 'github' (#2): invalid regex '(gh': missing ), unterminated subpattern at position 0",
        ),
        (
            {"REDACTION_RULES": '[{"name": "x", "pattern": "a"}, {"name": "x", "pattern": "b"}]'},
            "REDACTION_RULES: rule 'x' (#2): duplicate rule name",
        ),
        (
            {"REDACTION_RULES": '[{"name": "x", "pattern": "a", "replacement": "\\\\2"}]'},
            "REDACTION_RULES: rule 'x' (#1): invalid replacement '\\\\2': invalid group reference 2",
        ),
        (
            {"REDACTION_RULES": '[{"name": "x", "pattern": "a*"}]'},
            "REDACTION_RULES: rule 'x' (#1): pattern 'a*' matches the empty string",
        ),
        (
            {"REDACTION_RULES": '[{"name": "bad name!", "pattern": "a"}]'},
            "REDACTION_RULES: rule 'bad name!' (#1): invalid name: use letters, digits",
        ),
        ({"REDACTION_ALLOW_FIELDS": "a,,b"}, "REDACTION_ALLOW_FIELDS: empty name in 'a,,b'"),
        (
            {"REDACTION_ALLOW_FIELDS": '["a", 1]'},
            "REDACTION_ALLOW_FIELDS: expected a JSON list of non-empty strings",
        ),
        (
            {"REDACTION_DISABLE_RULES": "card,jwt"},
            "REDACTION_DISABLE_RULES: unknown rule(s) card; built-in rules are",
        ),
    ],
)
def test_invalid_environment_is_a_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(RedactionConfigError) as info:
        RedactionConfig.from_env(env)
    assert str(info.value).startswith(message)
    assert info.value.variable == next(iter(env))


def test_user_rule_validation_in_code() -> None:
    with pytest.raises(RedactionConfigError, match=r"rule 'x': invalid regex '\[': "):
        UserRule("x", "[")
    with pytest.raises(RedactionConfigError, match="unknown group name"):
        UserRule("x", "a", r"\g<nope>")
    assert UserRule("x", "a").template == "[REDACTED:x]"
    assert (
        UserRule("x", "(a)", r"<\1>").compiled.sub(UserRule("x", "(a)", r"<\1>").template, "bab") == "b<a>b"
    )


def test_config_validation_in_code() -> None:
    with pytest.raises(RedactionConfigError, match="disabled_rules: unknown rule"):
        RedactionConfig(disabled_rules=frozenset({"nope"}))
    with pytest.raises(RedactionConfigError, match="allow_fields: expected non-empty names"):
        RedactionConfig(allow_fields=frozenset({" "}))
    cfg = RedactionConfig(allow_fields=frozenset({"CSRF_Token "}), disabled_rules=frozenset({"JWT"}))
    assert cfg.allow_fields == {"csrf_token"} and cfg.disabled_rules == {"jwt"}


def test_environment_and_context_names_are_declared_once() -> None:
    assert c.ENV_VARS == (
        "REDACTION_ENABLED",
        "REDACTION_EMAILS",
        "REDACTION_IPS",
        "REDACTION_RULES",
        "REDACTION_ALLOW_FIELDS",
        "REDACTION_DISABLE_RULES",
    )
    assert c.CONTEXT_TO_ENV["redactionRules"] == "REDACTION_RULES"
    assert c.CONTEXT_TO_ENV["redactionAllowFields"] == "REDACTION_ALLOW_FIELDS"
