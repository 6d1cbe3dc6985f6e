"""Every existing log group the settings select: the backfill at deploy, and its undo at delete."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from lambdalens.subscriptions.filters import (
    NOT_SUBSCRIBED_OUTCOMES,
    GroupResult,
    Outcome,
    subscribe,
    unsubscribe,
)
from lambdalens.subscriptions.selection import Selection, select
from lambdalens.subscriptions.settings import SubscriptionSettings

#: How many not-subscribed groups a summary names (custom-resource responses are limited to 4 KB).
SUMMARY_NAMES_LIMIT: Final = 20


@dataclass(slots=True)
class BackfillReport:
    """Outcome of every group visited, and whether the run visited all of them."""

    results: list[GroupResult] = field(default_factory=list)
    complete: bool = True

    def counts(self) -> dict[str, int]:
        return dict(Counter(result.outcome.value for result in self.results))

    @property
    def subscribed(self) -> list[GroupResult]:
        return [result for result in self.results if result.subscribed]

    @property
    def not_subscribed(self) -> list[GroupResult]:
        """Selected groups that do not deliver to lambdalens (no free slot, gone, failed)."""
        return [result for result in self.results if result.outcome in NOT_SUBSCRIBED_OUTCOMES]

    def summary(self) -> dict[str, Any]:
        """A small JSON-able summary: counts and the first not-subscribed groups with the reason."""
        return {
            "complete": self.complete,
            "counts": self.counts(),
            "notSubscribed": [result.as_dict() for result in self.not_subscribed[:SUMMARY_NAMES_LIMIT]],
        }


def candidate_log_groups(client: Any, names: Iterable[str], prefixes: Iterable[str]) -> Iterator[str]:
    """Existing log groups under each prefix, then each configured name; each once.

    Configured names are yielded whether or not they exist (subscribing a missing group
    reports :attr:`Outcome.NOT_FOUND`).
    """
    seen: set[str] = set()
    paginator = client.get_paginator("describe_log_groups")
    for prefix in prefixes:
        kwargs = {"logGroupNamePrefix": prefix} if prefix else {}
        for page in paginator.paginate(**kwargs):
            for group in page.get("logGroups", []):
                name = str(group["logGroupName"])
                if name not in seen:
                    seen.add(name)
                    yield name
    for name in names:
        if name not in seen:
            seen.add(name)
            yield name


def _run(
    client: Any,
    settings: SubscriptionSettings,
    action: Callable[[Any, str, SubscriptionSettings], GroupResult],
    out_of_time: Callable[[], bool] | None,
) -> BackfillReport:
    report = BackfillReport()
    for name in candidate_log_groups(client, settings.log_group_names, settings.log_group_prefixes):
        if out_of_time is not None and out_of_time():
            report.complete = False
            break
        report.results.append(action(client, name, settings))
    return report


def backfill(
    client: Any, settings: SubscriptionSettings, *, out_of_time: Callable[[], bool] | None = None
) -> BackfillReport:
    """Subscribe every existing log group the settings select (excluded groups are skipped).

    ``out_of_time`` is polled before each group; when it returns true the run stops and the
    report says ``complete=False`` (run the backfill again to finish: it is idempotent).
    """
    return _run(client, settings, subscribe, out_of_time)


def remove(
    client: Any,
    settings: SubscriptionSettings,
    *,
    keep: Callable[[str], bool] | None = None,
    out_of_time: Callable[[], bool] | None = None,
) -> BackfillReport:
    """Delete lambdalens' filter from every log group the settings select.

    ``keep`` names groups to leave alone (e.g. groups still selected after an update).
    Excluded groups are never touched (lambdalens never subscribed them).
    """

    def action(client: Any, name: str, settings: SubscriptionSettings) -> GroupResult:
        selection = select(name, settings)
        if selection is Selection.EXCLUDED:
            return GroupResult(name, Outcome.EXCLUDED)
        if selection is Selection.NOT_SELECTED:
            return GroupResult(name, Outcome.NOT_SELECTED)
        if keep is not None and keep(name):
            return GroupResult(name, Outcome.UNCHANGED, "still selected")
        return unsubscribe(client, name, settings)

    return _run(client, settings, action, out_of_time)
