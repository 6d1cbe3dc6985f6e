"""``lambdalens dashboards export|import|preview``: the OpenSearch Dashboards views of the logs.

``export [-o FILE] [--index-prefix P]`` writes the saved objects (index pattern, saved searches,
visualisations, the dashboards Lambda overview and Function drill-down) as the ``.ndjson``
Dashboards 2.x imports; the index pattern's title follows the prefix (INDEX_PREFIX), ids are
stable. Estimated cost prices the functions FUNCTION_ARCHITECTURES (or --arm64) names as arm64,
the others as x86_64, at the prices of LAMBDA_PRICES (as the parser).

``import --endpoint URL [--auth none|basic|sigv4] [--tenant global|private] [--overwrite]``
imports them through the saved-objects API (``<URL>/api/saved_objects/_import``; an Amazon
OpenSearch Service domain endpoint gets ``/_dashboards``) and prints what became of each object.
Importing again changes nothing without --overwrite (Dashboards then reports every object as
existing and writes none) and updates them in place with it. --endpoint defaults to
$OPENSEARCH_DASHBOARDS_URL; --auth to basic with --secret-arn, sigv4 for an Amazon endpoint,
else none.

``preview --endpoint OPENSEARCH_URL [-o page.html] [--png FILE]`` runs every panel's query
against OpenSearch (connection options as for ``lambdalens trace``) and draws the two dashboards
as one HTML page (and a PNG with Chromium), for a look without Dashboards.

Exit status: 0 done, 1 objects failed to import (or preview found no documents), 2 invalid
options, or the request failed.

examples:
  lambdalens dashboards export -o lambdalens-dashboards.ndjson
  lambdalens dashboards import --endpoint https://search-logs-abc.eu-west-1.es.amazonaws.com \\
      --tenant global --overwrite
  lambdalens dashboards import --endpoint http://localhost:5601 --file lambdalens-dashboards.ndjson
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from lambdalens.cli.connection import (
    INDEX_PREFIX_HELP,
    REGION_HELP,
    SECRET_ARN_HELP,
    TIMEOUT_HELP,
    OptionError,
    add_connection_arguments,
    add_index_prefix_argument,
    index_prefix,
    opensearch_config,
)
from lambdalens.cli.output import fail, one_line, write_json
from lambdalens.cli.search_common import open_client, since_of
from lambdalens.config import ENV_SECRET_ARN, Auth, OpenSearchConfig
from lambdalens.dashboards import Catalog, build, saved_objects, to_ndjson
from lambdalens.dashboards.checks import problems
from lambdalens.dashboards.importer import ImportFailed, dashboards_base, import_objects
from lambdalens.dashboards.links import TENANTS, iso
from lambdalens.dashboards.preview import data_range, render_page, screenshot
from lambdalens.metrics.settings import MetricsSettings
from lambdalens.settings import ENV_REGION, SettingsError

PROG = "lambdalens dashboards"
ENV_DASHBOARDS_URL = "OPENSEARCH_DASHBOARDS_URL"
IMPORT_AUTH_MODES = ("none", "basic", "sigv4")
EXIT_FAILED, EXIT_USAGE = 1, 2


def export_data(args: argparse.Namespace, env: Mapping[str, str]) -> bytes:
    """The export file the options describe; :class:`OptionError` for a bad one."""
    try:
        settings = MetricsSettings.from_env(env)
    except SettingsError as exc:
        raise OptionError(str(exc)) from None
    arm64 = {name for name, arch in settings.architectures.items() if arch == "arm64"}
    if args.arm64 is not None:
        arm64 = {name.strip() for name in args.arm64.split(",") if name.strip()}
    try:
        catalog = build(index_prefix(args, env), prices=settings.prices, arm64=arm64)
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    objects = saved_objects(catalog)
    found = problems(objects)
    if found:  # a bug of lambdalens, never the user's: say so rather than write a broken file
        raise RuntimeError("the saved objects fail their own checks: " + "; ".join(found[:5]))
    return to_ndjson(objects)


def run_export(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        data = export_data(args, env)
    except OptionError as exc:
        return fail(f"{PROG} export", exc, EXIT_USAGE)
    if args.output in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        return fail(f"{PROG} export", f"cannot write {args.output}: {exc.strerror or exc}", EXIT_USAGE)
    count = data.count(b"\n") - 1
    print(f"wrote {count} saved objects to {args.output}", file=sys.stderr)
    return 0


def default_import_auth(url: str, secret_arn: str | None) -> Auth:
    """basic with a secret, sigv4 for an Amazon OpenSearch Service endpoint, else none."""
    if secret_arn:
        return "basic"
    host = urlsplit(url).hostname or ""
    return "sigv4" if host.endswith((".amazonaws.com", ".amazonaws.com.cn")) else "none"


def dashboards_config(args: argparse.Namespace, env: Mapping[str, str]) -> OpenSearchConfig:
    """How to reach Dashboards; :class:`OptionError` when that cannot work."""
    url = str(args.endpoint or env.get(ENV_DASHBOARDS_URL, "")).strip()
    if not url:
        raise OptionError(f"--endpoint (or {ENV_DASHBOARDS_URL}) is required: the Dashboards URL")
    url = dashboards_base(url)
    secret_arn = args.secret_arn or env.get(ENV_SECRET_ARN) or None
    if args.timeout <= 0:
        raise OptionError(f"--timeout must be above 0, got {args.timeout}")
    try:
        return OpenSearchConfig(
            endpoint=url,
            auth=cast(Auth, args.auth or default_import_auth(url, secret_arn)),
            secret_arn=secret_arn,
            region=args.region or env.get(ENV_REGION) or None,
            timeout_seconds=args.timeout,
        )
    except ValueError as exc:
        raise OptionError(str(exc).replace("OPENSEARCH_ENDPOINT", "--endpoint")) from None


def _import_data(args: argparse.Namespace, env: Mapping[str, str]) -> bytes:
    if args.file is None:
        return export_data(args, env)
    try:
        return Path(args.file).read_bytes()
    except OSError as exc:
        raise OptionError(f"cannot read {args.file}: {exc.strerror or exc}") from None


def run_import(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    prog = f"{PROG} import"
    try:
        config = dashboards_config(args, env)
        data = _import_data(args, env)
    except OptionError as exc:
        return fail(prog, exc, EXIT_USAGE)
    try:
        report = import_objects(config, data, overwrite=args.overwrite, tenant=args.tenant)
    except ImportFailed as exc:
        return fail(prog, exc, EXIT_USAGE)
    except ValueError as exc:  # a file that is not ndjson; no credentials or region for SigV4
        return fail(prog, exc, EXIT_USAGE)
    if args.json:
        write_json(report.as_dict())
    else:
        print(report.render())
    return 0 if report.success else EXIT_FAILED


def _preview_range(args: argparse.Namespace, client: Any, catalog: Catalog) -> tuple[str, str] | None:
    since = since_of(args)
    if since is not None:
        return iso(int(since.timestamp() * 1000)), iso(int(time.time() * 1000))
    return data_range(client, catalog)


def run_preview(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    prog = f"{PROG} preview"
    try:
        config = opensearch_config(args, env, positive_timeout=True)
        catalog = build(index_prefix(args, env))
        client = open_client(config)
        time_range = _preview_range(args, client, catalog)
        if time_range is None:
            return fail(
                prog, f"no documents in {catalog.index_pattern_title} at {config.endpoint}", EXIT_FAILED
            )
        page = render_page(client, catalog, time_range, args.function)
        Path(args.output).write_text(page, encoding="utf-8")
        if args.png:
            screenshot(Path(args.output), Path(args.png))
    except (OptionError, ValueError, OSError, RuntimeError) as exc:
        return fail(prog, exc, EXIT_USAGE)
    except Exception as exc:  # OpenSearch refused or is unreachable
        return fail(prog, f"OpenSearch at {config.endpoint}: {one_line(exc)}", EXIT_USAGE)
    print(f"wrote {args.output}" + (f" and {args.png}" if args.png else ""), file=sys.stderr)
    return 0


def _add_export_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index-prefix", metavar="P", help=INDEX_PREFIX_HELP)
    p.add_argument(
        "--arm64",
        metavar="NAMES",
        help="comma-separated functions priced as arm64 (default: those FUNCTION_ARCHITECTURES names)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "dashboards",
        help="export or import the OpenSearch Dashboards views (Lambda overview, Function drill-down)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write the saved objects as .ndjson", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    _add_export_options(export)
    export.set_defaults(func=run_export)

    imp = actions.add_parser("import", help="import them into Dashboards", description=__doc__,
                             formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    conn = imp.add_argument_group("connection")
    conn.add_argument(
        "--endpoint", metavar="URL", help=f"the Dashboards URL (default: ${ENV_DASHBOARDS_URL})"
    )
    conn.add_argument("--auth", choices=IMPORT_AUTH_MODES, help="how to sign requests (default: see above)")
    conn.add_argument("--secret-arn", metavar="ARN", help=SECRET_ARN_HELP)
    conn.add_argument("--region", metavar="R", help=REGION_HELP)
    conn.add_argument("--timeout", type=float, default=30.0, metavar="S", help=TIMEOUT_HELP)
    imp.add_argument(
        "--tenant", choices=TENANTS, help="the Dashboards tenant (multi-tenancy; default: the user's)"
    )
    imp.add_argument("--overwrite", action="store_true", help="update objects that exist already")
    imp.add_argument("--file", metavar="FILE", help="import this .ndjson instead of exporting")
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_export_options(imp)
    imp.set_defaults(func=run_import)

    preview = actions.add_parser("preview", help="draw both dashboards from OpenSearch as HTML (and PNG)",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    pconn = preview.add_argument_group("connection")
    add_connection_arguments(pconn)
    add_index_prefix_argument(pconn)
    preview.add_argument(
        "--since", metavar="WHEN", help="30m, 2d or an ISO time (default: all the documents)"
    )
    preview.add_argument(
        "--function", metavar="NAME", help="Function drill-down of NAME (default: most failures)"
    )
    preview.add_argument(
        "-o", "--output", metavar="FILE", default="dashboards-preview.html", help="the HTML page"
    )
    preview.add_argument("--png", metavar="FILE", help="also a screenshot (needs chromium)")
    preview.set_defaults(func=run_preview)
