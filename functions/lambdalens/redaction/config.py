"""Redaction settings: :class:`RedactionConfig`, user rules, and parsing them from the environment.

Precedence is explicit argument > environment variable > default: build a config with
:meth:`RedactionConfig.from_env`, then override fields with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from lambdalens.redaction import constants as c

_RULE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class RedactionConfigError(ValueError):
    """Redaction settings are invalid; the message names the variable and the rule at fault.

    Attributes
    ----------
    variable:
        The environment variable that held the bad value, or ``None`` for settings given in code.
    """

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(f"{variable}: {message}" if variable else message)
        self.variable = variable


@dataclass(frozen=True, slots=True)
class UserRule:
    """A redaction rule added by the user: every match of ``pattern`` becomes ``replacement``.

    Parameters
    ----------
    name:
        Letters, digits, ``_``, ``.``, ``-``; starts with a letter. The key of the rule's count
        (and of the redaction metric), so keep it short and stable.
    pattern:
        A Python regular expression (``re`` syntax; inline flags such as ``(?i)`` allowed).
    replacement:
        An ``re.sub`` template (``\\1`` and ``\\g<name>`` refer to groups); ``None`` gives
        ``[REDACTED:<name>]``.

    Raises
    ------
    RedactionConfigError
        The name is invalid, the pattern does not compile, the pattern matches the empty
        string, or the replacement refers to a group the pattern does not have.

    Example
    -------
    >>> UserRule("github_token", r"\\bgh[pousr]_[A-Za-z0-9]{36}\\b").name
    'github_token'
    """

    name: str
    pattern: str
    replacement: str | None = None
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            compiled = _compile_rule(self.name, self.pattern, self.replacement)
        except ValueError as exc:
            raise RedactionConfigError(f"rule {self.name!r}: {exc}") from None
        object.__setattr__(self, "compiled", compiled)

    @property
    def template(self) -> str:
        """The ``re.sub`` template this rule replaces matches with."""
        return self.replacement if self.replacement is not None else f"[REDACTED:{self.name}]"


def _compile_rule(name: object, pattern: object, replacement: object) -> re.Pattern[str]:
    """Check a user rule; raise ``ValueError`` saying what is wrong (without naming the rule)."""
    if not isinstance(name, str) or not _RULE_NAME.fullmatch(name):
        raise ValueError("invalid name: use letters, digits, '_', '.', '-', starting with a letter")
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("pattern must be a non-empty string")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
    if compiled.fullmatch(""):
        raise ValueError(f"pattern {pattern!r} matches the empty string")
    if replacement is not None:
        if not isinstance(replacement, str):
            raise ValueError("replacement must be a string")
        try:
            compiled.sub(replacement, "")  # parses the template without matching
        except (re.error, IndexError) as exc:
            raise ValueError(f"invalid replacement {replacement!r}: {exc}") from None
    return compiled


def _names(values: Iterable[str], what: str) -> frozenset[str]:
    out: set[str] = set()
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise RedactionConfigError(f"{what}: expected non-empty names, got {v!r}")
        out.add(v.strip().lower())
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class RedactionConfig:
    """What the :class:`~lambdalens.redaction.redactor.Redactor` redacts. Safe by default.

    Parameters
    ----------
    enabled:
        Redaction as a whole (default on).
    emails, ip_addresses:
        Also redact e-mail addresses / IPv4 and IPv6 addresses (default off).
    rules:
        User rules, applied after the built-in ones, in order.
    allow_fields:
        Field names never redacted, case-insensitive: a key anywhere inside ``attributes``
        (``"csrf_token"``), a dotted document field (``"exception.stacktrace"``,
        ``"attributes.http.session_token"``), or a key in ``key=value`` text.
    disabled_rules:
        Built-in rule names to turn off (``"card_number"``, ``"token"``, …).
    text_fields:
        Document fields redacted as text (dotted names).
    structured_fields:
        Document fields holding JSON values, walked key by key.

    Raises
    ------
    RedactionConfigError
        A disabled rule name is not a built-in rule, or a field name is empty.
    """

    enabled: bool = True
    emails: bool = False
    ip_addresses: bool = False
    rules: tuple[UserRule, ...] = ()
    allow_fields: frozenset[str] = frozenset()
    disabled_rules: frozenset[str] = frozenset()
    text_fields: tuple[str, ...] = c.DEFAULT_TEXT_FIELDS
    structured_fields: tuple[str, ...] = c.DEFAULT_STRUCTURED_FIELDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        for rule in self.rules:
            if not isinstance(rule, UserRule):
                raise RedactionConfigError(f"rules: expected UserRule, got {type(rule).__name__}")
        object.__setattr__(self, "allow_fields", _names(self.allow_fields, "allow_fields"))
        disabled = _names(self.disabled_rules, "disabled_rules")
        unknown = sorted(disabled - set(c.BUILTIN_RULES))
        if unknown:
            raise RedactionConfigError(
                f"disabled_rules: unknown rule(s) {', '.join(unknown)}; built-in rules are "
                f"{', '.join(c.BUILTIN_RULES)}"
            )
        object.__setattr__(self, "disabled_rules", disabled)

    def rule_enabled(self, name: str) -> bool:
        """Whether built-in rule ``name`` runs under this config."""
        if not self.enabled or name in self.disabled_rules:
            return False
        if name == c.RULE_EMAIL:
            return self.emails
        if name == c.RULE_IP_ADDRESS:
            return self.ip_addresses
        return True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RedactionConfig:
        """Read the config from environment variables (``os.environ`` when ``environ`` is None).

        Variables (all optional): ``REDACTION_ENABLED``, ``REDACTION_EMAILS``, ``REDACTION_IPS``
        (``true``/``false``, ``1``/``0``, ``yes``/``no``, ``on``/``off``); ``REDACTION_RULES``
        (JSON list of ``{"name", "pattern", "replacement"}``, replacement optional);
        ``REDACTION_ALLOW_FIELDS`` and ``REDACTION_DISABLE_RULES`` (comma-separated or a JSON
        list of strings).

        Raises
        ------
        RedactionConfigError
            Naming the variable, and for a rule its position and name, e.g.
            ``REDACTION_RULES: rule 'github' (#2): invalid regex '(gh': missing ), …``.

        Example
        -------
        >>> RedactionConfig.from_env({"REDACTION_EMAILS": "true"}).emails
        True
        """
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            enabled=_env_bool(env, c.ENV_ENABLED, defaults.enabled),
            emails=_env_bool(env, c.ENV_EMAILS, defaults.emails),
            ip_addresses=_env_bool(env, c.ENV_IPS, defaults.ip_addresses),
            rules=_env_rules(env, c.ENV_RULES),
            allow_fields=frozenset(_env_list(env, c.ENV_ALLOW_FIELDS)),
            disabled_rules=_checked(_env_list(env, c.ENV_DISABLE_RULES), c.ENV_DISABLE_RULES),
        )


def _checked(names: list[str], variable: str) -> frozenset[str]:
    unknown = sorted({n.lower() for n in names} - set(c.BUILTIN_RULES))
    if unknown:
        raise RedactionConfigError(
            f"unknown rule(s) {', '.join(unknown)}; built-in rules are {', '.join(c.BUILTIN_RULES)}",
            variable,
        )
    return frozenset(names)


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise RedactionConfigError(f"expected true or false, got {raw!r}", name)


def _env_list(env: Mapping[str, str], name: str) -> list[str]:
    raw = (env.get(name) or "").strip()
    if not raw:
        return []
    if raw.startswith("["):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise RedactionConfigError(f"not valid JSON: {exc}", name) from None
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise RedactionConfigError("expected a JSON list of non-empty strings", name)
        return [v.strip() for v in value]
    items = [v.strip() for v in raw.split(",")]
    if not all(items):
        raise RedactionConfigError(f"empty name in {raw!r}", name)
    return items


_RULE_KEYS = frozenset({"name", "pattern", "replacement"})


def _env_rules(env: Mapping[str, str], name: str) -> tuple[UserRule, ...]:
    raw = (env.get(name) or "").strip()
    if not raw:
        return ()
    try:
        value: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RedactionConfigError(f"not valid JSON: {exc}", name) from None
    if not isinstance(value, list):
        raise RedactionConfigError('expected a JSON list of {"name", "pattern", "replacement"} objects', name)
    rules: list[UserRule] = []
    seen: set[str] = set()
    for i, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise RedactionConfigError(f"rule #{i}: expected an object, got {item!r}", name)
        label = f"rule {item.get('name')!r} (#{i})"
        extra = sorted(set(item) - _RULE_KEYS)
        if extra:
            raise RedactionConfigError(
                f"{label}: unknown key(s) {', '.join(extra)}; expected name, pattern, replacement", name
            )
        missing = [k for k in ("name", "pattern") if k not in item]
        if missing:
            raise RedactionConfigError(f"{label}: missing {' and '.join(missing)}", name)
        if item["name"] in seen:
            raise RedactionConfigError(f"{label}: duplicate rule name", name)
        try:
            _compile_rule(item["name"], item["pattern"], item.get("replacement"))
        except ValueError as exc:
            raise RedactionConfigError(f"{label}: {exc}", name) from None
        rule = UserRule(item["name"], item["pattern"], item.get("replacement"))
        seen.add(rule.name)
        rules.append(rule)
    return tuple(rules)
