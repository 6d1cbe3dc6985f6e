"""``LambdaLensSource``: deployed in each source account of a cross-account pipeline.

It subscribes the account's log groups to the pipeline account's CloudWatch Logs destination
(``DestinationArn`` output of the pipeline stack, which lists this account in
``sourceAccountIds``), with the same never-overwrite subscriber as the pipeline account, or
with an account-level subscription filter policy.
"""

from __future__ import annotations

from aws_cdk import AspectPriority, Aspects
from constructs import Construct

from lambdalens_infra.config import SourceConfig
from lambdalens_infra.functions import FunctionFactory
from lambdalens_infra.security import AcknowledgeAllowedWildcards
from lambdalens_infra.subscriptions import LogSubscriptions


class LambdaLensSource(Construct):
    """Subscribe this account's log groups to a lambdalens pipeline in another account."""

    def __init__(self, scope: Construct, id: str, *, config: SourceConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        factory = FunctionFactory(
            runtime=config.lambda_runtime, log_retention_days=config.log_retention_days, log_key=None
        )
        self.subscriptions = LogSubscriptions(
            self,
            "Subscriptions",
            config=config.subscriptions,
            destination_arn=config.destination_arn,
            destination_role=None,
            filter_name=config.pipeline_name,
            factory=factory,
            excluded_log_groups=[],
        )
        self.own_log_groups = list(factory.log_groups)
        Aspects.of(self).add(AcknowledgeAllowedWildcards(), priority=AspectPriority.MUTATING)
