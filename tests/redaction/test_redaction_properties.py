"""Property-based tests (Hypothesis): redaction never raises, never touches text without a trigger,
never leaves a planted secret behind, and never redacts identifiers."""

from __future__ import annotations

import re
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalens.redaction import RedactionConfig, Redactor, UserRule

DEFAULT = Redactor()
EVERYTHING = Redactor(
    RedactionConfig(
        emails=True, ip_addresses=True, rules=(UserRule("ticket", r"TICKET-\d+"), UserRule("b", r"\b"))
    )
)

#: Every character, including NUL, control characters, lone surrogates, and unassigned ones.
ANY_CHAR = st.characters(codec=None, exclude_categories=())

#: The trigger tokens the README (Security) lists: text without any of them (case-insensitive) and
#: without 13 digits in a row (spaces and dashes allowed between them) has nothing to redact.
DOCUMENTED_TRIGGERS = (
    "pass",
    "pwd",
    "secret",
    "token",
    "auth",
    "apikey",
    "api_key",
    "api-key",
    "private",
    "cookie",
    "credential",
    "signature",
    "://",
    ":\\/\\/",
    "bearer",
    "eyj",
    "akia",
    "asia",
)
_CARD_LIKE = re.compile(r"[0-9](?:[ -]?[0-9]){12}")

#: Pieces of log lines, chosen to collide: keys, separators, quotes, escapes, digits, markers.
FRAGMENTS = st.sampled_from(
    [
        "password",
        "Token",
        "secret",
        "api_key",
        "Authorization",
        "Cookie",
        "Bearer ",
        "eyJ",
        "AKIA",
        "ASIA",
        "://",
        "@",
        "=",
        ": ",
        '"',
        "'",
        "\\",
        '\\"',
        "\n",
        " ",
        "-",
        ".",
        ",",
        "&",
        "4111",
        "1111",
        "0",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
        "[REDACTED:token]",
        "İ",
        "\x00",
        "\ud800",
        "é",
        "{",
        "}",
        "abc",
        "XYZ123",
    ]
)
LOGGISH = st.lists(st.one_of(FRAGMENTS, st.text(ANY_CHAR, max_size=5)), max_size=40).map("".join)

SECRETS = [
    # (text holding the secret, the secret itself)
    ("password=Zq9-hunter2", "Zq9-hunter2"),
    ('{"client_secret": "Zq9-s3cr3t-v4lue"}', "Zq9-s3cr3t-v4lue"),
    ("Authorization: Bearer Zq9abcdefgh123", "Zq9abcdefgh123"),
    ("key AKIAZQ9OSFODNN7EXAMP", "AKIAZQ9OSFODNN7EXAMP"),
    ("db postgres://app:Zq9pw-42@db:5432/x", "Zq9pw-42"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJacTkifQ.c2lnbmF0dXJlWnE5", "eyJzdWIiOiJacTkifQ"),
    ("card 4111 1111 1111 1111", "4111 1111 1111 1111"),
    ("-----BEGIN EC PRIVATE KEY-----\nZq9MHcCAQEEIL\n-----END EC PRIVATE KEY-----", "Zq9MHcCAQEEIL"),
    ("Cookie: session=Zq9c00k1e; theme=dark", "Zq9c00k1e"),
    ("x-api-key: Zq9k3y-123", "Zq9k3y-123"),
]


@given(st.text(ANY_CHAR))
@settings(max_examples=400)
def test_never_raises_on_arbitrary_text(text: str) -> None:
    for redactor in (DEFAULT, EVERYTHING):
        out, counts = redactor.redact_text(text)
        assert isinstance(out, str)
        assert all(isinstance(v, int) and v > 0 for v in counts.values())


@given(LOGGISH)
@settings(max_examples=600)
def test_never_raises_and_is_idempotent_on_log_like_text(text: str) -> None:
    out, _ = DEFAULT.redact_text(text)
    assert DEFAULT.redact_text(out) == (out, {})
    EVERYTHING.redact_text(text)


@given(st.text(ANY_CHAR))
@settings(max_examples=400)
def test_text_without_trigger_tokens_is_returned_unchanged(text: str) -> None:
    low = text.lower()
    if any(t in low for t in DOCUMENTED_TRIGGERS) or _CARD_LIKE.search(text):
        return
    assert DEFAULT.redact_text(text) == (text, {})


@given(st.text(st.characters(codec="ascii", exclude_characters="0123456789"), max_size=200))
@settings(max_examples=300)
def test_ascii_text_without_trigger_tokens_is_returned_unchanged(text: str) -> None:
    if any(t in text.lower() for t in DOCUMENTED_TRIGGERS):
        return
    assert DEFAULT.redact_text(text) == (text, {})


@given(
    st.sampled_from(SECRETS),
    st.text(ANY_CHAR, max_size=60),
    st.text(ANY_CHAR, max_size=60),
)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_planted_secret_is_always_removed(secret: tuple[str, str], before: str, after: str) -> None:
    text, value = secret
    out, counts = DEFAULT.redact_text(f"{before}\n{text}\n{after}")
    assert value not in out
    assert counts


def _identifier(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 6))
    rnd = draw(st.integers(0, 2**256 - 1))
    if kind == 0:
        return str(uuid.UUID(int=rnd % 2**128))
    if kind == 1:
        return f"1-{rnd % 2**32:08x}-{(rnd >> 32) % 2**96:024x}"  # X-Ray trace id
    if kind == 2:
        return f"{rnd % 2**128:032x}"  # W3C trace id, MD5
    if kind == 3:
        return f"{rnd % 2**160:040x}"  # SHA-1
    if kind == 4:
        return f"{rnd:064x}"  # SHA-256
    if kind == 5:
        return str(10**55 + rnd % (9 * 10**55))  # CloudWatch event id, Kinesis sequence number
    return f"00-{rnd % 2**128:032x}-{(rnd >> 128) % 2**64:016x}-01"  # traceparent


identifiers = st.composite(lambda draw: _identifier(draw))()


@given(
    st.lists(
        st.tuples(identifiers, st.sampled_from([" ", "\t", "\n", ",", ";", '"', "=", ": ", "/"])), max_size=8
    )
)
@settings(max_examples=500)
def test_identifiers_are_never_redacted(parts: list[tuple[str, str]]) -> None:
    text = "".join(i + sep for i, sep in parts)
    assert DEFAULT.redact_text(text) == (text, {})
    assert Redactor(RedactionConfig(emails=True, ip_addresses=True)).redact_text(text) == (text, {})


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(ANY_CHAR, max_size=20),
    FRAGMENTS,
    st.sampled_from(["4111111111111111", "password=x", "Bearer abcdefgh123"]),
)
JSON_KEYS = st.one_of(
    st.text(ANY_CHAR, max_size=10), st.sampled_from(["password", "token", "Cookie", "csrf_token", "a"])
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(JSON_KEYS, children, max_size=4)
    ),
    max_leaves=25,
)


@given(JSON_VALUES, st.text(ANY_CHAR, max_size=40))
@settings(max_examples=300)
def test_redact_document_never_raises_and_is_idempotent(attributes: object, body: str) -> None:
    redactor = Redactor(RedactionConfig(allow_fields=frozenset({"csrf_token"})))
    redactor.redact_document({"body": body, "attributes": attributes}, derived_from_body=True)
    doc = {"body": body, "exception.message": body, "attributes": attributes}
    redactor.redact_document(doc)
    assert redactor.redact_document(doc) == {}
