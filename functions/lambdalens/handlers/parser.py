"""The parser Lambda: Kinesis (CloudWatch Logs subscription records) -> OpenSearch, metrics, alerts.

Entry point ``lambdalens.handlers.parser.handler`` for a Kinesis event source mapping with
``ReportBatchItemFailures``. Configuration comes from the environment and is validated at
cold start (see :class:`lambdalens.config.ParserConfig`, :mod:`lambdalens.metrics.settings`,
:mod:`lambdalens.alerts.settings`, :mod:`lambdalens.redaction`); a bad value fails the init
with a message naming the variable.

Per batch: :func:`lambdalens.pipeline.process_records` indexes every record's events and
dead-letters what cannot be indexed; records whose documents OpenSearch could not take
before the deadline are reported as batch item failures (Powertools partial batch
response) and Kinesis redelivers them. Then metrics (EMF) and alerts (SNS) are produced from
the records that succeeded for the first time — never blocking or failing indexing.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from lambdalens.alerts.engine import AlertEngine, AlertOutcome
from lambdalens.alerts.settings import AlertSettings
from lambdalens.config import ParserConfig
from lambdalens.metrics.emf import emf_record, emit
from lambdalens.metrics.function_metrics import build_function_metrics
from lambdalens.metrics.functions import FunctionConfigCache
from lambdalens.metrics.pipeline import PipelineStats, pipeline_metric_values
from lambdalens.metrics.settings import MetricsSettings
from lambdalens.pipeline import BatchOutcome, Pipeline
from lambdalens.pipeline.documents import redact_parsed as redact_parsed  # (the bench imports it from here)
from lambdalens.pipeline.documents import redaction_hook
from lambdalens.redaction import Redactor
from lambdalens.retry import Deadline

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "lambdalens"))


class RecordNotIndexed(Exception):
    """A record whose documents could not all be indexed in this invocation (Kinesis redelivers it)."""


@dataclass
class Runtime:
    """Everything built once per execution environment."""

    config: ParserConfig
    pipeline: Pipeline
    metrics_settings: MetricsSettings
    function_configs: FunctionConfigCache
    alerts: AlertEngine | None


def build_runtime(env: dict[str, str] | None = None) -> Runtime:
    """Validate the configuration and wire the stages (the cold start)."""
    import boto3

    from lambdalens.alerts import clients
    from lambdalens.indexing.client import BulkTransport, make_client
    from lambdalens.indexing.dead_letter import DeadLetterWriter
    from lambdalens.indexing.indexer import BulkIndexer
    from lambdalens.retry import Backoff

    environ = dict(os.environ) if env is None else env
    config = ParserConfig.from_env(environ)
    metrics_settings = MetricsSettings.from_env(environ)
    alert_settings = AlertSettings.from_env(environ)
    redactor = Redactor.from_env(environ)
    region = environ.get("AWS_REGION")
    indexer = BulkIndexer(
        BulkTransport(make_client(config.opensearch, connections=max(4, config.bulk_concurrency))),
        index_prefix=config.index_prefix,
        max_bytes=config.bulk_max_bytes,
        max_items=config.bulk_max_items,
        request_timeout=config.opensearch.timeout_seconds,
        backoff=Backoff(base_ms=config.retry_base_ms, max_ms=config.retry_max_ms),
        concurrency=config.bulk_concurrency,
    )
    dead_letters = DeadLetterWriter(
        boto3.client("s3", region_name=region), config.dead_letter_bucket, config.dead_letter_prefix
    )
    lambda_client = clients.lambda_client(region)
    function_configs = FunctionConfigCache(
        lambda_client, metrics_settings.architectures, metrics_settings.config_ttl_seconds
    )
    alerts = None
    if alert_settings.enabled:
        alerts = AlertEngine(
            alert_settings,
            clients.sns_client(region),
            clients.state_table(alert_settings.state_table, region) if alert_settings.state_table else None,
            configs=function_configs,
            redact=lambda text: redactor.redact_text(text)[0],
        )
    pipeline = Pipeline(
        indexer=indexer,
        dead_letters=dead_letters,
        region=region,
        max_body_chars=config.max_body_chars,
        document_hook=redaction_hook(redactor),  # (the document stage of lambdalens.pipeline.documents)
    )
    return Runtime(config, pipeline, metrics_settings, function_configs, alerts)


_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = build_runtime()
    return _runtime


class KinesisBulkProcessor(BatchProcessor):
    """Powertools' partial batch processor, processing the whole batch at once.

    Records are not handled one by one: all of them are parsed first and their documents
    indexed with as few bulk requests as the size limits allow. Each record is then
    reported to Powertools as a success or a failure, which builds the
    ``batchItemFailures`` response.
    """

    def __init__(self, pipeline: Pipeline, deadline: Deadline, request_id: str | None) -> None:
        super().__init__(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
        self.pipeline = pipeline
        self.deadline = deadline
        self.request_id = request_id
        self.outcome: BatchOutcome | None = None

    def process(self) -> list[tuple[Any, ...]]:
        outcome = self.outcome = self.pipeline.run(self.records, self.deadline, self.request_id)
        results: list[tuple[Any, ...]] = []
        for raw, record in zip(self.records, outcome.records, strict=True):
            if record.ok:
                results.append(self.success_handler(record=raw, result=record))
            else:
                exc = RecordNotIndexed(f"record {record.record_id}: {record.reason}")
                results.append(
                    self.failure_handler(
                        record=KinesisStreamRecord(raw), exception=(RecordNotIndexed, exc, None)
                    )
                )
        return results


def emit_metrics(
    rt: Runtime,
    outcome: BatchOutcome,
    alerts: AlertOutcome | None,
    countable: list[Any],
    home_account: str | None,
) -> None:
    """Pipeline health (Powertools Metrics) and per-function metrics (EMF, values aggregated per batch)."""
    settings = rt.metrics_settings
    if home_account and settings.home_account is None:
        settings = dataclasses.replace(settings, home_account=home_account)
    # EphemeralMetrics: no state shared between invocations or runtimes (Metrics keeps a class-wide store).
    health = EphemeralMetrics(namespace=settings.namespace, service="lambdalens")
    health.add_dimension(name="Pipeline", value=settings.pipeline)
    counts = outcome.counts()
    stats = PipelineStats(
        records=counts["records"],
        events=counts["events"],
        indexed=counts["indexed"],
        duplicates=counts["duplicates"],
        retried=counts["retried"],
        safe_form=counts["safe_form"],
        dead_lettered=counts["dead_lettered"],
        parse_failures=counts["parse_failures"],
        batch_item_failures=counts["batch_item_failures"],
        control_messages=counts["control_messages"],
    )
    if alerts is not None:
        stats.add_alerts(alerts)
    stats.add_lag(outcome.docs)
    for name, (unit, value) in pipeline_metric_values(stats).items():
        health.add_metric(name=name, unit=unit, value=value)
    health.add_metric(name="Redactions", unit=MetricUnit.Count, value=sum(outcome.redactions.values()))
    health.add_metric(name="Truncated", unit=MetricUnit.Count, value=counts["truncated"])
    health.flush_metrics()
    records = [
        # one record per redaction rule: which rule fires, and how often, shows who leaks what
        emf_record(
            settings.namespace,
            [["Pipeline", "Rule"]],
            {"Pipeline": settings.pipeline, "Rule": rule},
            {"Redactions": ("Count", n)},
            int(time.time() * 1000),
        )
        for rule, n in sorted(outcome.redactions.items())
    ]
    if countable:
        records.extend(build_function_metrics(countable, settings, rt.function_configs))
    emit(records)


def handle(event: dict[str, Any], context: Any, rt: Runtime) -> dict[str, Any]:
    """Process one Kinesis event with an explicit runtime (the demo and tests call this)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    deadline = Deadline(remaining if callable(remaining) else (lambda: 900_000), rt.config.deadline_margin_ms)
    request_id = getattr(context, "aws_request_id", None)
    processor = KinesisBulkProcessor(rt.pipeline, deadline, request_id)
    records = event.get("Records") or []
    with processor(records=records, handler=lambda record: None, lambda_context=context):
        processor.process()
    outcome = processor.outcome
    if outcome is None:
        return dict(processor.response())
    countable = outcome.countable_docs
    alert_outcome: AlertOutcome | None = None
    if rt.alerts is not None and countable:
        alert_outcome = rt.alerts.process(countable, lambda: deadline.remaining_ms() - 1000)
    try:
        arn = str(getattr(context, "invoked_function_arn", "") or "")
        emit_metrics(
            rt, outcome, alert_outcome, countable, arn.split(":")[4] if arn.count(":") >= 5 else None
        )
    except Exception:  # metrics must never fail indexing
        logger.exception("could not emit metrics")
    logger.info(
        "batch processed",
        extra={
            **outcome.counts(),
            "failed_records": [str(r.record_id) for r in outcome.failed][:20],
            "dead_letter_keys": outcome.dead_letter_keys,
            "parse_seconds": round(outcome.parse_seconds, 3),
            "index_seconds": round(outcome.index_seconds, 3),
            "alerts": dataclasses.asdict(alert_outcome) if alert_outcome is not None else None,
        },
    )
    return dict(processor.response())


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    try:
        rt = runtime()
    except Exception as exc:
        print(f"lambdalens: invalid configuration: {exc}", file=sys.stderr)
        raise
    return handle(event, context, rt)
