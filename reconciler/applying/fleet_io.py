"""The coordinator's reads and writes of fleets: one batched observation, a step's writes, the
batched read-back after a wave, what state records of a fleet read back outside a plan, and the
census a progress line or an outcome is worded from.

Only calls through a provider's FleetOps and `refresh`; decides nothing. Callers: applying.rollouts,
applying.bakes, cli.rollout (`rollout rollback`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from reconciler.address import Address
from reconciler.errors import CloudError, CloudErrorKind
from reconciler.rollout.machine import Effect, FleetMachine, WorldOps
from reconciler.rollout.model import RolloutPlan
from reconciler.rollout.report import FleetView, RolloutEvent
from reconciler.sdk import ObservedResource, Provider, RefreshRequest
from reconciler.sdk.fleet import FleetOps, FleetWorld, InstanceFacts, ObserveRequest
from reconciler.sensitive import conceal, digest_paths
from reconciler.state import ResourceState
from reconciler.values import mark_paths

__all__ = ["event_of", "observe_jobs", "observe_with", "perform", "read_back", "read_back_state", "view_of"]

READ_BACK_ATTEMPTS = 4  # refreshes of the fleets after their wave (each with the client's retries)
_TRANSIENT = (CloudErrorKind.RETRYABLE, CloudErrorKind.UNREACHABLE)


def observe_jobs(
    jobs: Sequence[Any],
    *,
    alarms: Sequence[str],
    alarm_provider: str | None,
    known: dict[str, dict[str, InstanceFacts]],
    ops_for: Callable[[str], FleetOps],
    submit: Callable[..., Future[FleetWorld | CloudError]],
) -> dict[str, FleetWorld | CloudError]:
    """The world of every job's fleet (applying.rollout_jobs.Job: `provider`, `ops`, `machine`)
    in one batched observation per provider, read in parallel through `submit`; the wave
    `alarms` are read through `alarm_provider` (None: the first provider, or "aws"), through
    `ops_for` when no job has it. `known` (instance facts by provider) is read and kept current."""
    by_provider: dict[str, list[Any]] = {}
    for job in jobs:
        by_provider.setdefault(job.provider, []).append(job)
    alarm_key = ""
    if alarms:
        alarm_key = alarm_provider or next(iter(sorted(by_provider)), "aws")
        by_provider.setdefault(alarm_key, [])

    def read(key: str, group: list[Any]) -> FleetWorld | CloudError:
        ops = group[0].ops if group else ops_for(key)
        request = ObserveRequest(
            groups=tuple(sorted({g for j in group for g in j.machine.groups()})),
            target_group_arns=tuple(sorted({a for j in group for a in j.machine.plan.target_group_arns})),
            alarms=tuple(
                sorted(
                    {a for j in group for a in j.machine.alarms()} | set(alarms if key == alarm_key else ())
                )
            ),
            known=dict(known.get(key, {})),
        )
        try:
            world = observe_with(ops, request)
        except CloudError as err:
            return err
        known[key] = dict(world.instances)
        return world

    futures = {key: submit(read, key, group) for key, group in by_provider.items()}
    return {key: fut.result() for key, fut in futures.items()}


def observe_with(ops: FleetOps, request: ObserveRequest) -> FleetWorld:
    """The provider's batched read, or one built from the per-group reads of a FleetOps that has
    none (test fakes)."""
    batched = getattr(ops, "observe", None)
    if callable(batched):
        world = batched(request)
        assert isinstance(world, FleetWorld)
        return world
    groups = {g: info for g in request.groups if (info := ops.describe_group(g)) is not None}
    members = {g: tuple(ops.members_and_health(g)) for g in groups}
    facts = {
        m.instance_id: InstanceFacts(m.image_id, m.instance_type, m.instance_state)
        for ms in members.values()
        for m in ms
    }
    health: dict[str, dict[str, Any]] = {arn: {} for arn in request.target_group_arns}
    for ms in members.values():
        for m in ms:
            for arn, state in m.target_health.items():
                health.setdefault(arn, {})[m.instance_id] = state
    alarms = ops.alarm_states(list(request.alarms)) if request.alarms else {}
    return FleetWorld(groups=groups, members=members, alarms=alarms, instances=facts, target_health=health)


def perform(ops: FleetOps, effects: Sequence[Effect]) -> None:
    """Send one step's writes, in order."""
    for effect in effects:
        getattr(ops, effect.kind.value)(*effect.positional, **dict(effect.args))


def view_of(plan: RolloutPlan, world: FleetWorld | CloudError | None) -> FleetView:
    """The census of a fleet's groups in `world` (an empty one when it could not be read)."""
    view = FleetView(plan, WorldOps(world if isinstance(world, FleetWorld) else FleetWorld({}, {})))
    view.refresh()
    return view


def event_of(
    machine: FleetMachine, world: FleetWorld | CloudError | None, *, now: float
) -> tuple[RolloutEvent, tuple[Any, ...]]:
    """The progress event of a fleet after a poll, and the key that changes only when its state
    does (phase, step, counts, detail without its numbers: a countdown is no change)."""
    step, total, description = machine.step_number()
    new, old, healthy = view_of(machine.plan, world).counts()
    progress = machine.progress
    event = RolloutEvent(
        fleet=machine.plan.fleet_name,
        step=step,
        total=total,
        description=description,
        phase=progress.phase,
        new=new,
        old=old,
        healthy=healthy,
        waited_s=max(0.0, now - (progress.updated_at or now)),
        detail=machine.detail,
        wave=machine.wave,
    )
    return event, (progress.phase, step, re.sub(r"\d+", "#", machine.detail), new, old, healthy)


def read_back(
    fleets: Sequence[tuple[str, str, str, str, Provider]],
    *,
    stack: str,
    pause: Callable[[int], None],
) -> dict[str, ObservedResource | CloudError]:
    """Each fleet (address, provider key, type, id, provider) as the cloud reports it: one
    refresh per provider and type, read again after transient failures; by address, the fleet
    or the error that kept it from being read."""
    groups: dict[tuple[str, str], list[tuple[str, str, Provider]]] = {}
    for address, key, type_name, rid, source in fleets:
        groups.setdefault((key, type_name), []).append((address, rid, source))
    out: dict[str, ObservedResource | CloudError] = {}
    for (_, type_name), members in groups.items():
        ids = {rid: Address.parse(address) for address, rid, _ in members}
        request = RefreshRequest(type_name=type_name, ids=ids, stack=stack)
        for attempt in range(1, READ_BACK_ATTEMPTS + 1):
            try:
                seen: Mapping[str, Any] = members[0][2].refresh(request)
            except CloudError as err:
                if err.kind not in _TRANSIENT or attempt == READ_BACK_ATTEMPTS:
                    out |= {address: err for address, _, _ in members}
                    break
                pause(attempt)
                continue
            gone = CloudError(call="refresh", message="the fleet is gone after its rollout", code="NotFound")
            out |= {address: seen.get(rid) or gone for address, rid, _ in members}
            break
    return out


def read_back_state(current: ResourceState, read: ObservedResource, *, key: str) -> ResourceState:
    """What state records of a fleet read back after a rollout or rollback outside a plan: what
    the cloud reports, concealed (under the state's digest `key`) wherever state held a digest,
    so a sensitive tag stays a digest, plus the attributes only the configuration gives."""
    kept = current.attributes
    attributes = conceal(mark_paths(dict(read.attributes), digest_paths(kept)), key)
    for name, value in kept.items():
        attributes.setdefault(name, value)
    return ResourceState(
        address=current.address,
        type=current.type,
        provider=current.provider,
        id=read.id,
        attributes=attributes,
        dependencies=list(current.dependencies),
        rollout=current.rollout,
    )
