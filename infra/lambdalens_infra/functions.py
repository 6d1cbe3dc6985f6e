"""The pipeline's Lambda functions: arm64, one shared local-bundled asset, each with its own role
(no managed policies) and its own log group (retention, KMS)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct

from lambdalens_infra.bundling import lambda_code
from lambdalens_infra.config import LAMBDA_RUNTIMES, LOG_RETENTION_DAYS
from lambdalens_infra.security import acknowledge

RUNTIMES: Final[Mapping[str, lambda_.Runtime]] = {
    "python3.12": lambda_.Runtime.PYTHON_3_12,
    "python3.13": lambda_.Runtime.PYTHON_3_13,
    "python3.14": lambda_.Runtime.PYTHON_3_14,
}
assert tuple(RUNTIMES) == LAMBDA_RUNTIMES
#: Days -> aws-cdk-lib's enum (its members are in the same ascending order as the values).
RETENTION: Final[Mapping[int, logs.RetentionDays]] = dict(
    zip(
        LOG_RETENTION_DAYS,
        [r for r in logs.RetentionDays if r is not logs.RetentionDays.INFINITE],
        strict=True,
    )
)


class FunctionFactory:
    """Creates functions and custom-resource providers the same way, and remembers their log
    groups (the pipeline's own, never to be subscribed)."""

    def __init__(
        self,
        *,
        runtime: str,
        log_retention_days: int,
        log_key: kms.IKey | None,
        service_name: str = "lambdalens",
    ) -> None:
        self.runtime = RUNTIMES[runtime]
        self.code = lambda_code(self.runtime)
        self.retention = RETENTION[log_retention_days]
        self.log_key = log_key
        self.service_name = service_name
        self.log_groups: list[logs.LogGroup] = []

    def log_group(self, scope: Construct, id: str) -> logs.LogGroup:
        group = logs.LogGroup(
            scope,
            id,
            retention=self.retention,
            encryption_key=self.log_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.log_groups.append(group)
        return group

    def function(
        self,
        scope: Construct,
        id: str,
        *,
        handler: str,
        description: str,
        timeout: Duration,
        memory_mb: int,
        environment: Mapping[str, str] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> lambda_.Function:
        """A function under ``<scope>/<id>/`` with ``Role``, ``Logs`` and ``Function`` children."""
        holder = Construct(scope, id)
        log_group = self.log_group(holder, "Logs")
        role = iam.Role(
            holder,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"lambdalens {id} function",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            holder,
            "Function",
            runtime=self.runtime,
            architecture=lambda_.Architecture.ARM_64,
            code=self.code,
            handler=handler,
            role=role,
            log_group=log_group,
            timeout=timeout,
            memory_size=memory_mb,
            description=description,
            dead_letter_queue=dead_letter_queue,
            environment={
                "POWERTOOLS_SERVICE_NAME": self.service_name,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **(environment or {}),
            },
        )
        if self.runtime is not lambda_.Runtime.PYTHON_3_14:
            acknowledge(
                function,
                "AwsSolutions-L1",
                f"pinned to {self.runtime.name}, the CPython the bundle's wheels are built and tested for; "
                "choose another with -c lambdaRuntime=",
            )
        return function

    def provider(self, scope: Construct, id: str, on_event: lambda_.IFunction) -> cr.Provider:
        """A CDK custom-resource Provider under ``<scope>/<id>/`` with its own role and log group."""
        holder = Construct(scope, id)
        role = iam.Role(
            holder,
            "FrameworkRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"lambdalens {id} custom-resource framework",
        )
        log_group = self.log_group(holder, "Logs")
        log_group.grant_write(role)
        provider = cr.Provider(
            holder,
            "Provider",
            on_event_handler=on_event,
            framework_on_event_role=role,
            log_group=log_group,
        )
        acknowledge(
            provider,
            "AwsSolutions-L1",
            "the custom-resource framework function's runtime is chosen and maintained by aws-cdk-lib",
        )
        return provider
