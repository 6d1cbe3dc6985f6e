"""Subscriptions: CloudWatch Logs log groups -> the lambdalens destination, never overwriting anyone.

A log group accepts at most two subscription filters. lambdalens takes a free slot, keeps (and
updates) its own filter, and never replaces a filter of another tool: such a group is reported
as not subscribed. One module per step::

    settings.py   what to subscribe and where (environment or custom-resource properties)
    selection.py  which log group names the settings select (pure)
    filters.py    one log group: subscribe / unsubscribe, with the outcome
    backfill.py   every existing log group the settings select (deploy-time backfill)
    events.py     the CloudTrail ``CreateLogGroup`` event that EventBridge delivers
"""

from lambdalens.subscriptions.backfill import BackfillReport, backfill, candidate_log_groups, remove
from lambdalens.subscriptions.events import CLOUDTRAIL_DETAIL_TYPE, created_log_group
from lambdalens.subscriptions.filters import (
    MAX_SUBSCRIPTION_FILTERS,
    GroupResult,
    Outcome,
    is_ours,
    subscribe,
    unsubscribe,
)
from lambdalens.subscriptions.selection import Selection, select
from lambdalens.subscriptions.settings import SettingsError, SubscriptionSettings

__all__ = [
    "CLOUDTRAIL_DETAIL_TYPE",
    "MAX_SUBSCRIPTION_FILTERS",
    "BackfillReport",
    "GroupResult",
    "Outcome",
    "Selection",
    "SettingsError",
    "SubscriptionSettings",
    "backfill",
    "candidate_log_groups",
    "created_log_group",
    "is_ours",
    "remove",
    "select",
    "subscribe",
    "unsubscribe",
]
