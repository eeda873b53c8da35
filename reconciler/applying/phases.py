"""Apply phases: a type whose schema says `after_rollouts` starts only once every rollout and
rollout cleanup of the apply has finished (e.g. an image retention that must not deregister what a
rollout is still moving away from). Expressed as extra edges of the apply's dependency graph, so
the parallel walk stays the one scheduler. Pure. Callers: applying.executor (apply_plan).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.address import Mode
from reconciler.planning.model import Action, Plan
from reconciler.sdk import ResourceSchema

__all__ = ["after_rollouts"]

_ROLLING = (Action.ROLLOUT, Action.CLEANUP)


def after_rollouts(
    graph: dict[str, set[str]], plan: Plan, schemas: Mapping[tuple[Mode, str], ResourceSchema]
) -> None:
    """Make every block of an `after_rollouts` type depend on every block that rolls out (in place)."""
    rolling = {str(c.address.block) for c in plan.changes if c.action in _ROLLING}
    if not rolling:
        return
    for c in plan.changes:
        schema = schemas.get((Mode.MANAGED, c.type_name))
        node = str(c.address.block)
        if schema is not None and schema.after_rollouts and node in graph:
            graph[node] |= rolling - {node}
