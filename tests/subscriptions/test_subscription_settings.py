"""Settings from environment variables and custom-resource properties; selection of log groups."""

from __future__ import annotations

import pytest

from lambdalens.subscriptions import Selection, SettingsError, SubscriptionSettings, select

STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/lambdalens"
ROLE = "arn:aws:iam::123456789012:role/cwl"
DESTINATION = "arn:aws:logs:us-east-1:999999999999:destination:lambdalens"


def test_from_env_reads_json_and_comma_separated_lists() -> None:
    settings = SubscriptionSettings.from_env(
        {
            "DESTINATION_ARN": STREAM,
            "DESTINATION_ROLE_ARN": ROLE,
            "FILTER_NAME": "lambdalens-prod",
            "FILTER_PATTERN": '-"START RequestId"',
            "LOG_GROUP_NAMES": '["/app/a", "/app/b", "/app/a"]',
            "LOG_GROUP_PREFIXES": "/aws/lambda/orders-, /aws/lambda/payments-",
            "EXCLUDE_LOG_GROUPS": "",
        }
    )
    assert settings.filter_name == "lambdalens-prod"
    assert settings.filter_pattern == '-"START RequestId"'
    assert settings.log_group_names == ("/app/a", "/app/b")
    assert settings.log_group_prefixes == ("/aws/lambda/orders-", "/aws/lambda/payments-")
    assert settings.exclude_log_groups == ()
    assert settings.distribution == "Random"


def test_from_properties_uses_the_custom_resource_names() -> None:
    settings = SubscriptionSettings.from_properties(
        {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
            "DestinationArn": STREAM,
            "RoleArn": ROLE,
            "LogGroupPrefixes": ["/aws/lambda/"],
            "ExcludeLogGroups": ["/aws/lambda/lambdalens-parser"],
        }
    )
    assert settings.filter_name == "lambdalens"
    assert settings.log_group_prefixes == ("/aws/lambda/",)
    assert settings.exclude_log_groups == ("/aws/lambda/lambdalens-parser",)


def test_missing_destination_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="DESTINATION_ARN: is required"):
        SubscriptionSettings.from_env({"LOG_GROUP_PREFIXES": "/aws/lambda/"})


def test_kinesis_destination_needs_the_role() -> None:
    with pytest.raises(SettingsError, match="DESTINATION_ROLE_ARN"):
        SubscriptionSettings.from_env({"DESTINATION_ARN": STREAM})


def test_cross_account_destination_needs_no_role_and_no_distribution() -> None:
    settings = SubscriptionSettings.from_env({"DESTINATION_ARN": DESTINATION})
    assert settings.role_arn is None
    assert settings.distribution is None


@pytest.mark.parametrize("value", ['["/a", 3]', "[not json", '{"a": 1}'])
def test_bad_lists_name_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="LOG_GROUP_NAMES"):
        SubscriptionSettings.from_env({"DESTINATION_ARN": DESTINATION, "LOG_GROUP_NAMES": value})


def test_bad_filter_name() -> None:
    with pytest.raises(SettingsError, match="FILTER_NAME"):
        SubscriptionSettings(destination_arn=DESTINATION, filter_name="bad:name")


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("/aws/lambda/orders", Selection.SELECTED),
        ("/app/payments", Selection.SELECTED),
        ("/app/payments-v2", Selection.NOT_SELECTED),
        ("/ecs/web", Selection.NOT_SELECTED),
        # The pipeline's own groups: excluded although the prefix selects them.
        ("/aws/lambda/lambdalens-parser", Selection.EXCLUDED),
        # An exclusion ending in * is a prefix.
        ("/aws/lambda/noisy-batch-7", Selection.EXCLUDED),
        ("/aws/lambda/noisy", Selection.SELECTED),
    ],
)
def test_selection_exclusions_win(group: str, expected: Selection) -> None:
    settings = SubscriptionSettings(
        destination_arn=DESTINATION,
        log_group_names=("/app/payments",),
        log_group_prefixes=("/aws/lambda/",),
        exclude_log_groups=("/aws/lambda/lambdalens-parser", "/aws/lambda/noisy-*"),
    )
    assert select(group, settings) is expected
