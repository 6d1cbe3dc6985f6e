"""Make untrusted text (log messages, error types, names) safe to put in an alert.

Alert text reaches e-mail clients, Slack / Teams (through AWS Chatbot), PagerDuty, Opsgenie
and whatever renders markdown. A log line is attacker-influenced: it must not be able to
ping a whole channel, forge a link, break out of a code block or hide text. So every
untrusted value goes through :func:`clean`:

* control characters (C0 except newline where allowed, DEL, C1) and invisible / bidi
  formatting characters (zero-width, RTL overrides) are removed or turned into spaces;
* ``&``, ``<``, ``>`` become ``&amp;``, ``&lt;``, ``&gt;`` (Slack's required escaping; it
  also neutralises HTML and Slack's ``<!channel>`` / ``<url|text>`` syntax);
* backticks become ``'`` (no breaking out of code spans or fences);
* ``@channel``, ``@here``, ``@everyone``, ``@all`` lose their ``@`` power (``＠channel``);
* the result is truncated to a maximum length with ``…``.
"""

from __future__ import annotations

import re

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
_MENTION = re.compile(r"@(?=(?:channel|here|everyone|all|group|room|team)\b)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]{2,}")
ELLIPSIS = "…"


def truncate(value: str, max_chars: int) -> str:
    """``value`` cut to at most ``max_chars`` characters, ending with ``…`` when cut."""
    if len(value) <= max_chars:
        return value
    return value[: max(0, max_chars - 1)].rstrip() + ELLIPSIS


def clean(value: object, max_chars: int | None = None, *, multiline: bool = False) -> str:
    """An untrusted value made safe for text, e-mail, Slack and markdown (see module doc)."""
    s = "" if value is None else str(value)
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not multiline:
        s = s.replace("\n", " ")
    s = _INVISIBLE.sub("", s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")
    s = _MENTION.sub("＠", s)
    s = _SPACES.sub(" ", s).strip() if not multiline else s.strip()
    if max_chars is not None:
        s = truncate(s, max_chars)
    return s


def subject(value: str, max_chars: int = 99) -> str:
    """An SNS ``Subject``: printable ASCII, one line, starting with a letter, digit or
    punctuation, under 100 characters."""
    s = "".join(c if " " <= c <= "~" else "?" for c in value.replace("\n", " ").replace("\t", " "))
    s = _SPACES.sub(" ", s).strip() or "LambdaLens alert"
    if len(s) > max_chars:
        s = s[: max_chars - 3].rstrip() + "..."
    return s
