"""The `rollout { }` block a fleet type embeds: its typed model, the strategy vocabulary
(`StrategyName`), durations and capacity arithmetic.

Pure: no clock, no cloud. Part of the provider SDK: a provider's fleet type validates its
`rollout` block into `RolloutConfig`; the engine expands it (rollout.plan) and echoes durations
with `format_duration`. A new strategy is one member here plus its module in
reconciler.rollout.strategies. Callers: provider fleet types, rollout, planning, render, cli.

Capacity rules (the Kubernetes / EC2 Auto Scaling convention):
- `max_surge` and `max_unavailable` are a whole number of instances or a percentage of the
  fleet's *current* desired capacity ("25%"); surge rounds up, unavailable rounds down; a
  percentage of unavailable instances is at most 100% (surge may exceed it, as in Kubernetes).
- If both resolve to 0 the rollout could never progress (it may neither add nor remove an
  instance), so surge becomes 1; `BatchLimits.surge_forced` records that so the plan can say so.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = [
    "BatchLimits",
    "RolloutConfig",
    "Strategy",
    "StrategyName",
    "format_duration",
    "parse_duration",
    "resolve_batch_limits",
    "resolve_count",
]


class StrategyName(StrEnum):
    ROLLING = "rolling"
    BLUE_GREEN = "blue_green"
    CANARY = "canary"


Strategy = StrategyName  # the old name, until every caller says StrategyName

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(
    r"^(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m)?\s*(?:(?P<s>\d+)\s*s)?$"
)
_PERCENT = re.compile(r"^(?P<n>\d+)\s*%$")


def parse_duration(value: int | str) -> int:
    """Seconds in `value`: an int (seconds), "120", "90s", "2m", "1h30m", "1h 30m", "1d".

    Units are d, h, m, s, largest first, each at most once. Raises ValueError with the accepted
    forms when `value` is anything else (negative, fractional, unknown unit, empty).
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f'duration must be a number of seconds or a string like "90s", got {value!r}')
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"duration must not be negative, got {value}")
        return value
    text = value.strip().lower()
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if not text or match is None or not any(match.groupdict().values()):
        raise ValueError(
            f"invalid duration {value!r}: use whole numbers with units d, h, m, s, largest first, "
            f'e.g. "90s", "2m", "1h30m" (a bare number means seconds)'
        )
    return sum(int(n) * _UNIT_SECONDS[unit] for unit, n in match.groupdict().items() if n)


def format_duration(seconds: int, *, compact: bool = False) -> str:
    """Human duration: 300 -> "5m 0s", 3661 -> "1h 1m 1s", 45 -> "45s".

    With `compact`, zero parts are dropped, as a user would write it: 600 -> "10m", 3600 -> "1h".
    """
    if seconds < 0:
        raise ValueError(f"duration must not be negative, got {seconds}")
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    if compact:
        shown = [f"{n}{u}" for n, u in parts if n]
        return " ".join(shown) if shown else "0s"
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{n}{u}" for n, u in parts)


def _check_count(value: Any, field: str) -> int | str:
    """Normalise a count-or-percent: ints >= 0 stay ints, "2" -> 2, "25 %" -> "25%"."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f'{field} must be a number of instances or a percentage like "25%", got {value!r}')
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{field} must not be negative, got {value}")
        return value
    text = value.strip()
    if text.isdigit():
        return int(text)
    match = _PERCENT.match(text)
    if match is None:
        raise ValueError(f'{field} must be a number of instances or a percentage like "25%", got {value!r}')
    return f"{int(match['n'])}%"


def resolve_count(value: int | str, desired: int, *, round_up: bool) -> int:
    """Instances meant by `value` for a fleet of `desired`: 2 -> 2; "25%" of 10 -> 3 up / 2 down."""
    checked = _check_count(value, "count")
    if isinstance(checked, int):
        return checked
    exact = desired * int(checked[:-1])
    return -(-exact // 100) if round_up else exact // 100


@dataclass(frozen=True)
class BatchLimits:
    """Resolved rolling limits for one fleet size: extra instances and instances out at once."""

    surge: int
    unavailable: int
    surge_forced: bool = False  # both resolved to 0; surge raised to 1 so the rollout progresses

    @property
    def batch_size(self) -> int:
        return max(1, self.surge + self.unavailable)


def resolve_batch_limits(*, max_surge: int | str, max_unavailable: int | str, desired: int) -> BatchLimits:
    """Surge (rounded up) and unavailable (rounded down) for `desired`; never both zero."""
    surge = resolve_count(max_surge, desired, round_up=True)
    unavailable = resolve_count(max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        return BatchLimits(surge=1, unavailable=0, surge_forced=True)
    return BatchLimits(surge=surge, unavailable=unavailable)


class RolloutConfig(BaseModel):
    """The `rollout { }` block; durations are kept as written and read as seconds via `*_s`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: StrategyName = StrategyName.ROLLING
    max_surge: int | str = "25%"
    max_unavailable: int | str = 0
    steps: list[int] = [10, 50, 100]
    pause: int | str = "0s"
    health_timeout: int | str = "10m"
    alarms: list[str] = []
    auto_rollback: bool = True
    keep_previous: int | str = "1h"
    drain_timeout: int | str = "300s"
    wave: int = 1  # waves of an apply run in ascending order (applying.rollouts)

    @field_validator("wave", mode="before")
    @classmethod
    def _wave(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"wave is a whole number of at least 1, got {value!r}")
        return value

    @field_validator("max_surge", "max_unavailable", mode="before")
    @classmethod
    def _count(cls, value: Any, info: Any) -> int | str:
        checked = _check_count(value, info.field_name)
        if info.field_name == "max_unavailable" and isinstance(checked, str) and int(checked[:-1]) > 100:
            raise ValueError(f"max_unavailable is a share of the fleet, at most 100%, got {checked}")
        return checked

    @field_validator("pause", "health_timeout", "keep_previous", "drain_timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any, info: Any) -> int | str:
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise ValueError(f"{info.field_name}: {exc}") from None
        if info.field_name == "health_timeout" and seconds == 0:
            raise ValueError("health_timeout must be longer than 0s")
        return value  # type: ignore[no-any-return]

    @field_validator("steps", mode="before")
    @classmethod
    def _no_bool_steps(cls, value: Any) -> Any:
        if isinstance(value, list) and any(isinstance(v, bool) for v in value):
            raise ValueError("steps must be whole percentages, e.g. [10, 50, 100]")
        return value

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("steps must not be empty; the last step must be 100")
        for pct in value:
            if not 1 <= pct <= 100:
                raise ValueError(f"each step is a percentage of capacity between 1 and 100, got {pct}")
        for before, after in itertools.pairwise(value):
            if after <= before:
                raise ValueError(f"steps must be strictly increasing, got {before} then {after}")
        if value[-1] != 100:
            raise ValueError(f"the last step must be 100 (the whole fleet), got {value[-1]}")
        return value

    @field_validator("alarms")
    @classmethod
    def _alarms(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("alarm names must not be empty")
        return value

    @property
    def pause_s(self) -> int:
        return parse_duration(self.pause)

    @property
    def health_timeout_s(self) -> int:
        return parse_duration(self.health_timeout)

    @property
    def keep_previous_s(self) -> int:
        return parse_duration(self.keep_previous)

    @property
    def drain_timeout_s(self) -> int:
        return parse_duration(self.drain_timeout)

    def batch_limits(self, desired: int) -> BatchLimits:
        return resolve_batch_limits(
            max_surge=self.max_surge, max_unavailable=self.max_unavailable, desired=desired
        )
