"""lambdalens infrastructure: the CDK constructs that deploy the pipeline.

config.py         typed props, read from CDK context and validated at synth
pipeline.py       LambdaLensPipeline, the L3 construct (stream, parser, storage, alerts, search)
search.py         the OpenSearch domain (or an existing endpoint)
subscriptions.py  log groups -> stream: subscriber + EventBridge + backfill, or account policy
monitoring.py     alarms -> SNS, and the pipeline's dashboard
source.py         LambdaLensSource, the construct for cross-account source accounts
functions.py      how every Lambda function is made (arm64, own role, own log group)
bundling.py       the Docker-free local bundler of the Lambda asset
security.py       the IAM wildcard allow-list and cdk-nag acknowledgements
stacks.py         the stacks of the CDK app (infra/app.py)
"""

from lambdalens_infra.config import (
    AlertConfig,
    ConfigError,
    EventSourceConfig,
    OpenSearchConfig,
    PipelineConfig,
    SourceConfig,
    StreamConfig,
    SubscriptionConfig,
)
from lambdalens_infra.pipeline import LambdaLensPipeline
from lambdalens_infra.source import LambdaLensSource
from lambdalens_infra.stacks import LambdaLensSourceStack, LambdaLensStack, build_app

__all__ = [
    "AlertConfig",
    "ConfigError",
    "EventSourceConfig",
    "LambdaLensPipeline",
    "LambdaLensSource",
    "LambdaLensSourceStack",
    "LambdaLensStack",
    "OpenSearchConfig",
    "PipelineConfig",
    "SourceConfig",
    "StreamConfig",
    "SubscriptionConfig",
    "build_app",
]
