"""Waves of fleets: the vocabulary of a fleet-wide rollout and its halting rule, pure.

`WaveRules` is what the stack's `reconciler { waves { bake, alarms, provider } }` says; a
`WavePlan` the waves a plan rolls out, with the bake an interrupted apply left (rollout.bake);
`WaveOutcome` is how one wave ended (COMPLETED, ROLLED_BACK when the halting rule turned it back,
FAILED when a fleet failed without waves rules, NOT_STARTED); `summary_lines` / `halted_error`
word the per-wave summary an apply ends with when a wave halted.
Callers: applying.rollouts (runs waves), planning.waves (plans them), cli (reports).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.errors import RolloutFailedError
from reconciler.rollout.bake import BakeHold
from reconciler.rollout.model import Phase
from reconciler.sdk.fleet import AlarmState, FleetWorld
from reconciler.sdk.rollout_block import format_duration

__all__ = [
    "HALTING_RULE",
    "Wave",
    "WaveOutcome",
    "WavePlan",
    "WaveRules",
    "WaveStatus",
    "WavesHaltedError",
    "firing_alarm",
    "halted_error",
    "wave_outcome",
]

HALTING_RULE = "a failed gate or alarm rolls its wave back and starts no later wave; earlier waves stay"


@dataclass(frozen=True)
class WaveRules:
    bake_s: int = 0
    alarms: tuple[str, ...] = ()
    provider: str | None = None  # where the wave alarms are read (None: the only provider)

    @property
    def bake_text(self) -> str:
        return format_duration(self.bake_s, compact=True)


@dataclass(frozen=True)
class Wave:
    number: int
    fleets: tuple[str, ...]  # addresses, in plan order
    instances: int  # instances the wave's fleets replace
    resumes: tuple[str, ...] = ()  # fleets whose unfinished rollout this wave resumes


@dataclass(frozen=True)
class WavePlan:
    """The waves a plan rolls out, in order, and the rules between them (a plan's `waves`)."""

    waves: tuple[Wave, ...]
    rules: WaveRules = field(default_factory=WaveRules)
    hold: BakeHold | None = None  # an interrupted bake that holds back a wave (rollout.bake)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bake": self.rules.bake_text if self.rules.bake_s else "",
            "bake_s": self.rules.bake_s,
            "alarms": list(self.rules.alarms),
            "alarm_provider": self.rules.provider,
            "halting": HALTING_RULE,
            "waves": [
                {
                    "wave": w.number,
                    "fleets": list(w.fleets),
                    "instances": w.instances,
                    "resumes": list(w.resumes),
                }
                for w in self.waves
            ],
            "bake_in_progress": self.hold.to_dict() if self.hold is not None else None,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> WavePlan:
        rules = WaveRules(
            bake_s=int(raw.get("bake_s", 0)),
            alarms=tuple(str(a) for a in raw.get("alarms", [])),
            provider=raw.get("alarm_provider"),
        )
        waves = tuple(
            Wave(
                number=int(w["wave"]),
                fleets=tuple(str(f) for f in w["fleets"]),
                instances=int(w.get("instances", 0)),
                resumes=tuple(str(f) for f in w.get("resumes", [])),
            )
            for w in raw.get("waves", [])
        )
        hold = raw.get("bake_in_progress")
        return cls(waves=waves, rules=rules, hold=BakeHold.from_dict(hold) if hold else None)


class WaveStatus(StrEnum):
    COMPLETED = "completed"
    ROLLED_BACK = "rolled back"
    FAILED = "failed"
    NOT_STARTED = "not started"


@dataclass(frozen=True)
class WaveOutcome:
    number: int
    status: WaveStatus
    fleets: Mapping[str, Phase] = field(default_factory=dict)
    cause: str = ""
    first: str = ""  # the fleet whose failure halted the wave ("" for a wave alarm)
    replaced: int = 0  # instances replaced by fleets that completed


class WavesHaltedError(RolloutFailedError):
    """A wave failed and was turned back; later waves did not start."""

    def __init__(self, message: str, outcomes: Sequence[WaveOutcome]) -> None:
        super().__init__(message)
        self.outcomes = tuple(outcomes)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_lines(outcomes: Sequence[WaveOutcome]) -> list[str]:
    lines = []
    for o in sorted(outcomes, key=lambda o: o.number):
        fleets = _plural(len(o.fleets), "fleet")
        if o.status is WaveStatus.COMPLETED:
            detail = f"{fleets}, {_plural(o.replaced, 'instance')} replaced"
        elif o.status is WaveStatus.ROLLED_BACK:
            failed = 1 if o.first else 0
            turned = sum(
                p in (Phase.ROLLED_BACK, Phase.ROLLING_BACK) for a, p in o.fleets.items() if a != o.first
            )
            stuck = sum(p is Phase.FAILED for a, p in o.fleets.items() if a != o.first)
            detail = f"{fleets} ({failed} failed, {turned} turned back with it"
            detail += f", {stuck} failed to turn back)" if stuck else ")"
        else:
            detail = fleets
        lines.append(f"  wave {o.number}  {o.status.value:<11}  {detail}")
    return lines


def firing_alarm(worlds: Sequence[FleetWorld], names: Sequence[str]) -> str:
    """The first of `names` in ALARM in any of `worlds` ("" when none is)."""
    for world in worlds:
        for name in names:
            if world.alarms.get(name) is AlarmState.ALARM:
                return name
    return ""


def wave_outcome(
    number: int, phases: Mapping[str, Phase], *, halted: WaveOutcome | None, replaced: int
) -> WaveOutcome:
    """How a driven wave ended: ROLLED_BACK when the halting rule turned it back, FAILED when a
    fleet did not complete (no waves rules), else COMPLETED."""
    if halted is not None:
        return WaveOutcome(number, WaveStatus.ROLLED_BACK, phases, cause=halted.cause, first=halted.first)
    status = WaveStatus.COMPLETED if all(p is Phase.COMPLETE for p in phases.values()) else WaveStatus.FAILED
    return WaveOutcome(number, status, phases, replaced=replaced)


def halted_error(outcomes: Sequence[WaveOutcome]) -> WavesHaltedError | None:
    """The error an apply ends with when a wave was turned back (None when none was)."""
    halted = next((o for o in outcomes if o.status is WaveStatus.ROLLED_BACK), None)
    if halted is None:
        return None
    of = len(outcomes)
    who = f"{halted.first}: " if halted.first else ""
    head = f"rollout halted in wave {halted.number} of {of}: {who}{halted.cause}"
    return WavesHaltedError("\n".join([head, *summary_lines(outcomes)]), outcomes)
