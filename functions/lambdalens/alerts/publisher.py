"""Publishing on SNS: retried with backoff within a deadline, never raising.

The retry policy is one small piece: throttling, 5xx and connection errors are retried with
full-jitter exponential backoff while the deadline leaves room (the indexer's
:class:`~lambdalens.retry.Backoff` and :class:`~lambdalens.retry.Deadline`, configured by
:class:`RetryPolicy`); anything else (topic not found, not authorised, invalid parameter)
fails at once. Either way :meth:`Publisher.publish` returns ``None`` and logs, so a
publishing problem never fails indexing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdalens.alerts.message import AlertMessage
from lambdalens.retry import Backoff, Deadline

logger = logging.getLogger(__name__)

RemainingMs = Callable[[], int]
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
    """At most ``max_attempts`` tries; the wait after the n-th is uniform in
    [0, min(max_delay_ms, base_delay_ms × 2^(n-1))]; nothing is tried, and no wait begins
    that would end, within ``reserve_ms`` of the deadline."""

    max_attempts: int = 5
    base_delay_ms: int = 100
    max_delay_ms: int = 2000
    #: Stop trying when this many milliseconds or fewer would be left.
    reserve_ms: int = 1000

    def deadline(self, remaining_ms: RemainingMs) -> Deadline:
        """``remaining_ms`` less the reserve."""
        return Deadline(remaining_ms, self.reserve_ms)

    def backoff(self, sleep: Callable[[float], None] = time.sleep) -> Backoff:
        """A :class:`Backoff` counts retries (waits), this policy tries: ``max_attempts`` tries
        are ``max_attempts - 1`` waits, none after the last try."""
        return Backoff(
            base_ms=self.base_delay_ms,
            max_ms=self.max_delay_ms,
            max_attempts=max(0, self.max_attempts - 1),
            sleep=sleep,
        )


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

    def publish(self, message: AlertMessage, deadline: Deadline | RemainingMs) -> str | None:
        """The SNS MessageId, or None when it could not be published (logged, never raised).

        ``deadline``: a :class:`~lambdalens.retry.Deadline`, or the milliseconds left (the
        policy's ``reserve_ms`` is kept free).
        """
        kwargs = message.publish_kwargs(self._topic)
        if not isinstance(deadline, Deadline):
            deadline = self.policy.deadline(deadline)
        backoff = self.policy.backoff(self._sleep)
        last: BaseException | None = None
        for attempt in range(1, self.policy.max_attempts + 1):
            if deadline.expired():
                logger.error(
                    "lambdalens alerts: no time left to publish %r (attempt %d)", message.subject, attempt
                )
                return None
            try:
                response = self._sns.publish(**kwargs)
                return str(response.get("MessageId", ""))
            except Exception as exc:
                last = exc
                if not is_retryable(exc) or not backoff.wait(attempt, deadline):
                    break
        logger.error(
            "lambdalens alerts: could not publish %r to %s: %s",
            message.subject,
            self._topic,
            f"{type(last).__name__}: {last}" if last else "unknown error",
        )
        return None
