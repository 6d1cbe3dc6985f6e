"""``lambdalens redrive``: replay what the parser could not index, after the cause is fixed.

--from-sqs QUEUE_URL  the event source mapping's on-failure queue: each message names a
                      shard range Lambda gave up on; the range is read back from Kinesis
                      (while the stream retains it) and processed again. A message is
                      deleted only when its whole range was indexed.
--from-s3 BUCKET      the dead-letter bucket: undecodable records and rejected documents are
                      replayed; an object fully indexed is moved under redriven/ (or deleted
                      with --delete), one partly indexed is rewritten with what is left.

Records go through the parser's own pipeline (decoding, parsing, redaction, indexing with
the event id as _id), configured from the same environment variables as the parser Lambda
(OPENSEARCH_ENDPOINT, OPENSEARCH_AUTH, OPENSEARCH_SECRET_ARN, INDEX_PREFIX,
DEAD_LETTER_BUCKET, DEAD_LETTER_PREFIX, MAX_BODY_CHARS, REDACTION_*): from the shell, or
read from the deployed function with --parser-function; options win over both.
Replaying is idempotent: what is already indexed is answered 409 and counted "already
present". boto3's AWS_ENDPOINT_URL points every AWS client elsewhere (e.g. a moto server).

Exit status: 0 everything replayed (dead-lettered again or skipped counts as handled);
1 something failed, expired from the stream, or could not be read; 2 invalid options.

examples:
  lambdalens redrive --from-sqs https://sqs.eu-west-1.amazonaws.com/123456789012/lambdalens-parser-failures \\
      --endpoint https://search-logs-abc.eu-west-1.es.amazonaws.com --dead-letter-bucket lambdalens-dlq
  lambdalens redrive --from-sqs "$QUEUE_URL" --parser-function lambdalens-parser
  lambdalens redrive --from-s3 lambdalens-dlq --since 2024/05/01 --dry-run
  lambdalens redrive --from-s3 lambdalens-dlq --since 2024/05/01/13 --until 2024/05/01/15 --json
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from lambdalens.cli.argtypes import positive_int, positive_seconds
from lambdalens.cli.connection import (
    OptionError,
    add_connection_arguments,
    add_index_prefix_argument,
    auth_of,
    endpoint_of,
    require_endpoint,
)
from lambdalens.cli.connection import default_auth as default_auth  # the auth --auth defaults to
from lambdalens.cli.output import fail, one_line, write_json
from lambdalens.config import (
    ENV_AUTH,
    ENV_DEAD_LETTER_BUCKET,
    ENV_DEAD_LETTER_PREFIX,
    ENV_ENDPOINT,
    ENV_SECRET_ARN,
    ENV_TIMEOUT,
)
from lambdalens.redrive.progress import Progress
from lambdalens.redrive.report import RedriveReport
from lambdalens.redrive.s3 import DEFAULT_REDRIVEN_PREFIX, S3Redrive, check_key_time
from lambdalens.settings import ENV_INDEX_PREFIX, ENV_REGION

PROG = "lambdalens redrive"
#: Stands in for OpenSearch in a dry run without --endpoint (nothing is ever sent to it).
DRY_RUN_ENDPOINT = "http://dry-run.invalid"
_SQS_HOST = re.compile(
    r"^(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com)$"
)


def queue_region(queue_url: str) -> str | None:
    """``https://sqs.eu-west-1.amazonaws.com/123/q`` -> ``eu-west-1`` (None for other hosts)."""
    match = _SQS_HOST.match(urlsplit(queue_url).hostname or "")
    return (match.group(1) or match.group(2)) if match else None


def parser_environment(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str]:
    """The parser Lambda's environment, with the options written over it."""
    out = dict(env)
    endpoint = (endpoint_of(args, env) or DRY_RUN_ENDPOINT) if args.dry_run else require_endpoint(args, env)
    out[ENV_ENDPOINT] = endpoint
    out[ENV_AUTH] = "none" if endpoint == DRY_RUN_ENDPOINT else auth_of(args, endpoint, env)
    if args.secret_arn:
        out[ENV_SECRET_ARN] = args.secret_arn
    if args.index_prefix:
        out[ENV_INDEX_PREFIX] = args.index_prefix
    if args.timeout is not None:
        out[ENV_TIMEOUT] = str(args.timeout)
    if args.region:
        out[ENV_REGION] = args.region
    bucket = args.dead_letter_bucket or env.get(ENV_DEAD_LETTER_BUCKET, "").strip()
    if not bucket:
        if args.from_sqs and not args.dry_run:
            raise OptionError(
                f"--dead-letter-bucket (or {ENV_DEAD_LETTER_BUCKET}) is required with --from-sqs: "
                "records that still cannot be indexed are dead-lettered there"
            )
        bucket = args.from_s3 or "dry-run"
    out[ENV_DEAD_LETTER_BUCKET] = bucket
    return out


def function_environment(function: str, region: str | None) -> dict[str, str]:
    """The environment variables of the parser Lambda ``function`` (name or ARN), plus its
    ``AWS_REGION``, read with ``lambda:GetFunctionConfiguration``."""
    import boto3

    if function.startswith("arn:") and not region:
        region = function.split(":")[3]
    config = boto3.client("lambda", region_name=region).get_function_configuration(FunctionName=function)
    variables = (config.get("Environment") or {}).get("Variables") or {}
    out = {str(k): str(v) for k, v in variables.items()}
    arn = str(config.get("FunctionArn", ""))
    if arn.count(":") >= 6:
        out.setdefault(ENV_REGION, arn.split(":")[3])
    return out


def _clients(region: str | None) -> tuple[Callable[[str], Any], Callable[[str | None], Any]]:
    """``(client(service), kinesis_for(region))`` — boto3 clients, one per region."""
    import boto3

    cache: dict[tuple[str, str | None], Any] = {}

    def client(service: str, where: str | None = region) -> Any:
        key = (service, where or region)
        if key not in cache:
            cache[key] = boto3.client(service, region_name=where or region)
        return cache[key]

    def kinesis_for(where: str | None) -> Any:
        return client("kinesis", where)

    return client, kinesis_for


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        if args.from_sqs and (args.since or args.until or args.prefix is not None):
            raise OptionError(
                "--prefix, --since and --until select dead-letter objects: use them with --from-s3"
            )
        since = check_key_time(args.since) if args.since else None
        until = check_key_time(args.until) if args.until else None
    except (OptionError, ValueError) as exc:
        return fail(PROG, exc, 2)
    if args.parser_function:
        try:
            env = {**env, **function_environment(args.parser_function, args.region)}
        except Exception as exc:
            return fail(PROG, f"cannot read the configuration of {args.parser_function}: {_one_line(exc)}", 1)
    try:
        environment = parser_environment(args, env)
    except OptionError as exc:
        return fail(PROG, exc, 2)
    try:
        from lambdalens.handlers.parser import build_runtime

        pipeline = build_runtime(environment).pipeline
    except ValueError as exc:  # SettingsError, RedactionConfigError: a variable or option is wrong
        return fail(PROG, f"invalid configuration: {exc}", 2)
    except Exception as exc:  # no credentials for SigV4, the basic-auth secret cannot be read...
        return fail(PROG, f"cannot set up the pipeline: {_one_line(exc)}", 1)
    region = args.region or environment.get(ENV_REGION) or None
    progress = Progress(sys.stderr, None, "messages" if args.from_sqs else "objects")
    if args.quiet:
        progress.enabled = False
    shared: dict[str, Any] = {  # what both sources are given
        "pipeline": pipeline,
        "batch_size": args.batch_size,
        "batch_seconds": args.batch_timeout,
        "dry_run": args.dry_run,
        "keep": args.keep,
        "keep_going": args.keep_going,
        "progress": progress,
    }
    try:
        if args.from_sqs:
            from lambdalens.redrive.sqs import SqsRedrive

            client, kinesis_for = _clients(region or queue_region(args.from_sqs))
            report = SqsRedrive(
                sqs=client("sqs"),
                queue_url=args.from_sqs,
                kinesis_for=kinesis_for,
                visibility_timeout=args.visibility_timeout,
                wait_seconds=args.wait_seconds,
                max_messages=args.max_messages,
                discard_expired=args.discard_expired,
                **shared,
            ).run()
        else:
            client, _ = _clients(region)
            prefix = (
                args.prefix
                if args.prefix is not None
                else environment.get(ENV_DEAD_LETTER_PREFIX, "dead-letter/")
            )
            if prefix and not prefix.endswith("/"):
                prefix += "/"
            report = S3Redrive(
                s3=client("s3"),
                bucket=args.from_s3,
                prefix=prefix,
                since=since,
                until=until,
                redriven_prefix=args.redriven_prefix,
                delete=args.delete,
                reindex_truncated=args.reindex_truncated,
                **shared,
            ).run()
    except Exception as exc:  # the queue or bucket cannot be read at all
        return fail(PROG, _one_line(exc), 1)
    _print(report, args.json)
    return 0 if report.ok else 1


def _print(report: RedriveReport, as_json: bool) -> None:
    if as_json:
        write_json(report.as_dict())
    else:
        print(report.render())


def _one_line(exc: BaseException) -> str:
    return one_line(exc, name_alone=False)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "redrive",
        help="replay what could not be indexed: the on-failure queue (via Kinesis) or the dead-letter bucket",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-sqs", metavar="QUEUE_URL", help="the event source mapping's on-failure queue")
    source.add_argument("--from-s3", metavar="BUCKET", help="the dead-letter bucket")

    s3 = p.add_argument_group("--from-s3")
    s3.add_argument(
        "--prefix",
        metavar="P",
        help=f"key prefix of the dead letters (default: ${ENV_DEAD_LETTER_PREFIX} or dead-letter/)",
    )
    s3.add_argument("--since", metavar="YYYY/MM/DD[/HH]", help="only objects from this day (or hour) on")
    s3.add_argument(
        "--until", metavar="YYYY/MM/DD[/HH]", help="only objects up to this day (or hour), included"
    )
    s3.add_argument(
        "--reindex-truncated",
        action="store_true",
        help="replace documents indexed truncated with their full text (skipped otherwise)",
    )
    s3.add_argument("--delete", action="store_true", help="delete replayed objects instead of moving them")
    s3.add_argument(
        "--redriven-prefix",
        default=DEFAULT_REDRIVEN_PREFIX,
        metavar="P",
        help=f"where replayed objects are moved, under their own key ({DEFAULT_REDRIVEN_PREFIX})",
    )

    sqs = p.add_argument_group("--from-sqs")
    sqs.add_argument("--max-messages", type=positive_int, metavar="N", help="replay at most N messages")
    sqs.add_argument(
        "--visibility-timeout",
        type=positive_int,
        default=900,
        metavar="S",
        help="seconds a message is hidden while its range is replayed (900)",
    )
    sqs.add_argument(
        "--wait-seconds", type=int, default=1, choices=range(0, 21), metavar="S", help="SQS long polling (1)"
    )
    sqs.add_argument(
        "--discard-expired",
        action="store_true",
        help="delete messages whose records have expired from the stream (kept by default)",
    )

    conn = p.add_argument_group("connection")
    conn.add_argument(
        "--parser-function",
        metavar="NAME",
        help="take the settings (endpoint, auth, index prefix, dead-letter bucket, redaction, "
        "MAX_BODY_CHARS...) from this parser Lambda's environment, so the replay makes the same "
        "documents; the options below win over it",
    )
    add_connection_arguments(
        conn,
        auth_help="sigv4 | aoss | basic | none (default: sigv4 for https, none for http)",
        secret_arn_help=f"secret {{username, password}} for --auth basic (${ENV_SECRET_ARN})",
        region_help="AWS region (default: the AWS configuration)",
        timeout_type=positive_seconds,
        timeout_default=None,
        timeout_help="seconds per OpenSearch request (30)",
    )

    idx = p.add_argument_group("indexing")
    add_index_prefix_argument(idx)
    idx.add_argument(
        "--dead-letter-bucket",
        metavar="B",
        help=f"where records that still cannot be indexed go (--from-sqs; default: ${ENV_DEAD_LETTER_BUCKET})",
    )
    idx.add_argument(
        "--batch-size", type=positive_int, default=200, metavar="N", help="records per batch (200)"
    )
    idx.add_argument(
        "--batch-timeout",
        type=positive_seconds,
        default=300.0,
        metavar="S",
        help="seconds a batch may spend retrying OpenSearch before it counts as failed (300)",
    )

    out = p.add_argument_group("run")
    out.add_argument("--dry-run", action="store_true", help="read and parse, index nothing, delete nothing")
    out.add_argument(
        "--keep", action="store_true", help="replay, but leave messages and objects where they are"
    )
    out.add_argument("--keep-going", action="store_true", help="go on after a message or object fails")
    out.add_argument("--json", action="store_true", help="print the report as JSON")
    out.add_argument(
        "--quiet", action="store_true", help="no progress bar (there is none unless stderr is a terminal)"
    )
    p.set_defaults(func=run)
