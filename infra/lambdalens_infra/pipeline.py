"""``LambdaLensPipeline``: the whole lambdalens pipeline as one L3 construct.

CloudWatch Logs (subscription filters or the account policy) -> Kinesis Data Stream (KMS) ->
parser Lambda (arm64, Kinesis event source mapping with partial batch responses, bisect,
bounded retries and record age, on-failure SQS) -> OpenSearch, CloudWatch metrics (EMF) and
SNS alerts; dead letters in S3; alert state in DynamoDB; alarms and a dashboard.

Example
-------
>>> from aws_cdk import App, Stack
>>> from lambdalens_infra import LambdaLensPipeline, PipelineConfig, SubscriptionConfig
>>> stack = Stack(App(context={"aws:cdk:bundling-stacks": []}), "Logs")
>>> pipeline = LambdaLensPipeline(stack, "Pipeline", config=PipelineConfig(
...     subscriptions=SubscriptionConfig(log_group_prefixes=("/aws/lambda/orders-",))))
"""

from __future__ import annotations

import hashlib
from typing import Final

from aws_cdk import ArnFormat, AspectPriority, Aspects, Aws, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambdalens.dashboards import export_ndjson
from lambdalens.dashboards.links import DashboardsLinks
from lambdalens.handlers.bootstrap import DASHBOARDS_RESOURCE_TYPE
from lambdalens.pipeline.memory import malloc_environment
from lambdalens_infra.config import PipelineConfig
from lambdalens_infra.functions import FunctionFactory
from lambdalens_infra.monitoring import PipelineMonitoring
from lambdalens_infra.search import SearchDomain, SearchTarget, existing_endpoint
from lambdalens_infra.security import AcknowledgeAllowedWildcards, acknowledge
from lambdalens_infra.subscriptions import LogSubscriptions

PARSER_HANDLER: Final = "lambdalens.handlers.parser.handler"
BOOTSTRAP_HANDLER: Final = "lambdalens.handlers.bootstrap.handler"
#: Key schema of the alert-state table (shared with the alerting code).
ALERT_STATE_PARTITION_KEY: Final = "pk"
ALERT_STATE_SORT_KEY: Final = "sk"
ALERT_STATE_TTL_ATTRIBUTE: Final = "expires_at"
LAMBDA_LOG_GROUP_PREFIX: Final = "/aws/lambda/"
#: Where the parser writes dead letters in the bucket (``lambdalens redrive`` moves replayed ones
#: under ``redriven/``); the parser may write nowhere else.
DEAD_LETTER_PREFIX: Final = "dead-letter/"
#: What the alert engine does with its state (docs/metrics-and-alerts.md): no scans, no streams.
ALERT_STATE_ACTIONS: Final = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)


def function_name_patterns(config: PipelineConfig) -> list[str]:
    """Function names (``*`` patterns) whose configuration the parser may read.

    Named ``/aws/lambda/<name>`` groups give ``<name>``; a prefix under ``/aws/lambda/`` gives
    ``<rest>*``; a prefix above it (``/aws/``, ``/``) or the account policy give ``*``. Groups of
    other services need none, nor do other accounts' functions (not readable from here).
    """
    subs = config.subscriptions
    if subs.mode == "account-policy":
        return ["*"]
    patterns = list(config.monitored_function_names)
    for prefix in subs.log_group_prefixes:
        if LAMBDA_LOG_GROUP_PREFIX.startswith(prefix):
            return ["*"]
        if prefix.startswith(LAMBDA_LOG_GROUP_PREFIX):
            patterns.append(prefix.removeprefix(LAMBDA_LOG_GROUP_PREFIX) + "*")
    return patterns


class LambdaLensPipeline(Construct):
    """The lambdalens pipeline (see the module docstring); configured by :class:`PipelineConfig`.

    Attributes are the resources other constructs may need: ``stream``, ``logs_role``,
    ``parser``, ``on_failure_queue``, ``dead_letter_bucket``, ``alert_state_table``,
    ``alert_topic``, ``search`` (endpoint and, when created, the domain), ``subscriptions``,
    ``destination`` (cross-account), ``monitoring``, ``own_log_groups``.
    """

    def __init__(self, scope: Construct, id: str, *, config: PipelineConfig) -> None:
        super().__init__(scope, id)
        self.config = config
        removal = RemovalPolicy.RETAIN if config.removal_policy == "retain" else RemovalPolicy.DESTROY

        self.data_key = self._data_key(removal)
        self.alerts_key = self._alerts_key(removal)
        factory = FunctionFactory(
            runtime=config.lambda_runtime, log_retention_days=config.log_retention_days, log_key=self.data_key
        )

        self.stream = kinesis.Stream(
            self,
            "Stream",
            stream_mode=kinesis.StreamMode.PROVISIONED
            if config.stream.mode == "provisioned"
            else kinesis.StreamMode.ON_DEMAND,
            shard_count=config.stream.shard_count if config.stream.mode == "provisioned" else None,
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=self.data_key,
            retention_period=Duration.hours(config.stream.retention_hours),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.stream,
            "AwsSolutions-KDS3",
            "encrypted with the pipeline's customer-managed key (rotation, key policy and every grant to "
            "CloudWatch Logs and the parser under the pipeline's control) rather than aws/kinesis",
        )
        self.logs_role = self._logs_role()
        self.destination = self._cross_account_destination()

        self.access_logs_bucket, self.dead_letter_bucket = self._buckets(removal)
        self.on_failure_queue = sqs.Queue(
            self,
            "OnFailureQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.data_key,
            data_key_reuse=Duration.hours(1),
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.on_failure_queue,
            "AwsSolutions-SQS3",
            "this queue is the event source mapping's on-failure destination (a dead-letter store read by "
            "`lambdalens redrive`); it needs no dead-letter queue of its own",
        )
        self.alert_state_table = dynamodb.Table(
            self,
            "AlertStateTable",
            partition_key=dynamodb.Attribute(
                name=ALERT_STATE_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=ALERT_STATE_SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.data_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=ALERT_STATE_TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.alert_topic = self._alert_topic()

        if config.opensearch.create_domain:
            domain = SearchDomain(
                self,
                "SearchDomain",
                config=config.opensearch,
                key=self.data_key,
                factory=factory,
                removal_policy=removal,
            )
            self.search: SearchTarget = domain.target(config.opensearch)
        else:
            self.search = existing_endpoint(config.opensearch)

        self.parser = self._parser(factory)
        self.bootstrap = self._bootstrap(factory) if config.opensearch.bootstrap else None
        self.dashboards_import = (
            self._dashboards_import(self.bootstrap)
            if self.bootstrap is not None and config.opensearch.dashboards_import
            else None
        )
        self.mapping = self.parser.add_event_source_mapping(
            "KinesisMapping",
            event_source_arn=self.stream.stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=config.event_source.batch_size,
            max_batching_window=Duration.seconds(config.event_source.max_batching_window_seconds),
            parallelization_factor=config.event_source.parallelization_factor,
            bisect_batch_on_error=True,
            retry_attempts=config.event_source.retry_attempts,
            max_record_age=Duration.seconds(config.event_source.max_record_age_seconds),
            report_batch_item_failures=True,
            on_failure=event_sources.SqsDlq(self.on_failure_queue),
        )
        self.stream.grant_read(self.parser)
        if self.bootstrap is not None:
            # Index template, ISM policy and role mapping exist before the first bulk request.
            self.mapping.node.add_dependency(self.bootstrap)

        # Every log group made so far is the pipeline's own (functions, providers, search domain).
        self.subscriptions = LogSubscriptions(
            self,
            "Subscriptions",
            config=config.subscriptions,
            destination_arn=self.stream.stream_arn,
            destination_role=self.logs_role,
            filter_name=config.pipeline_name,
            factory=factory,
            excluded_log_groups=[*factory.log_groups],
            after=[self.logs_role],
        )
        self.own_log_groups: list[logs.LogGroup] = list(factory.log_groups)

        self.monitoring = PipelineMonitoring(
            self,
            "Monitoring",
            config=config,
            topic=self.alert_topic,
            parser=self.parser,
            stream=self.stream,
            on_failure_queue=self.on_failure_queue,
            search=self.search,
            subscriber=self.subscriptions.subscriber,
            subscriber_dead_letter_queue=self.subscriptions.dead_letter_queue,
        )
        Aspects.of(self).add(AcknowledgeAllowedWildcards(), priority=AspectPriority.MUTATING)

    # --- keys -----------------------------------------------------------------------------------

    def _data_key(self, removal: RemovalPolicy) -> kms.Key:
        key = kms.Key(
            self,
            "DataKey",
            description=f"lambdalens {self.config.pipeline_name}: stream, queue, dead letters, alert state, "
            "search domain, secret and log groups",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                        )
                    }
                },
            )
        )
        return key

    def _alerts_key(self, removal: RemovalPolicy) -> kms.Key:
        key = kms.Key(
            self,
            "AlertsKey",
            description=f"lambdalens {self.config.pipeline_name}: alert topic",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToTheEncryptedTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        return key

    # --- ingestion --------------------------------------------------------------------------

    def _logs_role(self) -> iam.Role:
        """The role CloudWatch Logs assumes to put records into the stream, for this account's log
        groups (and the source accounts' through the destination) only."""
        accounts = [Aws.ACCOUNT_ID, *self.config.source_account_ids]
        role = iam.Role(
            self,
            "LogsToStreamRole",
            description="lambdalens: CloudWatch Logs writes subscribed log events into the stream",
            assumed_by=iam.ServicePrincipal(
                "logs.amazonaws.com",
                conditions={
                    "StringLike": {
                        "aws:SourceArn": [
                            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{account}:*" for account in accounts
                        ]
                    }
                },
            ),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PutRecords", actions=["kinesis:PutRecord"], resources=[self.stream.stream_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptRecords", actions=["kms:GenerateDataKey"], resources=[self.data_key.key_arn]
            )
        )
        return role

    def _cross_account_destination(self) -> logs.CfnDestination | None:
        """A CloudWatch Logs destination the listed source accounts may subscribe to."""
        accounts = list(self.config.source_account_ids)
        if not accounts:
            return None
        stack = Stack.of(self)
        name = self.config.pipeline_name
        destination = logs.CfnDestination(
            self,
            "CrossAccountDestination",
            destination_name=name,
            role_arn=self.logs_role.role_arn,
            target_arn=self.stream.stream_arn,
            destination_policy=stack.to_json_string(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "SourceAccountsSubscribe",
                            "Effect": "Allow",
                            "Principal": {"AWS": accounts},
                            "Action": "logs:PutSubscriptionFilter",
                            "Resource": stack.format_arn(
                                service="logs",
                                resource="destination",
                                resource_name=name,
                                arn_format=ArnFormat.COLON_RESOURCE_NAME,
                            ),
                        }
                    ],
                }
            ),
        )
        destination.node.add_dependency(self.logs_role)
        return destination

    # --- storage and alerts -----------------------------------------------------------------

    def _buckets(self, removal: RemovalPolicy) -> tuple[s3.Bucket, s3.Bucket]:
        access_logs = s3.Bucket(
            self,
            "AccessLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,  # server access logs cannot target SSE-KMS
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(90),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=removal,
        )
        acknowledge(
            access_logs,
            "AwsSolutions-S1",
            "this bucket receives the dead-letter bucket's server access logs; logging it to itself would loop",
        )
        dead_letters = s3.Bucket(
            self,
            "DeadLetterBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.data_key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="dead-letters/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-dead-letters",
                    expiration=Duration.days(self.config.dead_letter_retention_days),
                    noncurrent_version_expiration=Duration.days(7),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=removal,
        )
        return access_logs, dead_letters

    def _alert_topic(self) -> sns.Topic:
        topic = sns.Topic(
            self,
            "AlertTopic",
            display_name=f"lambdalens {self.config.pipeline_name} alerts",
            master_key=self.alerts_key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccountPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
                    },
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        for email in self.config.alerts.emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        for url in self.config.alerts.https_endpoints:
            topic.add_subscription(
                subscriptions.UrlSubscription(url, protocol=sns.SubscriptionProtocol.HTTPS)
            )
        return topic

    # --- functions ----------------------------------------------------------------------------

    def _parser(self, factory: FunctionFactory) -> lambda_.Function:
        config = self.config
        search = self.search
        environment = {
            "OPENSEARCH_ENDPOINT": search.endpoint,
            "OPENSEARCH_AUTH": search.parser_auth,
            "INDEX_PREFIX": config.opensearch.index_prefix,
            "DEAD_LETTER_BUCKET": self.dead_letter_bucket.bucket_name,
            "DEAD_LETTER_PREFIX": DEAD_LETTER_PREFIX,
            "ALERT_TOPIC_ARN": self.alert_topic.topic_arn,
            "ALERT_STATE_TABLE": self.alert_state_table.table_name,
            "POWERTOOLS_METRICS_NAMESPACE": config.metrics_namespace,
            "PIPELINE_NAME": config.pipeline_name,
            "OPENSEARCH_DASHBOARDS_URL": search.dashboards_url,
            **config.alerts.parser_environment(),
            **config.redaction.parser_environment(),
            # Claims must outlive every redelivery of a record: at least the stream's retention.
            "ALERT_DEDUP_HOURS": str(max(48, config.stream.retention_hours)),
            # glibc keeps what a batch freed for the next one (see lambdalens.pipeline.memory)
            **malloc_environment(),
        }
        if search.parser_secret_arn:
            environment["OPENSEARCH_SECRET_ARN"] = search.parser_secret_arn
        if config.opensearch.bootstrap and config.opensearch.dashboards_import:
            # the objects the alerts link to are imported into this tenant (_dashboards_import)
            environment["OPENSEARCH_DASHBOARDS_TENANT"] = config.opensearch.dashboards_tenant
        parser = factory.function(
            self,
            "Parser",
            handler=PARSER_HANDLER,
            description="lambdalens: Kinesis -> OpenSearch documents, EMF metrics and SNS alerts",
            timeout=Duration.seconds(config.event_source.parser_timeout_seconds),
            memory_mb=config.event_source.parser_memory_mb,
            environment=environment,
        )
        role = parser.role
        assert role is not None
        search.grant(role, bootstrap=False)
        parser.add_to_role_policy(
            iam.PolicyStatement(
                sid="WriteDeadLetters",
                actions=["s3:PutObject"],
                resources=[self.dead_letter_bucket.arn_for_objects(f"{DEAD_LETTER_PREFIX}*")],
            )
        )
        parser.add_to_role_policy(
            iam.PolicyStatement(
                sid="EncryptDeadLetters", actions=["kms:GenerateDataKey"], resources=[self.data_key.key_arn]
            )
        )
        parser.add_to_role_policy(
            iam.PolicyStatement(
                sid="PublishAlerts", actions=["sns:Publish"], resources=[self.alert_topic.topic_arn]
            )
        )
        parser.add_to_role_policy(
            iam.PolicyStatement(
                sid="EncryptAlerts",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[self.alerts_key.key_arn],
            )
        )
        self.alert_state_table.grant(parser, *ALERT_STATE_ACTIONS)
        self.data_key.grant_encrypt_decrypt(parser)
        patterns = function_name_patterns(config)
        if patterns:
            stack = Stack.of(self)
            parser.add_to_role_policy(
                iam.PolicyStatement(
                    sid="ReadMonitoredFunctionConfiguration",
                    actions=["lambda:GetFunctionConfiguration"],
                    resources=[
                        stack.format_arn(
                            service="lambda",
                            resource="function",
                            resource_name=pattern,
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                        for pattern in patterns
                    ],
                )
            )
        return parser

    def _bootstrap(self, factory: FunctionFactory) -> CustomResource:
        """``lambdalens bootstrap`` at deploy: index template, ISM policy, FGAC role mapping."""
        search = self.search
        function = factory.function(
            self,
            "Bootstrap",
            handler=BOOTSTRAP_HANDLER,
            description="lambdalens: index template, ISM policy and role mapping (custom resource)",
            timeout=Duration.minutes(5),
            memory_mb=256,
        )
        role = function.role
        assert role is not None
        search.grant(role, bootstrap=True)
        provider = factory.provider(self, "BootstrapProvider", function)
        self.bootstrap_provider = provider
        parser_role = self.parser.role
        assert parser_role is not None
        properties = {
            "Endpoint": search.endpoint,
            "Auth": search.bootstrap_auth,
            "SecretArn": search.bootstrap_secret_arn or "",
            "IndexPrefix": self.config.opensearch.index_prefix,
            "RetentionDays": str(self.config.opensearch.retention_days),
            "ParserRoleArn": parser_role.role_arn,
        }
        if search.domain is not None:
            # A replica needs a second data node; on a single node it would keep the cluster yellow.
            properties["Replicas"] = "0" if self.config.opensearch.instance_count == 1 else "1"
        resource = CustomResource(
            self,
            "SearchBootstrap",
            service_token=provider.service_token,
            resource_type="Custom::LambdaLensBootstrap",
            properties=properties,
        )
        if search.domain is not None:
            resource.node.add_dependency(search.domain)
        return resource

    def _dashboards_import(self, bootstrap: CustomResource) -> CustomResource:
        """The Dashboards saved objects imported into the tenant by the bootstrap function (a
        failed import is reported in the resource's ``Status``/``Message``, never a rollback)."""
        search, opensearch = self.search, self.config.opensearch
        resource = CustomResource(
            self,
            "DashboardsImport",
            service_token=self.bootstrap_provider.service_token,
            resource_type=DASHBOARDS_RESOURCE_TYPE,
            properties={
                "DashboardsUrl": search.dashboards_url,
                "Auth": search.bootstrap_auth,
                "SecretArn": search.bootstrap_secret_arn or "",
                "IndexPrefix": opensearch.index_prefix,
                "Tenant": opensearch.dashboards_tenant,
                # changed objects (a new lambdalens) change the hash: CloudFormation imports again
                "ObjectsHash": hashlib.sha256(export_ndjson(opensearch.index_prefix)).hexdigest()[:16],
            },
        )
        resource.node.add_dependency(bootstrap)
        return resource

    @property
    def dashboards_overview_url(self) -> str:
        """Lambda overview in the imported tenant when the objects are imported, else Dashboards."""
        if self.dashboards_import is None:
            return self.search.dashboards_url
        links = DashboardsLinks(
            self.search.dashboards_url,
            self.config.opensearch.index_prefix,
            self.config.opensearch.dashboards_tenant,
        )
        return links.overview()
