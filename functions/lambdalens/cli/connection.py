"""How the commands that talk to OpenSearch (``bootstrap``, ``redrive``, ``trace``, ``logs``)
are told where it is: the ``--endpoint/--auth/--secret-arn/--region/--timeout`` and
``--index-prefix`` options, and what they resolve to.

Each option falls back to the parser Lambda's environment variable (OPENSEARCH_ENDPOINT,
OPENSEARCH_AUTH, OPENSEARCH_SECRET_ARN, INDEX_PREFIX and, where the command says so,
AWS_REGION), so a shell set up like the parser needs no options. --auth defaults to ``aoss``
for a Serverless endpoint, ``sigv4`` for any other https endpoint and ``none`` for http.

A command adds the options to one of its argument groups with
:func:`add_connection_arguments` (help texts can be worded for the command) and
:func:`add_index_prefix_argument`, then builds its :class:`~lambdalens.config.OpenSearchConfig`
with :func:`opensearch_config`. What cannot work raises :class:`OptionError` (exit status 2).

Example
-------
>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_connection_arguments(parser.add_argument_group("connection"))
>>> args = parser.parse_args(["--endpoint", "http://127.0.0.1:9200/"])
>>> config = opensearch_config(args, {})
>>> config.endpoint, config.auth
('http://127.0.0.1:9200', 'none')
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from lambdalens.config import (
    AUTH_MODES,
    ENV_AUTH,
    ENV_ENDPOINT,
    ENV_SECRET_ARN,
    Auth,
    OpenSearchConfig,
)
from lambdalens.indexing.bulk_body import DEFAULT_INDEX_PREFIX
from lambdalens.settings import ENV_INDEX_PREFIX, ENV_REGION

ENDPOINT_HELP = f"OpenSearch URL (default: ${ENV_ENDPOINT})"
AUTH_HELP = "how to sign requests (default: see above)"
SECRET_ARN_HELP = (
    f"Secrets Manager secret {{username, password}} for --auth basic (default: ${ENV_SECRET_ARN})"
)
REGION_HELP = f"AWS region for SigV4 (default: ${ENV_REGION} or the AWS config)"
TIMEOUT_HELP = "seconds per request (30)"
INDEX_PREFIX_HELP = f"daily indices are P-YYYY.MM.DD (default: ${ENV_INDEX_PREFIX} or {DEFAULT_INDEX_PREFIX})"


class OptionError(Exception):
    """Options that are missing or cannot work together (exit status 2)."""


def add_connection_arguments(
    group: argparse._ActionsContainer,
    *,
    auth_help: str = AUTH_HELP,
    secret_arn_help: str = SECRET_ARN_HELP,
    region_help: str = REGION_HELP,
    timeout_type: Callable[[str], float] = float,
    timeout_default: float | None = 30.0,
    timeout_help: str = TIMEOUT_HELP,
) -> None:
    """Add --endpoint, --auth, --secret-arn, --region and --timeout to ``group``.

    ``timeout_default=None`` leaves ``args.timeout`` None when the option is not given.
    """
    group.add_argument("--endpoint", metavar="URL", help=ENDPOINT_HELP)
    group.add_argument("--auth", choices=AUTH_MODES, help=auth_help)
    group.add_argument("--secret-arn", metavar="ARN", help=secret_arn_help)
    group.add_argument("--region", metavar="R", help=region_help)
    group.add_argument(
        "--timeout", type=timeout_type, default=timeout_default, metavar="S", help=timeout_help
    )


def add_index_prefix_argument(group: argparse._ActionsContainer) -> None:
    """Add --index-prefix to ``group``."""
    group.add_argument("--index-prefix", metavar="P", help=INDEX_PREFIX_HELP)


def default_auth(endpoint: str, env: Mapping[str, str]) -> Auth:
    """OPENSEARCH_AUTH if set, else ``aoss`` for a Serverless endpoint, ``sigv4`` for any other
    https endpoint and ``none`` for http (a local OpenSearch)."""
    configured = env.get(ENV_AUTH, "").strip().lower()
    if configured in AUTH_MODES:
        return configured  # type: ignore[return-value]
    parts = urlsplit(endpoint)
    if (parts.hostname or "").endswith(".aoss.amazonaws.com"):
        return "aoss"
    return "sigv4" if parts.scheme == "https" else "none"


def endpoint_of(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """--endpoint, else OPENSEARCH_ENDPOINT, without a trailing ``/``; ``""`` when neither is set."""
    return str(args.endpoint or env.get(ENV_ENDPOINT, "")).strip().rstrip("/")


def require_endpoint(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """:func:`endpoint_of`, or :class:`OptionError` when neither is set."""
    endpoint = endpoint_of(args, env)
    if not endpoint:
        raise OptionError(f"--endpoint (or {ENV_ENDPOINT}) is required")
    return endpoint


def auth_of(args: argparse.Namespace, endpoint: str, env: Mapping[str, str]) -> Auth:
    """--auth, else :func:`default_auth`."""
    auth: Auth = args.auth or default_auth(endpoint, env)
    return auth


def index_prefix(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """--index-prefix, else INDEX_PREFIX, else ``lambda-logs``."""
    return str(args.index_prefix or env.get(ENV_INDEX_PREFIX, "").strip() or DEFAULT_INDEX_PREFIX)


def opensearch_config(
    args: argparse.Namespace,
    env: Mapping[str, str],
    *,
    region_from_env: bool = True,
    positive_timeout: bool = False,
) -> OpenSearchConfig:
    """The :class:`OpenSearchConfig` the options (over ``env``) describe.

    Parameters
    ----------
    region_from_env:
        Without --region, take AWS_REGION (else the AWS configuration decides).
    positive_timeout:
        Refuse a --timeout of 0 or less (checked after the endpoint, before the rest).

    Raises
    ------
    OptionError
        No endpoint, or a value :class:`OpenSearchConfig` refuses (its message says which).
    """
    endpoint = require_endpoint(args, env)
    if positive_timeout and args.timeout <= 0:
        raise OptionError(f"--timeout must be above 0, got {args.timeout}")
    region = args.region or (env.get(ENV_REGION) if region_from_env else None) or None
    try:
        return OpenSearchConfig(
            endpoint=endpoint,
            auth=auth_of(args, endpoint, env),
            secret_arn=args.secret_arn or env.get(ENV_SECRET_ARN) or None,
            region=region,
            timeout_seconds=args.timeout,
        )
    except ValueError as exc:  # SettingsError is a ValueError
        raise OptionError(str(exc)) from None
