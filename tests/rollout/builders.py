"""Plain-data builders for rollout tests: releases, fleets and expanded plans."""

from __future__ import annotations

from typing import Any

from reconciler.rollout.model import FleetSnapshot, InstanceInfo, Release, RolloutPlan
from reconciler.rollout.plan import expand_rollout
from reconciler.sdk.rollout_block import RolloutConfig
from reconciler_aws.fleet_names import group_name

OLD = Release("ami-0a1b", "app-1.4.2", "1.4.2", "t3.micro", 7)
NEW = Release("ami-0c3d", "app-1.5.0", "1.5.0", "t3.micro", 8)


def fleet(
    desired: int,
    *,
    on_new: int = 0,
    min_size: int = 0,
    max_size: int = 100,
    target_groups: tuple[str, ...] = ("web",),
    unhealthy: tuple[str, ...] = (),
) -> FleetSnapshot:
    """`desired` instances i-00.., the first `on_new` of them already on NEW."""
    instances = [
        InstanceInfo(
            id=f"i-{n:02d}",
            image_id=NEW.image_id if n < on_new else OLD.image_id,
            instance_type="t3.micro",
            healthy=f"i-{n:02d}" not in unhealthy,
        )
        for n in range(desired)
    ]
    return FleetSnapshot(
        group_name="web-g0007",
        generation=7,
        desired=desired,
        min_size=min_size,
        max_size=max_size,
        instances=instances,
        target_group_names=list(target_groups),
        launch_template_version=7,
        target_group_arns=[
            f"arn:aws:elasticloadbalancing:us-east-1:123:targetgroup/{t}/1" for t in target_groups
        ],
        launch_template_id="lt-0123",
    )


def plan_for(desired: int, *, fleet_kw: dict[str, Any] | None = None, **config: Any) -> RolloutPlan:
    snapshot = fleet(desired, **(fleet_kw or {}))
    return expand_rollout(
        config=RolloutConfig(**config),
        fleet=snapshot,
        old=OLD,
        new=NEW,
        fleet_name="web",
        green_group=group_name("web", snapshot.generation + 1),
    )
