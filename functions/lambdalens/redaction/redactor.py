"""The :class:`Redactor`: removes secrets from log text and from parsed documents.

A redactor is built once from a :class:`~lambdalens.redaction.config.RedactionConfig` and never
changes afterwards: one instance serves every invocation of a Lambda container (and threads).
Nothing here does I/O.

Hot path: most log lines hold no secret. :meth:`Redactor.redact_text` lower-cases the text, runs
one trigger pattern over it and one check for card-number shapes; a line with neither is returned
as is without running any rule (about 2 µs for a typical 200-character line). Structured values are
serialized once with orjson and checked the same way before they are walked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from lambdalens.redaction import constants as c
from lambdalens.redaction import rules as r
from lambdalens.redaction.config import RedactionConfig, UserRule

#: Redactions per rule name.
Counts = dict[str, int]

#: A replacement: ``(match, original text) -> new text``, or ``None`` to keep the match.
_TextRepl = Callable[[re.Match[str], str], str | None]

_MIN_CARD_INT = 10**12
_CARD_ALPHABET = r.CARD_ALPHABET
_card_shape = r.CARD_SHAPE.search
_KEY_TRIGGERS = frozenset(r.KEY_TRIGGERS)
_ESCAPED_URL = b":\\\\/\\\\/"


def _bump(counts: Counts, rule: str, n: int = 1) -> None:
    counts[rule] = counts.get(rule, 0) + n


class Redactor:
    """Redacts secrets from text and documents according to a :class:`RedactionConfig`.

    Parameters
    ----------
    config:
        What to redact; ``None`` means the :class:`RedactionConfig` defaults (every built-in
        rule except e-mail and IP addresses). :meth:`from_env` reads the environment.

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
        "_enabled",
        "_gate",
        "_gate_bytes",
        "_ips",
        "_on",
        "_structured_fields",
        "_text_fields",
        "_triggers",
        "_ungated",
        "_user_rules",
    )

    def __init__(self, config: RedactionConfig | None = None) -> None:
        cfg = config if config is not None else RedactionConfig()
        self._config = cfg
        self._on = frozenset(name for name in c.BUILTIN_RULES if cfg.rule_enabled(name))
        self._allow = cfg.allow_fields
        self._allow_paths = any("." in name for name in cfg.allow_fields)
        self._card = c.RULE_CARD_NUMBER in self._on
        self._ips = c.RULE_IP_ADDRESS in self._on
        self._enabled = cfg.enabled
        self._text_fields = tuple(
            (name, tuple(name.split("."))) for name in cfg.text_fields if name.lower() not in cfg.allow_fields
        )
        self._structured_fields = tuple(
            (name, tuple(name.split(".")))
            for name in cfg.structured_fields
            if name.lower() not in cfg.allow_fields
        )
        self._user_rules = cfg.rules if cfg.enabled else ()
        # Rules without trigger tokens (IP addresses, user rules): a clean gate proves nothing.
        self._ungated = self._ips or bool(self._user_rules)

        tokens: list[str] = []
        if not self._on.isdisjoint(c.KEY_RULES):
            tokens += r.KEY_TRIGGERS
        for rule, rule_tokens in (
            (c.RULE_PRIVATE_KEY, r.PEM_TRIGGERS),
            (c.RULE_URL_PASSWORD, r.URL_TRIGGERS),
            (c.RULE_BEARER_TOKEN, r.BEARER_TRIGGERS),
            (c.RULE_JWT, r.JWT_TRIGGERS),
            (c.RULE_AWS_ACCESS_KEY_ID, r.AWS_KEY_ID_TRIGGERS),
            (c.RULE_EMAIL, r.EMAIL_TRIGGERS),
        ):
            if rule in self._on:
                tokens += rule_tokens
        self._triggers = r.Triggers.of(tokens)
        self._gate = self._triggers.pattern
        self._gate_bytes = self._triggers.pattern_bytes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Redactor:
        """A redactor configured by the ``REDACTION_*`` environment variables.

        See :meth:`RedactionConfig.from_env`; raises
        :class:`~lambdalens.redaction.config.RedactionConfigError` on invalid settings.
        """
        return cls(RedactionConfig.from_env(environ))

    @property
    def config(self) -> RedactionConfig:
        return self._config

    def sensitive_key(self, name: str) -> str | None:
        """The rule a field or key name selects under this config (``"db_password"`` ->
        ``"password"``), or ``None`` when its value is kept: not a sensitive name, allow-listed,
        or its rule is disabled."""
        if name.lower() in self._allow:
            return None
        rule = r.key_rule(name)
        return rule if rule in self._on else None

    # --- text ---------------------------------------------------------------------------------

    def redact_text(self, text: str) -> tuple[str, Counts]:
        """Redact ``text``; return the new text and the number of redactions per rule name.

        Text with nothing to redact comes back unchanged with empty counts. Never raises on a
        ``str``, whatever it holds.

        Example
        -------
        >>> Redactor().redact_text("GET https://svc:s3cret@api.internal/v1 200")
        ('GET https://svc:[REDACTED:url_password]@api.internal/v1 200', {'url_password': 1})
        """
        counts: Counts = {}
        return self._redact_into(text, counts), counts

    def _redact_into(self, text: str, counts: Counts) -> str:
        if not text or not self._enabled:
            return text
        low = text.lower()
        first = self._gate.search(low)
        if first is not None:
            text = self._run_gated(text, low, first, counts)
        elif self._card and _card_shape(text.encode("utf-8", "surrogatepass").translate(_CARD_ALPHABET)):
            text = _sub(r.CARD_NUMBER, text, _checked_repl(c.RULE_CARD_NUMBER, r.is_card, counts))
        if self._ungated:
            text = self._run_ungated(text, counts)
        return text

    def _run_ungated(self, text: str, counts: Counts) -> str:
        """The rules without trigger tokens: IP addresses, then the user rules."""
        if self._ips and r.maybe_ipv4(text):
            text = _sub(r.IPV4_CANDIDATE, text, _checked_repl(c.RULE_IP_ADDRESS, r.is_ipv4, counts))
        if self._ips and r.maybe_ipv6(text):
            text = _sub(r.IPV6_CANDIDATE, text, _checked_repl(c.RULE_IP_ADDRESS, r.is_ipv6, counts))
        for rule in self._user_rules:
            text = rule.compiled.sub(_user_repl(rule, counts), text)
        return text

    def _is_clean(self, text: str) -> bool:
        """True when no built-in rule can match ``text`` (its gate and card checks are negative)."""
        if self._gate.search(text.lower()) is not None:
            return False
        return (
            not self._card
            or _card_shape(text.encode("utf-8", "surrogatepass").translate(_CARD_ALPHABET)) is None
        )

    def _run_gated(self, text: str, low: str, first: re.Match[str], counts: Counts) -> str:
        """The built-in rules, in order, each only when one of its trigger tokens is in ``low``
        (``first`` is the first trigger found)."""
        on = self._on
        found = self._triggers.found(low, first)
        present = {token for token, _ in found}
        if c.RULE_PRIVATE_KEY in on and "private key" in present:
            redacted = _sub(r.PEM_PRIVATE_KEY, text, _pem_repl(counts))
            if redacted != text:  # positions moved: find the tokens again
                text, low = redacted, redacted.lower()
                found = self._triggers.found(low)
        if not on.isdisjoint(c.KEY_RULES):
            starts = [start for token, start in found if token in _KEY_TRIGGERS]
            if starts:
                text = self._redact_key_values(text, low, starts, counts)
        if c.RULE_URL_PASSWORD in on and not present.isdisjoint(r.URL_TRIGGERS):
            text = _sub(r.URL_PASSWORD, text, _value_repl(c.RULE_URL_PASSWORD, counts))
        if c.RULE_BEARER_TOKEN in on and "bearer" in present:
            text = _sub_caseless(r.BEARER, text, _value_repl(c.RULE_BEARER_TOKEN, counts))
        if c.RULE_JWT in on and "eyj" in present:
            text = _sub(r.JWT, text, _whole_repl(c.RULE_JWT, counts))
        if c.RULE_AWS_ACCESS_KEY_ID in on and not present.isdisjoint(r.AWS_KEY_ID_TRIGGERS):
            text = _sub(r.AWS_ACCESS_KEY_ID, text, _whole_repl(c.RULE_AWS_ACCESS_KEY_ID, counts))
        if self._card and _card_shape(text.encode("utf-8", "surrogatepass").translate(_CARD_ALPHABET)):
            text = _sub(r.CARD_NUMBER, text, _checked_repl(c.RULE_CARD_NUMBER, r.is_card, counts))
        if c.RULE_EMAIL in on and "@" in present:
            text = _sub(r.EMAIL, text, _whole_repl(c.RULE_EMAIL, counts))
        return text

    def _redact_key_values(self, text: str, low: str, starts: list[int], counts: Counts) -> str:
        """``password=…``, ``"token": "…"``, ``Cookie: …``: HEADER, QUOTED and BARE, tried only
        where a key trigger token starts (``starts``, positions in ``low``) and is followed by a
        separator."""
        repl = self._key_value_repl(counts)
        if len(low) != len(text):  # lower-casing moved positions (rare non-ASCII letters)
            for pattern in (r.HEADER, r.QUOTED, r.BARE):
                text = _sub(pattern.ci, text, repl)
            return text
        parts: list[str] = []
        last = 0
        before_separator = r.KEY_BEFORE_SEPARATOR.match
        for pos in starts:
            if pos < last or before_separator(low, pos) is None:
                continue
            for pattern in (r.HEADER, r.QUOTED, r.BARE):
                m = pattern.low.match(low, pos)
                new = repl(m, text) if m is not None else None
                if m is not None and new is not None:
                    parts += (text[last:pos], new)
                    last = m.end()
                    break
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)

    def _key_value_repl(self, counts: Counts) -> _TextRepl:
        """The replacement for a HEADER, QUOTED or BARE match (``None``: not a secret)."""

        def repl(m: re.Match[str], text: str) -> str | None:
            groups = m.groupdict()
            start = r.key_start(text, m.start())
            key = text[start : m.end("word")]
            if "kq" in groups:  # QUOTED: the key must open with the quote that closes it
                quote = groups["kq"]
                if text[start - len(quote) : start] != quote:
                    return None
            elif "value" in groups and key.lower() not in r.HEADER_NAMES:  # "x-cookie:" is BARE's
                return None
            rule = self.sensitive_key(key)
            if rule is None:
                return None
            vname = next(g for g in ("value", "v1", "v2", "v3", "v4") if groups.get(g) is not None)
            vstart, vend = m.span(vname)
            keep, value = r.split_scheme(text[vstart:vend])
            if r.says_nothing(value) or r.REDACTED_PREFIX in value:  # nothing, or a PEM key already
                return None
            _bump(counts, rule)
            redacted = keep + r.marker(rule)
            if vname == "v4":  # a bare JSON number: quote the marker to keep the JSON valid
                redacted = f"{groups['kq']}{redacted}{groups['kq']}"
            return text[m.start() : vstart] + redacted + text[vend : m.end()]

        return repl

    # --- documents ----------------------------------------------------------------------------

    def redact_document(self, doc: MutableMapping[str, Any], *, derived_from_body: bool = False) -> Counts:
        """Redact a parser document in place; return the number of redactions per rule name.

        Text fields (``body``, ``exception.message``, ``exception.stacktrace`` by default) are
        redacted as text. Structured fields (``attributes``) are walked: a sensitive key
        (``"password"``, ``"refreshToken"``, …) has its whole value replaced, other strings are
        redacted as text, integers that are card numbers are replaced. Allow-listed names (a key,
        or a dotted path such as ``attributes.http.csrf_token``) are left alone. Fields may be
        flat dotted keys (``doc["exception.message"]``) or nested objects. A secret present both
        in ``body`` and in ``attributes`` is replaced, and counted, in both.

        Parameters
        ----------
        derived_from_body:
            Set it when every other string of the document was taken from ``body`` — verbatim or
            by JSON-decoding it — as the lambdalens parser does for one event. Then a body in which
            no built-in rule can match and with no ``\\u``/``\\/`` escape proves the whole document
            clean, and only the body is scanned (the common case costs one text check). Not for a
            document whose fields merge several events (continuation lines of a stack trace).
        """
        counts: Counts = {}
        if not self._enabled:
            return counts
        if derived_from_body and not self._ungated:
            body = doc.get("body")
            if (
                isinstance(body, str)
                and ("\\" not in body or ("\\u" not in body and "\\/" not in body))
                and self._is_clean(body)
            ):
                return counts
        for name, parts in self._text_fields:
            slot = _locate(doc, name, parts)
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
        for name, parts in self._structured_fields:
            slot = _locate(doc, name, parts)
            if slot is None:
                continue
            holder, key = slot
            value = holder[key]
            if isinstance(value, str):
                holder[key] = self._redact_into(value, counts)
            elif isinstance(value, dict | list):
                scan = self._scan_structured(value)
                if scan is not None:
                    self._walk(value, name.lower(), counts, scan)
        return counts

    def redact_value(self, value: Any, path: str = "") -> tuple[Any, Counts]:
        """Redact a JSON-like value: a dict or list is walked and changed in place, a string is
        redacted as text. Returns the value (a new object only for a changed string) and the
        counts. ``path`` is the value's dotted name, for allow-listed paths."""
        counts: Counts = {}
        if not self._enabled:
            return value, counts
        if isinstance(value, str):
            return self._redact_into(value, counts), counts
        if isinstance(value, dict | list):
            scan = self._scan_structured(value)
            if scan is not None:
                self._walk(value, path.lower(), counts, scan)
        return value, counts

    def _scan_structured(self, value: dict[Any, Any] | list[Any]) -> _Scan | None:
        """Cheap pre-check of a structured value, from one orjson dump: ``None`` when nothing in
        it can be redacted, else what the walk must look for."""
        if self._ungated:
            return _Scan(None, True)
        try:
            blob = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).lower()
        except (TypeError, orjson.JSONEncodeError):
            return _Scan(None, True)  # too deep, a huge integer, an unknown type: check everything
        tokens = self._triggers.in_bytes(blob)
        if _ESCAPED_URL in blob:  # a string holding ":\/\/" is dumped as ":\\/\\/"
            tokens.add(r.URL_TRIGGERS[1])
        card = self._card and r.has_card_candidate(blob)
        return _Scan(frozenset(tokens), card) if tokens or card else None

    def _walk(self, root: dict[Any, Any] | list[Any], root_path: str, counts: Counts, scan: _Scan) -> None:
        """Redact a JSON-like tree in place; iterative, so any depth is safe.

        Keys and strings holding none of ``scan.tokens`` are skipped (unless card numbers are
        possible or the tokens are unknown): in a document of a function whose name holds a
        trigger word, only the few strings with that word are redacted as text.
        """
        stack: list[tuple[dict[Any, Any] | list[Any], str]] = [(root, root_path)]
        allow, paths, card, on = self._allow, self._allow_paths, self._card, self._on
        done: dict[str, tuple[str, Counts]] = {}  # a string seen twice (service, function name)

        def redact(value: str) -> str:
            seen = done.get(value)
            if seen is None:
                found: Counts = {}
                seen = done[value] = (self._redact_into(value, found), found)
            for rule, n in seen[1].items():
                _bump(counts, rule, n)
            return seen[0]

        tokens = () if scan.tokens is None or scan.card else tuple(scan.tokens)

        def worth_it(low: str) -> bool:
            """Whether a key or a string (lower-cased) holds a token found in the whole value."""
            return not tokens or any(token in low for token in tokens)

        while stack:
            node, path = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():  # values are replaced, keys never added or removed
                    name = key if isinstance(key, str) else str(key)
                    low = name.lower()
                    if low in allow:
                        continue
                    child = (f"{path}.{low}" if path else low) if paths else ""  # only for allow-listed paths
                    if paths and child in allow:
                        continue
                    rule = r.key_rule(name) if worth_it(low) else None
                    if rule is not None and rule in on:
                        node[key] = _replace_whole(value, rule, counts)
                    elif isinstance(value, str):
                        if worth_it(value.lower()):
                            node[key] = redact(value)
                    elif isinstance(value, dict | list):
                        stack.append((value, child))
                    elif card and type(value) is int and scan.card:
                        node[key] = _card_int(value, counts)
            else:
                for i, value in enumerate(node):
                    if isinstance(value, str):
                        if worth_it(value.lower()):
                            node[i] = redact(value)
                    elif isinstance(value, dict | list):
                        stack.append((value, path))
                    elif card and type(value) is int and scan.card:
                        node[i] = _card_int(value, counts)


@dataclass(frozen=True, slots=True)
class _Scan:
    """What a structured value may hold: the trigger tokens found in it (``None``: unknown) and
    whether it has digits shaped like a card number."""

    tokens: frozenset[str] | None
    card: bool


def _replace_whole(value: Any, rule: str, counts: Counts) -> Any:
    """The value of a sensitive key: a string keeps an auth scheme, anything else is replaced."""
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


def _card_int(value: int, counts: Counts) -> int | str:
    if value < _MIN_CARD_INT or not r.looks_like_card(str(value)):
        return value
    _bump(counts, c.RULE_CARD_NUMBER)
    return r.marker(c.RULE_CARD_NUMBER)


def _locate(
    doc: MutableMapping[str, Any], name: str, parts: tuple[str, ...]
) -> tuple[MutableMapping[str, Any], str] | None:
    """Where the dotted field ``name`` (split: ``parts``) is: a flat key (``doc["a.b"]``) or
    nested (``doc["a"]["b"]``)."""
    if name in doc:
        return doc, name
    if len(parts) == 1 or parts[0] not in doc:
        return None
    holder: Any = doc
    for part in parts[:-1]:
        holder = holder.get(part) if isinstance(holder, MutableMapping) else None
        if holder is None:
            return None
    if isinstance(holder, MutableMapping) and parts[-1] in holder:
        return holder, parts[-1]
    return None


# --- substitution helpers ---------------------------------------------------------------------


def _sub(pattern: re.Pattern[str], text: str, repl: _TextRepl) -> str:
    return pattern.sub(lambda m: _or_match(repl(m, text), m), text)


def _sub_caseless(pattern: r.Caseless, text: str, repl: _TextRepl) -> str:
    """``sub`` for a :class:`~lambdalens.redaction.rules.Caseless` pattern.

    Matches ``pattern.low`` on the lower-cased text; ``repl`` reads the original ``text`` at the
    match's positions (never the lower-cased groups).
    """
    low = text.lower()
    if len(low) != len(text):  # lower-casing moved positions (rare non-ASCII letters)
        return _sub(pattern.ci, text, repl)
    parts: list[str] = []
    last = 0
    for m in pattern.low.finditer(low):
        new = repl(m, text)
        if new is not None:
            parts += (text[last : m.start()], new)
            last = m.end()
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def _or_match(new: str | None, m: re.Match[str]) -> str:
    return m.group() if new is None else new


def _whole_repl(rule: str, counts: Counts) -> _TextRepl:
    """Replace the whole match."""
    marker = r.marker(rule)

    def repl(m: re.Match[str], text: str) -> str:
        _bump(counts, rule)
        return marker

    return repl


def _value_repl(rule: str, counts: Counts) -> _TextRepl:
    """Replace the match's ``value`` group, keep the rest of the match."""
    marker = r.marker(rule)

    def repl(m: re.Match[str], text: str) -> str:
        _bump(counts, rule)
        return text[m.start() : m.start("value")] + marker + text[m.end("value") : m.end()]

    return repl


def _checked_repl(rule: str, check: Callable[[str], bool], counts: Counts) -> _TextRepl:
    """Replace the whole match when ``check(match)`` holds."""
    marker = r.marker(rule)

    def repl(m: re.Match[str], text: str) -> str | None:
        if not check(m.group()):
            return None
        _bump(counts, rule)
        return marker

    return repl


def _user_repl(rule: UserRule, counts: Counts) -> Callable[[re.Match[str]], str]:
    """A user rule's replacement; an empty match (``\\b``, ``x*``) replaces nothing."""
    template = rule.template

    def repl(m: re.Match[str]) -> str:
        if m.start() == m.end():
            return ""
        _bump(counts, rule.name)
        return m.expand(template)

    return repl


def _pem_repl(counts: Counts) -> _TextRepl:
    marker = r.marker(c.RULE_PRIVATE_KEY)

    def repl(m: re.Match[str], text: str) -> str | None:
        if m.group("body") == marker:
            return None  # already redacted
        _bump(counts, c.RULE_PRIVATE_KEY)
        kind, block = m.group("kind"), m.group("block") or ""
        return f"-----BEGIN {kind}PRIVATE KEY{block}-----{marker}-----END {kind}PRIVATE KEY{block}-----"

    return repl
