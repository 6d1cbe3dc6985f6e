"""Names that configure redaction: environment variables, CDK context keys and rule names.

Every name lives here once; :mod:`lambdalens.redaction.config` reads them and the infrastructure
passes CDK context values to the parser Lambda under these environment variable names.
"""

from __future__ import annotations

from typing import Final

# --- environment variables (read by RedactionConfig.from_env) -------------------------------
ENV_ENABLED: Final = "REDACTION_ENABLED"
"""``true``/``false``: redaction as a whole (default ``true``)."""
ENV_EMAILS: Final = "REDACTION_EMAILS"
"""``true``/``false``: also redact e-mail addresses (default ``false``)."""
ENV_IPS: Final = "REDACTION_IPS"
"""``true``/``false``: also redact IPv4 and IPv6 addresses (default ``false``)."""
ENV_RULES: Final = "REDACTION_RULES"
"""JSON list of ``{"name", "pattern", "replacement"}`` objects: user rules."""
ENV_ALLOW_FIELDS: Final = "REDACTION_ALLOW_FIELDS"
"""Field names never redacted: comma-separated or a JSON list of strings."""
ENV_DISABLE_RULES: Final = "REDACTION_DISABLE_RULES"
"""Built-in rule names to turn off: comma-separated or a JSON list of strings."""

ENV_VARS: Final = (ENV_ENABLED, ENV_EMAILS, ENV_IPS, ENV_RULES, ENV_ALLOW_FIELDS, ENV_DISABLE_RULES)

# --- CDK context keys (the infrastructure maps them onto the variables above) ---------------
CONTEXT_ENABLED: Final = "redactionEnabled"
CONTEXT_EMAILS: Final = "redactionEmails"
CONTEXT_IPS: Final = "redactionIps"
CONTEXT_RULES: Final = "redactionRules"
CONTEXT_ALLOW_FIELDS: Final = "redactionAllowFields"
CONTEXT_DISABLE_RULES: Final = "redactionDisableRules"

CONTEXT_TO_ENV: Final = {
    CONTEXT_ENABLED: ENV_ENABLED,
    CONTEXT_EMAILS: ENV_EMAILS,
    CONTEXT_IPS: ENV_IPS,
    CONTEXT_RULES: ENV_RULES,
    CONTEXT_ALLOW_FIELDS: ENV_ALLOW_FIELDS,
    CONTEXT_DISABLE_RULES: ENV_DISABLE_RULES,
}

# --- rule names (the labels in "[REDACTED:<name>]" and the keys of the counts) --------------
RULE_PRIVATE_KEY: Final = "private_key"
RULE_PASSWORD: Final = "password"
RULE_SECRET: Final = "secret"
RULE_TOKEN: Final = "token"
RULE_API_KEY: Final = "api_key"
RULE_AUTHORIZATION: Final = "authorization"
RULE_COOKIE: Final = "cookie"
RULE_AWS_SECRET_ACCESS_KEY: Final = "aws_secret_access_key"
RULE_URL_PASSWORD: Final = "url_password"
RULE_BEARER_TOKEN: Final = "bearer_token"
RULE_JWT: Final = "jwt"
RULE_AWS_ACCESS_KEY_ID: Final = "aws_access_key_id"
RULE_CARD_NUMBER: Final = "card_number"
RULE_EMAIL: Final = "email"
RULE_IP_ADDRESS: Final = "ip_address"

#: Rules that a sensitive key name selects (``password=…``, ``"token": "…"``, ``Cookie: …``).
KEY_RULES: Final = (
    RULE_PASSWORD,
    RULE_SECRET,
    RULE_TOKEN,
    RULE_API_KEY,
    RULE_AUTHORIZATION,
    RULE_COOKIE,
    RULE_PRIVATE_KEY,
    RULE_AWS_SECRET_ACCESS_KEY,
)

#: Every built-in rule, on by default unless listed in ``OPTIONAL_RULES``.
BUILTIN_RULES: Final = (
    *KEY_RULES,
    RULE_URL_PASSWORD,
    RULE_BEARER_TOKEN,
    RULE_JWT,
    RULE_AWS_ACCESS_KEY_ID,
    RULE_CARD_NUMBER,
    RULE_EMAIL,
    RULE_IP_ADDRESS,
)

#: Built-in rules that are off unless asked for (``REDACTION_EMAILS`` / ``REDACTION_IPS``).
OPTIONAL_RULES: Final = (RULE_EMAIL, RULE_IP_ADDRESS)

#: The document fields redacted as text, by dotted name (see docs/document-schema.md).
DEFAULT_TEXT_FIELDS: Final = ("body", "exception.message", "exception.stacktrace")
#: The document fields holding structured (JSON) values, walked key by key.
DEFAULT_STRUCTURED_FIELDS: Final = ("attributes",)
