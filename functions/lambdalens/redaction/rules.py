"""The built-in redaction rules: compiled patterns, trigger tokens and the checks behind them.

Everything here is immutable (compiled patterns, tuples, frozensets) and every function is pure;
:class:`lambdalens.redaction.redactor.Redactor` decides which rules run and counts what they did.

Each rule has *trigger tokens*: lower-case substrings that any text it can match contains.
The redactor lower-cases a text once and looks for the tokens (C-speed ``in`` tests); a rule
whose tokens are all absent is not run. Patterns are therefore written so that every match
contains one of its rule's tokens (case-insensitive patterns use ``re.ASCII`` so that
``str.lower`` and the pattern agree on case). Card numbers have no token: a fast scan for
runs of 13 or more digits (``CARD_CANDIDATE``) stands in for one.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from lambdalens.redaction import constants as c

REDACTED_PREFIX: Final = "[REDACTED:"


def marker(rule: str) -> str:
    """The text that replaces what ``rule`` removed: ``[REDACTED:<rule>]``."""
    return f"{REDACTED_PREFIX}{rule}]"


# --- sensitive key names ---------------------------------------------------------------------
# A key is sensitive when, lower-cased and without "-", "_" and ".", it ends with one of these
# suffixes (first match wins) or equals one of the exact names.
_KEY_SUFFIXES: Final[tuple[tuple[str, str], ...]] = (
    ("secretaccesskey", c.RULE_AWS_SECRET_ACCESS_KEY),
    ("privatekey", c.RULE_PRIVATE_KEY),
    ("apikey", c.RULE_API_KEY),
    ("secretkey", c.RULE_SECRET),
    ("password", c.RULE_PASSWORD),
    ("passwd", c.RULE_PASSWORD),
    ("passphrase", c.RULE_PASSWORD),
    ("pwd", c.RULE_PASSWORD),
    ("secret", c.RULE_SECRET),
    ("credential", c.RULE_SECRET),
    ("credentials", c.RULE_SECRET),
    ("signature", c.RULE_SECRET),
    ("token", c.RULE_TOKEN),
    ("authorization", c.RULE_AUTHORIZATION),
    ("cookie", c.RULE_COOKIE),
)
_KEY_EXACT: Final = {"pass": c.RULE_PASSWORD, "auth": c.RULE_AUTHORIZATION}

#: Keys that end like a sensitive one but hold no secret (pagination and idempotency tokens).
NON_SECRET_KEYS: Final = frozenset(
    {
        "nexttoken",
        "nextpagetoken",
        "pagetoken",
        "paginationtoken",
        "continuationtoken",
        "idempotencytoken",
        "clienttoken",
        "cancellationtoken",
        "synctoken",
    }
)

#: Values that say nothing even under a sensitive key (compared lower-cased, stripped).
EMPTY_VALUES: Final = frozenset({"", "true", "false", "null", "none", "nil", "undefined", "[]", "{}"})

#: HTTP authentication schemes kept in front of a redacted credential (``Bearer [REDACTED:…]``).
_AUTH_SCHEME: Final = r"(?:bearer|basic|digest|negotiate|ntlm|token|aws4-hmac-sha256)"
AUTH_SCHEME_PREFIX: Final = re.compile(rf"{_AUTH_SCHEME}[ \t]+", re.IGNORECASE | re.ASCII)


def split_scheme(value: str) -> tuple[str, str]:
    """Split ``"Bearer abc"`` into ``("Bearer ", "abc")``; ``("", value)`` without a scheme."""
    m = AUTH_SCHEME_PREFIX.match(value)
    if m is None or m.end() == len(value):
        return "", value
    return m.group(), value[m.end() :]


def key_rule(name: str) -> str | None:
    """The rule a key name selects (``"DB_PASSWORD"`` -> ``"password"``), or ``None``.

    >>> key_rule("refreshToken"), key_rule("x-api-key"), key_rule("NextToken"), key_rule("token_count")
    ('token', 'api_key', None, None)
    """
    n = name.lower().replace("-", "").replace("_", "").replace(".", "")
    if n in NON_SECRET_KEYS:
        return None
    exact = _KEY_EXACT.get(n)
    if exact is not None:
        return exact
    for suffix, rule in _KEY_SUFFIXES:
        if n.endswith(suffix):
            return rule
    return None


def says_nothing(value: str) -> bool:
    """True for values not worth redacting: empty, booleans, null, masks, already redacted."""
    v = value.strip()
    if v.lower() in EMPTY_VALUES or v.startswith(REDACTED_PREFIX):
        return True
    return v.strip("*x#.") == "" or v.lower() in {"<redacted>", "redacted", "<hidden>"}


# Trigger tokens of the key/value rules. ``_KEY_WORDS`` is the pattern of the last word of a
# sensitive key; each alternative contains one of these tokens.
KEY_TRIGGERS: Final = (
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
)
_KEY_WORDS: Final = (
    r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|auth(?:orization)?|api[_-]?key"
    r"|private[_-]?key|secret[_-]?(?:access[_-]?)?key|cookie|credentials?|signature)"
)
_KEY: Final = rf"[\w.-]*?{_KEY_WORDS}"
_FLAGS: Final = re.IGNORECASE | re.ASCII | re.VERBOSE

#: ``Authorization: Basic …`` / ``Cookie: a=1; b=2`` headers: the value runs to the end of the
#: line (or a quote or backslash, for headers embedded in a JSON string).
HEADER: Final = re.compile(
    rf"""
    (?<![\w.-])
    (?P<key>(?:proxy-)?authorization|(?:set-)?cookie)
    (?P<sep>[ \t]*:[ \t]*)
    (?>(?P<scheme>{_AUTH_SCHEME}[ \t]+)?)
    (?P<value>[^\s\["'\\][^\r\n"'\\]*)
    """,
    _FLAGS,
)

#: ``"password": "…"`` in JSON, ``'token': '…'`` in a Python repr, ``\"secret\": \"…\"`` in
#: JSON embedded in a JSON string, ``"api_key" => "…"`` in Ruby. An unterminated string value
#: is redacted to the end of the line.
QUOTED: Final = re.compile(
    rf"""
    (?P<kq>\\*["'])(?P<key>{_KEY})(?P=kq)
    (?P<sep>\s*(?:=>|[:=])\s*)
    (?:
        (?P<q1>")(?P<v1>(?:[^"\\\n]|\\.)*)(?P<c1>"?)
      | (?P<q2>')(?P<v2>(?:[^'\\\n]|\\.)*)(?P<c2>'?)
      | (?P<q3>\\+["'])(?P<v3>(?:(?!(?P=q3))[^\n])*)(?P<c3>(?P=q3)?)
      | (?P<v4>-?[0-9][0-9.eE+-]*)
    )
    """,
    _FLAGS,
)

#: ``password=…``, ``token: …``, ``secret='…'``, ``?X-Amz-Security-Token=…&``: an unquoted value
#: ends at whitespace, ``&``, ``,``, ``;``, a quote or a backslash.
BARE: Final = re.compile(
    rf"""
    (?<![\w.-])
    (?P<key>{_KEY})
    (?P<sep>[ \t]*(?:=>|[:=])[ \t]*)
    (?>(?P<scheme>{_AUTH_SCHEME}[ \t]+)?)
    (?:
        (?P<q1>")(?P<v1>(?:[^"\\\n]|\\.)*)(?P<c1>"?)
      | (?P<q2>')(?P<v2>(?:[^'\\\n]|\\.)*)(?P<c2>'?)
      | (?P<v3>(?!\[REDACTED)[^\s&,;"'\\]+)
    )
    """,
    _FLAGS,
)

# --- PEM private keys ------------------------------------------------------------------------
PEM_TRIGGERS: Final = ("private key",)
#: A PEM private key block; without its END line (a truncated message) it runs to the end.
PEM_PRIVATE_KEY: Final = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]*?)PRIVATE KEY(?P<block> BLOCK)?-----"
    r"(?P<body>.*?)"
    r"(?:-----END (?P=kind)PRIVATE KEY(?P=block)?-----|\Z)",
    re.DOTALL,
)

# --- credentials in URLs ---------------------------------------------------------------------
URL_TRIGGERS: Final = ("://",)
#: ``scheme://user:password@host``: the password (up to the last ``@`` of the authority).
URL_PASSWORD: Final = re.compile(
    r"(?P<prefix>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@\[\]]*:)(?!\[REDACTED)(?P<value>[^\s/?#]+)(?=@)",
    re.ASCII,
)

# --- bearer tokens, JWTs, AWS access key ids -------------------------------------------------
BEARER_TRIGGERS: Final = ("bearer",)
#: ``Bearer <token>`` anywhere (RFC 6750 token characters, at least 8 of them).
BEARER: Final = re.compile(
    r"(?P<prefix>\bbearer[ \t]+)(?P<value>[A-Za-z0-9\-._~+/]{8,}=*)", re.IGNORECASE | re.ASCII
)

JWT_TRIGGERS: Final = ("eyj",)
#: A JWT/JWS (three base64url segments, the header starting ``eyJ``) or a JWE (five).
JWT: Final = re.compile(
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+){0,2}",
    re.ASCII,
)

AWS_KEY_ID_TRIGGERS: Final = ("akia", "asia")
#: An AWS access key id: ``AKIA`` (long-term) or ``ASIA`` (temporary) and 16 more characters.
AWS_ACCESS_KEY_ID: Final = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")

# --- card numbers ----------------------------------------------------------------------------
#: Cheap scan: a run of digits, spaces and dashes long enough to hold 13 digits.
CARD_CANDIDATE: Final = re.compile(r"[0-9][0-9 -]{11,}[0-9]")
#: 13 to 19 digits, single spaces or dashes allowed between them, not part of a longer number,
#: a word, a hex string or a decimal fraction.
CARD_NUMBER: Final = re.compile(
    r"(?<![\w.])(?<![0-9][ -])[0-9](?:[ -]?[0-9]){12,18}(?![\w]|[ -][0-9]|\.[0-9])", re.ASCII
)


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def looks_like_card(digits: str) -> bool:
    """True when ``digits`` has a card length, a card network prefix and a valid Luhn check.

    Prefixes: Visa 4; Mastercard 51-55 and 2221-2720; Maestro, Discover and UnionPay 5/6;
    American Express 34/37, Diners 30/36/38/39, JCB 35. Numbers starting 0, 1, 7, 8, 9
    (epoch timestamps, snowflake ids, …) are never cards.
    """
    n = len(digits)
    if not 13 <= n <= 19:
        return False
    first = digits[0]
    if first in "456":
        pass
    elif first == "3":
        if digits[1] in "123":
            return False
    elif first == "2":
        if n != 16 or not 2221 <= int(digits[:4]) <= 2720:
            return False
    else:
        return False
    return luhn_ok(digits)


def has_card_candidate(text: str) -> bool:
    """Cheap pre-check for :data:`CARD_NUMBER`: some digit run holds at least 13 digits."""
    for m in CARD_CANDIDATE.finditer(text):
        run = m.group()
        if len(run) - run.count(" ") - run.count("-") >= 13:
            return True
    return False


# --- optional: e-mail and IP addresses -------------------------------------------------------
EMAIL_TRIGGERS: Final = ("@",)
EMAIL: Final = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])",
    re.ASCII,
)

_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4: Final = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.[0-9])", re.ASCII)
#: IPv6 candidates; :func:`is_ipv6` decides.
IPV6_CANDIDATE: Final = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:[0-9]{1,3}\.){3}[0-9]{1,3})?(?![\w:])",
    re.ASCII,
)


def maybe_ipv6(text: str) -> bool:
    """Cheap pre-check for IPv6: a ``::`` or the 7 colons of a full address."""
    return "::" in text or text.count(":") >= 7


def is_ipv6(candidate: str) -> bool:
    """True for a valid IPv6 address with at least one non-zero-length group (not ``::``)."""
    if candidate.strip(":") == "":
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True
