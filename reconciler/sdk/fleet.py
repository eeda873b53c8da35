"""The small fleet protocol a rollout runs through, and the fleet as a rollout is planned from.

Only types here: what the executor may ask of a cloud (members and health, create a group,
attach/detach/drain, set capacity, terminate, alarms), in plain dataclasses, so the engine never
imports boto3; and what planning reads of a fleet (`FleetSnapshot`, `InstanceInfo`) and of the
releases it runs (`Release`). Part of the provider SDK. Callers: rollout execution (uses),
reconciler_aws (implements), rollout.health (reads `GroupMember`), planning (snapshots), tests
(fakes for pure executor tests).

Contract notes for implementers:
- every method is idempotent where the cloud allows it (attach what is attached, delete what is
  gone, deregister what is not registered: no error);
- errors are `reconciler.errors.CloudError` (retryable or permanent), never botocore exceptions;
- groups always pin a numbered launch template version, never `$Latest`/`$Default`;
- `image_id` of a member comes from EC2 (`describe_instances`), not from the auto-scaling group's
  per-instance launch template version (moto reports that wrongly, see DESIGN §6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from reconciler.sdk.rollout_block import RolloutConfig
from reconciler.sdk.types import Label, Related

__all__ = [
    "UNKNOWN_IMAGE",
    "AlarmState",
    "FleetObserver",
    "FleetOps",
    "FleetSnapshot",
    "FleetType",
    "FleetWorld",
    "GroupInfo",
    "GroupMember",
    "InstanceFacts",
    "InstanceInfo",
    "LifecycleState",
    "ObserveRequest",
    "Release",
    "TargetHealth",
    "known_image",
]


UNKNOWN_IMAGE = "(known after apply)"  # a Release's image_id (and name) while it is unknown


def known_image(image_id: str) -> bool:
    """A release's image_id is a real id (not unknown, not missing)."""
    return bool(image_id) and image_id != UNKNOWN_IMAGE


@dataclass(frozen=True)
class Release:
    """One version of what a fleet runs: the image and type a launch template version pins.
    `image_id` is UNKNOWN_IMAGE while it is known only after apply."""

    image_id: str
    image_name: str
    image_version: str
    instance_type: str
    launch_template_version: int


@dataclass(frozen=True)
class InstanceInfo:
    id: str
    image_id: str
    instance_type: str
    healthy: bool = True


@dataclass
class FleetSnapshot:
    """The fleet's live group as read while planning."""

    group_name: str
    generation: int
    desired: int
    min_size: int
    max_size: int
    instances: list[InstanceInfo]
    target_group_names: list[str]
    launch_template_version: int
    target_group_arns: list[str] = field(default_factory=list)
    launch_template_id: str = ""


class LifecycleState(StrEnum):
    """Auto-scaling lifecycle states that matter to a rollout (others map to OTHER)."""

    PENDING = "Pending"
    IN_SERVICE = "InService"
    STANDBY = "Standby"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"
    DETACHING = "Detaching"
    OTHER = "Other"


class TargetHealth(StrEnum):
    INITIAL = "initial"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    DRAINING = "draining"
    UNUSED = "unused"
    UNAVAILABLE = "unavailable"


class AlarmState(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
    MISSING = "MISSING"  # no alarm of that name: a gate naming it fails rather than passing unseen


@dataclass(frozen=True)
class GroupMember:
    """One instance of a group with everything the health gate looks at."""

    instance_id: str
    image_id: str
    instance_type: str
    lifecycle_state: LifecycleState
    health_status: str  # auto-scaling "Healthy" | "Unhealthy"
    instance_state: str = "running"  # EC2 state name
    target_health: Mapping[str, TargetHealth] = field(default_factory=dict)  # by target group ARN
    launched_at: float | None = None  # epoch seconds; newest-first choices use it


@dataclass(frozen=True)
class GroupInfo:
    name: str
    desired: int
    min_size: int
    max_size: int
    launch_template_id: str
    launch_template_version: int | None  # None when the group does not pin a number
    target_group_arns: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    # provider-owned settings a new generation copies from this group (placement, health check,
    # tags), as an observation read them; handed back to `create_group` as `like_settings`
    launch_settings: Mapping[str, Any] = field(default_factory=dict)


class FleetOps(Protocol):
    """What a rollout needs from the cloud, one call per effect."""

    def describe_group(self, name: str) -> GroupInfo | None:
        """The group, or None when it does not exist (read before every create)."""
        ...

    def members_and_health(self, group: str) -> list[GroupMember]:
        """Every instance of the group with its EC2, auto-scaling and per-target-group health."""
        ...

    def create_group(
        self,
        *,
        name: str,
        launch_template_id: str,
        launch_template_version: int,
        desired: int,
        min_size: int,
        max_size: int,
        target_group_arns: Sequence[str],
        like: str,
        tags: Mapping[str, str],
        like_settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Create a group pinned to a numbered version; subnets, health check type, grace period
        and the user tags (not the cloud's own) are copied from the group named `like` (the live
        one), and `tags` are added. `like_settings`: that group's `launch_settings` from an
        observation that also showed `name` absent, so nothing is read first."""
        ...

    def set_launch_template_version(self, *, group: str, launch_template_id: str, version: int) -> None: ...

    def attach_target_groups(self, *, group: str, target_group_arns: Sequence[str]) -> None: ...

    def detach_target_groups(self, *, group: str, target_group_arns: Sequence[str]) -> None: ...

    def register_instances(self, *, target_group_arns: Sequence[str], instance_ids: Sequence[str]) -> None:
        """Put instances back into target groups (rollback of a drain); gone instances are skipped."""
        ...

    def deregister_instances(
        self, *, target_group_arns: Sequence[str], instance_ids: Sequence[str]
    ) -> None: ...

    def wait_drained(
        self, *, target_group_arns: Sequence[str], instance_ids: Sequence[str], timeout_s: int
    ) -> bool:
        """Wait until none of the instances is registered or draining in the target groups (the
        deregistration delay); False when `timeout_s` passed first."""
        ...

    def set_capacity(
        self, *, group: str, desired: int, min_size: int | None = None, max_size: int | None = None
    ) -> None:
        """Set desired, and min/max when given, in one call."""
        ...

    def terminate_instance(self, instance_id: str, *, decrement: bool, seen_in_group: bool = False) -> None:
        """Terminate one member; with `decrement` the group's desired capacity goes down by one.
        `seen_in_group`: the caller's latest observation shows it a live member, so the provider
        need not read that again first (a lost answer is still checked before a resend)."""
        ...

    def delete_group(self, name: str, *, force: bool) -> None:
        """Delete a group; with `force`, also the instances it still has."""
        ...

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        """State of each named CloudWatch alarm; a missing alarm is MISSING."""
        ...


@dataclass(frozen=True)
class InstanceFacts:
    """EC2's view of one instance; image and type never change for an id, so a provider may keep
    the facts of a `running` instance from one observation to the next."""

    image_id: str
    instance_type: str
    state: str
    launched_at: float | None = None


@dataclass(frozen=True)
class ObserveRequest:
    """What one poll of a rollout coordinator needs to see, for every fleet it drives at once."""

    groups: tuple[str, ...]  # by name; a group that does not exist is absent from the world
    target_group_arns: tuple[str, ...] = ()  # every registered target of each is read
    alarms: tuple[str, ...] = ()  # a missing alarm is MISSING
    known: Mapping[str, InstanceFacts] = field(default_factory=dict)  # facts of earlier polls


@dataclass(frozen=True)
class FleetWorld:
    """One batched observation: groups, their members (EC2 facts and target health merged, as
    `members_and_health` gives them), alarms, and the instance facts to pass as `known` next."""

    groups: Mapping[str, GroupInfo]
    members: Mapping[str, tuple[GroupMember, ...]]
    alarms: Mapping[str, AlarmState] = field(default_factory=dict)
    instances: Mapping[str, InstanceFacts] = field(default_factory=dict)
    target_health: Mapping[str, Mapping[str, TargetHealth]] = field(default_factory=dict)  # ARN → id →


class FleetObserver(Protocol):
    """Optional batched read of a FleetOps: the calls of one `observe` do not grow with the number
    of fleets (groups by name in pages of 100, one instance read for unknown ids, one target health
    read per target group, alarms in pages of 100). Raises CloudError when a part cannot be read."""

    def observe(self, request: ObserveRequest) -> FleetWorld: ...


class FleetType(Protocol):
    """The rollout hooks of a fleet resource type (`ResourceSchema.fleet`): what the engine needs
    to plan, run and record a rollout without knowing the cloud's names. The provider owns every
    name here: group naming, where target group names come from, which arguments are the release.
    All pure."""

    release_arguments: frozenset[str]  # a change of one of these is rolled out, not updated

    def fleet_name(self, desired: Mapping[str, Any]) -> str: ...

    def rollout_config(self, desired: Mapping[str, Any]) -> RolloutConfig:
        """The fleet's `rollout { }` block (defaults when it has none)."""
        ...

    def snapshot(self, prior: Mapping[str, Any], desired: Mapping[str, Any]) -> FleetSnapshot:
        """The live group as the prior attributes (refreshed) describe it."""
        ...

    def releases(
        self,
        *,
        prior: Mapping[str, Any],
        desired: Mapping[str, Any],
        related: Related,
        labels: Mapping[str, Label],
    ) -> tuple[Release, Release]:
        """(what runs now, what the plan rolls out); image names from `labels` (by image id)."""
        ...

    def group_name(self, fleet_name: str, generation: int) -> str:
        """The group a rollout creates for `generation`."""
        ...

    def kept_groups(self, prior: Mapping[str, Any]) -> list[str]:
        """Groups of the fleet other than the serving one (kept for rollback)."""
        ...

    def after_rollout(
        self,
        attributes: Mapping[str, Any],
        *,
        fleet_name: str,
        serving: str,
        kept: Sequence[str],
        version: int,
        members: Sequence[GroupMember],
    ) -> dict[str, Any]:
        """The fleet's attributes once a rollout completed, from what it made (used when the fleet
        cannot be read back): `serving` group at launch template `version`, `kept` groups."""
        ...
