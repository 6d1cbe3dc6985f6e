"""An alert -> what is published on SNS: subject, text body, Chatbot/markdown and JSON variants.

The SNS message uses ``MessageStructure=json``:

* ``default`` and ``email``: the plain text body;
* ``https``: an AWS Chatbot (Amazon Q Developer in chat applications) custom notification,
  so a Slack / Teams channel renders it;
* ``sqs``, ``lambda``, ``email-json``, ``firehose``: the same notification plus an ``alert``
  object with every field typed, for machines.

Message attributes ``kind``, ``severity`` and ``function`` (String) let subscribers filter.
Untrusted values (messages, error types, names) go through :func:`~lambdalens.alerts.escape.clean`
in every human-readable variant; the message is redacted (``redact``) before it is truncated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from lambdalens.alerts.escape import clean, subject, truncate
from lambdalens.alerts.kinds import PLURAL, SEVERITY, TITLE, AlertKind
from lambdalens.alerts.links import dashboards_links, log_stream_url
from lambdalens.alerts.settings import AlertSettings

Redact = Callable[[str], str]
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert to send (or a digest of a quiet period), before rendering.

    ``count`` is how many occurrences this alert stands for in this batch (itself included);
    ``previous_suppressed`` how many were held back in the previous quiet period (the digest
    carried by this alert); for a digest alert (``digest=True``) ``count`` is the number of
    occurrences held back during the quiet period that just ended. ``details`` holds
    kind-specific numbers (``duration_ms``, ``timeout_ms``, ``median_ms``, ``samples``,
    ``window_count``, ``first_seen_ms``, ``total_count``...).
    """

    kind: AlertKind
    function: str
    time_ms: int
    account: str | None = None
    region: str | None = None
    request_id: str | None = None
    error_type: str | None = None
    message: str | None = None
    fingerprint: str | None = None
    log_group: str | None = None
    log_stream: str | None = None
    version: str | None = None
    count: int = 1
    previous_suppressed: int = 0
    digest: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return SEVERITY[self.kind].value

    @property
    def alert_id(self) -> str:
        raw = f"{self.function}|{self.kind}|{self.fingerprint}|{self.request_id}|{self.time_ms}|{self.digest}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """A rendered alert, ready for ``sns.publish(**message.publish_kwargs(topic_arn))``."""

    subject: str
    text: str
    markdown: str
    chatbot: dict[str, Any]
    document: dict[str, Any]
    attributes: dict[str, str]

    def publish_kwargs(self, topic_arn: str) -> dict[str, Any]:
        human = self.text
        chatbot = orjson.dumps(self.chatbot).decode()
        machine = orjson.dumps(self.document).decode()
        structure = {
            "default": human,
            "email": human,
            "https": chatbot,
            "http": chatbot,
            "sqs": machine,
            "lambda": machine,
            "email-json": machine,
            "firehose": machine,
        }
        return {
            "TopicArn": topic_arn,
            "Subject": self.subject,
            "Message": orjson.dumps(structure).decode(),
            "MessageStructure": "json",
            "MessageAttributes": {
                k: {"DataType": "String", "StringValue": v} for k, v in self.attributes.items()
            },
        }


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def minutes(value: float) -> str:
    return f"{value:g} min"


def _headline(alert: Alert, settings: AlertSettings, err: str, d: Mapping[str, Any]) -> str:
    """One sentence saying what happened (from trusted numbers and cleaned values)."""
    fn = clean(alert.function, 80)
    if alert.digest:
        return f"and {alert.count} more {PLURAL[alert.kind]} in {fn} in the last {minutes(settings.quiet_period_minutes)}"
    k = alert.kind
    if k is AlertKind.TIMEOUT:
        took = f" after {d['duration_ms'] / 1000:.2f} s" if d.get("duration_ms") else ""
        return f"{fn} timed out{took}"
    if k is AlertKind.OUT_OF_MEMORY:
        mem = (
            f" ({d['max_memory_mb']:g} of {d['memory_mb']:g} MB used)"
            if d.get("max_memory_mb") and d.get("memory_mb")
            else ""
        )
        return f"{fn} ran out of memory{mem}"
    if k is AlertKind.INIT_ERROR:
        return f"{fn} failed to initialise" + (f": {err}" if err else "")
    if k is AlertKind.NEW_ERROR:
        again = d.get("rearmed") and d.get("last_seen_ms")
        when = f" (not seen since {iso(int(d['last_seen_ms']))})" if again else " (first seen)"
        return f"new error in {fn}: {err or 'error'}{when}"
    if k is AlertKind.ERROR_BURST:
        return f"{d.get('window_count', alert.count)} failed invocations of {fn} within {minutes(settings.error_burst_window_minutes)}"
    if k is AlertKind.NEAR_TIMEOUT:
        return f"{fn} used {d.get('ratio', 0) * 100:.0f}% of its {d.get('timeout_ms', 0) / 1000:g} s timeout"
    return f"{fn} took {d.get('duration_ms', 0):.0f} ms, {d.get('factor', 0):.1f}x its recent median of {d.get('median_ms', 0):.0f} ms"


def _subject(alert: Alert, err_raw: str | None) -> str:
    fn = alert.function
    if alert.digest:
        return subject(f"LambdaLens: {alert.count} more {PLURAL[alert.kind]} in {fn}")
    title = TITLE[alert.kind]
    tail = f": {err_raw}" if err_raw and alert.kind in (AlertKind.NEW_ERROR, AlertKind.INIT_ERROR) else ""
    where = f" ({alert.region})" if alert.region else ""
    return subject(f"LambdaLens {title} in {fn}{where}{tail}")


def render(alert: Alert, settings: AlertSettings, redact: Redact | None = None) -> AlertMessage:
    """Render ``alert``: subject < 100 chars, escaped text and markdown, JSON document.

    Parameters
    ----------
    alert:
        What to say.
    settings:
        Links (``OPENSEARCH_DASHBOARDS_URL``, index pattern), quiet period, limits.
    redact:
        Applied to the error message (and nothing is sent unredacted when given) before
        truncation to ``settings.message_max_chars``.
    """
    d = dict(alert.details)
    max_chars = settings.message_max_chars
    raw_message = alert.message or ""
    if redact is not None and raw_message:
        raw_message = redact(raw_message)
    raw_message = truncate(raw_message, max_chars)
    err_type = clean(alert.error_type, 120)
    message = clean(raw_message, max_chars + 20)
    region = alert.region or settings.region
    links = {
        **dashboards_links(
            settings.dashboards,
            alert.kind,
            alert.function,
            alert.time_ms,
            alert.request_id,
            alert.fingerprint,
        ),
        "cloudwatch_log_stream": log_stream_url(
            region, alert.log_group, alert.log_stream, alert.request_id, alert.time_ms
        ),
    }
    labels = _link_labels(alert)
    headline = _headline(alert, settings, err_type, d)
    subj = _subject(alert, alert.error_type)

    occurrences = (
        f"{alert.count} in this batch" if not alert.digest else f"{alert.count} held back in the quiet period"
    )
    if d.get("window_count") is not None and alert.kind is AlertKind.ERROR_BURST:
        occurrences = f"{d['window_count']} failed invocations in the last {minutes(settings.error_burst_window_minutes)}"
    if d.get("total_count"):
        occurrences += (
            f"; {d['total_count']} since first seen {iso(int(d['first_seen_ms']))}"
            if d.get("first_seen_ms")
            else ""
        )
    if alert.previous_suppressed:
        occurrences += (
            f"; and {alert.previous_suppressed} more in the previous {minutes(settings.quiet_period_minutes)}"
        )

    rows: list[tuple[str, str]] = [
        (
            "Function",
            clean(alert.function, 140) + (f" ({clean(alert.version, 40)})" if alert.version else ""),
        ),
        ("Account", clean(alert.account or "unknown", 20)),
        ("Region", clean(region or "unknown", 30)),
        ("Time", iso(alert.time_ms)),
        ("Request ID", clean(alert.request_id or "n/a", 80)),
        ("Error type", err_type or "n/a"),
        ("Message", message or "n/a"),
        ("Occurrences", occurrences),
    ]
    if alert.fingerprint:
        rows.append(("Fingerprint", clean(alert.fingerprint, 40)))
    if d.get("duration_ms") is not None:
        extra = ""
        if d.get("timeout_ms"):
            extra = f" of a {d['timeout_ms'] / 1000:g} s timeout"
        elif d.get("median_ms"):
            extra = f" (median {d['median_ms']:.0f} ms over {d.get('samples', 0)} recent invocations)"
        rows.append(("Duration", f"{d['duration_ms']:.2f} ms{extra}"))
    quiet = (
        f"More {PLURAL[alert.kind]} in {clean(alert.function, 80)} within {minutes(settings.quiet_period_minutes)} "
        "are not sent one by one: a digest follows when the quiet period ends."
    )
    width = max(len(k) for k, _ in rows) + 2
    lines = [f"{TITLE[alert.kind]} ({alert.severity}): {headline}", ""]
    lines += [f"{(k + ':').ljust(width)}{v}" for k, v in rows]
    lines.append("")
    lines += [f"{labels[key]}: {url}" for key, url in links.items() if url]
    lines += ["", quiet, f"-- lambdalens, pipeline {clean(settings.pipeline, 60)}"]
    text = "\n".join(lines)

    md_rows = [f"*{k}:* {v}" for k, v in rows if k != "Message"]
    md = [f"*{headline}*", "", *md_rows]
    if message:
        md += ["```", message, "```"]
    markdown = "\n".join(md)
    next_steps = [f"<{url}|{labels[key]}>" for key, url in links.items() if url]
    typed: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": alert.alert_id,
        "kind": alert.kind.value,
        "severity": alert.severity,
        "digest": alert.digest,
        "function": alert.function,
        "version": alert.version,
        "account": alert.account,
        "region": region,
        "time": iso(alert.time_ms),
        "request_id": alert.request_id,
        "error_type": alert.error_type,
        "message": raw_message or None,
        "fingerprint": alert.fingerprint,
        "log_group": alert.log_group,
        "log_stream": alert.log_stream,
        "count": alert.count,
        "previous_suppressed": alert.previous_suppressed,
        "quiet_period_minutes": settings.quiet_period_minutes,
        "details": d,
        "links": {k: v for k, v in links.items() if v},
        "pipeline": settings.pipeline,
    }
    chatbot: dict[str, Any] = {
        "version": "1.0",
        "source": "custom",
        "id": alert.alert_id,
        "content": {
            "textType": "client-markdown",
            "title": f"{TITLE[alert.kind]}: {clean(alert.function, 80)}",
            "description": markdown,
            "nextSteps": next_steps,
            "keywords": [alert.kind.value, alert.severity],
        },
        "metadata": {
            "threadId": f"lambdalens/{alert.function}/{alert.kind.value}",
            "summary": subj,
            "eventType": f"lambdalens.{alert.kind.value}",
            "relatedResources": [r for r in (_function_arn(alert),) if r],
            "additionalContext": {
                "severity": alert.severity,
                "function": alert.function,
                "request_id": alert.request_id or "",
            },
        },
    }
    document = {**chatbot, "alert": typed}
    attributes = {
        "kind": alert.kind.value,
        "severity": alert.severity,
        "function": alert.function[:256] or "unknown",
    }
    return AlertMessage(subj, text, markdown, chatbot, document, attributes)


_SEARCH_LABEL = {
    AlertKind.TIMEOUT: "Timeouts",
    AlertKind.OUT_OF_MEMORY: "Out-of-memory kills",
    AlertKind.INIT_ERROR: "Init errors",
    AlertKind.NEW_ERROR: "This error",
    AlertKind.ERROR_BURST: "Errors",
}


def _link_labels(alert: Alert) -> dict[str, str]:
    """What each link opens, as the text and chat variants name it."""
    fn = clean(alert.function, 80)
    return {
        "opensearch_discover": "Logs in OpenSearch Dashboards",
        "opensearch_search": f"{_SEARCH_LABEL.get(alert.kind, 'Errors')} of {fn} in OpenSearch Dashboards",
        "opensearch_dashboard": f"Function drill-down of {fn} in OpenSearch Dashboards",
        "cloudwatch_log_stream": "CloudWatch log stream",
    }


def _function_arn(alert: Alert) -> str | None:
    if not (alert.account and alert.region):
        return None
    from lambdalens.metrics.functions import function_arn

    return function_arn(alert.function, alert.account, alert.region)
