"""An in-memory cloud implementing `FleetOps`, for testing the rollout executor's sequencing.

Faithful where the executor's correctness depends on it: groups keep min <= desired <= max (a call
that breaks it fails like AWS's ValidationError), launch on the image of the numbered launch
template version they pin, scale in oldest-version-first, register their instances in attached
target groups (attaching one that is attached already registers nothing again); terminate with
decrement lowers desired and refuses to go below min; creating a group that exists fails (AWS
does; moto silently replaces it). Instances are InService, Healthy and running at once.
Knobs: `unhealthy_images` (their instances are `unhealthy` in every target group),
`set_alarm(name, state, at=time)`, `hook(call, fn, nth=, before=)` to run code around the n-th
call of a method (inject a CloudError, fire an alarm, simulate a crash with `Crash`),
`drains_time_out`, `crash_after` (raise `Crash` right after the n-th change). Every call goes to
`calls`; every change appends a `Snapshot` to `history`.
The AWS implementation is tested against moto elsewhere; this fake is not a substitute for that.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import CloudError
from reconciler.sdk.fleet import (
    AlarmState,
    FleetWorld,
    GroupInfo,
    GroupMember,
    InstanceFacts,
    LifecycleState,
    ObserveRequest,
    TargetHealth,
)


class Crash(BaseException):
    """A simulated process death: not an Exception, so nothing in the executor catches it."""


class FakeClock:
    """Epoch-like seconds that move only when something sleeps."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"negative sleep {seconds}"
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Instance:
    id: str
    image_id: str
    instance_type: str
    group: str
    launched_at: float
    alive: bool = True


@dataclass
class Group:
    name: str
    launch_template_id: str
    version: int
    desired: int
    min_size: int
    max_size: int
    target_groups: list[str]
    tags: dict[str, str]
    members: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Call:
    name: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """The fleet right after a change: live instances per group, and who serves traffic."""

    time: float
    call: str
    live: Mapping[str, int]
    serving: int  # live instances registered and healthy in every fleet target group
    serving_images: Mapping[str, int]


_MUTATING = {
    "create_group",
    "set_launch_template_version",
    "attach_target_groups",
    "detach_target_groups",
    "register_instances",
    "deregister_instances",
    "wait_drained",
    "set_capacity",
    "terminate_instance",
    "delete_group",
}


def _invalid(call: str, message: str, code: str = "ValidationError") -> CloudError:
    return CloudError(call=call, message=message, code=code)


class FakeFleet:
    """`versions` maps launch template version -> (image id, instance type)."""

    def __init__(
        self,
        *,
        clock: FakeClock,
        versions: Mapping[int, tuple[str, str]],
        target_groups: Sequence[str],
        launch_template_id: str = "lt-0123",
    ) -> None:
        self.clock = clock
        self.versions = dict(versions)
        self.target_groups = list(target_groups)
        self.launch_template_id = launch_template_id
        self.groups: dict[str, Group] = {}
        self.instances: dict[str, Instance] = {}
        self.registrations: dict[str, dict[str, str]] = {arn: {} for arn in target_groups}  # "in"|"draining"
        self.unhealthy_images: set[str] = set()
        self.drains_time_out = False
        self.crash_after: int | None = None  # raise Crash once this many changes were made
        self.calls: list[Call] = []
        self.history: list[Snapshot] = []
        self._alarms: list[tuple[float, str, AlarmState]] = []
        self._hooks: list[tuple[str, int, bool, Callable[[], None]]] = []
        self._ids = itertools.count(1)
        self._seen_draining: set[str] = set()

    # -- set-up and knobs -------------------------------------------------------------------------

    def add_group(
        self,
        name: str,
        *,
        version: int,
        desired: int,
        min_size: int,
        max_size: int,
        instance_ids: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """A live group, attached to every fleet target group, with `instance_ids` (or new ids)."""
        group = Group(
            name, self.launch_template_id, version, desired, min_size, max_size, [], dict(tags or {})
        )
        self.groups[name] = group
        for instance_id in instance_ids:
            self._launch(group, instance_id=instance_id)
        self._converge(group)
        self._attach(group, self.target_groups)

    def set_alarm(self, name: str, state: AlarmState, *, at: float | None = None) -> None:
        self._alarms.append((self.clock() if at is None else at, name, state))

    def hook(self, call: str, fn: Callable[[], None], *, nth: int = 1, before: bool = False) -> None:
        """Run `fn` just before (or after) the `nth` call of `call`; it may raise."""
        self._hooks.append((call, nth, before, fn))

    # -- reading, for assertions ------------------------------------------------------------------

    def live(self, group: str | None = None) -> list[Instance]:
        return [i for i in self.instances.values() if i.alive and (group is None or i.group == group)]

    def target_state(self, arn: str, instance: Instance) -> TargetHealth | None:
        state = self.registrations.get(arn, {}).get(instance.id)
        if state is None:
            return None
        if state == "draining":
            return TargetHealth.DRAINING
        return TargetHealth.UNHEALTHY if instance.image_id in self.unhealthy_images else TargetHealth.HEALTHY

    def serving(self) -> list[Instance]:
        return [
            i
            for i in self.live()
            if all(self.target_state(arn, i) is TargetHealth.HEALTHY for arn in self.target_groups)
        ]

    def registered(self) -> list[Instance]:
        """Live instances registered (not draining) in any target group."""
        return [
            i for i in self.live() if any(self.registrations[a].get(i.id) == "in" for a in self.registrations)
        ]

    def mutations(self) -> list[Call]:
        return [c for c in self.calls if c.name in _MUTATING]

    # -- FleetOps ---------------------------------------------------------------------------------

    def _call(self, name: str, /, **args: Any) -> None:
        self.calls.append(Call(name, args))
        nth = sum(c.name == name for c in self.calls)
        for call, when, before, fn in self._hooks:
            if call == name and when == nth and before:
                fn()

    def _done(self, name: str) -> None:
        nth = sum(c.name == name for c in self.calls)
        if name in _MUTATING:
            serving = self.serving()
            images: dict[str, int] = {}
            for instance in serving:
                images[instance.image_id] = images.get(instance.image_id, 0) + 1
            live = {g: len(self.live(g)) for g in self.groups}
            self.history.append(Snapshot(self.clock(), name, live, len(serving), images))
            if self.crash_after is not None and len(self.history) >= self.crash_after:
                self.crash_after = None
                raise Crash(f"killed right after {name}")
        for call, when, before, fn in self._hooks:
            if call == name and when == nth and not before:
                fn()

    def _group(self, call: str, name: str) -> Group:
        if name not in self.groups:
            raise _invalid(call, f"AutoScalingGroup name not found - {name}")
        return self.groups[name]

    def describe_group(self, name: str) -> GroupInfo | None:
        self._call("describe_group", name=name)
        group = self.groups.get(name)
        self._done("describe_group")
        if group is None:
            return None
        return GroupInfo(
            name=group.name,
            desired=group.desired,
            min_size=group.min_size,
            max_size=group.max_size,
            launch_template_id=group.launch_template_id,
            launch_template_version=group.version,
            target_group_arns=tuple(group.target_groups),
            tags=dict(group.tags),
        )

    def members_and_health(self, group: str) -> list[GroupMember]:
        self._call("members_and_health", group=group)
        found = self.groups.get(group)
        members = []
        for instance_id in found.members if found else []:
            instance = self.instances[instance_id]
            health = {}
            for arn in self.registrations:
                state = self.target_state(arn, instance)
                if state is not None:
                    health[arn] = state
            members.append(
                GroupMember(
                    instance_id=instance.id,
                    image_id=instance.image_id,
                    instance_type=instance.instance_type,
                    lifecycle_state=LifecycleState.IN_SERVICE,
                    health_status="Healthy",
                    target_health=health,
                    launched_at=instance.launched_at,
                )
            )
        self._done("members_and_health")
        return members

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
        call = "create_group"
        self._call(
            call, name=name, version=launch_template_version, desired=desired, like=like, tags=dict(tags)
        )
        if name in self.groups:
            raise _invalid(call, f"AutoScalingGroup by this name already exists - {name}", "AlreadyExists")
        live = self._group(call, like)
        tags = {k: v for k, v in live.tags.items() if not k.startswith("aws:")} | dict(tags)  # as AWS's
        if launch_template_version not in self.versions or launch_template_id != self.launch_template_id:
            raise _invalid(call, f"launch template {launch_template_id} version {launch_template_version}?")
        if not min_size <= desired <= max_size:
            raise _invalid(call, f"min {min_size} <= desired {desired} <= max {max_size} does not hold")
        group = Group(
            name, launch_template_id, launch_template_version, desired, min_size, max_size, [], dict(tags)
        )
        self.groups[name] = group
        self._converge(group)
        self._attach(group, target_group_arns)
        self._done(call)

    def set_launch_template_version(self, *, group: str, launch_template_id: str, version: int) -> None:
        call = "set_launch_template_version"
        self._call(call, group=group, version=version)
        found = self._group(call, group)
        if version not in self.versions or launch_template_id != self.launch_template_id:
            raise _invalid(call, f"launch template {launch_template_id} version {version} does not exist")
        found.version = version
        self._done(call)

    def attach_target_groups(self, *, group: str, target_group_arns: Sequence[str]) -> None:
        call = "attach_target_groups"
        self._call(call, group=group, arns=list(target_group_arns))
        self._attach(self._group(call, group), target_group_arns)
        self._done(call)

    def detach_target_groups(self, *, group: str, target_group_arns: Sequence[str]) -> None:
        call = "detach_target_groups"
        self._call(call, group=group, arns=list(target_group_arns))
        found = self._group(call, group)
        for arn in target_group_arns:
            if arn in found.target_groups:
                found.target_groups.remove(arn)
            for instance_id in found.members:
                if instance_id in self.registrations[arn]:
                    self.registrations[arn][instance_id] = "draining"
        self._done(call)

    def register_instances(self, *, target_group_arns: Sequence[str], instance_ids: Sequence[str]) -> None:
        self._call("register_instances", arns=list(target_group_arns), ids=list(instance_ids))
        for arn in target_group_arns:
            for instance_id in instance_ids:
                instance = self.instances.get(instance_id)
                if instance is not None and instance.alive:
                    self.registrations[arn][instance_id] = "in"
        self._done("register_instances")

    def deregister_instances(self, *, target_group_arns: Sequence[str], instance_ids: Sequence[str]) -> None:
        self._call("deregister_instances", arns=list(target_group_arns), ids=list(instance_ids))
        for arn in target_group_arns:
            for instance_id in instance_ids:
                if instance_id in self.registrations[arn]:
                    self.registrations[arn][instance_id] = "draining"
        self._done("deregister_instances")

    def wait_drained(
        self, *, target_group_arns: Sequence[str], instance_ids: Sequence[str], timeout_s: int
    ) -> bool:
        self._call("wait_drained", arns=list(target_group_arns), ids=list(instance_ids), timeout_s=timeout_s)
        if not self.drains_time_out:
            for arn in target_group_arns:
                for instance_id in instance_ids:
                    if self.registrations[arn].get(instance_id) == "draining":
                        del self.registrations[arn][instance_id]
        self._done("wait_drained")
        return not self.drains_time_out

    def set_capacity(
        self, *, group: str, desired: int, min_size: int | None = None, max_size: int | None = None
    ) -> None:
        call = "set_capacity"
        self._call(call, group=group, desired=desired, min_size=min_size, max_size=max_size)
        found = self._group(call, group)
        low = found.min_size if min_size is None else min_size
        high = found.max_size if max_size is None else max_size
        if not low <= desired <= high:
            raise _invalid(call, f"{group}: min {low} <= desired {desired} <= max {high} does not hold")
        found.desired, found.min_size, found.max_size = desired, low, high
        self._converge(found)
        self._done(call)

    def terminate_instance(self, instance_id: str, *, decrement: bool, seen_in_group: bool = False) -> None:
        call = "terminate_instance"
        self._call(call, instance_id=instance_id, decrement=decrement)
        instance = self.instances.get(instance_id)
        if instance is None or not instance.alive:
            raise _invalid(call, f"Instance Id not found - {instance_id}")
        group = self.groups[instance.group]
        if decrement and group.desired - 1 < group.min_size:
            raise _invalid(call, f"{group.name}: terminating without replacement would go below min size")
        self._kill(instance)
        if decrement:
            group.desired -= 1
        self._converge(group)
        self._done(call)

    def delete_group(self, name: str, *, force: bool) -> None:
        call = "delete_group"
        self._call(call, name=name, force=force)
        group = self._group(call, name)
        if group.members and not force:
            raise _invalid(call, f"{name} has instances", "ResourceInUse")
        for instance_id in list(group.members):
            self._kill(self.instances[instance_id])
        del self.groups[name]
        self._done(call)

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        self._call("alarm_states", names=list(names))
        states: dict[str, AlarmState] = {}
        for at, name, state in sorted(self._alarms, key=lambda a: a[0]):
            if at <= self.clock():
                states[name] = state
        self._done("alarm_states")
        return {name: states.get(name, AlarmState.INSUFFICIENT_DATA) for name in names}  # alarms exist

    def observe(self, request: ObserveRequest) -> FleetWorld:
        """The batched read of the rollout coordinator, as one call. A deregistered instance stays
        `draining` for one observation (none while `drains_time_out`), then leaves its target group."""
        self._call("observe", groups=list(request.groups), alarms=list(request.alarms))
        if not self.drains_time_out:
            for registered in self.registrations.values():
                for instance_id, state in list(registered.items()):
                    if state == "draining" and instance_id in self._seen_draining:
                        del registered[instance_id]
        self._seen_draining = {
            i for r in self.registrations.values() for i, s in r.items() if s == "draining"
        }
        calls = len(self.calls)
        groups = {g: info for g in request.groups if (info := self.describe_group(g)) is not None}
        members = {g: tuple(self.members_and_health(g)) for g in groups}
        alarms = self.alarm_states(list(request.alarms)) if request.alarms else {}
        del self.calls[calls:]  # one call, not the reads it is made of
        health = {
            arn: {
                i.id: state for i in self.live() if (state := self.target_state(arn, i)) is not None
            }
            for arn in request.target_group_arns
        }
        facts = {
            m.instance_id: InstanceFacts(m.image_id, m.instance_type, m.instance_state)
            for ms in members.values()
            for m in ms
        }
        self._done("observe")
        return FleetWorld(
            groups=groups, members=members, alarms=alarms, instances=facts, target_health=health
        )

    # -- the fake's own mechanics -----------------------------------------------------------------

    def _launch(self, group: Group, *, instance_id: str | None = None) -> None:
        image_id, instance_type = self.versions[group.version]
        new_id = instance_id or f"i-n{next(self._ids):03d}"
        self.instances[new_id] = Instance(new_id, image_id, instance_type, group.name, self.clock())
        group.members.append(new_id)
        for arn in group.target_groups:
            self.registrations[arn][new_id] = "in"

    def _kill(self, instance: Instance) -> None:
        instance.alive = False
        self.groups[instance.group].members.remove(instance.id)
        for registered in self.registrations.values():
            registered.pop(instance.id, None)

    def _converge(self, group: Group) -> None:
        """Launch or scale in to desired; scale-in takes other versions' instances, oldest first."""
        while len(group.members) < group.desired:
            self._launch(group)
        pinned = self.versions[group.version][0]
        while len(group.members) > group.desired:
            victim = min(
                (self.instances[i] for i in group.members),
                key=lambda i: (i.image_id == pinned, i.launched_at, i.id),
            )
            self._kill(victim)

    def _attach(self, group: Group, arns: Sequence[str]) -> None:
        """Like AWS: a newly attached target group gets the members; attaching one that is
        attached already changes nothing (members deregistered by hand stay out)."""
        for arn in arns:
            if arn in group.target_groups:
                continue
            group.target_groups.append(arn)
            for instance_id in group.members:
                self.registrations[arn][instance_id] = "in"
