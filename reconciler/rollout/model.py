"""The data a rollout is planned from and the plan it expands into: plain, JSON-serialisable.

`FleetSnapshot` and `Release` are what the planner read from the cloud; `RolloutPlan` is what it
shows and what apply executes, one `RolloutStep` at a time. Each step's one-line description is
derived from its typed fields by `describe_step`, so renderers never invent wording.
Callers: rollout.plan (builds), rollout.progress (walks), planning (stores `to_dict()` in
`ResourceChange.rollout`), render (reads `outline()`, `summary`, durations), applying (executes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from reconciler.sdk.fleet import FleetSnapshot, InstanceInfo, Release
from reconciler.sdk.rollout_block import Strategy, format_duration

__all__ = [
    "FleetSnapshot",
    "InstanceInfo",
    "Phase",
    "Release",
    "RollbackTarget",
    "RolloutPlan",
    "RolloutProgress",
    "RolloutStep",
    "StepKind",
    "TargetRelease",
    "describe_step",
    "needs_replacement",
    "steps_started",
]


class StepKind(StrEnum):
    SET_VERSION = "set_version"  # point a group at a (numbered) launch template version
    CREATE_GROUP = "create_group"  # new group pinned to the new version, at `desired`
    # ATTACH: a group to its target groups, or (instance_ids) instances back into them (gone ones
    # are skipped)
    ATTACH = "attach"
    LAUNCH = "launch"  # raise a group's desired to `desired` (`count` new), max first if max_size set
    WAIT_HEALTHY = "wait_healthy"  # `count` members healthy within `duration_s` (the health gate)
    DETACH = "detach"  # group from its target groups
    DRAIN = "drain"  # deregister (instance_ids, or the whole group) and wait out the delay
    # TERMINATE: terminate instance_ids (or `count` members on image_id chosen at run time) with
    # decrement, lowering min first when min_size is set; never below `desired` (the capacity after)
    TERMINATE = "terminate"
    SCALE = "scale"  # set desired (and min/max when given) of a group
    PAUSE = "pause"  # bake time once healthy
    KEEP_PREVIOUS = "keep_previous"  # record that the old group is kept `duration_s` for rollback
    DELETE_GROUP = "delete_group"  # delete a group and whatever instances it still has


TargetRelease = Release


@dataclass
class RolloutStep:
    """One thing apply does; `stage` groups steps into the numbered lines a reviewer reads."""

    kind: StepKind
    group: str = ""
    stage: int = 0
    count: int = 0
    desired: int | None = None  # the group's desired capacity once the step is done
    min_size: int | None = None
    max_size: int | None = None
    launch_template_version: int | None = None
    # LAUNCH / WAIT_HEALTHY: the release counted ("" = every member of the group);
    # DRAIN / TERMINATE without instance_ids: pick `count` members on this image, unhealthy first
    image_id: str = ""
    image_name: str = ""
    instance_type: str = ""  # with image_id: the release a LAUNCH starts or a WAIT_HEALTHY counts
    instance_ids: list[str] = field(default_factory=list)  # seen at plan time; [] = choose at run time
    target_groups: list[str] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    duration_s: int = 0  # PAUSE / DRAIN wait; WAIT_HEALTHY timeout; KEEP_PREVIOUS period
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RolloutStep:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["kind"] = StepKind(values["kind"])
        return cls(**values)


@dataclass(frozen=True)
class RollbackTarget:
    group: str
    launch_template_version: int
    image_name: str
    image_id: str = ""

    def __str__(self) -> str:
        return f"{self.group} on launch template version {self.launch_template_version} ({self.image_name})"


@dataclass
class RolloutPlan:
    """A fleet's rollout, fully expanded; the contract between plan and apply for that fleet."""

    strategy: Strategy
    fleet_name: str
    group: str  # the live (blue) group
    green_group: str  # the group created by blue_green/canary; "" for rolling
    old: Release
    new: Release
    desired: int
    min_size: int
    max_size: int
    total_instances: int
    instances_to_replace: list[str]
    steps: list[RolloutStep]
    summary: str
    health_gates: list[str]
    rollback: RollbackTarget
    min_duration_s: int = 0
    max_duration_s: int = 0
    surge: int = 0  # rolling: resolved limits
    unavailable: int = 0
    target_groups: list[str] = field(default_factory=list)
    target_group_arns: list[str] = field(default_factory=list)
    launch_template_id: str = ""
    alarms: list[str] = field(default_factory=list)
    auto_rollback: bool = True
    health_timeout_s: int = 600
    drain_timeout_s: int = 300
    keep_previous_s: int = 3600
    stage_labels: list[str] = field(default_factory=list)  # label of stage n at index n-1
    notes: list[str] = field(default_factory=list)

    @property
    def replace_count(self) -> int:
        return len(self.instances_to_replace)

    @property
    def is_noop(self) -> bool:
        """Nothing to replace: the group only needs pointing at the new version."""
        return not self.steps

    def outline(self) -> list[str]:
        """One line per stage, e.g. "create web-g0008 at 12, attach to target group web"."""
        lines: list[str] = []
        stages = sorted({s.stage for s in self.steps})
        for stage in stages:
            text = ""
            previous: RolloutStep | None = None
            for step in (s for s in self.steps if s.stage == stage):
                phrase = describe_step(step, after=previous)
                if not text:
                    text = phrase
                else:
                    text += ("; " if step.kind is StepKind.KEEP_PREVIOUS else ", ") + phrase
                previous = step
            label = self.stage_labels[stage - 1] if 0 < stage <= len(self.stage_labels) else ""
            lines.append(f"{label}: {text}" if label else text)
        return lines

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["strategy"] = str(self.strategy)
        data["old"] = asdict(self.old)
        data["new"] = asdict(self.new)
        data["rollback"] = asdict(self.rollback)
        data["steps"] = [s.to_dict() for s in self.steps]
        for key in ("instances_to_replace", "health_gates", "target_groups", "target_group_arns"):
            data[key] = list(data[key])
        for key in ("alarms", "stage_labels", "notes"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RolloutPlan:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["strategy"] = Strategy(values["strategy"])
        values["old"] = Release(**values["old"])
        values["new"] = Release(**values["new"])
        values["rollback"] = RollbackTarget(**values["rollback"])
        values["steps"] = [RolloutStep.from_dict(s) for s in values["steps"]]
        return cls(**values)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _tg_phrase(names: list[str]) -> str:
    return f"target group {names[0]}" if len(names) == 1 else f"target groups {', '.join(names)}"


def _limits(step: RolloutStep) -> list[str]:
    """min/max worth saying: a minimum of 0 on a group scaled to 0 goes without saying."""
    limits = []
    if step.min_size is not None and not (step.min_size == 0 and step.desired == 0):
        limits.append(f"min {step.min_size}")
    if step.max_size is not None:
        limits.append(f"max {step.max_size}")
    return limits


def _capacity(step: RolloutStep) -> str:
    return ", ".join([f"{step.group} at {step.desired}", *_limits(step)])


def describe_step(step: RolloutStep, *, after: RolloutStep | None = None) -> str:
    """The step as a reviewer reads it. `after` (the previous step of the same line) lets the
    group name be left out when it was just said: "detach web-g0007, drain 300 s, scale to 0"."""
    same = after is not None and after.group == step.group and bool(step.group)
    grp = "" if same else f"{step.group} "
    # a few ids are worth reading; beyond that, a count says more
    ids = ", ".join(step.instance_ids) if len(step.instance_ids) <= 3 else ""
    k = step.kind
    if k is StepKind.SET_VERSION:
        version = step.launch_template_version
        return f"point {step.group} at launch template version {version} ({step.image_name})"
    if k is StepKind.CREATE_GROUP:
        return f"create {step.group} at {step.desired}"
    if k is StepKind.ATTACH:
        if step.instance_ids:
            who = ids or _plural(len(step.instance_ids), "instance")
            return f"return {who} to {_tg_phrase(step.target_groups)}"
        return f"attach {grp}to {_tg_phrase(step.target_groups)}"
    if k is StepKind.LAUNCH:
        on = f" on {step.image_name}" if step.image_name else ""
        return f"launch {step.count}{on} ({_capacity(step)})"
    if k is StepKind.WAIT_HEALTHY:
        what = f"{step.count}/{step.count}"
        if step.image_name:
            what += f" on {step.image_name}"
        elif not same:
            what = f"{step.group} {what}"
        gates = f" ({', '.join(step.gates)})" if step.gates else ""
        return f"wait until {what} healthy{gates}, ≤ {format_duration(step.duration_s, compact=True)}"
    if k is StepKind.DETACH:
        return f"detach {step.group}"
    if k is StepKind.DRAIN:
        if ids:
            who = ids
        elif step.count:
            who = f"{_plural(step.count, 'instance')} of {step.group}"
        else:
            who = "" if same else step.group
        return f"drain {who} up to {step.duration_s} s".replace("drain  ", "drain ")
    if k is StepKind.TERMINATE:
        drained = after is not None and after.kind is StepKind.DRAIN
        one = (len(step.instance_ids) or step.count) == 1
        who = ("it" if one else "them") if drained else (ids or _plural(step.count, "instance"))
        return f"terminate {who} ({_capacity(step)})"
    if k is StepKind.SCALE:
        limits = _limits(step)
        extra = f" ({', '.join(limits)})" if limits else ""
        return f"scale {grp}to {step.desired}{extra}"
    if k is StepKind.PAUSE:
        return f"pause {format_duration(step.duration_s, compact=True)}"
    if k is StepKind.KEEP_PREVIOUS:
        if not step.duration_s:  # keep_previous = "0s": the apply deletes it once the rollout is done
            return f"delete {'it' if same else step.group} once the rollout is complete"
        period = format_duration(step.duration_s, compact=True)
        return f"keep {'it' if same else step.group} {period} for rollback"
    if k is StepKind.DELETE_GROUP:
        return "delete it" if same else f"delete {step.group}"
    raise AssertionError(f"unhandled step kind {k}")  # pragma: no cover


class Phase(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    ROLLING_BACK = "rolling_back"
    COMPLETE = "complete"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


@dataclass
class RolloutProgress:
    phase: Phase = Phase.PENDING
    step_index: int = 0  # next forward step; frozen once rolling back
    rollback_index: int = 0  # next step of rollback_steps(plan, progress)
    green_group: str = ""
    blue_group: str = ""
    replaced: list[str] = field(default_factory=list)  # old instance ids terminated so far
    started_at: float | None = None  # epoch seconds, given by the executor
    updated_at: float | None = None
    finished_at: float | None = None
    failure: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["phase"] = str(self.phase)
        data["replaced"] = list(self.replaced)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RolloutProgress:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["phase"] = Phase(values.get("phase", Phase.PENDING))
        values["replaced"] = list(values.get("replaced", []))
        return cls(**values)


def needs_replacement(instance: InstanceInfo, new: Release) -> bool:
    """The instance does not run `new` (its image or its instance type differs)."""
    return instance.image_id != new.image_id or instance.instance_type != new.instance_type


def steps_started(plan: RolloutPlan, progress: RolloutProgress) -> int:
    """How many forward steps may have had an effect (done, plus the one that was in flight)."""
    if progress.phase is Phase.PENDING:
        return 0
    return min(progress.step_index + 1, len(plan.steps))
