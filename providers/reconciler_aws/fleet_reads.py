"""Reads for fleets: auto-scaling groups by tag or name, EC2 instances in bulk, template defaults.

Batch forms keep a fleet refresh at a constant number of calls: one paginated
DescribeAutoScalingGroups filtered on the stack's ownership tag (moto 5.2 implements `tag:KEY`
filters for auto-scaling groups) and one DescribeInstances for every member of every group
(InstanceIds in chunks of 1000, the AWS limit; a chunk naming a vanished instance falls back to an
`instance-id` filter, which skips unknown ids instead of failing). Callers: `reconciler_aws.fleet`,
`reconciler_aws.fleet_ops`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.sdk import OWNER_STACK_TAG, CloudError
from reconciler_aws.error_codes import is_not_found
from reconciler_aws.fleet_model import FLEET_TAG, fleet_of

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

GROUP_PAGE = 100  # MaxRecords: the AWS maximum for DescribeAutoScalingGroups
INSTANCE_CHUNK = 1000  # InstanceIds per DescribeInstances
FILTER_CHUNK = 200  # values per filter


def describe_groups(clients: AwsClients, *, address: object = None, **kwargs: Any) -> list[dict[str, Any]]:
    """Every group matching `kwargs` (AutoScalingGroupNames, Filters), over all pages."""
    return clients.paginate(
        "autoscaling",
        "DescribeAutoScalingGroups",
        result_key="AutoScalingGroups",
        address=address,
        page_size=GROUP_PAGE,
        **kwargs,
    )


def group_named(clients: AwsClients, name: str, *, address: object = None) -> dict[str, Any] | None:
    rows = describe_groups(clients, address=address, AutoScalingGroupNames=[name])
    return next((g for g in rows if g.get("AutoScalingGroupName") == name), None)


def groups_of_stack(clients: AwsClients, stack: str) -> list[dict[str, Any]]:
    return describe_groups(clients, Filters=[{"Name": f"tag:{OWNER_STACK_TAG}", "Values": [stack]}])


def by_fleet_name(groups: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Groups by the fleet they belong to: the fleet tag, else the name (`web-g0003` → `web`)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for group in groups:
        name = str(group.get("AutoScalingGroupName"))
        fleet = fleet_of(group) or re.sub(r"-g\d+$", "", name)
        out.setdefault(fleet, []).append(group)
    return out


def groups_of_fleet(clients: AwsClients, fleet: str, *, address: object = None) -> list[dict[str, Any]]:
    """Every group tagged as a generation of `fleet`, whatever stack it belongs to."""
    return describe_groups(
        clients, address=address, Filters=[{"Name": f"tag:{FLEET_TAG}", "Values": [fleet]}]
    )


def group_not_found(err: CloudError) -> bool:
    """Auto-scaling says "not found" as a ValidationError with words, not with a code."""
    return err.code == "ValidationError" and "not found" in err.message.lower()


def instances(
    clients: AwsClients, ids: Iterable[str], *, address: object = None
) -> dict[str, dict[str, Any]]:
    """EC2's view of each instance id (absent when EC2 no longer knows it)."""
    wanted = sorted(set(ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), INSTANCE_CHUNK):
        chunk = wanted[start : start + INSTANCE_CHUNK]
        try:
            reservations = clients.paginate(
                "ec2",
                "DescribeInstances",
                result_key="Reservations",
                address=address,
                page_size=None,
                InstanceIds=chunk,
            )
        except CloudError as err:
            if not is_not_found(err):
                raise
            reservations = []
            for sub in range(0, len(chunk), FILTER_CHUNK):
                reservations += clients.paginate(
                    "ec2",
                    "DescribeInstances",
                    result_key="Reservations",
                    address=address,
                    Filters=[{"Name": "instance-id", "Values": chunk[sub : sub + FILTER_CHUNK]}],
                )
        for reservation in reservations:
            for instance in reservation.get("Instances") or []:
                found[str(instance["InstanceId"])] = instance
    return found


def member_ids(groups: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({str(i["InstanceId"]) for g in groups for i in g.get("Instances") or []})


def default_template_version(clients: AwsClients, template_id: str, *, address: object = None) -> int:
    """The default version number of a launch template (what an unset version pins to)."""
    try:
        rows = clients.call(
            "ec2", "DescribeLaunchTemplates", address=address, LaunchTemplateIds=[template_id]
        )["LaunchTemplates"]
    except CloudError as err:
        if not is_not_found(err) and err.code != "InvalidLaunchTemplateId.Malformed":
            raise
        rows = []
    if not rows:
        raise CloudError(
            call="DescribeLaunchTemplates",
            message=f"launch template {template_id} does not exist",
            address=str(address) if address is not None else None,
            code="InvalidLaunchTemplateId.NotFound",
        )
    return int(rows[0]["DefaultVersionNumber"])
