"""The stacks of the lambdalens CDK app, and how the app is built from CDK context."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, CfnOutput, Fn, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from lambdalens_infra.config import PipelineConfig, SourceConfig, all_context_keys, check_unknown_keys
from lambdalens_infra.pipeline import LambdaLensPipeline
from lambdalens_infra.source import LambdaLensSource

PIPELINE_STACK = "LambdaLens"
SOURCE_STACK = "LambdaLensSource"


class LambdaLensStack(Stack):
    """The pipeline account's stack: one :class:`LambdaLensPipeline` and its outputs."""

    def __init__(self, scope: Construct, id: str, *, config: PipelineConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            id,
            description="lambdalens: CloudWatch Logs -> Kinesis -> parser Lambda -> OpenSearch, metrics and alerts",
            **kwargs,
        )
        pipeline = LambdaLensPipeline(self, "Pipeline", config=config)
        self.pipeline = pipeline
        Tags.of(self).add("lambdalens:pipeline", config.pipeline_name)
        outputs = {
            "StreamArn": pipeline.stream.stream_arn,
            "AlertTopicArn": pipeline.alert_topic.topic_arn,
            "DeadLetterBucket": pipeline.dead_letter_bucket.bucket_name,
            "OnFailureQueueUrl": pipeline.on_failure_queue.queue_url,
            "ParserFunction": pipeline.parser.function_name,
            "OpenSearchEndpoint": pipeline.search.endpoint,
            "OpenSearchDashboardsUrl": pipeline.dashboards_overview_url,
            "Dashboard": pipeline.monitoring.dashboard.dashboard_name,
        }
        if pipeline.dashboards_import is not None:
            status = pipeline.dashboards_import.get_att_string("Status")
            outputs["OpenSearchDashboardsImport"] = Fn.join(
                ": ", [status, pipeline.dashboards_import.get_att_string("Message")]
            )
        if pipeline.search.master_secret is not None:
            outputs["OpenSearchMasterUserSecretArn"] = pipeline.search.master_secret.secret_arn
        if pipeline.subscriptions.subscriber is not None:
            outputs["SubscriberFunction"] = pipeline.subscriptions.subscriber.function_name
        if pipeline.destination is not None:
            outputs["DestinationArn"] = pipeline.destination.attr_arn
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)


class LambdaLensSourceStack(Stack):
    """A source account's stack: one :class:`LambdaLensSource`."""

    def __init__(self, scope: Construct, id: str, *, config: SourceConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            id,
            description="lambdalens source account: subscribes log groups to a cross-account lambdalens pipeline",
            **kwargs,
        )
        self.source = LambdaLensSource(self, "Source", config=config)
        Tags.of(self).add("lambdalens:pipeline", config.pipeline_name)
        if self.source.subscriptions.subscriber is not None:
            CfnOutput(self, "SubscriberFunction", value=self.source.subscriptions.subscriber.function_name)


def build_app(app: App) -> App:
    """Add the stacks the context asks for, and cdk-nag's AWS Solutions checks, to ``app``.

    Environment-agnostic stacks (no ``env``, no lookups): synthesis needs no AWS credentials.
    Raises :class:`~lambdalens_infra.config.ConfigError` for a bad context value.
    """
    check_unknown_keys(
        list(app.node.get_all_context()), all_context_keys(PipelineConfig) | all_context_keys(SourceConfig)
    )
    config = PipelineConfig.from_context(app.node.try_get_context)
    LambdaLensStack(app, PIPELINE_STACK, config=config)
    if app.node.try_get_context("crossAccountDestinationArn"):
        LambdaLensSourceStack(app, SOURCE_STACK, config=SourceConfig.from_context(app.node.try_get_context))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return app
