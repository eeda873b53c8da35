"""Rollouts of immutable fleets: strategies (rolling, blue_green, canary), health gates, rollback.

The pure part lives here: `config` (the `rollout { }` block), `model` (snapshots, steps, plans),
`plan` (strategy expansion), `steps` (shared step builders), `progress` (resume and rollback),
`health` (the gate) and `protocol` (what the cloud side must offer). The executor that runs steps
through `protocol.FleetOps` comes later. Callers: config, planning, render, applying, cli.
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
