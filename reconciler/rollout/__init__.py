"""Rollouts of immutable fleets: strategies (rolling, blue_green, canary), health gates, rollback.

The pure part: `model` (steps, plans, progress), `plan` (expansion), `strategies` (one module per
strategy behind one interface), `steps` (shared step builders), `progress` (resume and rollback),
`health` (the gate). The `rollout { }` block and the fleet protocol the cloud side offers are part
of the provider SDK (reconciler.sdk.rollout_block, reconciler.sdk.fleet). `executor` runs steps
through `FleetOps` (`actions`, `waits`), `report` words what happened.
Callers: planning, render, applying, cli.
"""

from reconciler.rollout.model import (
    FleetSnapshot,
    InstanceInfo,
    Release,
    RollbackTarget,
    RolloutPlan,
    RolloutStep,
    StepKind,
)
from reconciler.rollout.plan import expand_rollout
from reconciler.rollout.progress import Phase, RolloutProgress, next_step, rollback_steps
from reconciler.sdk.rollout_block import RolloutConfig, Strategy, format_duration, parse_duration

__all__ = [
    "FleetSnapshot",
    "InstanceInfo",
    "Phase",
    "Release",
    "RollbackTarget",
    "RolloutConfig",
    "RolloutPlan",
    "RolloutProgress",
    "RolloutStep",
    "StepKind",
    "Strategy",
    "expand_rollout",
    "format_duration",
    "next_step",
    "parse_duration",
    "rollback_steps",
]
