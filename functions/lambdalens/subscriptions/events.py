"""The CloudTrail ``CreateLogGroup`` event that EventBridge delivers to the subscriber."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

#: ``detail-type`` of every CloudTrail management event on EventBridge.
CLOUDTRAIL_DETAIL_TYPE: Final = "AWS API Call via CloudTrail"
EVENT_SOURCE: Final = "logs.amazonaws.com"
EVENT_NAME: Final = "CreateLogGroup"


def created_log_group(event: Mapping[str, Any]) -> str | None:
    """The name of the log group a successful ``CreateLogGroup`` call created, else ``None``.

    A call that failed (``detail.errorCode`` set, e.g. ``ResourceAlreadyExistsException``)
    created nothing and yields ``None``.
    """
    if event.get("detail-type") != CLOUDTRAIL_DETAIL_TYPE:
        return None
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return None
    if detail.get("eventSource") != EVENT_SOURCE or detail.get("eventName") != EVENT_NAME:
        return None
    if detail.get("errorCode"):
        return None
    parameters = detail.get("requestParameters")
    if not isinstance(parameters, Mapping):
        return None
    name = parameters.get("logGroupName")
    return name if isinstance(name, str) and name else None
