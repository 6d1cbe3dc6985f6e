"""Log groups -> the destination: subscription filters (with auto-subscription of new groups and a
deploy-time backfill) or the account-level subscription filter policy.

Either way the pipeline's own log groups are excluded: subscribing them would feed the parser's
logs back to the parser.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from aws_cdk import Annotations, Aws, CustomResource, Duration, Fn, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from lambdalens_infra.config import ACCOUNT_POLICY_MAX_EXCLUSIONS, ConfigError, SubscriptionConfig
from lambdalens_infra.functions import FunctionFactory
from lambdalens_infra.security import acknowledge

SUBSCRIBER_HANDLER: Final = "lambdalens.handlers.subscriber.handler"
#: Lambda caps a function's environment at 4 KB; names and prefixes are budgeted below that.
ENVIRONMENT_BUDGET: Final = 3000
#: Rough size of one excluded group's name once CloudFormation resolves it.
RESOLVED_NAME_SIZE: Final = 100


def log_group_arn(name: str) -> str:
    return f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:{name}"


class LogSubscriptions(Construct):
    """Subscribe the configured log groups to ``destination_arn``.

    ``filters`` mode: a subscriber function (``lambdalens.handlers.subscriber``) runs a
    backfill of existing groups at deploy (custom resource; removes lambdalens' filters on
    delete) and subscribes new groups from an EventBridge rule on CloudTrail
    ``CreateLogGroup``. It uses a free filter slot and never replaces another tool's filter.

    ``account-policy`` mode: one ``AWS::Logs::AccountPolicy`` of type
    ``SUBSCRIPTION_FILTER_POLICY`` for every log group except the excluded ones.

    Parameters
    ----------
    destination_arn:
        The Kinesis stream (same account) or the CloudWatch Logs destination (cross-account).
    destination_role:
        The role CloudWatch Logs assumes to write to the stream (``None`` for a destination).
    excluded_log_groups:
        The pipeline's own log groups (this construct adds its own).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: SubscriptionConfig,
        destination_arn: str,
        destination_role: iam.IRole | None,
        filter_name: str,
        factory: FunctionFactory,
        excluded_log_groups: Sequence[logs.ILogGroup],
        after: Sequence[IConstruct] = (),
    ) -> None:
        super().__init__(scope, id)
        self.config = config
        self.destination_arn = destination_arn
        self.destination_role = destination_role
        self.filter_name = filter_name
        self.subscriber: lambda_.Function | None = None
        self.dead_letter_queue: sqs.Queue | None = None
        self.account_policy: logs.CfnAccountPolicy | None = None
        self.backfill: CustomResource | None = None
        self.exclusions: list[str] = []
        if config.mode == "account-policy":
            self._account_policy(excluded_log_groups, after)
        elif config.log_group_names or config.log_group_prefixes:
            self._filters(factory, excluded_log_groups, after)
        # else: nothing selected in this account (e.g. a pipeline fed only by source accounts).

    # --- filters mode ------------------------------------------------------------------------

    def _filters(
        self, factory: FunctionFactory, excluded: Sequence[logs.ILogGroup], after: Sequence[IConstruct]
    ) -> None:
        config = self.config
        names, prefixes = list(config.log_group_names), list(config.log_group_prefixes)
        size = (
            len(json.dumps(names))
            + len(json.dumps(prefixes))
            + len(json.dumps(list(config.exclude_log_groups)))
        )
        if size + RESOLVED_NAME_SIZE * (len(excluded) + 2) > ENVIRONMENT_BUDGET:
            raise ConfigError(
                "logGroupNames",
                "too many log group names/prefixes/exclusions for the subscriber's 4 KB environment; "
                "select groups by prefix instead",
            )

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "this queue is the dead-letter queue of the subscriber (events it could not handle); it "
            "needs no dead-letter queue of its own",
        )

        # The subscriber's own log groups exist before its environment is written.
        subscriber_logs_index = len(factory.log_groups)
        subscriber = factory.function(
            self,
            "Subscriber",
            handler=SUBSCRIBER_HANDLER,
            description="lambdalens: subscribes log groups to the pipeline without replacing other tools' filters",
            timeout=Duration.minutes(15),
            memory_mb=256,
            dead_letter_queue=self.dead_letter_queue,
        )
        provider = factory.provider(self, "BackfillProvider", subscriber)
        own = [*excluded, *factory.log_groups[subscriber_logs_index:]]
        exclusions: list[str] = [*(group.log_group_name for group in own), *config.exclude_log_groups]
        settings: dict[str, Any] = {
            "DESTINATION_ARN": self.destination_arn,
            "DESTINATION_ROLE_ARN": self.destination_role.role_arn if self.destination_role else "",
            "FILTER_NAME": self.filter_name,
            "FILTER_PATTERN": config.filter_pattern,
            "LOG_GROUP_NAMES": json.dumps(names),
            "LOG_GROUP_PREFIXES": json.dumps(prefixes),
            "EXCLUDE_LOG_GROUPS": Stack.of(self).to_json_string(exclusions),
        }
        for name, value in settings.items():
            subscriber.add_environment(name, value)
        # Asynchronous invocations (EventBridge) that still fail after retries land in the queue.
        subscriber.configure_async_invoke(retry_attempts=2, max_event_age=Duration.hours(6))
        self._grant_subscriber(subscriber)

        events.Rule(
            self,
            "NewLogGroupRule",
            description="lambdalens: subscribe new log groups the configured names/prefixes select",
            event_pattern=events.EventPattern(
                source=["aws.logs"],
                detail_type=["AWS API Call via CloudTrail"],
                detail={
                    "eventSource": ["logs.amazonaws.com"],
                    "eventName": ["CreateLogGroup"],
                    "requestParameters": {"logGroupName": [*names, *({"prefix": p} for p in prefixes)]},
                },
            ),
            targets=[
                targets.LambdaFunction(
                    subscriber,
                    retry_attempts=8,
                    max_event_age=Duration.hours(6),
                    dead_letter_queue=self.dead_letter_queue,
                )
            ],
        )

        self.backfill = CustomResource(
            self,
            "Backfill",
            service_token=provider.service_token,
            resource_type="Custom::LambdaLensSubscriptions",
            properties={
                "DestinationArn": self.destination_arn,
                "RoleArn": self.destination_role.role_arn if self.destination_role else "",
                "FilterName": self.filter_name,
                "FilterPattern": config.filter_pattern,
                "LogGroupNames": names,
                "LogGroupPrefixes": prefixes,
                "ExcludeLogGroups": exclusions,
            },
        )
        for construct in after:
            self.backfill.node.add_dependency(construct)
        self.subscriber = subscriber
        self.exclusions = exclusions

    def _grant_subscriber(self, subscriber: lambda_.Function) -> None:
        config = self.config
        subscriber.add_to_role_policy(
            iam.PolicyStatement(
                sid="ListLogGroups", actions=["logs:DescribeLogGroups"], resources=[log_group_arn("*")]
            )
        )
        groups = [log_group_arn(prefix + "*") for prefix in config.log_group_prefixes]
        for name in config.log_group_names:
            groups += [log_group_arn(name), log_group_arn(name + ":*")]
        destinations = [] if self.destination_role else [self.destination_arn]
        subscriber.add_to_role_policy(
            iam.PolicyStatement(
                sid="SubscriptionFiltersOfSelectedGroups",
                actions=[
                    "logs:DescribeSubscriptionFilters",
                    "logs:PutSubscriptionFilter",
                    "logs:DeleteSubscriptionFilter",
                ],
                resources=[*groups, *destinations],
            )
        )
        if self.destination_role is not None:
            subscriber.add_to_role_policy(
                iam.PolicyStatement(
                    sid="PassTheLogsRole",
                    actions=["iam:PassRole"],
                    resources=[self.destination_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "logs.amazonaws.com"}},
                )
            )

    # --- account-policy mode -----------------------------------------------------------------

    def _account_policy(self, excluded: Sequence[logs.ILogGroup], after: Sequence[IConstruct]) -> None:
        config = self.config
        if config.log_group_names or config.log_group_prefixes:
            Annotations.of(self).add_warning_v2(
                "lambdalens:account-policy-selects-all",
                "subscriptionMode=account-policy subscribes EVERY log group of the account and region except "
                "the excluded ones; logGroupNames/logGroupPrefixes are not used in this mode",
            )
        exclusions = [*(group.log_group_name for group in excluded), *config.exclude_log_groups]
        if len(exclusions) > ACCOUNT_POLICY_MAX_EXCLUSIONS:
            raise ConfigError(
                "excludeLogGroups",
                f"an account policy excludes at most {ACCOUNT_POLICY_MAX_EXCLUSIONS} log groups; the pipeline "
                f"needs {len(excluded)} for its own, leaving {ACCOUNT_POLICY_MAX_EXCLUSIONS - len(excluded)}",
            )
        document: dict[str, Any] = {
            "DestinationArn": self.destination_arn,
            "FilterPattern": config.filter_pattern,
        }
        if self.destination_role is not None:
            document["RoleArn"] = self.destination_role.role_arn
            document["Distribution"] = "Random"
        stack = Stack.of(self)
        self.account_policy = logs.CfnAccountPolicy(
            self,
            "AccountPolicy",
            policy_name=self.filter_name,
            policy_type="SUBSCRIPTION_FILTER_POLICY",
            scope="ALL",
            policy_document=stack.to_json_string(document),
            selection_criteria=Fn.join("", ["LogGroupName NOT IN ", stack.to_json_string(exclusions)]),
        )
        for construct in after:
            self.account_policy.node.add_dependency(construct)
        self.exclusions = exclusions
