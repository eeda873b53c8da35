"""`reconciler rollout status [ADDR]` and `reconciler rollout rollback ADDR`.

status reads the rollout records in state and, for each fleet, the live members of its groups
(old/new/healthy counts). rollback undoes a finished or interrupted rollout on request: a
blue/green or canary one within keep_previous by bringing back the kept group. Callers: cli.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from reconciler.address import Address
from reconciler.applying.coordinator import SupportsFleets, describe_event, poll_seconds
from reconciler.commands import _confirm  # the one `yes` prompt apply and destroy use
from reconciler.errors import ReconcilerError, StateError
from reconciler.render.rollout_text import strategy_label
from reconciler.rollout.executor import rollback_completed
from reconciler.rollout.model import RolloutPlan
from reconciler.rollout.numbering import phase_words, position
from reconciler.rollout.progress import RolloutProgress
from reconciler.rollout.record import RolloutRecord, read_record, record_json
from reconciler.rollout.report import FleetView
from reconciler.rollout.rollback_preview import rollback_preview
from reconciler.sdk import RefreshRequest
from reconciler.sdk.rollout_block import format_duration
from reconciler.session import backend_for, load, providers_for, read_state
from reconciler.state import ResourceState, StateWriter


def _records(state_resources: dict[str, ResourceState], address: str | None) -> list[ResourceState]:
    if address is not None:
        key = str(Address.parse(address))
        rs = state_resources.get(key)
        if rs is None:
            raise StateError(f"{key} is not in the state (see `reconciler state list`)")
        return [rs]
    return [rs for _, rs in sorted(state_resources.items()) if rs.rollout]


def _parsed(rs: ResourceState) -> tuple[RolloutPlan, RolloutProgress]:
    record = read_record(rs.rollout, where=rs.address)
    if record is None:
        raise StateError(f"{rs.address} has no rollout recorded")
    return record.plan, record.progress


def status(args: argparse.Namespace, directory: Path, *, out: Console) -> int:
    loaded = load(directory, cli_vars=args.var, var_files=args.var_file)
    state = read_state(backend_for(loaded.stack), loaded.stack)
    records = _records(state.resources, args.address)
    if not records:
        out.print("No rollouts recorded.")
        return 0
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
        out.print(
            Text(
                f"  step      {at.number} of {at.total}"
                + (
                    f": {plan.outline()[at.number - 1]}"
                    if at.total and progress.phase.value != "complete"
                    else ""
                )
            )
        )
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
    return 0


def rollback(args: argparse.Namespace, directory: Path, *, out: Console) -> int:
    loaded = load(directory, cli_vars=args.var, var_files=args.var_file)
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
        if preview.has_work and not args.auto_approve and not _confirm(out, destroy=False):
            out.print("Rollback cancelled.")
            return 1
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
            attributes = {**current.attributes, **observed.attributes}
            writer.set_resource(
                ResourceState(
                    address=rs.address,
                    type=rs.type,
                    provider=rs.provider,
                    id=observed.id,
                    attributes=attributes,
                    dependencies=current.dependencies,
                    rollout=current.rollout,
                )
            )
        out.print(Text(f"{rs.address}: {outcome.message}", style="bold"))
        if outcome.phase.value != "rolled_back":
            return 1
        out.print(
            f"The configuration still asks for {plan.new.image_name}: the next plan rolls it out again "
            "unless you pin the previous release (for example a `version` constraint on the aws_ami "
            "lookup, or `launch_template_version` on the fleet)."
        )
    return 0
