"""``lambdalens alerts test --topic ARN [--region R]``: send a sample alert of each kind.

Use it to check subscriptions (e-mail, Slack through AWS Chatbot, PagerDuty, Opsgenie, SQS)
and their filter policies on ``kind`` / ``severity`` / ``function``. ``--dry-run`` prints the
messages instead of sending them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

from lambdalens.alerts.kinds import AlertKind
from lambdalens.alerts.message import render
from lambdalens.alerts.publisher import Publisher
from lambdalens.alerts.samples import sample_alerts
from lambdalens.alerts.settings import TOPIC_ARN_RE, AlertSettings
from lambdalens.metrics.settings import SettingsError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("alerts", help="SNS alerts: send test alerts", description=__doc__)
    parser.set_defaults(func=lambda args: _usage(parser))
    sub = parser.add_subparsers(dest="alerts_command", metavar="ACTION")
    test = sub.add_parser("test", help="send a sample alert of each kind to a topic")
    test.add_argument("--topic", required=True, help="SNS topic ARN")
    test.add_argument("--region", help="AWS region (default: the topic's)")
    test.add_argument("--function", default="orders-api", help="function name shown in the samples")
    test.add_argument(
        "--kind", action="append", choices=[k.value for k in AlertKind], help="only this kind (repeatable)"
    )
    test.add_argument("--no-digest", action="store_true", help="do not send the sample digest")
    test.add_argument("--dry-run", action="store_true", help="print the messages instead of publishing")
    test.add_argument("--json", action="store_true", help="with --dry-run: print the JSON variant")
    test.set_defaults(func=run_test)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_test(args: argparse.Namespace) -> int:
    topic: str = args.topic
    if not TOPIC_ARN_RE.match(topic):
        print(f"lambdalens alerts test: --topic must be an SNS topic ARN, got {topic!r}", file=sys.stderr)
        return 2
    region = args.region or topic.split(":")[3]
    try:
        settings = AlertSettings.from_env(topic_arn=topic, state_table="unused-by-test", region=region)
    except SettingsError as exc:
        print(f"lambdalens alerts test: {exc}", file=sys.stderr)
        return 2
    alerts = [
        a for a in sample_alerts(args.function, region=region) if not args.kind or a.kind.value in args.kind
    ]
    if args.no_digest:
        alerts = [a for a in alerts if not a.digest]
    if args.dry_run:
        for alert in alerts:
            message = render(alert, settings)
            if args.json:
                print(orjson.dumps(message.document, option=orjson.OPT_INDENT_2).decode())
            else:
                print(
                    f"Subject: {message.subject}\nAttributes: {message.attributes}\n\n{message.text}\n{'=' * 72}"
                )
        return 0
    import boto3
    from botocore.config import Config

    sns = boto3.client("sns", region_name=region, config=Config(connect_timeout=5, read_timeout=10))
    publisher = Publisher(sns, topic)
    failed = 0
    for alert in alerts:
        message = render(alert, settings)
        label = f"{alert.kind.value}{' (digest)' if alert.digest else ''}"
        message_id = publisher.publish(message, lambda: 60_000)
        if message_id:
            print(f"{label:32} sent   {message_id}")
        else:
            failed += 1
            print(f"{label:32} FAILED (see the log above)")
    print(f"{len(alerts) - failed} of {len(alerts)} sample alerts sent to {topic}")
    return 1 if failed else 0
