"""The :class:`Redactor`: removes secrets from log text and from parsed documents.

A redactor is built once from a :class:`~lambdalens.redaction.config.RedactionConfig` and is
immutable afterwards: it can be shared by every invocation of a Lambda container and by threads.
Nothing here does I/O.

Hot path: most log lines hold no secret. :meth:`Redactor.redact_text` lower-cases the text once
and looks for the rules' trigger tokens with ``in`` tests plus one scan for long digit runs; a
line with none of them is returned as is, without running any rule pattern. Structured values
are serialized once with orjson and checked the same way before they are walked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import orjson

from lambdalens.redaction import constants as c
from lambdalens.redaction import rules as r
from lambdalens.redaction.config import RedactionConfig

Counts = dict[str, int]

_CARD_CANDIDATE_BYTES = re.compile(r.CARD_CANDIDATE.pattern.encode())
_MIN_CARD_INT = 10**12


def _bump(counts: Counts, rule: str, n: int = 1) -> None:
    counts[rule] = counts.get(rule, 0) + n


class Redactor:
    """Redacts secrets from text and documents according to a :class:`RedactionConfig`.

    Parameters
    ----------
    config:
        What to redact; ``None`` means :class:`RedactionConfig` defaults (everything built in
        except e-mail and IP addresses). Use :meth:`from_env` to read the environment.

    Example
    -------
    >>> Redactor().redact_text("login ok password=hunter2 user=bob")
    ('login ok password=[REDACTED:password] user=bob', {'password': 1})
    """

    __slots__ = (
        "_allow",
        "_allow_paths",
        "_card",
        "_config",
        "_email",
        "_ipv4",
        "_ipv6",
        "_on",
        "_triggers",
        "_triggers_bytes",
        "_user_rules",
        "_walk_always",
    )

    def __init__(self, config: RedactionConfig | None = None) -> None:
        cfg = config if config is not None else RedactionConfig()
        self._config = cfg
        self._on = frozenset(name for name in c.BUILTIN_RULES if cfg.rule_enabled(name))
        self._allow = cfg.allow_fields
        self._allow_paths = any("." in name for name in cfg.allow_fields)
        self._card = c.RULE_CARD_NUMBER in self._on
        self._email = c.RULE_EMAIL in self._on
        self._ipv4 = self._ipv6 = c.RULE_IP_ADDRESS in self._on
        self._user_rules = cfg.rules if cfg.enabled else ()

        triggers: list[str] = []
        if self._on & set(c.KEY_RULES):
            triggers += r.KEY_TRIGGERS
        for rule, tokens in (
            (c.RULE_PRIVATE_KEY, r.PEM_TRIGGERS),
            (c.RULE_URL_PASSWORD, r.URL_TRIGGERS),
            (c.RULE_BEARER_TOKEN, r.BEARER_TRIGGERS),
            (c.RULE_JWT, r.JWT_TRIGGERS),
            (c.RULE_AWS_ACCESS_KEY_ID, r.AWS_KEY_ID_TRIGGERS),
            (c.RULE_EMAIL, r.EMAIL_TRIGGERS),
        ):
            if rule in self._on:
                triggers += tokens
        self._triggers = tuple(dict.fromkeys(triggers))
        self._triggers_bytes = tuple(t.encode() for t in self._triggers)
        # Rules without a trigger token: structured values are walked whatever they contain.
        self._walk_always = bool(self._user_rules) or self._ipv4

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Redactor:
        """A redactor configured by ``REDACTION_*`` environment variables (see ``RedactionConfig.from_env``).

        Raises :class:`~lambdalens.redaction.config.RedactionConfigError` on invalid settings.
        """
        return cls(RedactionConfig.from_env(environ))

    @property
    def config(self) -> RedactionConfig:
        return self._config

    # --- text ---------------------------------------------------------------------------------

    def redact_text(self, text: str) -> tuple[str, Counts]:
        """Redact ``text``; return the new text and the number of redactions per rule name.

        Text without a secret comes back as the same object with empty counts. Never raises
        on any ``str``.

        Example
        -------
        >>> Redactor().redact_text("GET https://svc:s3cret@api.internal/v1 200")
        ('GET https://svc:[REDACTED:url_password]@api.internal/v1 200', {'url_password': 1})
        """
        counts: Counts = {}
        return self._redact_into(text, counts), counts

    def sensitive_key(self, name: str) -> str | None:
        """The rule a field or key name selects under this config (``"db_password"`` ->
        ``"password"``), or ``None`` when its value is kept (not sensitive, allow-listed, or the
        rule is disabled)."""
        if name.lower() in self._allow:
            return None
        rule = r.key_rule(name)
        return rule if rule in self._on else None

    def _redact_into(self, text: str, counts: Counts) -> str:
        if not text:
            return text
        low = text.lower()
        for token in self._triggers:
            if token in low:
                text = self._run_builtin(text, low, counts)
                break
        else:
            if self._card and r.has_card_candidate(text):
                text = self._sub(r.CARD_NUMBER, text, self._card_repl(counts))
        if self._ipv4:
            text = self._redact_ips(text, counts)
        for rule in self._user_rules:
            text, n = rule.compiled.subn(rule.template, text)
            if n:
                _bump(counts, rule.name, n)
        return text

    def _run_builtin(self, text: str, low: str, counts: Counts) -> str:
        on = self._on
        if c.RULE_PRIVATE_KEY in on and "private key" in low:
            text = self._sub(r.PEM_PRIVATE_KEY, text, _pem_repl(counts))
        if any(t in low for t in r.KEY_TRIGGERS) and not on.isdisjoint(c.KEY_RULES):
            repl = self._key_value_repl(counts)
            text = self._sub(r.HEADER, text, repl)
            text = self._sub(r.QUOTED, text, repl)
            text = self._sub(r.BARE, text, repl)
        if c.RULE_URL_PASSWORD in on and "://" in low:
            text = self._sub(r.URL_PASSWORD, text, _keep_prefix_repl(c.RULE_URL_PASSWORD, counts))
        if c.RULE_BEARER_TOKEN in on and "bearer" in low:
            text = self._sub(r.BEARER, text, _keep_prefix_repl(c.RULE_BEARER_TOKEN, counts))
        if c.RULE_JWT in on and "eyj" in low:
            text = self._sub(r.JWT, text, _whole_repl(c.RULE_JWT, counts))
        if c.RULE_AWS_ACCESS_KEY_ID in on and ("akia" in low or "asia" in low):
            text = self._sub(r.AWS_ACCESS_KEY_ID, text, _whole_repl(c.RULE_AWS_ACCESS_KEY_ID, counts))
        if self._card and r.has_card_candidate(text):
            text = self._sub(r.CARD_NUMBER, text, self._card_repl(counts))
        if self._email and "@" in low:
            text = self._sub(r.EMAIL, text, _whole_repl(c.RULE_EMAIL, counts))
        return text

    def _redact_ips(self, text: str, counts: Counts) -> str:
        text = self._sub(r.IPV4, text, _whole_repl(c.RULE_IP_ADDRESS, counts))
        if r.maybe_ipv6(text):
            marker = r.marker(c.RULE_IP_ADDRESS)

            def ipv6(m: re.Match[str]) -> str:
                if not r.is_ipv6(m.group()):
                    return m.group()
                _bump(counts, c.RULE_IP_ADDRESS)
                return marker

            text = self._sub(r.IPV6_CANDIDATE, text, ipv6)
        return text

    @staticmethod
    def _sub(pattern: re.Pattern[str], text: str, repl: Callable[[re.Match[str]], str]) -> str:
        return pattern.sub(repl, text)

    def _card_repl(self, counts: Counts) -> Callable[[re.Match[str]], str]:
        marker = r.marker(c.RULE_CARD_NUMBER)

        def repl(m: re.Match[str]) -> str:
            found = m.group()
            if not r.looks_like_card(found.replace(" ", "").replace("-", "")):
                return found
            _bump(counts, c.RULE_CARD_NUMBER)
            return marker

        return repl

    def _key_value_repl(self, counts: Counts) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            rule = self.sensitive_key(m.group("key"))
            if rule is None:
                return m.group()
            groups = m.groupdict()
            if groups.get("value") is not None:  # HEADER
                vname = "value"
            else:
                vname = next(g for g in ("v1", "v2", "v3", "v4") if groups.get(g) is not None)
            keep, value = r.split_scheme(m.group(vname))
            if r.says_nothing(value):
                return m.group()
            start, end = m.span(vname)
            whole = m.string
            _bump(counts, rule)
            redacted = keep + r.marker(rule)
            if vname == "v4":  # a bare JSON number: quote the marker to keep the JSON valid
                quote = m.group("kq")
                redacted = f"{quote}{redacted}{quote}"
            return whole[m.start() : start] + redacted + whole[end : m.end()]

        return repl

    # --- documents ----------------------------------------------------------------------------

    def redact_document(self, doc: MutableMapping[str, Any]) -> Counts:
        """Redact a parser document in place; return the number of redactions per rule name.

        Text fields (``body``, ``exception.message``, ``exception.stacktrace`` by default) are
        redacted as text. Structured fields (``attributes``) are walked: a sensitive key
        (``"password"``, ``"refreshToken"``, …) has its whole value replaced, other string values
        are redacted as text, integers that are card numbers are replaced. Allow-listed names
        (a key, or a dotted path such as ``attributes.http.csrf_token``) are left alone.
        Fields may be flat dotted keys (``doc["exception.message"]``) or nested objects.

        A secret present both in ``body`` and in ``attributes`` is replaced, and counted, in both.
        """
        counts: Counts = {}
        if not self._config.enabled:
            return counts
        for name in self._config.text_fields:
            if name.lower() in self._allow:
                continue
            slot = _locate(doc, name)
            if slot is None:
                continue
            holder, key = slot
            value = holder[key]
            if isinstance(value, str):
                holder[key] = self._redact_into(value, counts)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, str):
                        value[i] = self._redact_into(item, counts)
        for name in self._config.structured_fields:
            if name.lower() in self._allow:
                continue
            slot = _locate(doc, name)
            if slot is None:
                continue
            holder, key = slot
            value = holder[key]
            if isinstance(value, str):
                holder[key] = self._redact_into(value, counts)
            elif isinstance(value, dict | list) and self._may_hold_secret(value):
                self._walk(value, name.lower(), counts)
        return counts

    def redact_value(self, value: Any, path: str = "") -> tuple[Any, Counts]:
        """Redact a JSON-like value (dict/list walked in place, str redacted as text).

        Returns the value (the same object unless it is a string that changed) and the counts.
        ``path`` is the value's dotted name, matched against allow-listed paths.
        """
        counts: Counts = {}
        if not self._config.enabled:
            return value, counts
        if isinstance(value, str):
            return self._redact_into(value, counts), counts
        if isinstance(value, dict | list) and self._may_hold_secret(value):
            self._walk(value, path.lower(), counts)
        return value, counts

    def _may_hold_secret(self, value: dict[Any, Any] | list[Any]) -> bool:
        """Cheap pre-check of a structured value: one orjson dump, trigger tokens, digit runs."""
        if self._walk_always:
            return True
        try:
            blob = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).lower()
        except (TypeError, orjson.JSONEncodeError):
            return True  # too deep, huge integers, unknown types: walk it
        for token in self._triggers_bytes:
            if token in blob:
                return True
        if self._card:
            for m in _CARD_CANDIDATE_BYTES.finditer(blob):
                run = m.group()
                if len(run) - run.count(b" ") - run.count(b"-") >= 13:
                    return True
        return False

    def _walk(self, root: dict[Any, Any] | list[Any], root_path: str, counts: Counts) -> None:
        """Redact a JSON-like tree in place; iterative, so any depth is safe."""
        stack: list[tuple[dict[Any, Any] | list[Any], str]] = [(root, root_path)]
        allow, paths = self._allow, self._allow_paths
        while stack:
            node, path = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    name = key if isinstance(key, str) else str(key)
                    low = name.lower()
                    if low in allow:
                        continue
                    child = f"{path}.{low}" if path else low
                    if paths and child in allow:
                        continue
                    rule = self.sensitive_key(name)
                    if rule is not None:
                        node[key] = self._replace_whole(value, rule, counts)
                    elif isinstance(value, str):
                        node[key] = self._redact_into(value, counts)
                    elif isinstance(value, dict | list):
                        stack.append((value, child))
                    elif self._card and isinstance(value, int) and not isinstance(value, bool):
                        node[key] = self._card_int(value, counts)
            else:
                for i, value in enumerate(node):
                    if isinstance(value, str):
                        node[i] = self._redact_into(value, counts)
                    elif isinstance(value, dict | list):
                        stack.append((value, path))
                    elif self._card and isinstance(value, int) and not isinstance(value, bool):
                        node[i] = self._card_int(value, counts)

    def _card_int(self, value: int, counts: Counts) -> int | str:
        if value < _MIN_CARD_INT or not r.looks_like_card(str(value)):
            return value
        _bump(counts, c.RULE_CARD_NUMBER)
        return r.marker(c.RULE_CARD_NUMBER)

    @staticmethod
    def _replace_whole(value: Any, rule: str, counts: Counts) -> Any:
        """The value of a sensitive key: strings keep an auth scheme, containers are replaced."""
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            keep, rest = r.split_scheme(value)
            if r.says_nothing(rest):
                return value
            _bump(counts, rule)
            return keep + r.marker(rule)
        if isinstance(value, dict | list) and not value:
            return value
        _bump(counts, rule)
        return r.marker(rule)


def _locate(doc: MutableMapping[str, Any], name: str) -> tuple[MutableMapping[str, Any], str] | None:
    """Where the dotted field ``name`` lives: a flat key (``doc["a.b"]``) or nested (``doc["a"]["b"]``)."""
    if name in doc:
        return doc, name
    if "." not in name:
        return None
    holder: Any = doc
    parts = name.split(".")
    for part in parts[:-1]:
        holder = holder.get(part) if isinstance(holder, MutableMapping) else None
        if holder is None:
            return None
    if isinstance(holder, MutableMapping) and parts[-1] in holder:
        return holder, parts[-1]
    return None


def _whole_repl(rule: str, counts: Counts) -> Callable[[re.Match[str]], str]:
    marker = r.marker(rule)

    def repl(m: re.Match[str]) -> str:
        _bump(counts, rule)
        return marker

    return repl


def _keep_prefix_repl(rule: str, counts: Counts) -> Callable[[re.Match[str]], str]:
    marker = r.marker(rule)

    def repl(m: re.Match[str]) -> str:
        _bump(counts, rule)
        return m.group("prefix") + marker

    return repl


def _pem_repl(counts: Counts) -> Callable[[re.Match[str]], str]:
    marker = r.marker(c.RULE_PRIVATE_KEY)

    def repl(m: re.Match[str]) -> str:
        if m.group("body") == marker:
            return m.group()  # already redacted
        _bump(counts, c.RULE_PRIVATE_KEY)
        kind, block = m.group("kind"), m.group("block") or ""
        return f"-----BEGIN {kind}PRIVATE KEY{block}-----{marker}-----END {kind}PRIVATE KEY{block}-----"

    return repl
