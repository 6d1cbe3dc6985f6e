"""Backfill over existing log groups (with pagination) and its undo, against moto."""

from __future__ import annotations

from typing import Any

from subscription_support import OWN_GROUPS, add_other_filter, filters_of

from lambdalens.subscriptions import Outcome, SubscriptionSettings, backfill, candidate_log_groups, remove


def _make_groups(logs: Any, names: list[str]) -> None:
    for name in names:
        logs.create_log_group(logGroupName=name)


def test_candidates_cover_every_page_and_each_group_once(logs: Any) -> None:
    # 60 groups: more than one page of DescribeLogGroups (50 per page).
    names = [f"/aws/lambda/fn-{i:03d}" for i in range(60)]
    _make_groups(logs, [*names, "/ecs/web"])

    found = list(
        candidate_log_groups(
            logs, ["/aws/lambda/fn-001", "/app/missing"], ["/aws/lambda/", "/aws/lambda/fn-0"]
        )
    )

    assert found == [*names, "/app/missing"]


def test_backfill_subscribes_selected_groups_and_reports_the_others(
    logs: Any, settings: SubscriptionSettings, other_stream_arn: str
) -> None:
    functions = [f"/aws/lambda/fn-{i:03d}" for i in range(55)]
    _make_groups(logs, [*functions, *OWN_GROUPS, "/ecs/web", "/app/payments"])
    add_other_filter(logs, "/aws/lambda/fn-007", "datadog", other_stream_arn)
    add_other_filter(logs, "/aws/lambda/fn-007", "splunk", other_stream_arn)
    add_other_filter(logs, "/aws/lambda/fn-008", "datadog", other_stream_arn)

    report = backfill(logs, settings)

    assert report.complete
    assert report.counts() == {"subscribed": 55, "no_free_slot": 1, "excluded": 2}
    assert [r.log_group for r in report.not_subscribed] == ["/aws/lambda/fn-007"]
    assert set(filters_of(logs, "/aws/lambda/fn-007")) == {"datadog", "splunk"}
    assert set(filters_of(logs, "/aws/lambda/fn-008")) == {"datadog", "lambdalens"}
    assert "lambdalens" in filters_of(logs, "/app/payments")
    for own in OWN_GROUPS:
        assert filters_of(logs, own) == {}
    assert filters_of(logs, "/ecs/web") == {}
    summary = report.summary()
    assert summary["notSubscribed"][0]["logGroup"] == "/aws/lambda/fn-007"
    assert summary["notSubscribed"][0]["outcome"] == "no_free_slot"

    # Idempotent: a second run changes nothing.
    again = backfill(logs, settings)
    assert again.counts() == {"unchanged": 55, "no_free_slot": 1, "excluded": 2}


def test_backfill_stops_when_out_of_time(logs: Any, settings: SubscriptionSettings) -> None:
    _make_groups(logs, [f"/aws/lambda/fn-{i}" for i in range(10)])
    polls = iter([False, False, False, True])

    report = backfill(logs, settings, out_of_time=lambda: next(polls))

    assert not report.complete
    assert len(report.results) == 3
    assert report.summary()["complete"] is False


def test_remove_deletes_only_lambdalens_filters_and_keeps_what_is_asked(
    logs: Any, settings: SubscriptionSettings, other_stream_arn: str
) -> None:
    _make_groups(logs, ["/aws/lambda/a", "/aws/lambda/b", *OWN_GROUPS])
    add_other_filter(logs, "/aws/lambda/a", "datadog", other_stream_arn)
    backfill(logs, settings)

    report = remove(logs, settings, keep=lambda name: name == "/aws/lambda/b")

    assert set(filters_of(logs, "/aws/lambda/a")) == {"datadog"}
    assert set(filters_of(logs, "/aws/lambda/b")) == {"lambdalens"}
    outcomes = {r.log_group: r.outcome for r in report.results}
    assert outcomes["/aws/lambda/a"] is Outcome.REMOVED
    assert outcomes["/aws/lambda/b"] is Outcome.UNCHANGED
    assert outcomes[OWN_GROUPS[0]] is Outcome.EXCLUDED
