"""Publishing on SNS: retried with backoff within a deadline, never raising.

The retry policy is one small piece: throttling, 5xx and connection errors are retried with
full-jitter exponential backoff while the deadline leaves room; anything else (topic not
found, not authorised, invalid parameter) fails at once. Either way :meth:`Publisher.publish`
returns ``False`` and logs, so a publishing problem never fails indexing.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdalens.alerts.message import AlertMessage

logger = logging.getLogger(__name__)

Deadline = Callable[[], int]
"""Milliseconds left (e.g. ``context.get_remaining_time_in_millis``)."""

RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalError",
        "InternalErrorException",
        "InternalFailure",
        "ServiceUnavailable",
        "KMSThrottlingException",
        "KMSThrottling",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def is_retryable(exc: BaseException) -> bool:
    """Throttling, server-side and connection errors are worth another try; the rest not."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in RETRYABLE_CODES or (isinstance(status, int) and status >= 500)
    # botocore's EndpointConnectionError, ConnectionClosedError, ReadTimeoutError... have no response.
    return type(exc).__module__.startswith(("botocore", "urllib3")) or isinstance(
        exc, ConnectionError | TimeoutError
    )


@dataclass(slots=True)
class RetryPolicy:
    """At most ``max_attempts`` tries; the n-th wait is uniform in [0, min(cap, base × 2^n)]."""

    max_attempts: int = 5
    base_delay_ms: int = 100
    max_delay_ms: int = 2000
    #: Stop trying when fewer than this many milliseconds would be left.
    reserve_ms: int = 1000

    def delay_ms(self, attempt: int, rng: Callable[[float, float], float] = random.uniform) -> float:
        return rng(0, min(self.max_delay_ms, self.base_delay_ms * 2**attempt))


class Publisher:
    """Publishes rendered alerts on one topic.

    Parameters
    ----------
    sns_client:
        A boto3 SNS client. Give it short timeouts and no retries of its own
        (see :func:`lambdalens.alerts.clients.sns_client`): the retries are here.
    topic_arn:
        ``ALERT_TOPIC_ARN``.
    """

    def __init__(
        self,
        sns_client: Any,
        topic_arn: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sns = sns_client
        self._topic = topic_arn
        self.policy = policy or RetryPolicy()
        self._sleep = sleep

    def publish(self, message: AlertMessage, deadline: Deadline) -> str | None:
        """The SNS MessageId, or None when it could not be published (logged, never raised)."""
        kwargs = message.publish_kwargs(self._topic)
        policy = self.policy
        last: BaseException | None = None
        for attempt in range(policy.max_attempts):
            if deadline() < policy.reserve_ms:
                logger.error(
                    "lambdalens alerts: no time left to publish %r (attempt %d)", message.subject, attempt + 1
                )
                return None
            try:
                response = self._sns.publish(**kwargs)
                return str(response.get("MessageId", ""))
            except Exception as exc:
                last = exc
                if not is_retryable(exc):
                    break
                wait = policy.delay_ms(attempt)
                if deadline() - wait < policy.reserve_ms:
                    break
                self._sleep(wait / 1000)
        logger.error(
            "lambdalens alerts: could not publish %r to %s: %s",
            message.subject,
            self._topic,
            f"{type(last).__name__}: {last}" if last else "unknown error",
        )
        return None
