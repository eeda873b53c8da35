"""The bake between two waves as state records it, and the pure decisions about a recorded bake.

When the bake after wave N starts, the rollout coordinator records a `BakeMarker` in state
(`State.bake`, plain JSON, in the same write as the wave's last progress): the wave, when the bake
started and when it ends (wall-clock UTC), its length, the wave alarms and where they are read, and
each fleet of the wave with the launch template version and image it rolled to and its own alarms.
The marker is cleared when the bake ends, passed or halted by an alarm. A marker still in state
means an apply was interrupted (kill -9, crash, Ctrl-C) during that bake.

`bake_hold` is what the next plan decides from it (the plan carries the result in its waves, so
apply does what the plan says); `bake_wait` is what apply decides when it reaches the held wave.
The rules, in order:
- no marker, or its end time passed: nothing holds (a marker whose end passed is just cleared);
- the plan rolls out no fleet of a wave after the baked one: nothing holds;
- the plan rolls out a fleet of the baked wave or an earlier one: that wave rolls again and bakes
  again after it, so the marker is superseded and nothing holds;
- a baked fleet still in state whose recorded rollout is no longer complete on the launch template
  version and image the marker names (rolled back, rolled again), or no baked fleet left in state:
  the marker belongs to a rollout that is over, nothing holds;
- else the first planned wave after the baked one waits for the rest of the bake (until the
  recorded end), watching the recorded wave alarms and the baked fleets' own alarms, as the
  interrupted bake did; an alarm then halts as an alarm during any bake does.
If the stack's `waves { bake, alarms }` changed or was removed since, the recorded bake stands as
recorded: its end time and its alarms (what was promised when the wave was rolled out).

This module is the one reader and writer of `State.bake`; a marker that cannot be read is a
StateError naming the state, never a traceback. Pure. Callers: applying.rollouts (records,
clears and carries out), planning.waves (plans), rollout.waves (carried in a WavePlan),
render.waves_text (words).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import StateError

__all__ = [
    "BakeHold",
    "BakeMarker",
    "BakedFleet",
    "RecordedRollout",
    "bake_hold",
    "bake_wait",
    "read_marker",
]


@dataclass(frozen=True)
class BakedFleet:
    """One fleet of the baked wave: the release it rolled to and the alarms it watches."""

    address: str
    provider: str
    type_name: str
    launch_template_version: int
    image_id: str
    alarms: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "provider": self.provider,
            "type": self.type_name,
            "launch_template_version": self.launch_template_version,
            "image_id": self.image_id,
            "alarms": list(self.alarms),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BakedFleet:
        return cls(
            address=str(raw["address"]),
            provider=str(raw["provider"]),
            type_name=str(raw["type"]),
            launch_template_version=int(raw["launch_template_version"]),
            image_id=str(raw["image_id"]),
            alarms=tuple(str(a) for a in raw.get("alarms", [])),
        )


@dataclass(frozen=True)
class BakeMarker:
    """A bake that started after `wave` and had not ended when state was last written."""

    wave: int
    started_at: float  # epoch seconds (wall clock); written as UTC timestamps
    ends_at: float
    bake_s: int
    alarms: tuple[str, ...]  # the wave alarms
    alarm_provider: str | None
    fleets: tuple[BakedFleet, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "started_at": _utc(self.started_at),
            "ends_at": _utc(self.ends_at),
            "bake_s": self.bake_s,
            "alarms": list(self.alarms),
            "alarm_provider": self.alarm_provider,
            "fleets": [f.to_dict() for f in self.fleets],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BakeMarker:
        provider = raw.get("alarm_provider")
        return cls(
            wave=int(raw["wave"]),
            started_at=_epoch(raw["started_at"]),
            ends_at=_epoch(raw["ends_at"]),
            bake_s=int(raw["bake_s"]),
            alarms=tuple(str(a) for a in raw.get("alarms", [])),
            alarm_provider=str(provider) if provider is not None else None,
            fleets=tuple(BakedFleet.from_dict(f) for f in raw["fleets"]),
        )


@dataclass(frozen=True)
class BakeHold:
    """A plan's decision: the recorded bake holds back wave `before` until `marker.ends_at`;
    `left_s` is what was left of it when the plan was made."""

    marker: BakeMarker
    before: int
    left_s: int

    def to_dict(self) -> dict[str, Any]:
        return {"before": self.before, "left_s": self.left_s, "marker": self.marker.to_dict()}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BakeHold:
        return cls(
            marker=BakeMarker.from_dict(raw["marker"]),
            before=int(raw["before"]),
            left_s=int(raw.get("left_s", 0)),
        )


@dataclass(frozen=True)
class RecordedRollout:
    """What state records of a baked fleet's last rollout (rollout.record), for `bake_hold`."""

    complete: bool
    launch_template_version: int
    image_id: str


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _epoch(text: Any) -> float:
    if not isinstance(text, str):
        raise TypeError(f"a UTC timestamp is required, not {text!r}")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} names no time zone")
    return parsed.timestamp()


def read_marker(raw: Mapping[str, Any] | None, *, where: str = "state") -> BakeMarker | None:
    """The marker in `raw` (a State.bake); None when there is none (older states have none)."""
    if not raw:
        return None
    try:
        return BakeMarker.from_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(
            f"{where}: the bake between waves recorded in state cannot be read "
            f"({type(exc).__name__}: {exc}); fix or remove its `bake` entry"
        ) from None


def bake_hold(
    marker: BakeMarker | None,
    *,
    now: float,
    planned: Sequence[int],
    recorded: Mapping[str, RecordedRollout],
) -> BakeHold | None:
    """Whether a recorded bake holds back a wave of this plan (the module docstring's rules).
    `planned`: the wave of every ROLLOUT of the plan; `recorded`: the rollout state records of
    the baked fleets still in state, by address."""
    if marker is None or marker.ends_at <= now:
        return None
    later = sorted(w for w in set(planned) if w > marker.wave)
    if not later or any(w <= marker.wave for w in planned):
        return None
    present = [f for f in marker.fleets if f.address in recorded]
    if not present:
        return None
    for fleet in present:
        record = recorded[fleet.address]
        same = (record.launch_template_version, record.image_id) == (
            fleet.launch_template_version,
            fleet.image_id,
        )
        if not (record.complete and same):
            return None
    return BakeHold(marker=marker, before=later[0], left_s=_ceil(marker.ends_at - now))


def bake_wait(hold: BakeHold | None, *, wave: int, now: float) -> float:
    """Seconds wave `wave` still waits for a recorded bake before it starts (0: none)."""
    if hold is None or wave != hold.before:
        return 0.0
    return max(0.0, hold.marker.ends_at - now)


def _ceil(seconds: float) -> int:
    whole = int(seconds)
    return whole + (1 if seconds > whole else 0)
