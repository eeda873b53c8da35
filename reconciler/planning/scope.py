"""The scope of a plan beyond the configured blocks: resources to delete (no longer configured,
or everything for destroy), --target narrowing, and the ownership guard that refuses to plan a
change to a cloud object without this stack's tag.

Plain functions over the plan, state and refreshed objects. Callers: planning.planner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.address import Address
from reconciler.errors import ConfigError, Diagnostic, OwnershipError
from reconciler.graph.build import dependents_closure
from reconciler.planning.model import Action, ActionReason, Plan, ResourceChange
from reconciler.planning.refresh import Observed
from reconciler.state import State

if TYPE_CHECKING:
    from reconciler.config import Stack


def plan_orphans(plan: Plan, state: State, observed: Observed, configured: set[str]) -> None:
    """Resources in state that the configuration no longer declares are deleted."""
    for text, rs in state.resources.items():
        if text in configured:
            continue
        obs = observed.get(text)
        addr = Address.parse(text)
        if obs is None:
            continue  # already gone: apply just forgets it
        block_still_there = any(c.address.block == addr.block for c in plan.changes)
        plan.changes.append(
            ResourceChange(
                address=addr,
                action=Action.DELETE,
                type_name=rs.type,
                provider=rs.provider,
                reason=ActionReason.DELETE_BECAUSE_NO_INSTANCE
                if block_still_there
                else ActionReason.DELETE_BECAUSE_NO_CONFIG,
                id=rs.id,
                before=dict(obs.attributes),
                after=None,
                depends_on=list(rs.dependencies),
            )
        )


def plan_destroy(plan: Plan, state: State, observed: Observed, stack: Stack) -> None:
    for text, rs in state.resources.items():
        obs = observed.get(text)
        addr = Address.parse(text)
        block = stack.resources.get(addr.block)
        if block is not None and block.lifecycle.prevent_destroy and obs is not None:
            raise ConfigError(
                [
                    Diagnostic(
                        summary=f"Instance cannot be destroyed: {text} has lifecycle.prevent_destroy set",
                        pos=block.pos,
                    )
                ]
            )
        if obs is None:
            continue
        plan.changes.append(
            ResourceChange(
                address=addr,
                action=Action.DELETE,
                type_name=rs.type,
                provider=rs.provider,
                id=rs.id,
                before=dict(obs.attributes),
                after=None,
                depends_on=list(rs.dependencies),
            )
        )
    plan.changes.sort(key=lambda c: c.address.sort_key())
    check_ownership(plan, observed)


def apply_targets(plan: Plan, graph: dict[str, set[str]], targets: tuple[Address, ...]) -> None:
    roots = {n for n in graph for t in targets if n == str(t.block)}
    keep = dependents_closure(graph, roots)
    plan.changes = [
        c
        for c in plan.changes
        if any(t.contains(c.address) for t in targets)
        or (str(c.address.block) in keep and c.action is not Action.DELETE)
    ]


def check_ownership(plan: Plan, observed: Observed) -> None:
    """Never plan to change or delete a cloud object that lacks this stack's ownership tag."""
    bad = []
    for c in plan.changes:
        if c.action in (Action.UPDATE, Action.REPLACE, Action.DELETE, Action.ROLLOUT):
            obs = observed.get(str(c.address))
            if obs is not None and obs.ownership.stack != plan.stack:
                owner = obs.ownership.stack or "no reconciler:stack tag"
                bad.append(f"{c.address} ({obs.id}): owned by {owner!r}, not {plan.stack!r}")
    if bad:
        raise OwnershipError(
            "refusing to plan changes to resources this stack does not own:\n  "
            + "\n  ".join(bad)
            + "\nRestore the reconciler:stack tag, or remove them from state with `reconciler state rm`."
        )
