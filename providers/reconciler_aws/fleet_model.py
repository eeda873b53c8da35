"""The `aws_fleet` arguments and the pure mapping between auto-scaling groups and a fleet.

A fleet is a series of auto-scaling groups, one per generation, named `NAME-gNNNN` and tagged with
the fleet name and generation as well as the ownership tags. The *active* group is the highest
generation with desired capacity > 0 (else the highest generation); the fleet's observed arguments
are read from it, and every other group is listed in `previous_groups`. Pure: no cloud. Callers:
`reconciler_aws.fleet`, `reconciler_aws.fleet_reads`, `reconciler_aws.fleet_ops`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from reconciler.sdk import ObservedResource, RolloutConfig, parse_duration
from reconciler_aws.fleet_names import parse_generation
from reconciler_aws.settings import AwsSettings
from reconciler_aws.tags import OWNERSHIP_KEYS, desired_tags, ownership_of, tag_dict, user_tags

FLEET_TAG = "reconciler:fleet"
GENERATION_TAG = "reconciler:generation"
FLEET_KEYS = OWNERSHIP_KEYS | {FLEET_TAG, GENERATION_TAG}
CONFIG_ONLY = frozenset({"rollout"})  # never stored in the cloud: the engine keeps it from state


class FleetArgs(BaseModel):
    """Arguments of `resource "aws_fleet"`.

    Normalised on validation so that config and observation compare equal: `desired_capacity`
    unset means `min_size`; `health_check_grace_period` accepts a duration ("2m") and becomes
    seconds; zones, subnets and target groups are sets (sorted, deduplicated).

    The capacity bounds (min_size <= desired_capacity <= max_size) are field validators, so their
    errors name the field (and its line) and are found while planning even when other arguments,
    such as the launch template id, are known only after apply.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=240, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    launch_template: str
    launch_template_version: int | None = Field(default=None, ge=1)
    min_size: int = Field(ge=0)
    max_size: int = Field(ge=0)
    desired_capacity: int | None = Field(default=None, ge=0)
    availability_zones: list[str] = Field(default_factory=list)
    subnet_ids: list[str] = Field(default_factory=list)
    target_group_arns: list[str] = Field(default_factory=list)
    health_check_type: Literal["EC2", "ELB"] = "EC2"
    health_check_grace_period: int = 300  # also "5m": see _grace
    tags: dict[str, str] = Field(default_factory=dict)
    rollout: RolloutConfig | None = None

    @field_validator("availability_zones", "subnet_ids", "target_group_arns")
    @classmethod
    def _as_set(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    @field_validator("max_size")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_size")
        if isinstance(low, int) and isinstance(value, int) and value < low:
            raise ValueError(f"max_size ({value}) must be at least min_size ({low})")
        return value

    @field_validator("desired_capacity")
    @classmethod
    def _desired_within_sizes(cls, value: int | None, info: ValidationInfo) -> int | None:
        low, high = info.data.get("min_size"), info.data.get("max_size")
        if isinstance(value, int) and isinstance(low, int) and value < low:
            raise ValueError(f"desired_capacity ({value}) must be at least min_size ({low})")
        if isinstance(value, int) and isinstance(high, int) and value > high:
            raise ValueError(f"desired_capacity ({value}) must not exceed max_size ({high})")
        return value

    @field_validator("health_check_grace_period", mode="before")
    @classmethod
    def _grace(cls, value: Any) -> int:
        return parse_duration(value)

    @model_validator(mode="after")
    def _placement_and_default_capacity(self) -> FleetArgs:
        if bool(self.availability_zones) == bool(self.subnet_ids):
            raise ValueError("set exactly one of availability_zones and subnet_ids (a non-empty list)")
        if self.desired_capacity is None and isinstance(self.min_size, int):
            self.desired_capacity = self.min_size
        return self


def config_fields(args: FleetArgs) -> dict[str, Any]:
    """The configuration in the observed shape (config-only keys left out)."""
    return {k: v for k, v in args.model_dump(mode="json").items() if k not in CONFIG_ONLY}


def group_tags(group: Mapping[str, Any]) -> dict[str, str]:
    return tag_dict(group.get("Tags"))


def generation_of(group: Mapping[str, Any], fleet: str) -> int:
    """From the generation tag, else from the name (`web-g0003` → 3, `web` → 0), else 0."""
    raw = group_tags(group).get(GENERATION_TAG, "")
    if raw.isdigit():
        return int(raw)
    return parse_generation(str(group.get("AutoScalingGroupName")), fleet) or 0


def fleet_of(group: Mapping[str, Any]) -> str | None:
    return group_tags(group).get(FLEET_TAG)


def ordered(groups: Iterable[Mapping[str, Any]], fleet: str) -> list[Mapping[str, Any]]:
    """The fleet's groups, oldest generation first."""
    return sorted(groups, key=lambda g: (generation_of(g, fleet), str(g.get("AutoScalingGroupName"))))


def active_group(groups: Iterable[Mapping[str, Any]], fleet: str) -> Mapping[str, Any] | None:
    """The highest generation with desired capacity > 0, else the highest generation."""
    by_age = ordered(groups, fleet)
    serving = [g for g in by_age if int(g.get("DesiredCapacity") or 0) > 0]
    candidates = serving or by_age
    return candidates[-1] if candidates else None


def pinned_version(group: Mapping[str, Any]) -> int | None:
    """The group's launch template version when it is a number (never `$Latest`/`$Default`)."""
    version = str((group.get("LaunchTemplate") or {}).get("Version") or "")
    return int(version) if version.isdigit() else None


def placement(group: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(availability_zones, subnet_ids): zones only when the group is not placed in subnets."""
    subnets = sorted({s for s in str(group.get("VPCZoneIdentifier") or "").split(",") if s})
    zones = [] if subnets else sorted(set(group.get("AvailabilityZones") or []))
    return zones, subnets


def group_fields(group: Mapping[str, Any], *, fleet: str, settings: AwsSettings) -> dict[str, Any]:
    """One group as the fleet's arguments (without `rollout`, which the cloud does not store)."""
    zones, subnets = placement(group)
    tags = {k: v for k, v in group_tags(group).items() if k not in FLEET_KEYS}
    return {
        "name": fleet,
        "launch_template": (group.get("LaunchTemplate") or {}).get("LaunchTemplateId"),
        "launch_template_version": pinned_version(group),
        "min_size": int(group.get("MinSize") or 0),
        "max_size": int(group.get("MaxSize") or 0),
        "desired_capacity": int(group.get("DesiredCapacity") or 0),
        "availability_zones": zones,
        "subnet_ids": subnets,
        "target_group_arns": sorted(set(group.get("TargetGroupARNs") or [])),
        "health_check_type": group.get("HealthCheckType") or "EC2",
        "health_check_grace_period": int(group.get("HealthCheckGracePeriod") or 0),
        "tags": user_tags(tags, default=settings.default_tags),
    }


def members(
    group: Mapping[str, Any],
    ec2: Mapping[str, Mapping[str, Any]],
    images: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The group's instances, sorted by id; image from EC2 (`ec2` by instance id) or from `images`
    (instance id → image, known already), type from EC2 or else the group's own listing."""
    out = []
    for row in group.get("Instances") or []:
        iid = str(row["InstanceId"])
        instance = ec2.get(iid, {})
        out.append(
            {
                "id": iid,
                "image_id": str(instance.get("ImageId") or (images or {}).get(iid) or ""),
                "instance_type": str(instance.get("InstanceType") or row.get("InstanceType") or ""),
                "lifecycle_state": str(row.get("LifecycleState") or ""),
                "health_status": str(row.get("HealthStatus") or ""),
            }
        )
    return sorted(out, key=lambda m: m["id"])


def observe(
    fleet: str,
    groups: Iterable[Mapping[str, Any]],
    *,
    ec2: Mapping[str, Mapping[str, Any]],
    settings: AwsSettings,
    images: Mapping[str, str] | None = None,
) -> ObservedResource | None:
    """Every group of one fleet (and EC2's view of their instances, or their `images` known
    already) → the fleet; None if no group."""
    all_groups = ordered(groups, fleet)
    active = active_group(all_groups, fleet)
    if active is None:
        return None
    name = str(active["AutoScalingGroupName"])
    attributes = group_fields(active, fleet=fleet, settings=settings)
    attributes.update(
        id=fleet,
        arn=active.get("AutoScalingGroupARN"),
        group_name=name,
        generation=generation_of(active, fleet),
        instances=members(active, ec2, images),
        previous_groups=[str(g["AutoScalingGroupName"]) for g in all_groups if g is not active],
    )
    digest = hashlib.sha256(json.dumps(attributes, sort_keys=True, default=str).encode()).hexdigest()
    return ObservedResource(
        id=fleet,
        attributes=attributes,
        ownership=ownership_of(group_tags(active)),
        fingerprint=f"{name}:v{attributes['launch_template_version']}:{digest[:12]}",
    )


def fleet_tags(
    *,
    user: Mapping[str, str],
    default: Mapping[str, str],
    stack: str,
    address: str,
    fleet: str,
    generation: int,
) -> dict[str, str]:
    """Every tag a group of the fleet carries: default, user, ownership, fleet name, generation."""
    owned = desired_tags(user=user, default=default, stack=stack, address=address)
    return {**owned, FLEET_TAG: fleet, GENERATION_TAG: str(generation)}


def asg_tag_list(group: str, tags: Mapping[str, str], *, propagate: bool = True) -> list[dict[str, Any]]:
    """Auto-scaling tags of `group`; all propagate to the instances it launches."""
    return [
        {
            "ResourceId": group,
            "ResourceType": "auto-scaling-group",
            "Key": k,
            "Value": v,
            "PropagateAtLaunch": propagate,
        }
        for k, v in sorted(tags.items())
    ]
