"""One fleet handed to the rollout coordinator (`Job`), and what happens to it at either end of
its wave: admitted (its rollout starts), turned back with its wave, cleaned up, and its result
(the fleet read back, and the failure its caller raises once that is recorded); `make_job` builds
it from the plan's change when the executor hands the fleet over, `settle_wave`
gives every fleet of a wave its result and words the wave's outcome.

The coordinator (applying.rollouts) owns the loop and the waves; these functions act on one job
and take the time and the output they need as arguments. Callers: applying.rollouts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from reconciler.applying.coordinator import made_by, run_cleanup
from reconciler.applying.fleet_io import view_of
from reconciler.errors import CloudError, ReconcilerError, RolloutFailedError
from reconciler.planning.model import ResourceChange
from reconciler.rollout.machine import FleetMachine
from reconciler.rollout.progress import Phase, begin_rollback, cleanup_due, cleanup_steps, fail, start
from reconciler.rollout.record import read_record
from reconciler.rollout.report import outcome_of
from reconciler.rollout.strategies import strategy_for
from reconciler.rollout.waves import WaveOutcome, wave_outcome
from reconciler.sdk import FleetType, ObservedResource, Provider
from reconciler.sdk.fleet import FleetOps, FleetWorld
from reconciler.state import ResourceState

Result = tuple[ObservedResource, RolloutFailedError | None]
Emit = Callable[[str, str], None]


class NotStarted(RolloutFailedError):
    """The fleet's rollout never started (its wave was not reached, or the apply stopped)."""


@dataclass
class Job:
    address: str
    change: ResourceChange
    current: ResourceState
    provider: str
    ops: FleetOps
    source: Provider
    fleet: FleetType
    machine: FleetMachine
    new: bool  # no rollout recorded yet: it starts when its wave admits it
    future: Future[Result] = field(default_factory=Future)
    admitted: bool = False
    last: tuple[Any, ...] = ()
    cleanup_error: Exception | None = None


def make_job(
    *,
    change: ResourceChange,
    current: ResourceState,
    provider: Provider,
    fleet: FleetType,
    config: Mapping[str, Any],
    wave: int,
    now: float,
) -> Job:
    """The job of a fleet handed over for its planned rollout, refused when the plan no longer
    matches (the rollout resumes from the latest record in state when one is unfinished)."""
    ops = provider.fleet_ops() if hasattr(provider, "fleet_ops") else None
    if ops is None:
        raise ReconcilerError(f"{change.address}: provider {change.provider} cannot run rollouts")
    if change.rollout is None:
        raise ReconcilerError(f"{change.address}: the plan holds no rollout for it; plan again")
    plan = change.rollout.plan
    version = config.get("launch_template_version")
    if not plan.new.launch_template_version or plan.new.launch_template_version != version:
        raise RolloutFailedError(
            f"{change.address}: the plan rolls out launch template version "
            f"{plan.new.launch_template_version or '(unknown)'}, but the template now has "
            f"version {version}; nothing was rolled out. Run plan again."
        )
    address = str(change.address)
    progress = change.rollout.resume
    recorded = read_record(current.rollout, where=address)
    if recorded is not None and recorded.unfinished:  # the latest record wins over the plan's
        progress = recorded.progress
    machine = FleetMachine(
        address=address,
        provider=change.provider,
        wave=wave,
        plan=plan,
        progress=progress if progress is not None else start(plan, now=now),
        auto_rollback=plan.auto_rollback,
    )
    return Job(address, change, current, change.provider, ops, provider, fleet, machine, new=progress is None)


def where(machine: FleetMachine) -> tuple[Phase, int, int]:
    p = machine.progress
    return p.phase, p.step_index, p.rollback_index


def admit(job: Job, *, now: float, emit: Emit) -> None:
    """The job's wave admits it: a new rollout starts now; one with nothing to replace only points
    its group at the new launch template version."""
    job.admitted = True
    plan = job.machine.plan
    if job.new:  # a rollout starts when its wave admits it, not when it is handed over
        job.machine.progress = start(plan, now=now)
        job.machine.dirty = True
    emit(job.address, f"Rolling out ({plan.strategy.value.replace('_', '/')}): {plan.summary}")
    if job.new and job.machine.progress.phase is Phase.COMPLETE and plan.is_noop and plan.launch_template_id:
        version = plan.new.launch_template_version
        try:
            job.ops.set_launch_template_version(
                group=plan.group, launch_template_id=plan.launch_template_id, version=version
            )
        except CloudError as err:
            failure = f"pointing {plan.group} at launch template version {version} failed: {err}"
            job.machine.progress = fail(job.machine.progress, failure=failure, now=now)


def turn_back(job: Job, reason: str, *, now: float) -> None:
    """Turn the job back with its wave: in progress, by its own strategy and auto_rollback;
    complete, by the requested-rollback path (as `rollout rollback`)."""
    m = job.machine
    if m.progress.phase in (Phase.PENDING, Phase.ROLLED_BACK) or m.plan.is_noop:
        return
    if m.progress.phase in (Phase.IN_PROGRESS,):
        m.fail_with(reason, now=now)
        return
    if m.progress.phase is Phase.COMPLETE:
        unavailable = strategy_for(m.plan.strategy).rollback_unavailable(m.plan, job.ops)
        if unavailable is not None:
            m.detail = f"cannot be turned back: {unavailable}"
            return
        m.progress = begin_rollback(m.progress, failure=reason, now=now)
        m.dirty = True


def clean_up(job: Job, *, now: float, emit: Emit) -> None:
    """Delete the previous group of a completed rollout that keeps none (keep_previous = 0s); a
    failure is kept on the job for its result."""
    m = job.machine
    if not (job.admitted and m.progress.phase is Phase.COMPLETE and cleanup_due(m.plan, m.progress, now=now)):
        return
    emit(job.address, f"Deleting {m.plan.group} (keep_previous = 0s: not kept for rollback)...")
    try:
        run_cleanup(m.plan, cleanup_steps(m.plan), job.ops)
    except (CloudError, ReconcilerError) as err:
        job.cleanup_error = err


def fleet_result(
    job: Job,
    read: ObservedResource | CloudError | None,
    world: FleetWorld | CloudError | None,
    *,
    stack: str,
    emit: Emit,
) -> Result:
    """The fleet as read back after its wave (or as the rollout made it, when the read failed)
    and the failure its caller raises once that is recorded (None when it completed)."""
    m = job.machine
    outcome = outcome_of(m.progress, view_of(m.plan, world), requested=m.requested)
    if not isinstance(read, ObservedResource):
        error = read or CloudError(call="refresh", message="not read", code="NotFound")
        if m.progress.phase is not Phase.COMPLETE:
            raise error
        observed = made_by(m.plan, outcome, current=job.current, stack=stack, fleet=job.fleet)
        return observed, RolloutFailedError(
            f"the rollout completed ({outcome.message}), but reading the fleet back failed: {error}; "
            "state records what the rollout made, and the next plan reads the fleet again"
        )
    if m.progress.phase is not Phase.COMPLETE:
        verdict = "rolled back" if m.progress.phase is Phase.ROLLED_BACK else "failed"
        if m.requested and m.progress.phase is Phase.ROLLED_BACK:
            return read, None
        return read, RolloutFailedError(f"rollout {verdict}: {outcome.message}")
    emit(job.address, f"Rollout complete: {outcome.message}")
    if job.cleanup_error is not None:
        return read, RolloutFailedError(
            f"the rollout completed ({outcome.message}), but deleting {m.plan.group} failed: "
            f"{job.cleanup_error}; the next plan deletes it"
        )
    return read, None


def settle_wave(
    number: int,
    jobs: Sequence[Job],
    *,
    worlds: Mapping[str, FleetWorld | CloudError],
    reads: Mapping[str, ObservedResource | CloudError],
    halted: WaveOutcome | None,
    stack: str,
    emit: Emit,
) -> WaveOutcome:
    """The end of a driven wave: each caller gets its fleet read back and the failure to raise
    (or why it never started); the wave's outcome."""
    for job in jobs:
        if not job.admitted:
            job.future.set_exception(
                NotStarted(f"{job.address}: not rolled out: rollout halted in wave {number}")
            )
            continue
        try:
            result = fleet_result(
                job, reads.get(job.address), worlds.get(job.provider), stack=stack, emit=emit
            )
            job.future.set_result(result)
        except Exception as err:
            job.future.set_exception(err)
    phases = {j.address: j.machine.progress.phase if j.admitted else Phase.PENDING for j in jobs}
    replaced = sum(j.machine.plan.replace_count for j in jobs if phases[j.address] is Phase.COMPLETE)
    return wave_outcome(number, phases, halted=halted, replaced=replaced)
