"""`AwsFleetOps`: the rollout executor's FleetOps protocol (reconciler/rollout/protocol.py) on AWS.

One call per effect through the provider's `AwsClients` (so errors are CloudError and calls are
counted with the provider's). Idempotent where AWS allows: describing or deleting a group that is
gone, attaching what is attached, detaching what is not, deregistering what is not registered and
terminating an instance that already left its group are all quiet no-ops (a detach of a target
group that is not attached is filtered out first, because moto answers it with InvalidTarget).
Creating a group, terminating an instance, detaching and deregistering go through `call_once`:
after a lost answer they read whether the first attempt went through instead of resending.

Choices worth knowing:
- a member's `image_id`/`instance_state` come from EC2; a member EC2 no longer knows reports
  state "terminated" and an empty image id;
- per-target-group health asks DescribeTargetHealth about the members by id, so an instance that is
  not registered shows `unused` (AWS's own answer) rather than being absent;
- `alarm_states` reports a missing alarm as MISSING: a typo in an alarm name fails the health
  gate at once, naming the alarm, instead of passing unseen.
Callers: `reconciler_aws.provider.AwsProvider.fleet_ops`, the rollout executor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reconciler.sdk import (
    OWNER_STACK_TAG,
    AlarmState,
    CloudError,
    GroupInfo,
    GroupMember,
    LifecycleState,
    OwnershipError,
    TargetHealth,
)
from reconciler.sdk.fleet import FleetWorld, ObserveRequest
from reconciler_aws.fleet_model import (
    FLEET_TAG,
    GENERATION_TAG,
    asg_tag_list,
    group_tags,
    pinned_version,
    placement,
)
from reconciler_aws.fleet_names import parse_generation
from reconciler_aws.fleet_observe import observe
from reconciler_aws.fleet_reads import group_named, group_not_found, instances

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

ALARM_CHUNK = 100  # AlarmNames per DescribeAlarms
TARGET_CHUNK = 100  # targets per Register/DeregisterTargets and DescribeTargetHealth
GONE_STATES = frozenset({"shutting-down", "terminated"})
REGISTERED = frozenset(
    {
        TargetHealth.INITIAL,
        TargetHealth.HEALTHY,
        TargetHealth.UNHEALTHY,
        TargetHealth.DRAINING,
        TargetHealth.UNAVAILABLE,
    }
)


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _lifecycle(value: str) -> LifecycleState:
    """`InService` → IN_SERVICE; `Terminating:Wait` → TERMINATING; anything else → OTHER."""
    try:
        return LifecycleState(value.split(":")[0])
    except ValueError:
        return LifecycleState.OTHER


def _target_health(value: str) -> TargetHealth:
    try:
        return TargetHealth(value)
    except ValueError:
        return TargetHealth.UNAVAILABLE


def _generation_from_name(name: str, fleet: str | None) -> int | None:
    if fleet:
        return parse_generation(name, fleet)
    head, sep, digits = name.rpartition("-g")
    return int(digits) if sep and head and digits.isdigit() else None


class AwsFleetOps:
    """FleetOps on one provider's clients; `sleep`/`clock` are injectable for wait_drained tests."""

    def __init__(
        self,
        clients: AwsClients,
        *,
        poll_interval_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = clients
        self.poll_interval_s = poll_interval_s
        self._sleep = sleep
        self._clock = clock

    # --- reads ---------------------------------------------------------------------------------

    def _group(self, name: str) -> dict[str, Any] | None:
        return group_named(self.clients, name, address=name)

    def _require(self, name: str, call: str) -> dict[str, Any]:
        group = self._group(name)
        if group is None:
            raise CloudError(
                call=call,
                message=f"auto-scaling group {name!r} does not exist",
                address=name,
                code="ValidationError",
            )
        return group

    def describe_group(self, name: str) -> GroupInfo | None:
        group = self._group(name)
        if group is None:
            return None
        return GroupInfo(
            name=name,
            desired=int(group.get("DesiredCapacity") or 0),
            min_size=int(group.get("MinSize") or 0),
            max_size=int(group.get("MaxSize") or 0),
            launch_template_id=str((group.get("LaunchTemplate") or {}).get("LaunchTemplateId") or ""),
            launch_template_version=pinned_version(group),
            target_group_arns=tuple(sorted(group.get("TargetGroupARNs") or [])),
            tags=group_tags(group),
        )

    def _health(
        self, target_group_arns: Sequence[str], instance_ids: Sequence[str]
    ) -> dict[str, dict[str, TargetHealth]]:
        """Health of each instance id in each target group (by ARN), `unused` when not registered."""
        out: dict[str, dict[str, TargetHealth]] = {}
        for arn in target_group_arns:
            states: dict[str, TargetHealth] = {}
            for chunk in _chunks(sorted(set(instance_ids)), TARGET_CHUNK):
                rows = self.clients.call(
                    "elbv2", "DescribeTargetHealth", TargetGroupArn=arn, Targets=[{"Id": i} for i in chunk]
                )["TargetHealthDescriptions"]
                for row in rows:
                    iid = str(row["Target"]["Id"])
                    state = _target_health(str((row.get("TargetHealth") or {}).get("State") or ""))
                    if states.get(iid) in (None, TargetHealth.UNUSED):  # one row per port; keep the live one
                        states[iid] = state
            out[arn] = states
        return out

    def members_and_health(self, group: str) -> list[GroupMember]:
        found = self._require(group, "DescribeAutoScalingGroups")
        rows = sorted(found.get("Instances") or [], key=lambda r: str(r["InstanceId"]))
        ids = [str(r["InstanceId"]) for r in rows]
        if not ids:
            return []
        ec2 = instances(self.clients, ids, address=group)
        health = self._health(sorted(found.get("TargetGroupARNs") or []), ids)
        members = []
        for row in rows:
            iid = str(row["InstanceId"])
            instance = ec2.get(iid, {})
            launched = instance.get("LaunchTime")
            members.append(
                GroupMember(
                    instance_id=iid,
                    image_id=str(instance.get("ImageId") or ""),
                    instance_type=str(instance.get("InstanceType") or row.get("InstanceType") or ""),
                    lifecycle_state=_lifecycle(str(row.get("LifecycleState") or "")),
                    health_status=str(row.get("HealthStatus") or ""),
                    instance_state=str((instance.get("State") or {}).get("Name") or "terminated"),
                    target_health={
                        arn: states.get(iid, TargetHealth.UNUSED) for arn, states in health.items()
                    },
                    launched_at=launched.timestamp() if isinstance(launched, datetime) else None,
                )
            )
        return members

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        wanted = sorted(set(names))
        found: dict[str, AlarmState] = {}
        for chunk in _chunks(wanted, ALARM_CHUNK):
            response = self.clients.call(
                "cloudwatch",
                "DescribeAlarms",
                AlarmNames=chunk,
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
                MaxRecords=ALARM_CHUNK,
            )
            for row in [*response.get("MetricAlarms", []), *response.get("CompositeAlarms", [])]:
                found[str(row["AlarmName"])] = AlarmState(str(row["StateValue"]))
        return {name: found.get(name, AlarmState.MISSING) for name in names}

    def observe(self, request: ObserveRequest) -> FleetWorld:
        """One batched read of every fleet a rollout coordinator drives (fleet_observe)."""
        return observe(self.clients, request)

    # --- changes -------------------------------------------------------------------------------

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
        # the caller's observation of this poll read `like` and saw `name` absent: no reads first
        template = dict(like_settings) if like_settings else self._require(like, "CreateAutoScalingGroup")
        template_tags = group_tags(template)
        # a same-named group would be silently replaced: read first (unless just seen absent)
        existing = None if like_settings else self._group(name)
        if existing is not None:
            mine = group_tags(existing)
            if (mine.get(OWNER_STACK_TAG), mine.get(FLEET_TAG)) != (
                template_tags.get(OWNER_STACK_TAG),
                template_tags.get(FLEET_TAG),
            ):
                raise OwnershipError(
                    f'auto-scaling group "{name}" already exists and does not belong to the fleet of {like!r}'
                )
            return  # created by an earlier, interrupted attempt
        generation = _generation_from_name(name, template_tags.get(FLEET_TAG))
        all_tags = {k: v for k, v in template_tags.items() if not k.startswith("aws:")}
        all_tags |= dict(tags)
        if generation is not None:
            all_tags[GENERATION_TAG] = str(generation)
        zones, subnets = placement(template)
        where: dict[str, Any] = (
            {"VPCZoneIdentifier": ",".join(subnets)} if subnets else {"AvailabilityZones": zones}
        )
        self.clients.call_once(  # a resent create would silently replace the group in moto
            "autoscaling",
            "CreateAutoScalingGroup",
            took_effect=lambda: self._group(name) is not None,
            address=name,
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateId": launch_template_id, "Version": str(launch_template_version)},
            MinSize=min_size,
            MaxSize=max_size,
            DesiredCapacity=desired,
            TargetGroupARNs=sorted(set(target_group_arns)),
            HealthCheckType=str(template.get("HealthCheckType") or "EC2"),
            HealthCheckGracePeriod=int(template.get("HealthCheckGracePeriod") or 0),
            Tags=asg_tag_list(name, all_tags),
            **where,
        )

    def set_launch_template_version(self, *, group: str, launch_template_id: str, version: int) -> None:
        self.clients.call(
            "autoscaling",
            "UpdateAutoScalingGroup",
            address=group,
            AutoScalingGroupName=group,
            LaunchTemplate={"LaunchTemplateId": launch_template_id, "Version": str(version)},
        )

    def attach_target_groups(self, *, group: str, target_group_arns: Sequence[str]) -> None:
        for chunk in _chunks(sorted(set(target_group_arns)), 10):
            self.clients.call(
                "autoscaling",
                "AttachLoadBalancerTargetGroups",
                address=group,
                AutoScalingGroupName=group,
                TargetGroupARNs=chunk,
            )

    def detach_target_groups(self, *, group: str, target_group_arns: Sequence[str]) -> None:
        found = self._group(group)
        if found is None:
            return
        attached = set(found.get("TargetGroupARNs") or []) & set(target_group_arns)
        for chunk in _chunks(sorted(attached), 10):

            def detached(chunk: list[str] = chunk) -> bool:
                now = self._group(group)
                return now is None or not set(chunk) & set(now.get("TargetGroupARNs") or [])

            self.clients.call_once(
                "autoscaling",
                "DetachLoadBalancerTargetGroups",
                took_effect=detached,
                address=group,
                AutoScalingGroupName=group,
                TargetGroupARNs=chunk,
            )

    def register_instances(self, *, target_group_arns: Sequence[str], instance_ids: Sequence[str]) -> None:
        if not instance_ids or not target_group_arns:
            return
        ec2 = instances(self.clients, instance_ids)
        live = sorted(
            i for i, inst in ec2.items() if (inst.get("State") or {}).get("Name") not in GONE_STATES
        )
        for arn in sorted(set(target_group_arns)):
            for chunk in _chunks(live, TARGET_CHUNK):
                self.clients.call(
                    "elbv2", "RegisterTargets", TargetGroupArn=arn, Targets=[{"Id": i} for i in chunk]
                )

    def deregister_instances(self, *, target_group_arns: Sequence[str], instance_ids: Sequence[str]) -> None:
        if not instance_ids:
            return
        for arn, states in self._health(sorted(set(target_group_arns)), instance_ids).items():
            registered = sorted(i for i, state in states.items() if state in REGISTERED)
            for chunk in _chunks(registered, TARGET_CHUNK):

                def gone(arn: str = arn, chunk: list[str] = chunk) -> bool:
                    now = self._health([arn], chunk)[arn]
                    return not any(now.get(i) in REGISTERED - {TargetHealth.DRAINING} for i in chunk)

                self.clients.call_once(
                    "elbv2",
                    "DeregisterTargets",
                    took_effect=gone,
                    TargetGroupArn=arn,
                    Targets=[{"Id": i} for i in chunk],
                )

    def wait_drained(
        self, *, target_group_arns: Sequence[str], instance_ids: Sequence[str], timeout_s: int
    ) -> bool:
        if not instance_ids or not target_group_arns:
            return True
        deadline = self._clock() + timeout_s
        while True:
            health = self._health(sorted(set(target_group_arns)), instance_ids)
            if not any(state in REGISTERED for states in health.values() for state in states.values()):
                return True
            if self._clock() >= deadline:
                return False
            self._sleep(self.poll_interval_s)

    def set_capacity(
        self, *, group: str, desired: int, min_size: int | None = None, max_size: int | None = None
    ) -> None:
        sizes = {"MinSize": min_size, "MaxSize": max_size}
        self.clients.call(
            "autoscaling",
            "UpdateAutoScalingGroup",
            address=group,
            AutoScalingGroupName=group,
            DesiredCapacity=desired,
            **{k: v for k, v in sizes.items() if v is not None},
        )

    def terminate_instance(self, instance_id: str, *, decrement: bool, seen_in_group: bool = False) -> None:
        # Ask first (unless the caller's observation just showed it in its group): moto answers
        # HTTP 500 for an instance that is in no group (AWS a ValidationError).
        if not seen_in_group:
            rows = self.clients.call(
                "autoscaling", "DescribeAutoScalingInstances", address=instance_id, InstanceIds=[instance_id]
            )["AutoScalingInstances"]
            if not rows or _lifecycle(str(rows[0].get("LifecycleState") or "")) in (
                LifecycleState.TERMINATING,
                LifecycleState.TERMINATED,
            ):
                return
        def leaving() -> bool:  # a resend would decrement the group's capacity a second time
            rows = self.clients.call(
                "autoscaling", "DescribeAutoScalingInstances", address=instance_id, InstanceIds=[instance_id]
            )["AutoScalingInstances"]
            return not rows or _lifecycle(str(rows[0].get("LifecycleState") or "")) in (
                LifecycleState.TERMINATING,
                LifecycleState.TERMINATED,
            )

        self.clients.call_once(
            "autoscaling",
            "TerminateInstanceInAutoScalingGroup",
            took_effect=leaving,
            address=instance_id,
            InstanceId=instance_id,
            ShouldDecrementDesiredCapacity=decrement,
        )

    def delete_group(self, name: str, *, force: bool) -> None:
        try:
            self.clients.call(
                "autoscaling",
                "DeleteAutoScalingGroup",
                address=name,
                AutoScalingGroupName=name,
                ForceDelete=force,
            )
        except CloudError as err:
            if not group_not_found(err):
                raise


__all__ = ["AwsFleetOps"]
