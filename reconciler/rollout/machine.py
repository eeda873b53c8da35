"""One fleet's rollout as a step machine over batched observations: pure decisions, no calls.

The rollout coordinator (applying.coordinator) observes every fleet it drives in one `FleetWorld`
per poll and asks each `FleetMachine` what to do now. A machine decides its current step over that
world (`decide_step`): DONE (advance and decide the next step on the same world), WAIT (a gate not
passed yet, a pause, a drain), FAIL (a gate that timed out, an alarm, a conflict), or DO: the
effects (FleetOps writes) to send. A machine sends at most one step's effects per poll and then
waits for the next world, so every decision reads the cloud after the fleet's last write.

The step actions of rollout.actions are reused as decision functions: they run against
`WorldOps`, a FleetOps that answers reads from the world and records writes as `Effect`s instead
of sending them. Waits (WAIT_HEALTHY, PAUSE, the drain of DRAIN) are decided here from the world.
Progress moves through rollout.progress exactly as the one-fleet executor moves it, so records,
resume, rollback and `rollout status` are unchanged. Callers: applying.coordinator, tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from reconciler.errors import CloudError, CloudErrorKind, OwnershipError
from reconciler.rollout.actions import is_live, pick_members, run_step, target_group_arns
from reconciler.rollout.health import evaluate_gate
from reconciler.rollout.model import RolloutPlan, RolloutStep, StepKind, describe_step
from reconciler.rollout.numbering import phase_words, position
from reconciler.rollout.progress import (
    Phase,
    RolloutProgress,
    advance,
    begin_rollback,
    fail,
    next_step,
    rollback_steps,
)
from reconciler.rollout.waits import FailureKind, Observation, StepEnv, StepFailed
from reconciler.sdk.fleet import AlarmState, FleetWorld, GroupInfo, GroupMember, TargetHealth
from reconciler.sdk.rollout_block import format_duration

__all__ = ["Decision", "Effect", "EffectKind", "FleetMachine", "Verdict", "WorldOps", "decide_step"]

ATTEMPTS = 3  # a step whose writes hit a transient cloud error is decided and sent again this often
POLL_FAILURES = 5  # polls in a row that could not read the world before the step fails
TRANSIENT = (CloudErrorKind.RETRYABLE, CloudErrorKind.UNREACHABLE)
_REGISTERED = (TargetHealth.INITIAL, TargetHealth.HEALTHY, TargetHealth.UNHEALTHY, TargetHealth.DRAINING)


class Verdict(StrEnum):
    WAIT = "wait"
    DO = "do"
    DONE = "done"
    FAIL = "fail"


class EffectKind(StrEnum):
    """One FleetOps write (the method's name)."""

    CREATE_GROUP = "create_group"
    SET_LAUNCH_TEMPLATE_VERSION = "set_launch_template_version"
    ATTACH_TARGET_GROUPS = "attach_target_groups"
    DETACH_TARGET_GROUPS = "detach_target_groups"
    REGISTER_INSTANCES = "register_instances"
    DEREGISTER_INSTANCES = "deregister_instances"
    SET_CAPACITY = "set_capacity"
    TERMINATE_INSTANCE = "terminate_instance"
    DELETE_GROUP = "delete_group"


@dataclass(frozen=True)
class Effect:
    kind: EffectKind
    args: Mapping[str, Any]
    positional: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    effects: tuple[Effect, ...] = ()
    detail: str = ""
    failure: FailureKind | None = None


class WorldOps:
    """A FleetOps over one FleetWorld: reads answer from it, writes become Effects (pure)."""

    def __init__(self, world: FleetWorld) -> None:
        self.world = world
        self.effects: list[Effect] = []

    def describe_group(self, name: str) -> GroupInfo | None:
        return self.world.groups.get(name)

    def members_and_health(self, group: str) -> list[GroupMember]:
        return list(self.world.members.get(group, ()))

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        return {n: self.world.alarms.get(n, AlarmState.MISSING) for n in names}

    def wait_drained(self, **_: Any) -> bool:  # DRAIN is decided by decide_step, never here
        raise AssertionError("wait_drained is decided over the world")

    def _write(self, kind: EffectKind, *positional: Any, **args: Any) -> None:
        self.effects.append(Effect(kind, dict(args), positional))

    def create_group(self, **args: Any) -> None:
        like = self.world.groups.get(str(args.get("like", "")))
        if like is not None and like.launch_settings and args["name"] not in self.world.groups:
            args["like_settings"] = dict(like.launch_settings)  # this world read both: no reads first
        self._write(EffectKind.CREATE_GROUP, **args)

    def set_launch_template_version(self, **args: Any) -> None:
        self._write(EffectKind.SET_LAUNCH_TEMPLATE_VERSION, **args)

    def attach_target_groups(self, **args: Any) -> None:
        self._write(EffectKind.ATTACH_TARGET_GROUPS, **args)

    def detach_target_groups(self, **args: Any) -> None:
        self._write(EffectKind.DETACH_TARGET_GROUPS, **args)

    def register_instances(self, **args: Any) -> None:
        self._write(EffectKind.REGISTER_INSTANCES, **args)

    def deregister_instances(self, **args: Any) -> None:
        self._write(EffectKind.DEREGISTER_INSTANCES, **args)

    def set_capacity(self, **args: Any) -> None:
        self._write(EffectKind.SET_CAPACITY, **args)

    def terminate_instance(self, instance_id: str, *, decrement: bool, seen_in_group: bool = False) -> None:
        # the actions pick only members this world shows live in the group
        self._write(EffectKind.TERMINATE_INSTANCE, instance_id, decrement=decrement, seen_in_group=True)

    def delete_group(self, name: str, *, force: bool) -> None:
        self._write(EffectKind.DELETE_GROUP, name, force=force)


@dataclass
class StepClock:
    """When the current step began being decided, and what a wait inside it remembers."""

    started: float
    since: float | None  # when the previous step was recorded (a resumed PAUSE counts from it)
    sent: tuple[str, ...] | None = None  # DRAIN: the ids deregistered
    pause_end: float | None = None


def _env(
    plan: RolloutPlan, ops: WorldOps, *, now: float, tags: Mapping[str, str], notes: list[str]
) -> StepEnv:
    def no_sleep(_: float) -> None:
        raise AssertionError("a decision never sleeps")

    def observe(seen: Observation) -> None:
        if seen.detail:
            notes.append(seen.detail)

    return StepEnv(
        plan=plan, ops=ops, clock=lambda: now, sleep=no_sleep, poll_s=0.0, observe=observe, tags=tags
    )


def _drain(step: RolloutStep, plan: RolloutPlan, world: FleetWorld, at: StepClock, now: float) -> Decision:
    ops = WorldOps(world)
    env = _env(plan, ops, now=now, tags={}, notes=[])
    arns = target_group_arns(env, step.target_groups)
    if at.sent is None:
        members = [m for m in world.members.get(step.group, ()) if is_live(m)]
        if step.instance_ids:
            alive = {m.instance_id for m in members}
            ids = [i for i in step.instance_ids if i in alive]
        elif step.count:
            chosen = pick_members(
                members, count=step.count, image_id=step.image_id, exclude_image=plan.new.image_id, arns=arns
            )
            ids = [m.instance_id for m in chosen]
        else:
            ids = [m.instance_id for m in members]
        if not ids or not arns:
            return Decision(Verdict.DONE)
        at.sent = tuple(ids)
        effect = Effect(EffectKind.DEREGISTER_INSTANCES, {"target_group_arns": arns, "instance_ids": ids})
        return Decision(Verdict.DO, (effect,), detail=f"draining {len(ids)} instance(s)")
    still = [i for arn in arns for i in at.sent if world.target_health.get(arn, {}).get(i) in _REGISTERED]
    if not still:
        return Decision(Verdict.DONE)
    if now - at.started >= step.duration_s:
        waited = format_duration(step.duration_s, compact=True)
        return Decision(Verdict.DONE, detail=f"still draining after {waited}; going on")
    return Decision(Verdict.WAIT, detail=f"{len(set(still))} instance(s) still draining")


def decide_step(
    step: RolloutStep,
    *,
    plan: RolloutPlan,
    world: FleetWorld,
    now: float,
    at: StepClock,
    watch_alarms: bool,
    tags: Mapping[str, str] | None = None,
) -> Decision:
    """What to do about `step` given `world` (pure; `at` remembers a wait across polls)."""
    if step.kind is StepKind.WAIT_HEALTHY:
        arns = list(plan.target_group_arns) if plan.target_groups else []
        names = dict(zip(plan.target_group_arns, plan.target_groups, strict=False))
        alarms = {n: world.alarms.get(n, AlarmState.MISSING) for n in step.alarms}
        members = world.members.get(step.group, ())
        verdict = evaluate_gate(step, members, alarms, target_group_arns=arns, names=names)
        if verdict.ok:
            return Decision(Verdict.DONE, detail=str(verdict))
        if verdict.failed:
            fired = ", ".join(f"alarm {n} is in ALARM" for n in step.alarms if alarms[n] is AlarmState.ALARM)
            return Decision(Verdict.FAIL, detail=fired or str(verdict), failure=FailureKind.ALARM)
        if now - at.started >= step.duration_s:
            timeout = format_duration(step.duration_s, compact=True)
            return Decision(
                Verdict.FAIL, detail=f"{verdict} (not healthy within {timeout})", failure=FailureKind.GATE
            )
        return Decision(Verdict.WAIT, detail=str(verdict))
    if step.kind is StepKind.PAUSE:
        if at.pause_end is None:
            since = at.since if at.since is not None else now
            at.pause_end = max(min(since, now), now - step.duration_s) + step.duration_s
        firing = [n for n in (plan.alarms if watch_alarms else []) if world.alarms.get(n) is AlarmState.ALARM]
        if firing:
            said = ", ".join(f"alarm {n} is in ALARM" for n in firing)
            return Decision(Verdict.FAIL, detail=f"{said} (during the pause)", failure=FailureKind.ALARM)
        if now >= at.pause_end:
            return Decision(Verdict.DONE)
        left = format_duration(int(at.pause_end - now), compact=True)
        return Decision(Verdict.WAIT, detail=f"{left} of bake time left")
    if step.kind is StepKind.DRAIN:
        try:
            return _drain(step, plan, world, at, now)
        except StepFailed as err:
            return Decision(Verdict.FAIL, detail=err.detail, failure=err.kind)
    ops = WorldOps(world)
    notes: list[str] = []
    try:
        run_step(step, _env(plan, ops, now=now, tags=tags or {}, notes=notes))
    except StepFailed as err:
        return Decision(Verdict.FAIL, detail=err.detail, failure=err.kind)
    detail = "; ".join(notes)
    if ops.effects:
        return Decision(Verdict.DO, tuple(ops.effects), detail=detail)
    return Decision(Verdict.DONE, detail=detail)


def _failure_text(detail: str, kind: FailureKind | None, *, step: RolloutStep, where: str) -> str:
    if kind in (FailureKind.GATE, FailureKind.ALARM):
        prefix = "rollback " if where.startswith("rollback") else ""
        return f"{prefix}health gate failed at {where}: {detail}"
    return f"{where} ({step.description or describe_step(step)}) failed: {detail}"


@dataclass
class FleetMachine:
    """One fleet's rollout driven by the coordinator, one world at a time."""

    address: str
    provider: str
    wave: int
    plan: RolloutPlan
    progress: RolloutProgress
    auto_rollback: bool
    tags: Mapping[str, str] = field(default_factory=dict)
    requested: bool = False  # a rollback on request (`rollout rollback`)
    detail: str = ""
    dirty: bool = False  # progress changed since the coordinator last recorded it
    attempts: int = 0
    poll_failures: int = 0
    _at: StepClock | None = None
    _key: tuple[Phase, int] | None = None

    @property
    def finished(self) -> bool:
        return self.progress.phase not in (Phase.PENDING, Phase.IN_PROGRESS, Phase.ROLLING_BACK)

    def step_number(self) -> tuple[int, int, str]:
        """(numbered line, of, description) of where the machine stands: the plan's numbering."""
        step = next_step(self.plan, self.progress)
        rolling_back = self.progress.phase is Phase.ROLLING_BACK
        index = self.progress.rollback_index if rolling_back else self.progress.step_index
        steps = rollback_steps(self.plan, self.progress) if rolling_back else self.plan.steps
        text = (
            (step.description or describe_step(step))
            if step is not None
            else phase_words(self.progress.phase)
        )
        at = position(steps, index)  # the plan's numbered line (rollout.numbering), not the step index
        return at.number, at.total, text

    def groups(self) -> tuple[str, ...]:
        steps = [s.group for s in self.plan.steps if s.group]
        return tuple(dict.fromkeys([g for g in (self.plan.group, self.plan.green_group, *steps) if g]))

    def alarms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.plan.alarms, *(a for s in self.plan.steps for a in s.alarms)]))

    def _where(self) -> str:
        number, total, _ = self.step_number()
        rollback = "rollback " if self.progress.phase is Phase.ROLLING_BACK else ""
        return f"{rollback}step {number}/{total}"

    def fail_with(self, failure: str, *, now: float, conflict: bool = False) -> None:
        """The current step failed: roll back (auto_rollback) or stop; a conflict at the first
        forward step changed nothing, so there is nothing to roll back."""
        if self.progress.phase is Phase.ROLLING_BACK:
            self.progress = fail(self.progress, failure=failure, now=now)
        else:
            untouched = conflict and self.progress.step_index == 0
            if untouched:
                failure += "; nothing was changed"
            self.progress = (
                begin_rollback(self.progress, failure=failure, now=now)
                if self.auto_rollback and not untouched
                else fail(self.progress, failure=failure, now=now)
            )
        self.dirty = True
        self._at = None

    def decide(self, world: FleetWorld, *, now: float) -> tuple[Effect, ...]:
        """Advance through every step the world shows done; the effects to send now (or ())."""
        self.poll_failures = 0
        while not self.finished:
            step = next_step(self.plan, self.progress)
            if step is None:  # nothing (left) to run in this phase
                done = Phase.ROLLED_BACK if self.progress.phase is Phase.ROLLING_BACK else Phase.COMPLETE
                self.progress = replace(self.progress, phase=done, updated_at=now, finished_at=now)
                self.dirty = True
                break
            key = (self.progress.phase, self.progress.rollback_index or self.progress.step_index)
            if self._at is None or key != self._key:
                self._at = StepClock(started=now, since=self.progress.updated_at)
                self._key, self.attempts = key, 0
            watch = self.progress.phase is not Phase.ROLLING_BACK
            decision = decide_step(
                step, plan=self.plan, world=world, now=now, at=self._at, watch_alarms=watch, tags=self.tags
            )
            self.detail = decision.detail
            if decision.verdict is Verdict.DONE:
                self.progress = advance(self.plan, self.progress, now=now)
                self.dirty = True
                continue
            if decision.verdict is Verdict.FAIL:
                text = _failure_text(decision.detail, decision.failure, step=step, where=self._where())
                self.fail_with(text, now=now, conflict=decision.failure is FailureKind.CONFLICT)
                continue
            return decision.effects if decision.verdict is Verdict.DO else ()
        return ()

    def sent(self, *, now: float, error: Exception | None) -> None:
        """The effects of the current step were sent: advance, or count/handle the error."""
        if error is None:
            step = next_step(self.plan, self.progress)
            if step is not None and step.kind is StepKind.DRAIN:
                return  # the drain itself is waited for over the next worlds
            self.progress = advance(self.plan, self.progress, now=now)
            self.dirty = True
            return
        transient = isinstance(error, CloudError) and error.kind in TRANSIENT
        self.attempts += 1
        if transient and self.attempts < ATTEMPTS:
            self.detail = f"{error}; trying again"
            if self._at is not None:
                self._at.sent = None
            return
        step = next_step(self.plan, self.progress)
        assert step is not None
        text = f"{self._where()} ({step.description or describe_step(step)}) failed: {error}"
        self.fail_with(text, now=now, conflict=isinstance(error, OwnershipError))

    def unseen(self, error: CloudError, *, now: float) -> None:
        """The world could not be read this poll: wait (transient, up to POLL_FAILURES) or fail."""
        self.poll_failures += 1
        self.detail = f"reading health failed ({error}); reading again"
        if error.kind not in TRANSIENT or self.poll_failures >= POLL_FAILURES:
            self.poll_failures = 0
            step = next_step(self.plan, self.progress)
            if step is not None:
                text = f"{self._where()} ({step.description or describe_step(step)}) failed: {error}"
                self.fail_with(text, now=now)
