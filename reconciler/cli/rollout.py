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
    s.add_argument(
        "--auto-approve", action="store_true", help="do not ask for confirmation (the steps are still shown)"
    )
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
    from reconciler.render.rollout_text import strategy_label
    from reconciler.rollout.numbering import phase_words, position
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
        at = position(plan.steps, progress.step_index)  # the plan's numbered lines
        label = strategy_label(plan.strategy)
        out.print(Text(f"{rs.address}: {label} rollout {phase_words(progress.phase)}", style="bold"))
        out.print(
            Text(
                f"  release   {plan.old.image_name} (v{plan.old.launch_template_version}) → "
                f"{plan.new.image_name} (v{plan.new.launch_template_version})"
            )
        )
        running = at.total and progress.phase.value != "complete"
        doing = f": {plan.outline()[at.number - 1]}" if running else ""
        out.print(Text(f"  step      {at.number} of {at.total}{doing}"))
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
    from reconciler.applying.fleet_io import read_back_state
    from reconciler.cli.display import confirm
    from reconciler.cli.session import backend_for, load_from, providers_for, read_state
    from reconciler.errors import ReconcilerError
    from reconciler.rollout.executor import rollback_completed
    from reconciler.rollout.record import RolloutRecord, record_json
    from reconciler.rollout.rollback_preview import rollback_preview
    from reconciler.sdk import RefreshRequest
    from reconciler.state import StateWriter

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
        preview = rollback_preview(plan, progress, address=rs.address)
        out.print(Text(preview.headline, style="bold"))
        for n, line in enumerate(preview.lines, 1):
            out.print(Text(("  steps" if n == 1 else "").ljust(10) + f"{n}. {line}"))
        if preview.has_work and not args.auto_approve and not confirm(out, "Do you want to roll back?"):
            out.print("Rollback cancelled.")
            return ExitCode.ERROR
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
        if observed is not None:  # recorded as apply records it: a sensitive tag stays a digest
            current = writer.resource(rs.address) or rs
            writer.set_resource(read_back_state(current, observed, key=writer.key))
        out.print(Text(f"{rs.address}: {outcome.message}", style="bold"))
        if outcome.phase.value != "rolled_back":
            return ExitCode.ERROR
        out.print(
            f"The configuration still asks for {plan.new.image_name}: the next plan rolls it out again "
            "unless you pin the previous release (for example a `version` constraint on the aws_ami "
            "lookup, or `launch_template_version` on the fleet)."
        )
    return ExitCode.OK
