"""`observe`: one batched read of every fleet a rollout coordinator drives (FleetObserver on AWS).

Per call, whatever the number of fleets: DescribeAutoScalingGroups by name (100 names a call,
the AWS maximum), one DescribeInstances for the member ids whose facts are not `known` yet (only
`running` instances are passed on as known: image and type never change for an id, and a running
instance that stops shows as auto-scaling `Unhealthy`/`Terminating`, which is read every time),
one DescribeTargetHealth per target group (all its registered targets; a member not listed is
`unused`), and DescribeAlarms by name (100 a call; a missing alarm is MISSING).
Callers: `reconciler_aws.fleet_ops.AwsFleetOps.observe`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reconciler.sdk import AlarmState, GroupInfo, GroupMember, LifecycleState, TargetHealth
from reconciler.sdk.fleet import FleetWorld, InstanceFacts, ObserveRequest
from reconciler_aws.fleet_model import group_tags, pinned_version
from reconciler_aws.fleet_reads import describe_groups, instances

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

NAMES_PER_CALL = 100  # AutoScalingGroupNames / AlarmNames per call
# what AwsFleetOps.create_group copies from the live group to a new generation
LAUNCH_SETTINGS = (
    "AvailabilityZones",
    "VPCZoneIdentifier",
    "HealthCheckType",
    "HealthCheckGracePeriod",
    "Tags",
)


def _lifecycle(value: str) -> LifecycleState:
    try:
        return LifecycleState(value.split(":")[0])
    except ValueError:
        return LifecycleState.OTHER


def _target_health(value: str) -> TargetHealth:
    try:
        return TargetHealth(value)
    except ValueError:
        return TargetHealth.UNAVAILABLE


def group_info(name: str, group: Mapping[str, Any]) -> GroupInfo:
    return GroupInfo(
        name=name,
        desired=int(group.get("DesiredCapacity") or 0),
        min_size=int(group.get("MinSize") or 0),
        max_size=int(group.get("MaxSize") or 0),
        launch_template_id=str((group.get("LaunchTemplate") or {}).get("LaunchTemplateId") or ""),
        launch_template_version=pinned_version(dict(group)),
        target_group_arns=tuple(sorted(group.get("TargetGroupARNs") or [])),
        tags=group_tags(dict(group)),
        launch_settings={k: group[k] for k in LAUNCH_SETTINGS if k in group},
    )


def _facts(instance: Mapping[str, Any]) -> InstanceFacts:
    launched = instance.get("LaunchTime")
    return InstanceFacts(
        image_id=str(instance.get("ImageId") or ""),
        instance_type=str(instance.get("InstanceType") or ""),
        state=str((instance.get("State") or {}).get("Name") or "terminated"),
        launched_at=launched.timestamp() if isinstance(launched, datetime) else None,
    )


def _alarms(clients: AwsClients, names: tuple[str, ...]) -> dict[str, AlarmState]:
    wanted = sorted(set(names))
    found: dict[str, AlarmState] = {}
    for start in range(0, len(wanted), NAMES_PER_CALL):
        response = clients.call(
            "cloudwatch",
            "DescribeAlarms",
            AlarmNames=wanted[start : start + NAMES_PER_CALL],
            AlarmTypes=["MetricAlarm", "CompositeAlarm"],
            MaxRecords=NAMES_PER_CALL,
        )
        for row in [*response.get("MetricAlarms", []), *response.get("CompositeAlarms", [])]:
            found[str(row["AlarmName"])] = AlarmState(str(row["StateValue"]))
    return {name: found.get(name, AlarmState.MISSING) for name in wanted}


def _registered(clients: AwsClients, arn: str) -> dict[str, TargetHealth]:
    rows = clients.call("elbv2", "DescribeTargetHealth", TargetGroupArn=arn)["TargetHealthDescriptions"]
    states: dict[str, TargetHealth] = {}
    for row in rows:
        iid = str(row["Target"]["Id"])
        state = _target_health(str((row.get("TargetHealth") or {}).get("State") or ""))
        if states.get(iid) in (None, TargetHealth.UNUSED):  # one row per port; keep the live one
            states[iid] = state
    return states


def observe(clients: AwsClients, request: ObserveRequest) -> FleetWorld:
    """The world of `request` in a number of calls that does not grow with the fleets (see above)."""
    names = sorted(set(request.groups))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(names), NAMES_PER_CALL):
        rows += describe_groups(clients, AutoScalingGroupNames=names[start : start + NAMES_PER_CALL])
    found = {str(g["AutoScalingGroupName"]): g for g in rows if g.get("AutoScalingGroupName") in names}
    ids = sorted({str(i["InstanceId"]) for g in found.values() for i in g.get("Instances") or []})
    facts = {i: request.known[i] for i in ids if i in request.known}
    unknown = [i for i in ids if i not in facts]
    if unknown:
        read = instances(clients, unknown)
        facts |= {i: _facts(read[i]) if i in read else InstanceFacts("", "", "terminated") for i in unknown}
    health = {arn: _registered(clients, arn) for arn in sorted(set(request.target_group_arns))}
    members: dict[str, tuple[GroupMember, ...]] = {}
    for name, group in found.items():
        arns = sorted(group.get("TargetGroupARNs") or [])
        out = []
        for row in sorted(group.get("Instances") or [], key=lambda r: str(r["InstanceId"])):
            iid = str(row["InstanceId"])
            fact = facts[iid]
            out.append(
                GroupMember(
                    instance_id=iid,
                    image_id=fact.image_id,
                    instance_type=fact.instance_type or str(row.get("InstanceType") or ""),
                    lifecycle_state=_lifecycle(str(row.get("LifecycleState") or "")),
                    health_status=str(row.get("HealthStatus") or ""),
                    instance_state=fact.state,
                    target_health={
                        arn: health[arn].get(iid, TargetHealth.UNUSED) for arn in arns if arn in health
                    },
                    launched_at=fact.launched_at,
                )
            )
        members[name] = tuple(out)
    return FleetWorld(
        groups={name: group_info(name, g) for name, g in found.items()},
        members=members,
        alarms=_alarms(clients, request.alarms) if request.alarms else {},
        instances={i: f for i, f in facts.items() if f.state == "running"},
        target_health=health,
    )
