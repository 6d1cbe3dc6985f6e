"""One log group against moto: free slot, our own filter, another tool's filters, errors."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from subscription_support import ROLE_ARN, add_other_filter, filters_of

from lambdalens.subscriptions import Outcome, SubscriptionSettings, subscribe, unsubscribe


def test_free_group_gets_lambdalens_filter(
    logs: Any, settings: SubscriptionSettings, stream_arn: str
) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")

    result = subscribe(logs, "/aws/lambda/orders", settings)

    assert result.outcome is Outcome.SUBSCRIBED
    assert result.subscribed
    mine = filters_of(logs, "/aws/lambda/orders")["lambdalens"]
    assert mine["destinationArn"] == stream_arn
    assert mine["roleArn"] == ROLE_ARN
    assert mine["filterPattern"] == ""


def test_second_slot_is_used_and_other_filter_untouched(
    logs: Any, settings: SubscriptionSettings, other_stream_arn: str
) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    add_other_filter(logs, "/aws/lambda/orders", "datadog", other_stream_arn)
    before = filters_of(logs, "/aws/lambda/orders")["datadog"]

    result = subscribe(logs, "/aws/lambda/orders", settings)

    assert result.outcome is Outcome.SUBSCRIBED
    after = filters_of(logs, "/aws/lambda/orders")
    assert set(after) == {"datadog", "lambdalens"}
    assert after["datadog"] == before


def test_two_foreign_filters_mean_not_subscribed_and_nothing_changed(
    logs: Any, settings: SubscriptionSettings, other_stream_arn: str
) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    add_other_filter(logs, "/aws/lambda/orders", "datadog", other_stream_arn)
    add_other_filter(logs, "/aws/lambda/orders", "splunk", other_stream_arn)
    before = filters_of(logs, "/aws/lambda/orders")

    result = subscribe(logs, "/aws/lambda/orders", settings)

    assert result.outcome is Outcome.NO_FREE_SLOT
    assert not result.subscribed
    assert "'datadog'" in result.detail and "'splunk'" in result.detail
    assert filters_of(logs, "/aws/lambda/orders") == before


def test_subscribing_twice_is_idempotent(logs: Any, settings: SubscriptionSettings) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    assert subscribe(logs, "/aws/lambda/orders", settings).outcome is Outcome.SUBSCRIBED

    again = subscribe(logs, "/aws/lambda/orders", settings)

    assert again.outcome is Outcome.UNCHANGED
    assert list(filters_of(logs, "/aws/lambda/orders")) == ["lambdalens"]


def test_our_filter_with_old_pattern_is_updated_in_its_own_slot(
    logs: Any, settings: SubscriptionSettings, stream_arn: str
) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    logs.put_subscription_filter(
        logGroupName="/aws/lambda/orders",
        filterName="lambdalens",
        filterPattern="ERROR",
        destinationArn=stream_arn,
        roleArn=ROLE_ARN,
    )

    result = subscribe(logs, "/aws/lambda/orders", settings)

    assert result.outcome is Outcome.UPDATED
    assert filters_of(logs, "/aws/lambda/orders")["lambdalens"]["filterPattern"] == ""


def test_a_filter_to_our_destination_under_another_name_is_kept_not_duplicated(
    logs: Any, settings: SubscriptionSettings, stream_arn: str
) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    logs.put_subscription_filter(
        logGroupName="/aws/lambda/orders",
        filterName="made-by-hand",
        filterPattern="",
        destinationArn=stream_arn,
        roleArn=ROLE_ARN,
    )

    result = subscribe(logs, "/aws/lambda/orders", settings)

    assert result.outcome is Outcome.UNCHANGED
    assert list(filters_of(logs, "/aws/lambda/orders")) == ["made-by-hand"]


def test_pipeline_own_group_is_never_subscribed(logs: Any, settings: SubscriptionSettings) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/lambdalens-parser")

    result = subscribe(logs, "/aws/lambda/lambdalens-parser", settings, require_selection=False)

    assert result.outcome is Outcome.EXCLUDED
    assert filters_of(logs, "/aws/lambda/lambdalens-parser") == {}


def test_unselected_and_missing_groups(logs: Any, settings: SubscriptionSettings) -> None:
    logs.create_log_group(logGroupName="/ecs/web")
    assert subscribe(logs, "/ecs/web", settings).outcome is Outcome.NOT_SELECTED
    assert filters_of(logs, "/ecs/web") == {}
    assert subscribe(logs, "/app/payments", settings).outcome is Outcome.NOT_FOUND


class _RaisingOnPut:
    """A moto client whose put_subscription_filter fails like AWS does under a race or an outage."""

    def __init__(self, client: Any, code: str) -> None:
        self._client = client
        self._code = code

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_subscription_filter(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": self._code, "Message": "simulated"}}, "PutSubscriptionFilter")


def test_slot_taken_between_describe_and_put_is_no_free_slot(
    logs: Any, settings: SubscriptionSettings
) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")

    result = subscribe(_RaisingOnPut(logs, "LimitExceededException"), "/aws/lambda/orders", settings)

    assert result.outcome is Outcome.NO_FREE_SLOT


def test_other_aws_errors_are_reported_not_raised(logs: Any, settings: SubscriptionSettings) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")

    result = subscribe(_RaisingOnPut(logs, "ServiceUnavailableException"), "/aws/lambda/orders", settings)

    assert result.outcome is Outcome.FAILED
    assert "ServiceUnavailableException" in result.detail


def test_unsubscribe_removes_only_lambdalens_filter(
    logs: Any, settings: SubscriptionSettings, other_stream_arn: str
) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    add_other_filter(logs, "/aws/lambda/orders", "datadog", other_stream_arn)
    subscribe(logs, "/aws/lambda/orders", settings)

    assert unsubscribe(logs, "/aws/lambda/orders", settings).outcome is Outcome.REMOVED
    assert list(filters_of(logs, "/aws/lambda/orders")) == ["datadog"]
    assert unsubscribe(logs, "/aws/lambda/orders", settings).outcome is Outcome.ABSENT


def test_unsubscribe_leaves_a_same_named_filter_of_another_destination(
    logs: Any, settings: SubscriptionSettings, other_stream_arn: str
) -> None:
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    add_other_filter(logs, "/aws/lambda/orders", "lambdalens", other_stream_arn)

    assert unsubscribe(logs, "/aws/lambda/orders", settings).outcome is Outcome.ABSENT
    assert list(filters_of(logs, "/aws/lambda/orders")) == ["lambdalens"]
