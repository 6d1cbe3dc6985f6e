"""Where documents go: a created OpenSearch Service domain, or an existing endpoint."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import Aws, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from lambdalens_infra.config import OpenSearchConfig
from lambdalens_infra.functions import FunctionFactory
from lambdalens_infra.security import acknowledge

MASTER_USER: Final = "lambdalens-admin"
#: What the parser does over HTTP (bulk, health, index checks).
PARSER_HTTP_ACTIONS: Final = ("es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut")
#: What the bootstrap does (templates, ISM policies, role mapping).
BOOTSTRAP_HTTP_ACTIONS: Final = (*PARSER_HTTP_ACTIONS, "es:ESHttpDelete", "es:ESHttpPatch")


@dataclass
class SearchTarget:
    """How the functions reach OpenSearch, and what to grant them."""

    endpoint: str
    parser_auth: str
    bootstrap_auth: str
    dashboards_url: str
    #: Secret the parser reads (basic auth on an existing endpoint).
    parser_secret_arn: str | None = None
    #: Secret the bootstrap reads (the master user of a created domain, or the basic-auth secret).
    bootstrap_secret_arn: str | None = None
    secret_key_arn: str | None = None
    #: ``es`` domain ARN (created, or existing with sigv4) / ``aoss`` collection ARN.
    domain_arn: str | None = None
    collection_arn: str | None = None
    #: For alarms: domain name and the account that owns it.
    domain_name: str | None = None
    domain_account: str | None = None
    ebs_volume_gb: int | None = None
    domain: opensearch.Domain | None = None
    master_secret: secretsmanager.Secret | None = None

    def grant(self, role: iam.IRole, *, bootstrap: bool) -> None:
        """Give ``role`` what the parser (or the bootstrap) needs to reach the endpoint."""
        auth = self.bootstrap_auth if bootstrap else self.parser_auth
        if auth == "sigv4" and self.domain_arn:
            actions = BOOTSTRAP_HTTP_ACTIONS if bootstrap else PARSER_HTTP_ACTIONS
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="OpenSearchHttp",
                    actions=list(actions),
                    resources=[self.domain_arn, f"{self.domain_arn}/*"],
                )
            )
        elif auth == "aoss" and self.collection_arn:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="OpenSearchServerless", actions=["aoss:APIAccessAll"], resources=[self.collection_arn]
                )
            )
        secret_arn = self.bootstrap_secret_arn if bootstrap else self.parser_secret_arn
        if auth == "basic" and secret_arn:
            if self.master_secret is not None and bootstrap:
                self.master_secret.grant_read(role)
                return
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="OpenSearchCredentials",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[secret_arn],
                )
            )
            if self.secret_key_arn:
                role.add_to_principal_policy(
                    iam.PolicyStatement(
                        sid="OpenSearchCredentialsKey",
                        actions=["kms:Decrypt"],
                        resources=[self.secret_key_arn],
                    )
                )


def existing_endpoint(config: OpenSearchConfig) -> SearchTarget:
    """An endpoint lambdalens does not manage; the bootstrap uses the parser's credentials."""
    assert config.endpoint is not None
    endpoint = config.endpoint.rstrip("/")
    domain_account = config.domain_arn.split(":")[4] if config.domain_arn else None
    return SearchTarget(
        endpoint=endpoint,
        parser_auth=config.auth,
        bootstrap_auth=config.auth,
        dashboards_url=config.dashboards_url or f"{endpoint}/_dashboards",
        parser_secret_arn=config.secret_arn if config.auth == "basic" else None,
        bootstrap_secret_arn=config.secret_arn if config.auth == "basic" else None,
        secret_key_arn=config.secret_key_arn,
        domain_arn=config.domain_arn,
        collection_arn=config.collection_arn,
        domain_name=config.domain_name_for_alarms,
        domain_account=domain_account,
    )


class SearchDomain(Construct):
    """An OpenSearch Service domain with fine-grained access control.

    Encryption at rest (the pipeline key) and node-to-node, HTTPS only with TLS 1.2+ (PFS
    policy), the master user's password generated in Secrets Manager, application and slow logs
    to KMS-encrypted CloudWatch log groups, zone awareness and dedicated masters as configured.
    The parser signs its requests (SigV4) and is mapped to a role by ``lambdalens bootstrap``,
    which logs in as the master user.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: OpenSearchConfig,
        key: kms.IKey,
        factory: FunctionFactory,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.master_secret = secretsmanager.Secret(
            self,
            "MasterUser",
            description="lambdalens: OpenSearch master user (fine-grained access control)",
            encryption_key=key,
            removal_policy=removal_policy,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": MASTER_USER}),
                generate_string_key="password",
                password_length=32,
                require_each_included_type=True,
                exclude_characters="\"'\\/@:`;,{}[]()<>&|$% ",
            ),
        )
        acknowledge(
            self.master_secret,
            "AwsSolutions-SMG4",
            "the FGAC master password is also stored in the domain; rotating it needs a domain update "
            "(rotate with `aws opensearch update-domain-config` and the secret together)",
        )

        search_slow = factory.log_group(self, "SearchSlowLogs")
        index_slow = factory.log_group(self, "IndexSlowLogs")
        application = factory.log_group(self, "ApplicationLogs")
        self.log_groups: Sequence[logs.ILogGroup] = (search_slow, index_slow, application)
        # The domain's log groups policy as a native resource (no custom-resource Lambda).
        logs_policy = logs.ResourcePolicy(
            self,
            "LogsPolicy",
            resource_policy_name=f"{Aws.STACK_NAME}-{config.domain_name}-opensearch-logs",
            policy_statements=[
                iam.PolicyStatement(
                    sid="OpenSearchPublishesLogs",
                    principals=[iam.ServicePrincipal("es.amazonaws.com")],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[group.log_group_arn for group in self.log_groups],
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
                )
            ],
        )

        masters = config.dedicated_master_count
        self.domain = opensearch.Domain(
            self,
            "Resource",
            domain_name=config.domain_name,
            version=opensearch.EngineVersion.open_search(config.version.removeprefix("OpenSearch_")),
            capacity=opensearch.CapacityConfig(
                data_nodes=config.instance_count,
                data_node_instance_type=config.instance_type,
                master_nodes=masters or None,
                master_node_instance_type=config.dedicated_master_type if masters else None,
                multi_az_with_standby_enabled=False,
            ),
            ebs=opensearch.EbsOptions(
                volume_size=config.ebs_volume_gb, volume_type=ec2.EbsDeviceVolumeType.GP3
            ),
            zone_awareness=opensearch.ZoneAwarenessConfig(
                enabled=config.zone_awareness,
                availability_zone_count=config.availability_zones if config.zone_awareness else None,
            ),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True, kms_key=key),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
            fine_grained_access_control=opensearch.AdvancedSecurityOptions(
                master_user_name=MASTER_USER,
                master_user_password=SecretValue.secrets_manager(
                    self.master_secret.secret_arn, json_field="password"
                ),
            ),
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True,
                slow_search_log_group=search_slow,
                slow_index_log_enabled=True,
                slow_index_log_group=index_slow,
                app_log_enabled=True,
                app_log_group=application,
            ),
            suppress_logs_resource_policy=True,
            enable_auto_software_update=True,
            off_peak_window_enabled=True,
            removal_policy=removal_policy,
        )
        self.domain.node.add_dependency(logs_policy)
        # Set on the L1 (not through `access_policies`, which adds a custom-resource Lambda). The
        # resource is built from the domain name so the policy does not reference the domain.
        cfn_domain = self.domain.node.default_child
        assert isinstance(cfn_domain, opensearch.CfnDomain)
        cfn_domain.access_policies = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "FineGrainedAccessControlAuthenticates",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": list(BOOTSTRAP_HTTP_ACTIONS),
                    "Resource": Stack.of(self).format_arn(
                        service="es", resource="domain", resource_name=f"{config.domain_name}/*"
                    ),
                }
            ],
        }
        acknowledge(
            self.domain,
            "AwsSolutions-OS5",
            "fine-grained access control authenticates every request (internal master user, IAM roles "
            "mapped by `lambdalens bootstrap`); AWS documents an open domain policy as the FGAC setup "
            "for internal users (Dashboards login)",
        )
        acknowledge(
            self.domain,
            "AwsSolutions-OS3",
            "public endpoint: access is by FGAC authentication over HTTPS/TLS 1.2, not by source IP",
        )
        acknowledge(
            self.domain,
            "AwsSolutions-OS1",
            "public endpoint so the parser Lambda needs no VPC, NAT or interface endpoints; FGAC, "
            "HTTPS-only and encryption protect it",
        )
        if not masters:
            acknowledge(
                self.domain,
                "AwsSolutions-OS4",
                "no dedicated master nodes by default (cost for small log clusters); set "
                "-c openSearchDedicatedMasterCount=3 for production-size clusters",
            )
        if not config.zone_awareness:
            acknowledge(
                self.domain,
                "AwsSolutions-OS7",
                "zone awareness disabled explicitly with -c openSearchZoneAwareness=false",
            )

    def target(self, config: OpenSearchConfig) -> SearchTarget:
        endpoint = f"https://{self.domain.domain_endpoint}"
        return SearchTarget(
            endpoint=endpoint,
            parser_auth="sigv4",
            bootstrap_auth="basic",
            dashboards_url=f"{endpoint}/_dashboards",
            bootstrap_secret_arn=self.master_secret.secret_arn,
            domain_arn=self.domain.domain_arn,
            domain_name=config.domain_name,
            domain_account=Aws.ACCOUNT_ID,
            ebs_volume_gb=config.ebs_volume_gb,
            domain=self.domain,
            master_secret=self.master_secret,
        )
