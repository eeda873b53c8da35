"""Run a planned rollout through `FleetOps`: step by step, health-gated, recorded, resumable, and
rolled back on failure.

`run_rollout` starts a rollout, or resumes the one a killed apply recorded (the step in flight is
run again; steps are idempotent, see rollout.actions), calls `record(progress)` after every step
so the caller can write it into state, and on a failed health gate, a fired alarm or a cloud
error either rolls back (`auto_rollback`) or stops where it is (FAILED). `rollback_completed`
serves `reconciler rollout rollback ADDR`. Both return a `RolloutOutcome` and tell a progress
display what happens through `RolloutEvent`s (the CLI renders them). The clock and sleep are
injected; nothing here sleeps on its own.
Callers: applying (ROLLOUT changes), cli (`rollout rollback`), tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from reconciler.errors import CloudError, CloudErrorKind, OwnershipError, RollbackUnavailable
from reconciler.rollout.actions import run_step
from reconciler.rollout.model import RolloutPlan, RolloutStep, describe_step
from reconciler.rollout.numbering import phase_words, position, stage_count
from reconciler.rollout.progress import (
    Phase,
    RolloutProgress,
    advance,
    begin_rollback,
    fail,
    next_step,
    rollback_steps,
    start,
)
from reconciler.rollout.report import FleetView, RolloutEvent, RolloutOutcome, outcome_of
from reconciler.rollout.strategies import strategy_for
from reconciler.rollout.waits import FailureKind, Observation, StepEnv, StepFailed
from reconciler.sdk.fleet import FleetOps

__all__ = ["RollbackUnavailable", "RolloutEvent", "RolloutOutcome", "rollback_completed", "run_rollout"]

_ATTEMPTS = 3  # a step hit by a transient cloud error is run again (it is idempotent) this often
_TRANSIENT = (CloudErrorKind.RETRYABLE, CloudErrorKind.UNREACHABLE)
# what fails a step (and so starts a rollback); anything else (a crash, a bug) stops the run as is
_STEP_ERRORS = (StepFailed, CloudError, OwnershipError)


def _ignore(_: RolloutEvent) -> None:
    return None


def _failure(
    err: Exception, *, step: RolloutStep, index: int, steps: Sequence[RolloutStep], rollback: bool
) -> str:
    where = f"{'rollback ' if rollback else ''}step {position(steps, index)}"
    if isinstance(err, StepFailed) and err.kind in (FailureKind.GATE, FailureKind.ALARM):
        return f"{'rollback ' if rollback else ''}health gate failed at {where}: {err.detail}"
    detail = err.detail if isinstance(err, StepFailed) else str(err)
    return f"{where} ({step.description or describe_step(step)}) failed: {detail}"


class _Runner:
    def __init__(
        self,
        *,
        plan: RolloutPlan,
        ops: FleetOps,
        record: Callable[[RolloutProgress], None],
        emit: Callable[[RolloutEvent], None],
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        poll_s: float,
        tags: Mapping[str, str],
        requested: bool = False,
    ) -> None:
        self.plan, self.ops, self.record, self.emit = plan, ops, record, emit
        self.clock, self.sleep, self.poll_s, self.requested = clock, sleep, poll_s, requested
        self.env = StepEnv(
            plan=plan, ops=ops, clock=clock, sleep=sleep, poll_s=poll_s, observe=self._observe, tags=tags
        )
        self.view = FleetView(plan, ops)
        self.at: tuple[int, int, str, Phase] = (0, stage_count(plan.steps), "", Phase.PENDING)

    def _emit(self, *, waited_s: float = 0.0, detail: str = "") -> None:
        step, total, description, phase = self.at
        new, old, healthy = self.view.counts()
        self.emit(
            RolloutEvent(
                fleet=self.plan.fleet_name,
                step=step,
                total=total,
                description=description,
                phase=phase,
                new=new,
                old=old,
                healthy=healthy,
                waited_s=waited_s,
                detail=detail,
            )
        )

    def _observe(self, seen: Observation) -> None:
        if seen.members is not None and seen.group:
            self.view.update(seen.group, seen.members)
        self._emit(waited_s=seen.waited_s, detail=seen.detail)

    # -- running steps ----------------------------------------------------------------------------

    def _run(
        self,
        step: RolloutStep,
        *,
        index: int,
        steps: Sequence[RolloutStep],
        phase: Phase,
        since: float | None,
    ) -> None:
        at = position(steps, index)  # the plan's numbered line, not the executor's step
        self.at = (at.number, at.total, step.description or describe_step(step), phase)
        self.env.since = since
        self.env.watch_alarms = phase is not Phase.ROLLING_BACK
        self._emit()
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                run_step(step, self.env)
                break
            except CloudError as err:
                if err.kind not in _TRANSIENT or attempt == _ATTEMPTS:
                    raise
                self._emit(detail=f"{err}; trying again")
                self.sleep(self.poll_s * attempt)
        self.view.refresh()

    def drive(self, progress: RolloutProgress, *, auto_rollback: bool) -> RolloutOutcome:
        plan = self.plan
        self.view.refresh()
        while progress.phase in (Phase.PENDING, Phase.IN_PROGRESS):
            step = next_step(plan, progress)
            if step is None:  # recorded past the last step: nothing left to do
                now = self.clock()
                progress = replace(progress, phase=Phase.COMPLETE, updated_at=now, finished_at=now)
                self.record(progress)
                break
            index = progress.step_index
            try:
                self._run(
                    step, index=index, steps=plan.steps, phase=progress.phase, since=progress.updated_at
                )
            except _STEP_ERRORS as err:
                failure = _failure(err, step=step, index=index, steps=plan.steps, rollback=False)
                now = self.clock()
                conflict = isinstance(err, OwnershipError) or (
                    isinstance(err, StepFailed) and err.kind is FailureKind.CONFLICT
                )
                untouched = index == 0 and conflict
                if untouched:  # refused before changing anything (e.g. a foreign group by our name)
                    failure += "; nothing was changed"
                progress = (
                    begin_rollback(progress, failure=failure, now=now)
                    if auto_rollback and not untouched
                    else fail(progress, failure=failure, now=now)
                )
                self.record(progress)
                break
            progress = advance(plan, progress, now=self.clock())
            self.record(progress)
        if progress.phase is Phase.ROLLING_BACK:
            progress = self._roll_back(progress)
        outcome = outcome_of(progress, self.view, requested=self.requested)
        self.at = (self.at[0], self.at[1], outcome.message, progress.phase)
        self._emit(detail=outcome.restored)
        return outcome

    def _roll_back(self, progress: RolloutProgress) -> RolloutProgress:
        undo = rollback_steps(self.plan, progress)
        while (step := next_step(self.plan, progress)) is not None:
            index = progress.rollback_index
            try:
                self._run(step, index=index, steps=undo, phase=Phase.ROLLING_BACK, since=progress.updated_at)
            except _STEP_ERRORS as err:
                failure = _failure(err, step=step, index=index, steps=undo, rollback=True)
                progress = fail(progress, failure=failure, now=self.clock())
                self.record(progress)
                return progress
            progress = advance(self.plan, progress, now=self.clock())
            self.record(progress)
        if progress.phase is Phase.ROLLING_BACK:  # there was nothing to undo
            now = self.clock()
            progress = replace(progress, phase=Phase.ROLLED_BACK, updated_at=now, finished_at=now)
            self.record(progress)
        return progress


def run_rollout(
    *,
    plan: RolloutPlan,
    ops: FleetOps,
    progress: RolloutProgress | None,
    record: Callable[[RolloutProgress], None],
    emit: Callable[[RolloutEvent], None] = _ignore,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = 2.0,
    auto_rollback: bool | None = None,
    tags: Mapping[str, str] | None = None,
) -> RolloutOutcome:
    """Run `plan` from the start (`progress` None) or from a recorded `progress`; returns how it
    ended. `record` gets the progress once at the start and after every step (forward or
    rollback); an exception from it (or from `ops`, other than CloudError) stops the run at once,
    and running again with the last recorded progress resumes it. `auto_rollback` None means the
    plan's setting. `clock` gives epoch seconds (they are recorded). `tags` are added to the tags
    of the live group when a new group is created. A FAILED, COMPLETE or ROLLED_BACK progress is
    only reported, never re-run (use `rollback_completed` to undo it)."""
    runner = _Runner(
        plan=plan, ops=ops, record=record, emit=emit, clock=clock, sleep=sleep, poll_s=poll_s, tags=tags or {}
    )
    if progress is None:
        progress = start(plan, now=clock())
        if plan.is_noop and plan.launch_template_id:
            version = plan.new.launch_template_version
            try:
                ops.set_launch_template_version(
                    group=plan.group, launch_template_id=plan.launch_template_id, version=version
                )
            except CloudError as err:
                failure = f"pointing {plan.group} at launch template version {version} failed: {err}"
                progress = fail(progress, failure=failure, now=clock())
        record(progress)
    rollback = plan.auto_rollback if auto_rollback is None else auto_rollback
    return runner.drive(progress, auto_rollback=rollback)


def rollback_completed(
    *,
    plan: RolloutPlan,
    ops: FleetOps,
    progress: RolloutProgress,
    record: Callable[[RolloutProgress], None],
    emit: Callable[[RolloutEvent], None] = _ignore,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = 2.0,
) -> RolloutOutcome:
    """Roll a rollout back on request (`reconciler rollout rollback ADDR`).

    A COMPLETE blue_green/canary rollout goes back to the previous group while it is still kept
    (`keep_previous`): it is scaled back to the planned capacity, re-attached and waited healthy,
    then the new group is detached, drained and deleted. Raises RollbackUnavailable when the
    previous group is gone. A rolling rollout keeps no previous group, so its rollback is a new
    rolling replacement of every instance with the old launch template version (batch by batch
    with the plan's surge, no pauses, alarms not gated) and takes as long as the rollout did.
    A FAILED or interrupted (IN_PROGRESS) rollout is rolled back from where it stopped; a
    ROLLING_BACK one is finished. PENDING and ROLLED_BACK have nothing to undo.
    """
    runner = _Runner(
        plan=plan,
        ops=ops,
        record=record,
        emit=emit,
        clock=clock,
        sleep=sleep,
        poll_s=poll_s,
        tags={},
        requested=True,
    )
    if plan.is_noop or progress.phase in (Phase.PENDING, Phase.ROLLED_BACK):
        return RolloutOutcome(
            phase=progress.phase,
            message=f"{plan.fleet_name}: nothing to roll back (rollout {phase_words(progress.phase)})",
            new_group=plan.green_group,
            progress=progress,
        )
    if progress.phase is not Phase.ROLLING_BACK:
        unavailable = strategy_for(plan.strategy).rollback_unavailable(plan, ops)
        if unavailable is not None:
            raise RollbackUnavailable(unavailable)
        reason = "rollback requested"
        if progress.phase is Phase.FAILED and progress.failure:
            reason = f"{progress.failure}; {reason}"
        progress = begin_rollback(progress, failure=reason, now=clock())
        record(progress)
    return runner.drive(progress, auto_rollback=True)
