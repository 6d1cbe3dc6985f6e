"""One log group: subscribe it in a free slot, keep lambdalens' own filter, never replace another's.

CloudWatch Logs allows :data:`MAX_SUBSCRIPTION_FILTERS` subscription filters per log group.
A filter is lambdalens' own when it has lambdalens' filter name or already delivers to
lambdalens' destination (a second filter to the same destination would duplicate every
event). Any other filter belongs to another tool and is never modified.

Every call returns a :class:`GroupResult` instead of raising for a single group, so that a
backfill over thousands of groups reports each one and goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from botocore.exceptions import ClientError

from lambdalens.subscriptions.selection import Selection, select
from lambdalens.subscriptions.settings import SubscriptionSettings

#: Subscription filters CloudWatch Logs accepts per log group.
MAX_SUBSCRIPTION_FILTERS: Final = 2


class Outcome(StrEnum):
    #: A new lambdalens filter in a free slot.
    SUBSCRIBED = "subscribed"
    #: lambdalens' filter existed with other settings (pattern, destination, role): updated.
    UPDATED = "updated"
    #: lambdalens' filter (or another filter to lambdalens' destination) already in place.
    UNCHANGED = "unchanged"
    #: Both slots hold other tools' filters: not subscribed, nothing changed.
    NO_FREE_SLOT = "no_free_slot"
    #: The group is one of the excluded ones (e.g. the pipeline's own): never subscribed.
    EXCLUDED = "excluded"
    #: Not selected by the configured names or prefixes.
    NOT_SELECTED = "not_selected"
    #: The log group does not exist (deleted, or a configured name not created yet).
    NOT_FOUND = "not_found"
    #: An AWS error other than the above; ``detail`` says which.
    FAILED = "failed"
    #: lambdalens' filter was deleted (unsubscribe).
    REMOVED = "removed"
    #: No lambdalens filter to delete (unsubscribe).
    ABSENT = "absent"


#: Outcomes after which the group delivers to lambdalens.
SUBSCRIBED_OUTCOMES: Final = frozenset({Outcome.SUBSCRIBED, Outcome.UPDATED, Outcome.UNCHANGED})
#: Outcomes of a selected group that is not delivering to lambdalens (reported to the operator).
NOT_SUBSCRIBED_OUTCOMES: Final = frozenset({Outcome.NO_FREE_SLOT, Outcome.NOT_FOUND, Outcome.FAILED})


@dataclass(frozen=True, slots=True)
class GroupResult:
    """What happened to one log group."""

    log_group: str
    outcome: Outcome
    detail: str = ""

    @property
    def subscribed(self) -> bool:
        return self.outcome in SUBSCRIBED_OUTCOMES

    def as_dict(self) -> dict[str, str]:
        result = {"logGroup": self.log_group, "outcome": self.outcome.value}
        if self.detail:
            result["detail"] = self.detail
        return result


def is_ours(subscription_filter: Mapping[str, Any], settings: SubscriptionSettings) -> bool:
    """Whether a ``DescribeSubscriptionFilters`` entry is lambdalens' own filter."""
    return (
        subscription_filter.get("filterName") == settings.filter_name
        or subscription_filter.get("destinationArn") == settings.destination_arn
    )


def _up_to_date(subscription_filter: Mapping[str, Any], settings: SubscriptionSettings) -> bool:
    if subscription_filter.get("destinationArn") != settings.destination_arn:
        return False
    if (subscription_filter.get("filterPattern") or "") != settings.filter_pattern:
        return False
    # ``distribution`` is set whenever lambdalens writes the filter, but is not by itself a
    # reason to rewrite one: it only changes how events spread over the stream's shards.
    return not settings.role_arn or subscription_filter.get("roleArn") == settings.role_arn


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _put(client: Any, log_group: str, settings: SubscriptionSettings) -> None:
    request: dict[str, Any] = {
        "logGroupName": log_group,
        "filterName": settings.filter_name,
        "filterPattern": settings.filter_pattern,
        "destinationArn": settings.destination_arn,
    }
    if settings.role_arn:
        request["roleArn"] = settings.role_arn
    if settings.distribution:
        request["distribution"] = settings.distribution
    client.put_subscription_filter(**request)


def subscribe(
    client: Any, log_group: str, settings: SubscriptionSettings, *, require_selection: bool = True
) -> GroupResult:
    """Subscribe ``log_group`` to the destination without touching another tool's filter.

    Parameters
    ----------
    client:
        A boto3 CloudWatch Logs client.
    log_group:
        The log group name.
    settings:
        Destination, filter and selection.
    require_selection:
        When true (default), a group that the names/prefixes do not select is left alone.
        Exclusions always apply.

    Returns the outcome; never raises for an AWS error on this group (it becomes
    :attr:`Outcome.FAILED` with the error in ``detail``).
    """
    selection = select(log_group, settings)
    if selection is Selection.EXCLUDED:
        return GroupResult(log_group, Outcome.EXCLUDED, "excluded (the pipeline's own or configured)")
    if selection is Selection.NOT_SELECTED and require_selection:
        return GroupResult(log_group, Outcome.NOT_SELECTED)
    try:
        filters = client.describe_subscription_filters(logGroupName=log_group).get("subscriptionFilters", [])
        ours = [f for f in filters if is_ours(f, settings)]
        if ours:
            named = [f for f in ours if f.get("filterName") == settings.filter_name]
            if any(_up_to_date(f, settings) for f in ours):
                return GroupResult(log_group, Outcome.UNCHANGED)
            if not named:
                # Another filter already delivers to our destination under another name (an
                # older install, or made by hand): keep it rather than duplicate every event.
                other = str(ours[0].get("filterName", ""))
                return GroupResult(log_group, Outcome.UNCHANGED, f"kept filter {other!r} to this destination")
            _put(client, log_group, settings)
            return GroupResult(log_group, Outcome.UPDATED)
        if len(filters) >= MAX_SUBSCRIPTION_FILTERS:
            return _no_free_slot(log_group, filters)
        _put(client, log_group, settings)
        return GroupResult(log_group, Outcome.SUBSCRIBED)
    except ClientError as error:
        code = _error_code(error)
        if code == "ResourceNotFoundException":
            return GroupResult(log_group, Outcome.NOT_FOUND, "log group does not exist")
        if code == "LimitExceededException":
            # Another tool took the free slot between our describe and put.
            return _no_free_slot(log_group, [])
        return GroupResult(log_group, Outcome.FAILED, f"{code}: {error}")


def _no_free_slot(log_group: str, filters: list[Mapping[str, Any]]) -> GroupResult:
    names = ", ".join(repr(str(f.get("filterName", ""))) for f in filters) or "filters of other tools"
    return GroupResult(
        log_group,
        Outcome.NO_FREE_SLOT,
        f"both subscription filter slots are used by {names}; not subscribed (lambdalens never "
        "replaces another tool's filter: free a slot, then re-run the backfill)",
    )


def unsubscribe(client: Any, log_group: str, settings: SubscriptionSettings) -> GroupResult:
    """Delete lambdalens' filter from ``log_group`` (only a filter with lambdalens' name and destination)."""
    try:
        filters = client.describe_subscription_filters(
            logGroupName=log_group, filterNamePrefix=settings.filter_name
        ).get("subscriptionFilters", [])
        mine = [
            f
            for f in filters
            if f.get("filterName") == settings.filter_name
            and f.get("destinationArn") == settings.destination_arn
        ]
        if not mine:
            return GroupResult(log_group, Outcome.ABSENT)
        client.delete_subscription_filter(logGroupName=log_group, filterName=settings.filter_name)
        return GroupResult(log_group, Outcome.REMOVED)
    except ClientError as error:
        code = _error_code(error)
        if code == "ResourceNotFoundException":
            return GroupResult(log_group, Outcome.NOT_FOUND, "log group does not exist")
        return GroupResult(log_group, Outcome.FAILED, f"{code}: {error}")
