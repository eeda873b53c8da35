"""Helpers of the rollout coordinator (applying.rollouts), and CLEANUP.

CLEANUP: run the planned cleanup steps (delete what a finished rollout kept for rollback), through
the rollout's own step actions, then read the fleet back. For rollouts: the poll interval
(RECONCILER_ROLLOUT_POLL), the one-line wording of a progress event, `run_cleanup` (what
`keep_previous = "0s"` deletes within the apply), and `made_by`: the fleet as a complete rollout
left it, recorded when the fleet cannot be read back, so state never goes on naming the old
group. Callers: applying.executor, applying.rollouts, cli (rollout commands).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from reconciler.address import Address
from reconciler.errors import CloudError, CloudErrorKind, ReconcilerError, RolloutError
from reconciler.planning.model import ResourceChange
from reconciler.rollout.actions import run_step
from reconciler.rollout.executor import RolloutEvent, RolloutOutcome
from reconciler.rollout.model import RolloutPlan, RolloutStep, describe_step
from reconciler.rollout.progress import Phase
from reconciler.rollout.waits import Observation, StepEnv, StepFailed
from reconciler.sdk import FleetType, ObservedResource, Ownership, Provider, RefreshRequest
from reconciler.sdk.fleet import FleetOps
from reconciler.state import ResourceState

READ_BACK_ATTEMPTS = 4  # reads of the fleet after its rollout (each with the client's own retries)


@runtime_checkable
class SupportsFleets(Protocol):
    def fleet_ops(self) -> FleetOps: ...


def poll_seconds() -> float:
    """How often health is polled during a rollout (RECONCILER_ROLLOUT_POLL, default 2 s)."""
    try:
        return max(0.0, float(os.environ.get("RECONCILER_ROLLOUT_POLL", "2")))
    except ValueError:
        return 2.0


def describe_event(event: RolloutEvent) -> str:
    where = "rollback " if event.phase is Phase.ROLLING_BACK else ""
    text = f"{where}step {event.step}/{event.total}: {event.description}"
    counts = f"new {event.new}, old {event.old}, healthy {event.healthy}"
    waited = f", waited {event.waited_s:.0f}s" if event.waited_s >= 1 else ""
    detail = f" — {event.detail}" if event.detail else ""
    return f"{text} [{counts}{waited}]{detail}"


def made_by(
    plan: RolloutPlan, outcome: RolloutOutcome, *, current: ResourceState, stack: str, fleet: FleetType
) -> ObservedResource:
    """The fleet as a complete rollout left it, from the plan and the members it saw last (used
    only when the fleet cannot be read back)."""
    attributes = fleet.after_rollout(
        current.attributes,
        fleet_name=plan.fleet_name,
        serving=plan.green_group or plan.group,
        kept=[plan.group] if plan.green_group and plan.keep_previous_s else [],
        version=plan.new.launch_template_version,
        members=outcome.serving,
    )
    return ObservedResource(
        id=current.id, attributes=attributes, ownership=Ownership(stack=stack, address=current.address)
    )


def clean_up(
    *,
    change: ResourceChange,
    current: ResourceState,
    provider: Provider,
    emit: Callable[[str, str], None],
    stack: str,
) -> ObservedResource:
    """Delete what a finished rollout kept for rollback, now that keep_previous passed (the
    planned CLEANUP steps), then read the fleet back."""
    if not isinstance(provider, SupportsFleets):
        raise ReconcilerError(f"{change.address}: provider {change.provider} cannot run rollouts")
    if change.cleanup is None:
        raise ReconcilerError(f"{change.address}: the plan holds no cleanup for it; plan again")
    for group in change.cleanup.groups:
        emit(str(change.address), f"Deleting {group} (kept for rollback, no longer needed)...")
    run_cleanup(change.cleanup.plan, change.cleanup.steps, provider.fleet_ops())
    return _read_back(provider, change, current, stack)


def run_cleanup(plan: RolloutPlan, steps: Sequence[RolloutStep], ops: FleetOps) -> None:
    """Run cleanup steps through the rollout's own step actions (the same checks as a rollout's)."""
    env = StepEnv(
        plan=plan, ops=ops, clock=time.time, sleep=time.sleep, poll_s=poll_seconds(), observe=_ignore
    )
    for step in steps:
        try:
            run_step(step, env)
        except StepFailed as err:
            raise RolloutError(f"{step.description or describe_step(step)} failed: {err.detail}") from err


def _ignore(_: Observation) -> None:
    return None


def _read_back(
    provider: Provider, change: ResourceChange, current: ResourceState, stack: str
) -> ObservedResource:
    """The fleet as the cloud reports it now; transient failures are read again."""
    ids = {current.id: Address.parse(str(change.address))}
    request = RefreshRequest(type_name=change.type_name, ids=ids, stack=stack)
    for attempt in range(1, READ_BACK_ATTEMPTS + 1):
        try:
            observed = provider.refresh(request).get(current.id)
            break
        except CloudError as err:
            transient = err.kind in (CloudErrorKind.RETRYABLE, CloudErrorKind.UNREACHABLE)
            if not transient or attempt == READ_BACK_ATTEMPTS:
                raise
            time.sleep(poll_seconds() * attempt)
    if observed is None:
        raise ReconcilerError(f"{change.address}: the fleet is gone after its rollout")
    return observed
