"""Alarms (all to the SNS alert topic) and the pipeline's CloudWatch dashboard.

Every alarm is named ``<pipeline>-<kind>`` (per function: ``<pipeline>-fn-<function>-<kind>``)
and its description points to the runbook section of ``README.md`` named after the kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambdalens_infra.config import PipelineConfig
from lambdalens_infra.search import SearchTarget

RUNBOOK: Final = "README.md#runbook"
FIVE_MINUTES: Final = Duration.minutes(5)
ONE_MINUTE: Final = Duration.minutes(1)
GTE: Final = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
LTE: Final = cw.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD


@dataclass(frozen=True)
class Rule:
    """An alarm rule: statistic threshold over ``datapoints`` of ``periods`` consecutive periods."""

    threshold: float
    periods: int = 1
    datapoints: int | None = None
    comparison: cw.ComparisonOperator = GTE


#: The classic rule from the field: errors >= N in 2 consecutive 5-minute periods.
FUNCTION_ERRORS: Final = "errors"
FUNCTION_TIMEOUTS: Final = "timeouts"
FUNCTION_OOM: Final = "out-of-memory"


class PipelineMonitoring(Construct):
    """Alarms for the monitored functions and for the pipeline's health, and a dashboard."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PipelineConfig,
        topic: sns.ITopic,
        parser: lambda_.IFunction,
        stream: kinesis.IStream,
        on_failure_queue: sqs.IQueue,
        search: SearchTarget,
        subscriber: lambda_.IFunction | None = None,
        subscriber_dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.config = config
        self.pipeline = config.pipeline_name
        self.namespace = config.metrics_namespace
        self.action = cw_actions.SnsAction(topic)
        self.alarms: list[cw.Alarm] = []

        # --- monitored functions ----------------------------------------------------------------
        for name in config.monitored_function_names:
            self._function_alarms(f"fn-{name}", {"FunctionName": name}, f"function {name}")
        if config.monitors_beyond_names:
            self._function_alarms("functions", {"Pipeline": self.pipeline}, "all monitored functions")

        # --- pipeline health ----------------------------------------------------------------
        self.alarm(
            "iterator-age",
            parser.metric("IteratorAge", statistic="Maximum", period=ONE_MINUTE),
            Rule(config.alerts.iterator_age_seconds * 1000, periods=5),
            "The parser is behind: the oldest record it read was older than "
            f"{config.alerts.iterator_age_seconds} s for 5 minutes.",
        )
        self.alarm(
            "parser-errors",
            parser.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            Rule(1, periods=2),
            "The parser function failed (crash or timeout) in 2 consecutive 5-minute periods.",
        )
        self.alarm(
            "parser-throttles",
            parser.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
            Rule(1, periods=2),
            "The parser function was throttled in 2 consecutive 5-minute periods.",
        )
        self.alarm(
            "stream-write-throttled",
            stream.metric_write_provisioned_throughput_exceeded(period=FIVE_MINUTES, statistic="Sum"),
            Rule(1, periods=3),
            "CloudWatch Logs is throttled writing to the stream for 15 minutes.",
        )
        self.alarm(
            "on-failure-queue",
            on_failure_queue.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            Rule(1),
            "Kinesis batches exhausted their retries (or max record age): redrive them.",
        )
        self.alarm(
            "dead-lettered",
            self.pipeline_metric("DeadLettered"),
            Rule(1),
            "Events were written to the S3 dead-letter bucket.",
        )
        self.alarm(
            "alert-publish-failures",
            self.pipeline_metric("AlertPublishFailures"),
            Rule(1),
            "The parser could not publish alerts to the SNS topic.",
        )
        if subscriber is not None:
            self.alarm(
                "subscriber-errors",
                subscriber.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                Rule(1),
                "The subscriber function failed: new log groups may not be subscribed.",
            )
        if subscriber_dead_letter_queue is not None:
            self.alarm(
                "subscriber-dead-letters",
                subscriber_dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=FIVE_MINUTES, statistic="Maximum"
                ),
                Rule(1),
                "CreateLogGroup events the subscriber could not handle.",
            )
        if search.domain_name:
            self._search_alarms(search)

        self.dashboard = self._dashboard(
            parser, stream, on_failure_queue, search, subscriber_dead_letter_queue
        )

    # --- building blocks ----------------------------------------------------------------------

    def alarm(
        self, kind: str, metric: cw.IMetric, rule: Rule, description: str, anchor: str | None = None
    ) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            f"Alarm-{kind}",
            alarm_name=f"{self.pipeline}-{kind}",
            alarm_description=f"{description} Runbook: {RUNBOOK} ({anchor or kind}).",
            metric=metric,
            threshold=rule.threshold,
            evaluation_periods=rule.periods,
            datapoints_to_alarm=rule.datapoints or rule.periods,
            comparison_operator=rule.comparison,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self.action)
        alarm.add_ok_action(self.action)
        self.alarms.append(alarm)
        return alarm

    def lens_metric(self, name: str, dimensions: Mapping[str, str], statistic: str = "Sum") -> cw.Metric:
        return cw.Metric(
            namespace=self.namespace,
            metric_name=name,
            dimensions_map=dict(dimensions),
            statistic=statistic,
            period=FIVE_MINUTES,
        )

    def pipeline_metric(self, name: str, statistic: str = "Sum") -> cw.Metric:
        return self.lens_metric(name, {"Pipeline": self.pipeline}, statistic)

    def _function_alarms(self, prefix: str, dimensions: Mapping[str, str], what: str) -> None:
        self.alarm(
            f"{prefix}-{FUNCTION_ERRORS}",
            self.lens_metric("Errors", dimensions),
            Rule(self.config.alerts.function_errors_threshold, periods=2),
            f"Errors of {what} >= {self.config.alerts.function_errors_threshold} in 2 consecutive 5-minute periods.",
            anchor=f"function-{FUNCTION_ERRORS}",
        )
        self.alarm(
            f"{prefix}-{FUNCTION_TIMEOUTS}",
            self.lens_metric("Timeouts", dimensions),
            Rule(1),
            f"An invocation of {what} timed out.",
            anchor=f"function-{FUNCTION_TIMEOUTS}",
        )
        self.alarm(
            f"{prefix}-{FUNCTION_OOM}",
            self.lens_metric("OutOfMemory", dimensions),
            Rule(1),
            f"An invocation of {what} ran out of memory.",
            anchor=f"function-{FUNCTION_OOM}",
        )

    def search_metric(
        self, search: SearchTarget, name: str, statistic: str, period: Duration = ONE_MINUTE
    ) -> cw.Metric:
        assert search.domain_name is not None
        return cw.Metric(
            namespace="AWS/ES",
            metric_name=name,
            dimensions_map={
                "DomainName": search.domain_name,
                "ClientId": search.domain_account or Aws.ACCOUNT_ID,
            },
            statistic=statistic,
            period=period,
        )

    def _search_alarms(self, search: SearchTarget) -> None:
        self.alarm(
            "opensearch-red",
            self.search_metric(search, "ClusterStatus.red", "Maximum"),
            Rule(1),
            "OpenSearch cluster status is red: a primary shard is unassigned (indexing fails for it).",
        )
        self.alarm(
            "opensearch-yellow",
            self.search_metric(search, "ClusterStatus.yellow", "Maximum"),
            Rule(1, periods=5),
            "OpenSearch cluster status is yellow for 5 minutes: replica shards are unassigned.",
        )
        free_mb = self.config.opensearch.free_storage_alarm_mb or (
            search.ebs_volume_gb * 1024 // 4 if search.ebs_volume_gb else 0
        )
        if free_mb:
            self.alarm(
                "opensearch-free-storage",
                self.search_metric(search, "FreeStorageSpace", "Minimum"),
                Rule(free_mb, comparison=LTE),
                f"A data node has {free_mb} MiB or less free storage (writes block near the disk watermarks).",
            )
        self.alarm(
            "opensearch-jvm-pressure",
            self.search_metric(search, "JVMMemoryPressure", "Maximum"),
            Rule(95, periods=3),
            "OpenSearch JVM memory pressure >= 95% for 3 minutes (risk of out-of-memory and red cluster).",
        )
        self.alarm(
            "opensearch-write-rejected",
            self.search_metric(search, "ThreadpoolWriteRejected", "Sum", FIVE_MINUTES),
            Rule(1, periods=2),
            "OpenSearch rejected writes (HTTP 429) in 2 consecutive 5-minute periods.",
        )
        self.alarm(
            "opensearch-writes-blocked",
            self.search_metric(search, "ClusterIndexWritesBlocked", "Maximum"),
            Rule(1),
            "OpenSearch blocks index writes (disk watermark or memory).",
        )

    def _dashboard(
        self,
        parser: lambda_.IFunction,
        stream: kinesis.IStream,
        on_failure_queue: sqs.IQueue,
        search: SearchTarget,
        subscriber_dead_letter_queue: sqs.IQueue | None,
    ) -> cw.Dashboard:
        def graph(
            title: str, metrics: Sequence[cw.IMetric], right: Sequence[cw.IMetric] = ()
        ) -> cw.GraphWidget:
            return cw.GraphWidget(title=title, left=list(metrics), right=list(right), width=12, height=6)

        pm = self.pipeline_metric
        queues = [on_failure_queue.metric_approximate_number_of_messages_visible(statistic="Maximum")]
        if subscriber_dead_letter_queue is not None:
            queues.append(
                subscriber_dead_letter_queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum"
                )
            )
        rows: list[list[cw.IWidget]] = [
            [
                cw.TextWidget(
                    markdown=f"# lambdalens pipeline `{self.pipeline}`\nAlarms send to the alert topic; "
                    f"what to do for each: `{RUNBOOK}`.",
                    width=24,
                    height=2,
                )
            ],
            [cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24, height=4)],
            [
                graph(
                    "Throughput (per 5 min)", [pm("Records"), pm("Events"), pm("Indexed"), pm("Duplicates")]
                ),
                graph(
                    "Lag (ms)",
                    [pm("LagNewestMs", "Average"), pm("LagOldestMs", "Maximum")],
                    [parser.metric("IteratorAge", statistic="Maximum")],
                ),
            ],
            [
                graph(
                    "Failures",
                    [
                        pm("Retried"),
                        pm("SafeForm"),
                        pm("DeadLettered"),
                        pm("ParseFailures"),
                        pm("BatchItemFailures"),
                    ],
                ),
                graph(
                    "Parser function",
                    [parser.metric_invocations(), parser.metric_errors(), parser.metric_throttles()],
                    [parser.metric_duration(statistic="p99")],
                ),
            ],
            [
                graph(
                    "Stream",
                    [stream.metric_incoming_bytes(), stream.metric_incoming_records()],
                    [
                        stream.metric_write_provisioned_throughput_exceeded(),
                        stream.metric_read_provisioned_throughput_exceeded(),
                    ],
                ),
                graph("Queues (messages)", queues),
            ],
            [
                graph("Alerts", [pm("AlertsPublished"), pm("AlertPublishFailures")]),
                graph(
                    "Monitored functions (all)",
                    [pm(name) for name in ("Invocations", "Errors", "Timeouts", "OutOfMemory", "ColdStarts")],
                    [pm("EstimatedCost")],
                ),
            ],
        ]
        if search.domain_name:
            sm = self.search_metric
            rows.append(
                [
                    graph(
                        "OpenSearch health",
                        [
                            sm(search, "ClusterStatus.red", "Maximum"),
                            sm(search, "ClusterStatus.yellow", "Maximum"),
                        ],
                        [sm(search, "JVMMemoryPressure", "Maximum"), sm(search, "CPUUtilization", "Maximum")],
                    ),
                    graph(
                        "OpenSearch writes",
                        [
                            sm(search, "IndexingRate", "Average"),
                            sm(search, "ThreadpoolWriteRejected", "Sum", FIVE_MINUTES),
                        ],
                        [sm(search, "FreeStorageSpace", "Minimum")],
                    ),
                ]
            )
        return cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{self.pipeline}-pipeline-{Aws.REGION}",
            widgets=rows,
        )
