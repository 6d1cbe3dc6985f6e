"""moto environment for the alert tests: an SNS topic with an SQS subscription to read what
was sent, the state table with its real key schema, a controllable clock."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import orjson
import pytest
from moto import mock_aws

from lambdalens.alerts import AlertEngine, AlertSettings, RetryPolicy

REGION = "us-east-1"
START_MS = 1_714_564_800_000 + 3_600_000  # processing clock: one hour after the sample logs


@dataclass
class Clock:
    ms: int = START_MS

    def __call__(self) -> int:
        return self.ms

    def advance(self, minutes: float) -> None:
        self.ms += int(minutes * 60_000)


@dataclass
class Sent:
    subject: str
    text: str
    document: dict[str, Any]
    attributes: dict[str, str]

    @property
    def kind(self) -> str:
        return self.attributes["kind"]

    @property
    def alert(self) -> dict[str, Any]:
        return self.document["alert"]


@dataclass
class AwsEnv:
    sns: Any
    sqs: Any
    table: Any
    topic_arn: str
    queue_url: str
    text_queue_url: str
    clock: Clock = field(default_factory=Clock)

    def received(self) -> list[Sent]:
        """Messages delivered since the last call, in publish order (each read once)."""
        texts = {b["MessageId"]: b["Message"] for b in self._drain(self.text_queue_url)}
        out = []
        for m in self._drain(self.queue_url):
            attributes = {k: v["Value"] for k, v in m.get("MessageAttributes", {}).items()}
            out.append(
                Sent(m["Subject"], texts.get(m["MessageId"], ""), orjson.loads(m["Message"]), attributes)
            )
        return out

    def _drain(self, url: str) -> list[dict[str, Any]]:
        bodies = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for m in messages:
                bodies.append(orjson.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def settings(self, **overrides: Any) -> AlertSettings:
        env = {
            "ALERT_TOPIC_ARN": self.topic_arn,
            "ALERT_STATE_TABLE": "lambdalens-alerts",
            "OPENSEARCH_DASHBOARDS_URL": "https://search-logs.us-east-1.es.amazonaws.com/_dashboards",
            "AWS_REGION": REGION,
        }
        return AlertSettings.from_env(env, **overrides)

    def engine(
        self, settings: AlertSettings | None = None, lambda_client: Any | None = None, **kwargs: Any
    ) -> AlertEngine:
        return AlertEngine(
            settings or self.settings(),
            self.sns,
            self.table,
            lambda_client,
            clock_ms=self.clock,
            retry=kwargs.pop("retry", RetryPolicy(base_delay_ms=1, max_delay_ms=2)),
            **kwargs,
        )


def create_state_table(name: str = "lambdalens-alerts") -> Any:
    ddb = boto3.resource("dynamodb", region_name=REGION)
    table = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.meta.client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return table


def _subscribe(sns: Any, sqs: Any, topic: str, name: str) -> str:
    url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return url


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsEnv]:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name="lambdalens-alerts")["TopicArn"]
        queue = _subscribe(sns, sqs, topic, "alerts-json")
        text_queue = sqs.create_queue(QueueName="alerts-text")["QueueUrl"]
        env = AwsEnv(sns, sqs, create_state_table(), topic, queue, text_queue)
        _tap_default(env)
        yield env


def _tap_default(env: AwsEnv) -> None:
    """SQS subscribers get the ``sqs`` variant; to also check the human text (``default``/
    ``email``) we wrap publish so each message's ``default`` part goes to a second queue."""
    original = env.sns.publish

    def publish(**kwargs: Any) -> Any:
        response = original(**kwargs)
        if kwargs.get("MessageStructure") == "json":
            default = orjson.loads(kwargs["Message"])["default"]
            body = {"Message": default, "MessageId": response["MessageId"]}
            env.sqs.send_message(QueueUrl=env.text_queue_url, MessageBody=orjson.dumps(body).decode())
        return response

    env.sns.publish = publish


@pytest.fixture
def make_function(aws: AwsEnv) -> Any:
    """``make_function(name, timeout=3, memory=128, arch="x86_64") -> lambda client``."""
    return lambda_function


def lambda_function(name: str, timeout: int = 3, memory: int = 128, arch: str = "x86_64") -> Any:
    """A function in moto so GetFunctionConfiguration answers (no Docker needed to create)."""
    iam = boto3.client("iam", region_name=REGION)
    try:
        role = iam.get_role(RoleName="fn-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return None\n")
    client = boto3.client("lambda", region_name=REGION)
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": buf.getvalue()},
        Timeout=timeout,
        MemorySize=memory,
        Architectures=[arch],
    )
    return client
