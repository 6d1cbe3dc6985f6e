"""Built-in rules on text: true positives per rule, false-positive guards per rule, counts."""

from __future__ import annotations

import pytest

from lambdalens.redaction import RedactionConfig, Redactor, UserRule
from lambdalens.redaction.rules import key_rule, looks_like_card, luhn_ok, trigger_pattern

DEFAULT = Redactor()
EVERYTHING = Redactor(RedactionConfig(emails=True, ip_addresses=True))

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

# (rule, input, expected output): each input holds one secret of that rule.
TRUE_POSITIVES: list[tuple[str, str, str]] = [
    # AWS access key ids
    (
        "aws_access_key_id",
        "using key AKIAIOSFODNN7EXAMPLE for s3",
        "using key [REDACTED:aws_access_key_id] for s3",
    ),
    (
        "aws_access_key_id",
        '{"AccessKeyId": "ASIAY34FZKBOKMUTVV7A", "Expiration": "2024-05-01T13:00:00Z"}',
        '{"AccessKeyId": "[REDACTED:aws_access_key_id]", "Expiration": "2024-05-01T13:00:00Z"}',
    ),
    (
        "aws_access_key_id",
        "aws_access_key_id=AKIAIOSFODNN7EXAMPLE",
        "aws_access_key_id=[REDACTED:aws_access_key_id]",
    ),
    # AWS secret access keys, in key/value context
    (
        "aws_secret_access_key",
        f"aws_secret_access_key = {SECRET_KEY}",
        "aws_secret_access_key = [REDACTED:aws_secret_access_key]",
    ),
    (
        "aws_secret_access_key",
        f"AWS_SECRET_ACCESS_KEY={SECRET_KEY} AWS_REGION=eu-west-1",
        "AWS_SECRET_ACCESS_KEY=[REDACTED:aws_secret_access_key] AWS_REGION=eu-west-1",
    ),
    (
        "aws_secret_access_key",
        f'{{"Credentials": {{"SecretAccessKey": "{SECRET_KEY}"}}}}',
        '{"Credentials": {"SecretAccessKey": "[REDACTED:aws_secret_access_key]"}}',
    ),
    # Authorization headers and bearer tokens
    (
        "authorization",
        f"Authorization: Bearer {JWT}",
        "Authorization: Bearer [REDACTED:authorization]",
    ),
    (
        "authorization",
        "authorization: Basic dXNlcjpodW50ZXIy",
        "authorization: Basic [REDACTED:authorization]",
    ),
    (
        "authorization",
        "Proxy-Authorization: Basic dXNlcjpodW50ZXIy",
        "Proxy-Authorization: Basic [REDACTED:authorization]",
    ),
    (
        "authorization",
        "curl -H 'Authorization: Bearer 0b79bab50daca910b000d4f1a2b675d604257e42' https://api.example.com",
        "curl -H 'Authorization: Bearer [REDACTED:authorization]' https://api.example.com",
    ),
    (
        "authorization",
        '{"headers": {"Authorization": "Bearer abcdef123456", "Host": "api.example.com"}}',
        '{"headers": {"Authorization": "Bearer [REDACTED:authorization]", "Host": "api.example.com"}}',
    ),
    (
        "authorization",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
        "Authorization: AWS4-HMAC-SHA256 [REDACTED:authorization]",
    ),
    (
        "bearer_token",
        "retrying request with bearer 8f14e45fceea167a5a36dedd4bea2543 after 401",
        "retrying request with bearer [REDACTED:bearer_token] after 401",
    ),
    # JWTs
    ("jwt", f"could not verify {JWT}: expired", "could not verify [REDACTED:jwt]: expired"),
    ("token", f"token={JWT}", "token=[REDACTED:token]"),  # the key/value rule runs before the JWT one
    # passwords in URLs
    (
        "url_password",
        "connecting to postgres://app:s3cr3t-P4ss@db.internal:5432/orders",
        "connecting to postgres://app:[REDACTED:url_password]@db.internal:5432/orders",
    ),
    (
        "url_password",
        "REDIS_URL=redis://:p@ssw0rd@cache:6379/0",
        "REDIS_URL=redis://:[REDACTED:url_password]@cache:6379/0",
    ),
    (
        "url_password",
        '{"dsn":"mysql:\\/\\/root:hunter2@10.0.0.5:3306\\/shop"}',
        '{"dsn":"mysql:\\/\\/root:[REDACTED:url_password]@10.0.0.5:3306\\/shop"}',
    ),
    # key=value, key: value, JSON "key": "value"
    (
        "password",
        "login failed for bob password=Winter2024! retry=1",
        "login failed for bob password=[REDACTED:password] retry=1",
    ),
    ("password", "DB_PASSWORD=hunter2", "DB_PASSWORD=[REDACTED:password]"),
    ("password", "passwd: hunter2", "passwd: [REDACTED:password]"),
    ("password", '{"user":"bob","password":"hun\\"ter2"}', '{"user":"bob","password":"[REDACTED:password]"}'),
    (
        "password",
        "connect(host='db', password='p a s s')",
        "connect(host='db', password='[REDACTED:password]')",
    ),
    (
        "password",
        "User{name=bob, password=abc123, email=x}",
        "User{name=bob, password=[REDACTED:password], email=x}",
    ),
    ("password", '{"pin_pwd": 123456}', '{"pin_pwd": "[REDACTED:password]"}'),
    (
        "password",
        '{"message": "{\\"password\\": \\"hunter2\\", \\"user\\": \\"bob\\"}"}',
        '{"message": "{\\"password\\": \\"[REDACTED:password]\\", \\"user\\": \\"bob\\"}"}',
    ),
    ("password", "{:password => 'hunter2'}", "{:password => '[REDACTED:password]'}"),
    (
        "secret",
        "client_secret=7Fjfp0ZBr1KtDRbnfVdmIw&grant_type=x",
        "client_secret=[REDACTED:secret]&grant_type=x",
    ),
    ("secret", '{"SecretString": "{\\"db\\": \\"x\\"}"}', '{"SecretString": "[REDACTED:secret]"}'),
    (
        "secret",
        "GET /o.jpg?X-Amz-Signature=fe5f80f77d5fa3beca&X-Amz-Date=20240501T000000Z",
        "GET /o.jpg?X-Amz-Signature=[REDACTED:secret]&X-Amz-Date=20240501T000000Z",
    ),
    ("token", "refresh_token: def502001a9c7b8e", "refresh_token: [REDACTED:token]"),
    (
        "token",
        '{"SessionToken": "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH"}',
        '{"SessionToken": "[REDACTED:token]"}',
    ),
    (
        "token",
        "GET /x?X-Amz-Security-Token=IQoJb3%2F%2F&X-Amz-Expires=60",
        "GET /x?X-Amz-Security-Token=[REDACTED:token]&X-Amz-Expires=60",
    ),
    ("token", "accessToken=ya29.a0AfH6SMC", "accessToken=[REDACTED:token]"),
    ("api_key", "x-api-key: a1b2c3d4e5f6g7h8i9j0", "x-api-key: [REDACTED:api_key]"),
    ("api_key", '{"apiKey": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"}', '{"apiKey": "[REDACTED:api_key]"}'),
    ("api_key", "API_KEY='sk_live_4eC39HqLyjWDarjtT1zdp7dc'", "API_KEY='[REDACTED:api_key]'"),
    ("cookie", "Cookie: session=9f8e7d6c5b4a; theme=dark", "Cookie: [REDACTED:cookie]"),
    (
        "cookie",
        "Set-Cookie: id=a3fWa; Expires=Thu, 21 Oct 2025 07:28:00 GMT; Secure",
        "Set-Cookie: [REDACTED:cookie]",
    ),
    ("cookie", "headers={'cookie': 'session=9f8e7d6c5b4a'}", "headers={'cookie': '[REDACTED:cookie]'}"),
    # PEM private keys
    (
        "private_key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1zX\nq8v0\n-----END RSA PRIVATE KEY-----\nloaded",
        "-----BEGIN RSA PRIVATE KEY-----[REDACTED:private_key]-----END RSA PRIVATE KEY-----\nloaded",
    ),
    (
        "private_key",
        '{"key": "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXk\\n-----END OPENSSH PRIVATE KEY-----\\n"}',
        '{"key": "-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED:private_key]-----END OPENSSH PRIVATE KEY-----\\n"}',
    ),
    (
        "private_key",
        "key material: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC (truncated",
        "key material: -----BEGIN PRIVATE KEY-----[REDACTED:private_key]-----END PRIVATE KEY-----",
    ),
    (
        "private_key",
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n-----END PRIVATE KEY-----\\n"}',
        '{"private_key": "-----BEGIN PRIVATE KEY-----[REDACTED:private_key]-----END PRIVATE KEY-----\\n"}',
    ),
    # card numbers (Luhn-valid, card prefixes)
    (
        "card_number",
        "charging card 4111 1111 1111 1111 amount 12.00",
        "charging card [REDACTED:card_number] amount 12.00",
    ),
    ("card_number", "card=4111-1111-1111-1111", "card=[REDACTED:card_number]"),
    ("card_number", '{"pan":"5555555555554444"}', '{"pan":"[REDACTED:card_number]"}'),
    ("card_number", "amex 378282246310005 ok", "amex [REDACTED:card_number] ok"),
    ("card_number", "amex 3782 822463 10005 ok", "amex [REDACTED:card_number] ok"),
    ("card_number", "discover 6011111111111117.", "discover [REDACTED:card_number]."),
    ("card_number", "mc 2223003122003222", "mc [REDACTED:card_number]"),
    ("card_number", "unionpay 6200 0000 0000 0000 000", "unionpay [REDACTED:card_number]"),
]


@pytest.mark.parametrize(("rule", "text", "expected"), TRUE_POSITIVES)
def test_true_positive(rule: str, text: str, expected: str) -> None:
    out, counts = DEFAULT.redact_text(text)
    assert out == expected
    assert counts == {rule: 1}


@pytest.mark.parametrize(("rule", "text", "expected"), TRUE_POSITIVES)
def test_redaction_is_idempotent(rule: str, text: str, expected: str) -> None:
    """Redacting twice (before indexing, then before alerting) changes and counts nothing more."""
    out, counts = DEFAULT.redact_text(expected)
    assert (out, counts) == (expected, {})


# (rule guarded, input): must come back unchanged.
FALSE_POSITIVES: list[tuple[str, str]] = [
    ("aws_access_key_id", "id AKIAIOSFODNN7EXAMPLE1 is 21 characters"),
    ("aws_access_key_id", "XAKIAIOSFODNN7EXAMPLE inside a word"),
    ("aws_access_key_id", "role AROAJQABLZS4A3QDU576 and user AIDAJQABLZS4A3QDU576 are ids, not keys"),
    ("aws_access_key_id", "lowercase akiaiosfodnn7example is not a key id"),
    ("aws_secret_access_key", f"a 40-character string alone: {SECRET_KEY}"),
    ("aws_secret_access_key", "commit 3f786850e387550fdab836ed7e6dc881de23001b"),
    ("bearer_token", "the bearer of this message"),
    ("bearer_token", "bearer_token_count=3 bearerToken_type: jwt"),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9 is only a header"),
    ("jwt", "eyJhbGci.x.y is too short"),
    ("url_password", "GET https://example.com:8443/api/v1/orders?page=2 200"),
    ("url_password", "clone ssh://git@github.com:22/org/repo.git"),
    ("url_password", "mailto:support@example.com and https://user@host/path"),
    ("url_password", "proxy http://[::1]:8080/ up"),
    ("password", "password_reset_required=true passwordless=on"),
    ("password", "has_password=true password=null password='' password=****"),
    ("password", "password expired for user 42; passwords rotate monthly"),
    ("password", "bypass=1 compass=north"),
    ("token", "NextToken=eyJ2IjoxfQ== nextPageToken: abc continuationToken=c1"),
    ("token", "max_tokens=100 token_count: 5 tokens=3 tokenizer=bpe"),
    ("token", '{"ClientToken": "3f1e6a4c-8a2b-4c1d-9e0f-1a2b3c4d5e6f", "token_type": "Bearer"}'),
    ("token", "refreshing auth token for session; token refresh ok"),
    ("authorization", "oauth=enabled authorized=true authority: local"),
    ("cookie", "cookie consent banner shown; x-cookie-policy: strict"),
    ("private_key", "private key rotated; -----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----"),
    ("private_key", "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----"),
    ("card_number", "order 4111111111111112 fails Luhn"),
    ("card_number", "timestamp 1714550400123 ms, epoch µs 1714550400123456"),
    ("card_number", "snowflake id 1234567890123456789 and isbn 9781234567897"),
    ("card_number", "request 54083862-9872-4162-aaec-c7a097462e29"),
    ("card_number", "2024-05-01 12:00:00,123+0000 and 2024-05-01 1234"),
    ("card_number", "score 0.4111111111111111 and v4111111111111111 and a4111111111111111b"),
    ("card_number", "call +1 555 123 4567 or 0044 20 7946 0958"),
    ("card_number", "20 digits 41111111111111111113 are too many, 4111 1111 1111 1111 1111 too"),
    ("card_number", "4111 11111111 1111 is not how cards are written"),
    ("email", "alice@example.com"),  # optional rule, off by default
    ("ip_address", "from 10.0.0.12 and 2001:db8::1"),  # optional rule, off by default
]


@pytest.mark.parametrize(("rule", "text"), FALSE_POSITIVES)
def test_false_positive_guard(rule: str, text: str) -> None:
    assert DEFAULT.redact_text(text) == (text, {})


IDENTIFIERS = [
    "START RequestId: 3f1e6a4c-8a2b-4c1d-9e0f-1a2b3c4d5e6f Version: $LATEST",
    "REPORT RequestId: 54083862-9872-4162-aaec-c7a097462e29\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 68 MB\t\nXRAY TraceId: 1-5e34a614-10bd3ec1f0aa4fa8b9cd0ea7\t"
    "SegmentId: 0a1b2c3d4e5f6789\tSampled: true",
    "X-Amzn-Trace-Id: Root=1-5e34a614-10bd3ec1f0aa4fa8b9cd0ea7;Parent=53995c3f42cd8ad8;Sampled=1",
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    '{"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}',
    "md5 d41d8cd98f00b204e9800998ecf8427e sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "event 36811374381826925485342451213232343239845837487294312448 sequence 49590338271490256608559692538361571095921575989136588898",
    "function arn:aws:lambda:eu-west-1:123456789012:function:orders-api:42 account 123456789012",
    "correlation_id=0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f request_id: 3f1e6a4c-8a2b-4c1d-9e0f-1a2b3c4d5e6f",
    "uuid 11111111-2222-4333-8444-555555555555 and 41111111-1111-4111-8111-111111111111",
]


@pytest.mark.parametrize("text", IDENTIFIERS)
def test_ids_traces_uuids_hashes_never_redacted(text: str) -> None:
    assert DEFAULT.redact_text(text) == (text, {})
    assert EVERYTHING.redact_text(text) == (text, {})


def test_counts_per_rule() -> None:
    text = (
        "password=a1 password=b2 token=c3 card 4111 1111 1111 1111 and 5555555555554444 "
        "key AKIAIOSFODNN7EXAMPLE url https://u:p@h/x"
    )
    out, counts = DEFAULT.redact_text(text)
    assert counts == {"password": 2, "token": 1, "card_number": 2, "aws_access_key_id": 1, "url_password": 1}
    assert "a1" not in out and "b2" not in out and "c3" not in out and "AKIA" not in out


def test_case_insensitive_keys_and_scheme_kept() -> None:
    assert DEFAULT.redact_text("PASSWORD=x1 Pwd=x2 ApiKey=x3 AUTHORIZATION: BEARER x4") == (
        "PASSWORD=[REDACTED:password] Pwd=[REDACTED:password] ApiKey=[REDACTED:api_key] "
        "AUTHORIZATION: BEARER [REDACTED:authorization]",
        {"password": 2, "api_key": 1, "authorization": 1},
    )


def test_non_ascii_text_that_changes_length_when_lower_cased() -> None:
    # "İ".lower() is two characters: the case-insensitive rules fall back to IGNORECASE
    text = "İstanbul user password=hunter2 Authorization: Bearer abcdefgh123"
    assert DEFAULT.redact_text(text) == (
        "İstanbul user password=[REDACTED:password] Authorization: Bearer [REDACTED:authorization]",
        {"password": 1, "authorization": 1},
    )


def test_optional_email_and_ip_rules() -> None:
    text = "mail alice.smith+tag@example.co.uk from 10.0.0.12, 2001:db8::1 and fe80::1"
    out, counts = EVERYTHING.redact_text(text)
    assert out == (
        "mail [REDACTED:email] from [REDACTED:ip_address], [REDACTED:ip_address] and [REDACTED:ip_address]"
    )
    assert counts == {"email": 1, "ip_address": 3}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a 2001:0db8:85a3:0000:0000:8a2e:0370:7334 b", "a [REDACTED:ip_address] b"),
        ("peer [2001:db8::1]:443", "peer [[REDACTED:ip_address]]:443"),
        ("mapped ::ffff:10.0.0.1", "mapped ::ffff:[REDACTED:ip_address]"),
        (
            "x-forwarded-for: 203.0.113.7, 198.51.100.23",
            "x-forwarded-for: [REDACTED:ip_address], [REDACTED:ip_address]",
        ),
    ],
)
def test_ip_address_forms(text: str, expected: str) -> None:
    assert EVERYTHING.redact_text(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3 and 300.1.1.1 and 10.0.0.256",
        "time 12:30:45 mac 00:1a:2b:3c:4d:5e std::string Foo::bar",
        "decorator @app.route and handle @bob",
    ],
)
def test_optional_rules_false_positive_guards(text: str) -> None:
    assert EVERYTHING.redact_text(text) == (text, {})


def test_disabled_rules() -> None:
    r = Redactor(RedactionConfig(disabled_rules=frozenset({"card_number", "token"})))
    text = "card 4111111111111111 token=abc password=x"
    assert r.redact_text(text) == (
        "card 4111111111111111 token=abc password=[REDACTED:password]",
        {"password": 1},
    )


def test_disabled_entirely() -> None:
    r = Redactor(RedactionConfig(enabled=False, rules=(UserRule("x", "x"),)))
    assert r.redact_text("password=x AKIAIOSFODNN7EXAMPLE") == ("password=x AKIAIOSFODNN7EXAMPLE", {})


def test_allow_listed_key_in_text() -> None:
    r = Redactor(RedactionConfig(allow_fields=frozenset({"csrf_token"})))
    assert r.redact_text("csrf_token=abc123 session_token=def456") == (
        "csrf_token=abc123 session_token=[REDACTED:token]",
        {"token": 1},
    )


def test_user_rules_run_after_builtin_rules() -> None:
    r = Redactor(
        RedactionConfig(
            rules=(
                UserRule("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
                UserRule("customer", r"(customer=)C-\d+", r"\1C-***"),
            )
        )
    )
    text = "push with ghp_" + "a" * 36 + " for customer=C-12345 password=x"
    assert r.redact_text(text) == (
        "push with [REDACTED:github_token] for customer=C-*** password=[REDACTED:password]",
        {"github_token": 1, "customer": 1, "password": 1},
    )


def test_empty_and_whitespace_text() -> None:
    assert DEFAULT.redact_text("") == ("", {})
    assert DEFAULT.redact_text(" \n\t") == (" \n\t", {})


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("password", "password"),
        ("DB_PASSWORD", "password"),
        ("x-api-key", "api_key"),
        ("SecretAccessKey", "aws_secret_access_key"),
        ("client_secret", "secret"),
        ("refreshToken", "token"),
        ("Set-Cookie", "cookie"),
        ("auth", "authorization"),
        ("private_key", "private_key"),
        ("NextToken", None),
        ("token_count", None),
        ("oauth", None),
        ("passwordHash", None),
    ],
)
def test_key_rule(name: str, rule: str | None) -> None:
    assert key_rule(name) == rule


def test_luhn_and_card_prefixes() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert looks_like_card("4111111111111111")
    assert not looks_like_card("1111111111111117")  # Luhn-valid, no card network starts with 1
    assert not looks_like_card("3111111111111117")


def test_trigger_pattern_starts_at_rare_characters() -> None:
    assert trigger_pattern(["token", "pwd"]) == "k(?:(?<=tok)en)|w(?:(?<=pw)d)"
    assert trigger_pattern([]) == "(?!)"
