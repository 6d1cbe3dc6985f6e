"""``lambdalens bootstrap``: create or update what the log indices need in OpenSearch.

Index templates for ``<prefix>-*``, the ISM retention policy and, where fine-grained access
control is on, the ``lambdalens_writer`` / ``lambdalens_reader`` roles and their mappings.
Idempotent: run it again after an upgrade or a change of option; what already matches is
reported ``unchanged``. APIs the cluster does not have are reported ``skipped`` with the
reason.

Options default to the parser's environment variables (OPENSEARCH_ENDPOINT, OPENSEARCH_AUTH,
OPENSEARCH_SECRET_ARN, INDEX_PREFIX, AWS_REGION). --auth defaults to sigv4 for an https endpoint and to
none for http. Exit status: 0 done, 1 OpenSearch failed or refused, 2 invalid options.

examples:
  lambdalens bootstrap --endpoint https://search-logs-abc.eu-west-1.es.amazonaws.com \\
      --retention-days 14 --role-arn arn:aws:iam::123456789012:role/lambdalens-parser
  lambdalens bootstrap --endpoint http://127.0.0.1:9200 --auth none --replicas 0
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from lambdalens.cli.argtypes import non_negative_int, positive_int
from lambdalens.cli.connection import (
    OptionError,
    add_connection_arguments,
    add_index_prefix_argument,
    index_prefix,
    opensearch_config,
)
from lambdalens.cli.connection import default_auth as default_auth  # the auth --auth defaults to
from lambdalens.cli.output import fail, flat, one_line, write_json
from lambdalens.indexing.bootstrap import BootstrapError, BootstrapReport, run_bootstrap
from lambdalens.indexing.templates import (
    DEFAULT_REFRESH_INTERVAL,
    DEFAULT_RETENTION_DAYS,
    WARM_MODES,
    BootstrapOptions,
    WarmMode,
)

PROG = "lambdalens bootstrap"


def default_warm_mode(endpoint: str) -> WarmMode:
    """``ultrawarm`` on Amazon OpenSearch Service (node attributes cannot be set there),
    ``allocation`` to ``temp: warm`` nodes elsewhere."""
    host = urlsplit(endpoint).hostname or ""
    return "ultrawarm" if host.endswith(".es.amazonaws.com") else "allocation"


def _fgac(value: str) -> bool | None:
    return {"auto": None, "on": True, "off": False}[value]


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        config = opensearch_config(args, env, positive_timeout=True)
        endpoint = config.endpoint
        serverless = config.auth == "aoss"
        options = BootstrapOptions(
            index_prefix=index_prefix(args, env),
            retention_days=args.retention_days,
            warm_after_days=args.warm_after_days,
            warm_mode=args.warm_mode or default_warm_mode(endpoint),
            shards=None if serverless else args.shards,
            replicas=None if serverless else args.replicas,
            refresh_interval=None if serverless else args.refresh_interval,
            parser_role_arn=args.role_arn,
            reader_backend_roles=tuple(args.reader_role or ()),
        )
    except (OptionError, ValueError) as exc:  # BootstrapOptions raises ValueError
        return fail(PROG, exc, 2)
    try:
        from lambdalens.indexing.client import make_client

        client = make_client(config)
    except Exception as exc:  # no AWS credentials or region; the basic-auth secret cannot be read
        return fail(PROG, f"cannot create the OpenSearch client: {_one_line(exc)}", 1)
    try:
        report = run_bootstrap(
            client, options, fgac=_fgac(args.fgac), serverless=serverless, dry_run=args.dry_run
        )
    except BootstrapError as exc:
        _print_report(exc.report, endpoint, args.json, error=str(exc))
        return fail(PROG, f"{endpoint}: {exc}", 1)
    _print_report(report, endpoint, args.json)
    return 0


def _one_line(exc: BaseException) -> str:
    return flat(exc) if isinstance(exc, ValueError) else one_line(exc, name_alone=False)


def _print_report(report: BootstrapReport, endpoint: str, as_json: bool, error: str | None = None) -> None:
    if as_json:
        data: dict[str, Any] = {"endpoint": endpoint, **report.as_dict()}
        if error is not None:
            data["error"] = error
        write_json(data)
        return
    if error is not None and not report.steps:
        return
    print(f"{endpoint} ({report.server}){' - dry run' if report.dry_run else ''}")
    print(report.render() if error is None else "\n".join(report.render().splitlines()[:-1]))


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "bootstrap",
        help="create or update the index templates, ISM policy and security roles in OpenSearch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    conn = p.add_argument_group("connection")
    add_connection_arguments(conn)

    idx = p.add_argument_group("indices")
    add_index_prefix_argument(idx)
    idx.add_argument(
        "--shards", type=positive_int, default=1, metavar="N", help="primary shards per daily index (1)"
    )
    idx.add_argument(
        "--replicas", type=non_negative_int, default=1, metavar="N", help="replicas per shard (1)"
    )
    idx.add_argument(
        "--refresh-interval",
        default=DEFAULT_REFRESH_INTERVAL,
        metavar="T",
        help=f"how soon new logs become searchable ({DEFAULT_REFRESH_INTERVAL})",
    )

    ism = p.add_argument_group("retention (ISM)")
    ism.add_argument(
        "--retention-days",
        type=positive_int,
        default=DEFAULT_RETENTION_DAYS,
        metavar="N",
        help=f"delete a daily index N days after its creation ({DEFAULT_RETENTION_DAYS})",
    )
    ism.add_argument(
        "--warm-after-days",
        type=positive_int,
        metavar="N",
        help="move a daily index to warm after N days (off)",
    )
    ism.add_argument(
        "--warm-mode",
        choices=WARM_MODES,
        help="ultrawarm (Amazon OpenSearch Service) or allocation to temp=warm nodes "
        "(default: ultrawarm for *.es.amazonaws.com, else allocation)",
    )

    sec = p.add_argument_group("fine-grained access control")
    sec.add_argument(
        "--role-arn", metavar="ARN", help="the parser Lambda's IAM role, mapped to lambdalens_writer"
    )
    sec.add_argument(
        "--reader-role",
        action="append",
        metavar="BACKEND_ROLE",
        help="a backend role (e.g. an IAM role ARN) to map to lambdalens_reader; repeatable",
    )
    sec.add_argument(
        "--fgac",
        choices=("auto", "on", "off"),
        default="auto",
        help="auto: detect; on: fail if the security plugin is absent; off: skip roles (auto)",
    )

    out = p.add_argument_group("output")
    out.add_argument(
        "--dry-run", action="store_true", help="read everything, write nothing, say what would change"
    )
    out.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)
