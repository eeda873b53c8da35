"""`rollout status [ADDR]` and `rollout rollback ADDR`.

status reads the rollout records in state (rollout.record) and, for each fleet, the live members
of its groups (old/new/healthy counts). rollback undoes a finished or interrupted rollout on
request: a blue/green or canary one within keep_previous by bringing back the kept group.
Callers: reconciler.cli (GROUPS).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from reconciler.cli.common import Context, ExitCode, Subparsers, add_common

if TYPE_CHECKING:
    from reconciler.rollout.model import RolloutPlan
    from reconciler.rollout.progress import RolloutProgress
    from reconciler.state import ResourceState


def register(sub: Subparsers) -> None:
    p = sub.add_parser("rollout", help="see and steer fleet rollouts")
    ss = p.add_subparsers(dest="rollout_command", required=True, metavar="SUBCOMMAND")
    s = ss.add_parser("status", help="phase, step and instance counts of recorded rollouts")
    s.add_argument(
        "address", nargs="?", metavar="ADDR", help="one fleet (default: every fleet with a rollout)"
    )
    add_common(s, lock=False)
    s.set_defaults(run=status)
    s = ss.add_parser("rollback", help="undo a rollout (blue/green, canary: within keep_previous)")
    s.add_argument("address", metavar="ADDR", help="the fleet whose last rollout to undo")
    add_common(s)
    s.set_defaults(run=rollback)


def _records(state_resources: dict[str, ResourceState], address: str | None) -> list[ResourceState]:
    from reconciler.address import Address
    from reconciler.errors import StateError

    if address is not None:
        key = str(Address.parse(address))
        rs = state_resources.get(key)
        if rs is None:
            raise StateError(f"{key} is not in the state (see `reconciler state list`)")
        return [rs]
    return [rs for _, rs in sorted(state_resources.items()) if rs.rollout]


def _parsed(rs: ResourceState) -> tuple[RolloutPlan, RolloutProgress]:
    from reconciler.errors import StateError
    from reconciler.rollout.record import read_record

    record = read_record(rs.rollout, where=rs.address)
    if record is None:
        raise StateError(f"{rs.address} has no rollout recorded")
    return record.plan, record.progress


def status(args: argparse.Namespace, ctx: Context) -> ExitCode:
    import time

    from rich.text import Text

    from reconciler.applying.coordinator import SupportsFleets
    from reconciler.cli.session import backend_for, load_from, providers_for, read_state
    from reconciler.rollout.report import FleetView
    from reconciler.sdk.rollout_block import format_duration

    out = ctx.out
    loaded = load_from(args, ctx.directory)
    state = read_state(backend_for(loaded.stack), loaded.stack)
    records = _records(state.resources, args.address)
    if not records:
        out.print("No rollouts recorded.")
        return ExitCode.OK
    providers = providers_for(loaded.stack, loaded.variables)
    now = time.time()
    for rs in records:
        plan, progress = _parsed(rs)
        total = len(plan.steps)
        step = min(progress.step_index + 1, total) if total else 0
        out.print(Text(f"{rs.address}: {plan.strategy.value} rollout {progress.phase.value}", style="bold"))
        out.print(
            Text(
                f"  release   {plan.old.image_name} (v{plan.old.launch_template_version}) → "
                f"{plan.new.image_name} (v{plan.new.launch_template_version})"
            )
        )
        doing = (
            f": {plan.steps[step - 1].description}" if total and progress.phase.value != "complete" else ""
        )
        out.print(Text(f"  step      {step} of {total}{doing}"))
        if progress.started_at:
            end = progress.finished_at or now
            out.print(Text(f"  time      {format_duration(int(end - progress.started_at))}"))
        if progress.failure:
            out.print(Text(f"  failure   {progress.failure}"))
        provider = providers.get(rs.provider)
        if isinstance(provider, SupportsFleets):
            view = FleetView(plan, provider.fleet_ops())
            view.refresh()
            new, old, healthy = view.counts()
            out.print(Text(f"  instances new {new}, old {old}, healthy {healthy}"))
        out.print(Text(f"  rollback  {plan.rollback}"))
    return ExitCode.OK


def rollback(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from rich.text import Text

    from reconciler.address import Address
    from reconciler.applying.coordinator import SupportsFleets, describe_event, poll_seconds
    from reconciler.cli.session import backend_for, load_from, providers_for, read_state
    from reconciler.errors import ReconcilerError
    from reconciler.rollout.executor import rollback_completed
    from reconciler.rollout.record import RolloutRecord, record_json
    from reconciler.sdk import RefreshRequest
    from reconciler.state import ResourceState, StateWriter

    out = ctx.out
    loaded = load_from(args, ctx.directory)
    stack = loaded.stack
    backend = backend_for(stack)
    with backend.lock(command="reconciler rollout rollback", timeout=args.lock_timeout):
        state = read_state(backend, stack)
        rs = _records(state.resources, args.address)[0]
        plan, progress = _parsed(rs)
        provider = providers_for(stack, loaded.variables).get(rs.provider)
        if not isinstance(provider, SupportsFleets):
            raise ReconcilerError(f"{rs.address}: provider {rs.provider} cannot run rollouts")
        writer = StateWriter(backend, state)

        def record(p: RolloutProgress) -> None:
            writer.set_rollout(rs.address, record_json(RolloutRecord(plan, p)))

        outcome = rollback_completed(
            plan=plan,
            ops=provider.fleet_ops(),
            progress=progress,
            record=record,
            emit=lambda e: out.print(Text(f"{rs.address}: {describe_event(e)}")),
            poll_s=poll_seconds(),
        )
        observed = provider.refresh(
            RefreshRequest(
                type_name=rs.type, ids={rs.id: Address.parse(rs.address)}, stack=stack.settings.name
            )
        ).get(rs.id)
        if observed is not None:
            current = writer.snapshot().resources[rs.address]
            writer.set_resource(
                ResourceState(
                    address=rs.address,
                    type=rs.type,
                    provider=rs.provider,
                    id=observed.id,
                    attributes={**current.attributes, **observed.attributes},
                    dependencies=current.dependencies,
                    rollout=current.rollout,
                )
            )
        out.print(Text(f"{rs.address}: {outcome.message}", style="bold"))
        if outcome.phase.value != "rolled_back":
            return ExitCode.ERROR
        out.print(
            f"The configuration still asks for {plan.new.image_name}: the next plan rolls it out again "
            "unless you pin the previous release (for example a `version` constraint on the aws_ami "
            "lookup, or `launch_template_version` on the fleet)."
        )
    return ExitCode.OK
