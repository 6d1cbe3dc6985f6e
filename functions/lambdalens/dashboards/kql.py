"""The subset of DQL/KQL (Dashboards Query Language) the shipped saved objects use, parsed.

Dashboards translates a KQL query into OpenSearch query DSL in the browser; lambdalens does the
same here for the queries it ships, so that a test can run a visualisation's query against a real
node and a check can list the fields a query touches. Supported, as Dashboards reads them:

* ``field:value`` (a match; ``field:"a phrase"`` a match_phrase), ``field:*`` (the field exists),
  ``field:(a or b)``;
* ``field >= 17`` and ``>``, ``<``, ``<=`` (a range);
* ``and``, ``or``, ``not`` (case-insensitive; ``and`` binds tighter than ``or``), parentheses.

Anything else raises :class:`KqlError` naming the position, so a shipped query outside the
subset fails the checks instead of meaning something else in Dashboards.

Example::

    >>> parse('lambda.event_type:report and not faas.coldstart:true').fields()
    {'lambda.event_type', 'faas.coldstart'}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

JsonObject = dict[str, Any]

_TOKEN_RE: Final = re.compile(
    r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op>>=|<=|>|<)|(?P<colon>:)|"(?P<quoted>(?:[^"\\]|\\.)*)"'
    r'|(?P<word>[^\s():<>"]+))'
)
_KEYWORDS: Final = frozenset({"and", "or", "not"})
_RANGE_OPS: Final = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}


class KqlError(ValueError):
    """A query outside the supported subset (or malformed)."""


@dataclass(frozen=True)
class Token:
    kind: str  # lp, rp, op, colon, quoted, word, and, or, not
    text: str
    at: int


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        match = _TOKEN_RE.match(query, pos)
        if match is None or match.end() == pos:
            raise KqlError(f"cannot read {query[pos:]!r} at {pos} in {query!r}")
        kind = match.lastgroup or ""
        text, at = match.group(kind), match.start(kind)
        if kind == "quoted":
            text = re.sub(r"\\(.)", r"\1", text)
        elif kind == "word" and text.lower() in _KEYWORDS:
            kind = text.lower()
        tokens.append(Token(kind, text, at))
        pos = match.end()
    return tokens


@dataclass(frozen=True)
class Node:
    """One node of a parsed query: ``and``/``or`` (``children``), ``not`` (one child), or a
    leaf on ``field``: ``match``, ``phrase``, ``exists`` or ``range`` (``op``, ``value``)."""

    kind: str
    field: str = ""
    value: str = ""
    op: str = ""
    children: tuple[Node, ...] = ()

    def fields(self) -> set[str]:
        if self.field:
            return {self.field}
        return set().union(*(child.fields() for child in self.children)) if self.children else set()

    def to_dsl(self) -> JsonObject:
        """The OpenSearch query Dashboards sends for this node."""
        if self.kind == "and":
            return {"bool": {"filter": [c.to_dsl() for c in self.children]}}
        if self.kind == "or":
            return {"bool": {"should": [c.to_dsl() for c in self.children], "minimum_should_match": 1}}
        if self.kind == "not":
            return {"bool": {"must_not": [self.children[0].to_dsl()]}}
        if self.kind == "exists":
            return {"exists": {"field": self.field}}
        if self.kind == "range":
            return {"range": {self.field: {_RANGE_OPS[self.op]: self.value}}}
        if self.kind == "phrase":
            return {"match_phrase": {self.field: self.value}}
        return {"match": {self.field: self.value}}


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str) -> Token:
        token = self.peek()
        if token is None or token.kind != kind:
            where = f"at {token.at}" if token else "at the end"
            raise KqlError(f"expected {kind} {where} in {self.query!r}")
        self.i += 1
        return token

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise KqlError(f"unexpected {self.peek().text!r} at {self.peek().at} in {self.query!r}")  # type: ignore[union-attr]
        return node

    def or_expr(self) -> Node:
        nodes = [self.and_expr()]
        while (t := self.peek()) is not None and t.kind == "or":
            self.i += 1
            nodes.append(self.and_expr())
        return nodes[0] if len(nodes) == 1 else Node("or", children=tuple(nodes))

    def and_expr(self) -> Node:
        nodes = [self.not_expr()]
        while (t := self.peek()) is not None and t.kind == "and":
            self.i += 1
            nodes.append(self.not_expr())
        return nodes[0] if len(nodes) == 1 else Node("and", children=tuple(nodes))

    def not_expr(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "not":
            self.i += 1
            return Node("not", children=(self.not_expr(),))
        return self.primary()

    def primary(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "lp":
            self.i += 1
            node = self.or_expr()
            self.take("rp")
            return node
        field = self.take("word").text
        following = self.peek()
        if following is not None and following.kind == "op":
            self.i += 1
            return Node("range", field=field, op=following.text, value=self.take("word").text)
        self.take("colon")
        return self.values(field)

    def values(self, field: str) -> Node:
        token = self.peek()
        if token is not None and token.kind == "lp":
            self.i += 1
            nodes = [self.value(field)]
            while (t := self.peek()) is not None and t.kind == "or":
                self.i += 1
                nodes.append(self.value(field))
            self.take("rp")
            return nodes[0] if len(nodes) == 1 else Node("or", children=tuple(nodes))
        return self.value(field)

    def value(self, field: str) -> Node:
        token = self.peek()
        if token is not None and token.kind == "quoted":
            self.i += 1
            return Node("phrase", field=field, value=token.text)
        word = self.take("word").text
        if word == "*":
            return Node("exists", field=field)
        if "*" in word:
            raise KqlError(f"wildcard values ({word!r}) are outside the supported subset in {self.query!r}")
        return Node("match", field=field, value=word)


def parse(query: str) -> Node:
    """Parse ``query``; raises :class:`KqlError` outside the subset."""
    if not query.strip():
        raise KqlError("empty query")
    return _Parser(query).parse()


def to_dsl(query: str) -> JsonObject:
    """``query`` as OpenSearch query DSL (``match_all`` for an empty query, as Dashboards does)."""
    if not query.strip():
        return {"match_all": {}}
    return parse(query).to_dsl()


def fields_of(query: str) -> set[str]:
    """The fields ``query`` names (none for an empty query)."""
    return parse(query).fields() if query.strip() else set()


def phrase(value: str) -> str:
    """``value`` as a KQL quoted phrase."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
