"""How a fleet's auto-scaling groups are named: one group per generation, `NAME-gNNNN`.

Pure. The engine never builds or parses these names; it asks the fleet type (FleetType.group_name
in reconciler_aws.fleet_type). Callers: reconciler_aws.fleet_model, fleet, fleet_ops, fleet_type.
"""

from __future__ import annotations

import re

__all__ = ["group_name", "parse_generation"]


def group_name(fleet_name: str, generation: int) -> str:
    """The auto-scaling group name of a fleet generation: ("web", 8) -> "web-g0008"."""
    return f"{fleet_name}-g{generation:04d}"


def parse_generation(group: str, fleet_name: str) -> int | None:
    """Inverse of `group_name`; a group named exactly like the fleet is generation 0."""
    if group == fleet_name:
        return 0
    match = re.fullmatch(rf"{re.escape(fleet_name)}-g(\d+)", group)
    return int(match.group(1)) if match else None
