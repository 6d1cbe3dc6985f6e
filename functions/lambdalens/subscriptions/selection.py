"""Which log groups the settings select: pure functions of a name and the settings."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from lambdalens.subscriptions.settings import SubscriptionSettings


class Selection(StrEnum):
    SELECTED = "selected"
    #: Selected by a name or prefix but excluded (the pipeline's own groups, user exclusions).
    EXCLUDED = "excluded"
    NOT_SELECTED = "not_selected"


def is_excluded(log_group: str, exclusions: Iterable[str]) -> bool:
    """True when ``log_group`` equals an exclusion, or starts with one that ends with ``*``."""
    for entry in exclusions:
        if entry.endswith("*"):
            if log_group.startswith(entry[:-1]):
                return True
        elif log_group == entry:
            return True
    return False


def select(log_group: str, settings: SubscriptionSettings) -> Selection:
    """Whether the settings select ``log_group``; exclusions win over names and prefixes."""
    if is_excluded(log_group, settings.exclude_log_groups):
        return Selection.EXCLUDED
    if log_group in settings.log_group_names:
        return Selection.SELECTED
    if any(log_group.startswith(prefix) for prefix in settings.log_group_prefixes):
        return Selection.SELECTED
    return Selection.NOT_SELECTED
