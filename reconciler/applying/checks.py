"""Small apply-time rules: the configuration evaluated during apply must match what the plan
showed (else nothing is changed for that resource); `apply --refresh-only` takes what changed
outside reconciler into state without touching the cloud; and an `apply` with nothing to change
still records what its refresh saw (`record_refresh`), so state never goes on saying what was.
Callers: applying.executor, cli (apply with no changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import InconsistentPlanError
from reconciler.planning.model import Plan, ResourceChange
from reconciler.state import StateWriter
from reconciler.values import contains_unknown


def check_consistent(change: ResourceChange, actual: Mapping[str, Any]) -> None:
    """Refuse when a value the plan showed as known now evaluates to something else."""
    planned = change.after or {}
    for name, value in planned.items():
        if name not in actual or contains_unknown(value):
            continue
        if actual[name] != value:
            raise InconsistentPlanError(
                f"the plan said {name} would be {value!r}, but the configuration now "
                f"gives {actual[name]!r}; nothing was changed for it. Run plan again."
            )


def accept_refresh(plan: Plan, writer: StateWriter) -> None:
    """apply --refresh-only: take what changed outside into state, touching nothing in the cloud."""
    state = writer.snapshot()
    for entry in plan.drift:
        text = str(entry.address)
        if entry.kind == "deleted":
            writer.remove_resource(text)
            continue
        rs = state.resources.get(text)
        if rs is None or entry.after is None:
            continue
        rs.attributes = dict(entry.after)
        writer.set_resource(rs)


def record_refresh(plan: Plan, writer: StateWriter) -> int:
    """An apply with nothing to change: take in what the refresh saw (objects changed or gone
    outside reconciler, data sources read anew); returns how many entries of state changed."""
    before = writer.serial
    accept_refresh(plan, writer)
    recorded = writer.snapshot().data
    for read in plan.data:
        if not read.deferred and recorded.get(str(read.address)) != read.attributes:
            writer.set_data(str(read.address), read.attributes)
    return writer.serial - before
