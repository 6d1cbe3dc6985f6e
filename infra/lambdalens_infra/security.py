"""Least privilege, checked: the explicit allow-list of IAM wildcards and the cdk-nag wiring.

lambdalens writes its IAM statements with exact actions and resources. The few wildcards it
cannot avoid are listed in :data:`WILDCARD_ALLOWANCES`, each with where it may appear and why.
That one list drives both

* the cdk-nag acknowledgements of ``AwsSolutions-IAM5`` findings (an aspect acknowledges a
  finding only when an allowance matches it, with the allowance's reason), and
* the template test (:func:`unallowed_wildcards`), which also covers resource policies (KMS
  key, bucket, queue, topic, domain, Logs) that cdk-nag does not inspect.

A wildcard not in the list fails ``cdk synth`` (cdk-nag) and the tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import jsii
from aws_cdk import Acknowledgment, IAspect, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

#: ``arn:<partition>:<service>:<region>:<account>:`` as CloudFormation pseudo parameters render.
_HERE: Final = r"arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:"


@dataclass(frozen=True)
class WildcardAllowance:
    """A wildcard lambdalens needs.

    ``finding`` is a regular expression matched in full against the finding as cdk-nag renders
    it (``Action::kms:ReEncrypt*`` or ``Resource::<LogicalId.Arn>/*``); ``where`` is searched in
    the construct path of the policy that holds it.
    """

    finding: str
    where: str
    reason: str

    def matches(self, path: str, finding: str) -> bool:
        return re.fullmatch(self.finding, finding) is not None and re.search(self.where, path) is not None


WILDCARD_ALLOWANCES: Final[tuple[WildcardAllowance, ...]] = (
    # --- identity policies (also acknowledged for cdk-nag AwsSolutions-IAM5) -------------------
    WildcardAllowance(
        r"Action::kms:(GenerateDataKey|ReEncrypt)\*",
        r"/(Parser|Bootstrap|Subscriber)/Role/",
        "aws-cdk-lib's encrypt/decrypt grants (the SQS on-failure destination, the DynamoDB table) emit "
        "these action families; the statement's resource is one pipeline key, never '*'",
    ),
    WildcardAllowance(
        r"Resource::<\w*DeadLetterBucket\w+\.Arn>/dead-letter/\*",
        r"/Parser/Role/",
        "s3:PutObject of dead letters: object keys are chosen at run time (date/shard/sequence) under "
        "the dead-letter/ prefix of the pipeline's own bucket",
    ),
    WildcardAllowance(
        r"Resource::" + _HERE.format(service="lambda") + r"function:[\w\-]*\*",
        r"/Parser/Role/",
        "lambda:GetFunctionConfiguration (timeout, memory, architecture for alerts and cost) of the "
        "monitored functions, selected by name prefix; read-only; '*' when a log group prefix or the "
        "account policy selects every function",
    ),
    WildcardAllowance(
        r"Resource::(<\w*SearchDomain\w+\.Arn>|arn:aws[\w\-]*:es:[\w\-]+:\d{12}:domain/[a-z][a-z0-9\-]*)/\*",
        r"/(Parser|Bootstrap)/Role/",
        "OpenSearch HTTP actions name the request path under the domain (index names are daily and "
        "chosen at run time); the resource is the pipeline's domain only",
    ),
    WildcardAllowance(
        r"Resource::" + _HERE.format(service="logs") + r"log-group:\*",
        r"/Subscriber/Role/",
        "logs:DescribeLogGroups lists log groups and cannot be scoped to names; account-policy mode "
        "needs logs:PutSubscriptionFilter for every group the policy covers",
    ),
    WildcardAllowance(
        r"Resource::" + _HERE.format(service="logs") + r"log-group:[.\-_/#A-Za-z0-9]*(\*|:\*)",
        r"/Subscriber/Role/",
        "subscription filters of the configured log groups: a name prefix ends in '*', an exact name "
        "also in ':*' (the form CloudWatch Logs authorizes)",
    ),
    WildcardAllowance(
        r"Resource::<\w+\.Arn>:\*",
        r"/\w+Provider/(FrameworkRole|framework-onEvent)/",
        "the CDK custom-resource Provider framework invokes any version of its onEvent handler (the "
        "resource is that one function's ARN)",
    ),
    # --- resource policies (checked by the template test only) ---------------------------------
    WildcardAllowance(
        r"Action::kms:\*",
        r"/(Data|Alerts)Key/Resource",
        "the standard key-policy statement that delegates the key to the account's IAM policies",
    ),
    WildcardAllowance(
        r"Resource::\*",
        r"/(Data|Alerts)Key/Resource",
        "in a key policy the resource '*' means this key only (key policies cannot name the key's own ARN)",
    ),
    WildcardAllowance(
        r"Action::kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|Describe)\*",
        r"/DataKey/Resource",
        "key-policy statements for services that encrypt with the key on the account's behalf: CloudWatch "
        "Logs for this account's log groups (kms:EncryptionContext:aws:logs:arn condition, as AWS documents) "
        "and aws-cdk-lib's Secrets Manager statement (kms:ViaService condition)",
    ),
    WildcardAllowance(
        r"Action::kms:GenerateDataKey\*",
        r"/AlertsKey/Resource",
        "AWS-documented key-policy statement letting CloudWatch alarms publish to the encrypted topic",
    ),
    WildcardAllowance(
        r"Resource::<\w*(DeadLetter|AccessLogs)Bucket\w+\.Arn>/([\w\-]+/)?\*",
        r"/(DeadLetterBucket|AccessLogsBucket)/Policy/Resource",
        "bucket policy statements about the bucket's own objects",
    ),
    WildcardAllowance(
        r"Resource::" + _HERE.format(service="es") + r"domain/[a-z][a-z0-9\-]*/\*",
        r"/SearchDomain/Resource",
        "domain access policy: HTTP paths under the pipeline's own domain (fine-grained access control "
        "authenticates every request)",
    ),
)

#: CloudFormation resource types whose policy documents the template check reads.
_POLICY_PROPERTIES: Final[Mapping[str, tuple[str, ...]]] = {
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Role": ("Policies",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::OpenSearchService::Domain": ("AccessPolicies",),
    "AWS::Logs::ResourcePolicy": ("PolicyDocument",),
    "AWS::Logs::Destination": ("DestinationPolicy",),
}


def allowance_for(path: str, finding: str) -> WildcardAllowance | None:
    """The allowance covering ``finding`` in the policy at construct ``path``, if any."""
    return next((a for a in WILDCARD_ALLOWANCES if a.matches(path, finding)), None)


def flatten(value: Any, *, literal: bool = False) -> str:
    """A CloudFormation value as one string, the way cdk-nag renders it for finding ids.

    ``{"Ref": "X"}`` -> ``<X>``, ``{"Fn::GetAtt": ["X", "Arn"]}`` -> ``<X.Arn>``, joins are
    joined, ``${X}`` in strings -> ``<X>`` (unless ``literal``: for JSON documents held in a
    string, whose braces must stay).
    """

    def visit(node: Any) -> str:
        if node is None:
            return ""
        if isinstance(node, str):
            return node if literal else node.replace("${", "<").replace("}", ">")
        if isinstance(node, Mapping):
            if "Fn::Join" in node:
                delimiter, items = node["Fn::Join"]
                return str(delimiter).join(visit(item) for item in items)
            if "Fn::Sub" in node:
                return visit(node["Fn::Sub"])
            if "Fn::GetAtt" in node:
                resource, attribute = node["Fn::GetAtt"]
                return f"<{visit(resource)}.{visit(attribute)}>"
            if "Fn::ImportValue" in node:
                return visit(node["Fn::ImportValue"])
            if "Ref" in node:
                return f"<{visit(node['Ref'])}>"
        return json.dumps(node, separators=(",", ":"))

    return visit(value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_findings(document: Mapping[str, Any]) -> list[str]:
    """``Action::...`` / ``Resource::...`` wildcards of a policy document's Allow statements."""
    found: list[str] = []
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action", [])):
            if isinstance(action, str) and "*" in action and f"Action::{action}" not in found:
                found.append(f"Action::{action}")
        for resource in _as_list(statement.get("Resource", [])):
            text = flatten(resource)
            if "*" in text and f"Resource::{text}" not in found:
                found.append(f"Resource::{text}")
    return found


def _documents(resource_type: str, properties: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for name in _POLICY_PROPERTIES.get(resource_type, ()):
        value = properties.get(name)
        if name == "Policies":
            for policy in value or []:
                yield policy.get("PolicyDocument", {})
        elif isinstance(value, Mapping) and "Statement" in value:
            yield value
        elif value is not None:
            # A JSON document as a string (Logs resource/destination policies), maybe joined.
            yield json.loads(flatten(value, literal=True))


def unallowed_wildcards(template: Mapping[str, Any]) -> list[str]:
    """Every wildcard in the template's policies that no allowance covers (``path: finding``)."""
    problems: list[str] = []
    for logical_id, resource in template.get("Resources", {}).items():
        resource_type = resource.get("Type", "")
        if resource_type not in _POLICY_PROPERTIES:
            continue
        path = resource.get("Metadata", {}).get("aws:cdk:path", logical_id)
        for document in _documents(resource_type, resource.get("Properties", {})):
            for finding in wildcard_findings(document):
                if allowance_for(path, finding) is None:
                    problems.append(f"{path}: {finding}")
    return problems


@jsii.implements(IAspect)
class AcknowledgeAllowedWildcards:
    """Acknowledge cdk-nag ``AwsSolutions-IAM5`` findings that :data:`WILDCARD_ALLOWANCES` covers.

    Any other wildcard stays unacknowledged, so cdk-nag fails the synth.
    """

    def visit(self, node: IConstruct) -> None:
        documents: list[Any] = []
        if isinstance(node, iam.CfnPolicy | iam.CfnManagedPolicy):
            documents.append(Stack.of(node).resolve(node.policy_document))
        elif isinstance(node, iam.CfnRole):
            for policy in Stack.of(node).resolve(node.policies) or []:
                documents.append(Stack.of(node).resolve(policy).get("policyDocument", {}))
        for document in documents:
            for finding in wildcard_findings(document):
                allowance = allowance_for(node.node.path, finding)
                if allowance is not None:
                    Validations.of(node).acknowledge(
                        Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=allowance.reason)
                    )


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag rule on ``scope`` (and its children) with a specific reason."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
