"""The subscriber Lambda: subscribes log groups to the lambdalens destination.

Three kinds of event reach it:

* the EventBridge rule's CloudTrail ``CreateLogGroup`` event — a new log group that the
  configured names/prefixes select is subscribed at once (settings from the environment:
  ``DESTINATION_ARN``, ``DESTINATION_ROLE_ARN``, ``FILTER_NAME``, ``FILTER_PATTERN``,
  ``LOG_GROUP_NAMES``, ``LOG_GROUP_PREFIXES``, ``EXCLUDE_LOG_GROUPS``);
* the deploy-time custom resource (CDK Provider framework ``onEvent``): ``Create``/``Update``
  backfill every existing selected group, ``Update`` first removes lambdalens' filter from
  groups no longer selected, ``Delete`` removes lambdalens' filters (settings from the
  resource properties ``DestinationArn``, ``RoleArn``, ``FilterName``, ``FilterPattern``,
  ``LogGroupNames``, ``LogGroupPrefixes``, ``ExcludeLogGroups``);
* ``{"action": "backfill"}`` — run the backfill again by hand (``aws lambda invoke``), e.g.
  after freeing a subscription-filter slot.

A group whose two filter slots belong to other tools is never touched: it is logged as a
warning and returned as not subscribed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from lambdalens.subscriptions import (
    CLOUDTRAIL_DETAIL_TYPE,
    BackfillReport,
    Outcome,
    Selection,
    SubscriptionSettings,
    backfill,
    created_log_group,
    remove,
    select,
    subscribe,
)

logger = Logger(service="lambdalens")

#: Stop a backfill this long before the Lambda deadline, to answer CloudFormation in time.
SAFETY_MARGIN_MS: Final = 30_000
#: The custom resource's physical id (stable: an update never replaces it).
PHYSICAL_ID_SUFFIX: Final = "-subscriptions"

#: Adaptive client-side retries: a backfill over thousands of groups stays under the
#: CloudWatch Logs control-plane rate limits instead of failing on throttling.
_CLIENT_CONFIG: Final = Config(retries={"mode": "adaptive", "max_attempts": 10})


def logs_client() -> Any:
    """A CloudWatch Logs client (honours ``AWS_ENDPOINT_URL``, so it runs against moto)."""
    return boto3.client("logs", config=_CLIENT_CONFIG)


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: dispatch on the event's shape (see the module docstring)."""
    if "RequestType" in event:
        return on_custom_resource(event, context)
    if event.get("detail-type") == CLOUDTRAIL_DETAIL_TYPE:
        return on_log_group_created(event)
    if event.get("action") == "backfill":
        settings = SubscriptionSettings.from_env()
        report = backfill(logs_client(), settings, out_of_time=_out_of_time(context))
        _log_report("manual backfill", report)
        return report.summary()
    raise ValueError(f"unrecognised event (keys: {sorted(event)[:10]})")


def on_log_group_created(event: Mapping[str, Any]) -> dict[str, Any]:
    """Subscribe the group a ``CreateLogGroup`` call created, if the settings select it.

    Raises on an unexpected AWS error so that Lambda's asynchronous retries (and then the
    function's dead-letter queue) take over; a group without a free slot is not an error.
    """
    name = created_log_group(event)
    if name is None:
        logger.info("not a successful CreateLogGroup call; ignored", extra={"eventId": event.get("id")})
        return {"outcome": "ignored"}
    settings = SubscriptionSettings.from_env()
    result = subscribe(logs_client(), name, settings)
    if result.outcome is Outcome.FAILED:
        raise RuntimeError(f"subscribing {name} failed: {result.detail}")
    if result.outcome in (Outcome.NO_FREE_SLOT, Outcome.NOT_FOUND):
        logger.warning("log group not subscribed", extra=result.as_dict())
    elif result.outcome is not Outcome.NOT_SELECTED:
        logger.info("log group handled", extra=result.as_dict())
    return result.as_dict()


def on_custom_resource(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Provider-framework ``onEvent``: backfill on Create/Update, clean up on Delete."""
    request = str(event["RequestType"])
    settings = SubscriptionSettings.from_properties(event.get("ResourceProperties", {}))
    physical_id = str(event.get("PhysicalResourceId") or settings.filter_name + PHYSICAL_ID_SUFFIX)
    client = logs_client()
    out_of_time = _out_of_time(context)

    if request == "Delete":
        try:
            report = remove(client, settings, out_of_time=out_of_time)
            _log_report("removal of lambdalens filters", report)
        except Exception:  # a stack deletion must never get stuck on clean-up
            logger.exception("removing lambdalens filters failed; delete them by hand if any remain")
        return {"PhysicalResourceId": physical_id}

    if request == "Update" and event.get("OldResourceProperties"):
        old = SubscriptionSettings.from_properties(event["OldResourceProperties"])
        stale = remove(client, old, keep=_still_selected(old, settings), out_of_time=out_of_time)
        _log_report("removal of filters no longer selected", stale)

    report = backfill(client, settings, out_of_time=out_of_time)
    _log_report("backfill", report)
    counts = report.counts()
    return {
        "PhysicalResourceId": physical_id,
        "Data": {
            "Subscribed": sum(
                counts.get(o.value, 0) for o in (Outcome.SUBSCRIBED, Outcome.UPDATED, Outcome.UNCHANGED)
            ),
            "NotSubscribed": len(report.not_subscribed),
            "Complete": str(report.complete).lower(),
        },
    }


def _still_selected(old: SubscriptionSettings, new: SubscriptionSettings) -> Callable[[str], bool] | None:
    """Groups whose old filter the update keeps: still selected, under the same filter name."""
    if old.filter_name != new.filter_name:
        return None
    return lambda name: select(name, new) is Selection.SELECTED


def _out_of_time(context: Any) -> Callable[[], bool] | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return lambda: int(remaining()) < SAFETY_MARGIN_MS


def _log_report(what: str, report: BackfillReport) -> None:
    """One summary line, then one warning per group left in a state the operator must know of."""
    summary = report.summary()
    if report.not_subscribed or not report.complete:
        logger.warning(f"{what}: done with problems", extra=summary)
    else:
        logger.info(f"{what}: done", extra=summary)
    for result in report.not_subscribed:
        logger.warning(f"{what}: {result.outcome.value}", extra=result.as_dict())
