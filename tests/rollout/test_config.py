"""The `rollout { }` block: durations, counts and percentages, validation messages."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.sdk.rollout_block import (
    BatchLimits,
    RolloutConfig,
    Strategy,
    format_duration,
    parse_duration,
    resolve_batch_limits,
    resolve_count,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (120, 120),
        (0, 0),
        ("120", 120),
        ("90s", 90),
        ("2m", 120),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("1h30m15s", 5415),
        ("300 s", 300),
        ("1d", 86400),
        ("10M", 600),
    ],
)
def test_parse_duration(text: int | str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid duration"),
        ("abc", "invalid duration"),
        ("1.5m", "invalid duration"),
        ("30m1h", "largest first"),
        ("5 minutes", "invalid duration"),
        (-1, "must not be negative"),
        (True, "number of seconds"),
        (1.5, "number of seconds"),
    ],
)
def test_parse_duration_rejects(text: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "full", "compact"),
    [
        (0, "0s", "0s"),
        (45, "45s", "45s"),
        (300, "5m 0s", "5m"),
        (600, "10m 0s", "10m"),
        (3600, "1h 0m 0s", "1h"),
        (3661, "1h 1m 1s", "1h 1m 1s"),
        (5400, "1h 30m 0s", "1h 30m"),
    ],
)
def test_format_duration(seconds: int, full: str, compact: str) -> None:
    assert format_duration(seconds) == full
    assert format_duration(seconds, compact=True) == compact


@pytest.mark.parametrize(
    ("value", "desired", "up", "down"),
    [
        (2, 10, 2, 2),
        ("3", 10, 3, 3),
        ("25%", 4, 1, 1),
        ("25%", 10, 3, 2),
        ("50%", 10, 5, 5),
        ("10%", 4, 1, 0),
        ("0%", 4, 0, 0),
        ("100%", 12, 12, 12),
        ("25%", 0, 0, 0),
    ],
)
def test_resolve_count(value: int | str, desired: int, up: int, down: int) -> None:
    assert resolve_count(value, desired, round_up=True) == up
    assert resolve_count(value, desired, round_up=False) == down


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        (1, 0, 4, BatchLimits(1, 0)),
        ("25%", 0, 4, BatchLimits(1, 0)),
        ("50%", 0, 10, BatchLimits(5, 0)),
        (0, 1, 4, BatchLimits(0, 1)),
        (0, 0, 4, BatchLimits(1, 0, surge_forced=True)),
        ("0%", "10%", 4, BatchLimits(1, 0, surge_forced=True)),  # 10% of 4 rounds down to 0
        ("25%", "25%", 10, BatchLimits(3, 2)),
    ],
)
def test_batch_limits(surge: int | str, unavailable: int | str, desired: int, expected: BatchLimits) -> None:
    assert resolve_batch_limits(max_surge=surge, max_unavailable=unavailable, desired=desired) == expected
    assert expected.batch_size >= 1


def test_defaults() -> None:
    config = RolloutConfig()
    assert config.strategy is Strategy.ROLLING
    assert (config.max_surge, config.max_unavailable, config.steps) == ("25%", 0, [10, 50, 100])
    assert (config.pause_s, config.health_timeout_s, config.keep_previous_s, config.drain_timeout_s) == (
        0,
        600,
        3600,
        300,
    )
    assert config.auto_rollback is True
    assert config.alarms == []


def test_values_are_normalised() -> None:
    config = RolloutConfig.model_validate(
        {"strategy": "canary", "max_surge": "2", "max_unavailable": "10 %", "pause": 90}
    )
    assert config.strategy is Strategy.CANARY
    assert (config.max_surge, config.max_unavailable, config.pause_s) == (2, "10%", 90)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"steps": [10, 5, 100]}, "strictly increasing, got 10 then 5"),
        ({"steps": [10, 10, 100]}, "strictly increasing"),
        ({"steps": [10, 50]}, "last step must be 100"),
        ({"steps": []}, "must not be empty"),
        ({"steps": [0, 100]}, "between 1 and 100, got 0"),
        ({"steps": [50, 150]}, "between 1 and 100, got 150"),
        ({"steps": [True, 100]}, "whole percentages"),
        ({"strategy": "blue-green"}, "'rolling', 'blue_green' or 'canary'"),
        ({"max_surge": "lots"}, 'max_surge must be a number of instances or a percentage like "25%"'),
        ({"max_unavailable": -1}, "max_unavailable must not be negative"),
        ({"max_unavailable": "150%"}, "max_unavailable is a share of the fleet, at most 100%, got 150%"),
        ({"max_surge": True}, "max_surge must be a number"),
        ({"pause": "2 minutes"}, "pause: invalid duration"),
        ({"health_timeout": "0s"}, "health_timeout must be longer than 0s"),
        ({"keep_previous": -5}, "keep_previous: duration must not be negative"),
        ({"alarms": [""]}, "alarm names must not be empty"),
        ({"drain": "300s"}, "Extra inputs are not permitted"),
    ],
)
def test_validation_messages(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RolloutConfig(**fields)
    assert message in str(caught.value)
