"""Which images are in use in one region: batched reads, then one pure function.

Reads (region-wide, not only this stack's: a foreign group on an image breaks the same way):
every auto-scaling group (paged), the default and latest version of every launch template (one
DescribeLaunchTemplateVersions without a template, MaxResults 200), the numbered versions groups
pin that are neither (one call per such template), and the live instances on the candidate images
(DescribeInstances filtered on image-id, 200 ids a call). moto ignores DescribeLaunchTemplateVersions'
image-id filter, so images are matched here. On AWS itself (an amazonaws.com endpoint) the answer
of DescribeImageReferences (templates, instances, SSM parameters, Image Builder recipes) is added:
conservative, an image either source calls in use is kept. moto 5.2 does not implement it (HTTP
500), so an emulator endpoint is never asked. `planned_uses` reads the rest of the plan: a launch
template moving to an image, an image copy's source. Callers: ami_retention (plan, and again before
each deregistration).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.sdk import Related
from reconciler_aws.ami_retention_model import KeepReason, Use

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

__all__ = ["in_use", "planned_uses", "read_uses"]

LIVE_STATES = ["pending", "running", "stopping", "stopped"]
CHUNK = 200


def _group_template(group: Mapping[str, Any]) -> tuple[str, str] | None:
    spec = group.get("LaunchTemplate") or (
        ((group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}).get(
            "LaunchTemplateSpecification"
        )
    )
    if not spec or not spec.get("LaunchTemplateId"):
        return None
    return str(spec["LaunchTemplateId"]), str(spec.get("Version") or "$Default")


def _versions(clients: AwsClients, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = clients.call(
            "ec2",
            "DescribeLaunchTemplateVersions",
            MaxResults=200,
            **kwargs,
            **({"NextToken": token} if token else {}),
        )
        out.extend(page.get("LaunchTemplateVersions", []))
        token = page.get("NextToken")
        if not token:
            return out


def read_uses(clients: AwsClients, candidates: Iterable[str]) -> dict[str, list[Use]]:
    """image id → its uses in this region, for `candidates` only."""
    wanted = sorted(set(candidates))
    if not wanted:
        return {}
    groups = clients.paginate(
        "autoscaling", "DescribeAutoScalingGroups", result_key="AutoScalingGroups", page_size=100
    )
    versions = _versions(clients, Versions=["$Default", "$Latest"])
    known = {(str(v["LaunchTemplateId"]), int(v["VersionNumber"])) for v in versions}
    pinned: dict[str, set[str]] = {}
    for group in groups:
        spec = _group_template(group)
        if spec is not None and spec[1].isdigit() and (spec[0], int(spec[1])) not in known:
            pinned.setdefault(spec[0], set()).add(spec[1])
    for template_id, numbers in sorted(pinned.items()):
        versions += _versions(clients, LaunchTemplateId=template_id, Versions=sorted(numbers))
    instances: list[dict[str, Any]] = []
    for start in range(0, len(wanted), CHUNK):
        for reservation in clients.paginate(
            "ec2",
            "DescribeInstances",
            result_key="Reservations",
            Filters=[
                {"Name": "image-id", "Values": wanted[start : start + CHUNK]},
                {"Name": "instance-state-name", "Values": LIVE_STATES},
            ],
        ):
            instances.extend(reservation.get("Instances", []))
    found = in_use(wanted, groups=groups, versions=versions, instances=instances)
    for image_id, uses in image_references(clients, wanted).items():
        for use in uses:
            if use not in found.setdefault(image_id, []):
                found[image_id].append(use)
    return found


REFERENCE_REASONS = {
    "ec2:Instance": KeepReason.INSTANCE,
    "ec2:LaunchTemplate": KeepReason.TEMPLATE_LATEST,
}


def on_aws(clients: AwsClients) -> bool:
    """True when the EC2 endpoint is AWS itself (not an emulator that lacks newer APIs)."""
    endpoint = str(clients.client("ec2").meta.endpoint_url or "")
    return ".amazonaws.com" in endpoint or ".amazonaws.com.cn" in endpoint


def image_references(clients: AwsClients, images: Sequence[str]) -> dict[str, list[Use]]:
    """AWS's own list of what references each image (DescribeImageReferences, every resource
    type it knows); {} on an emulator endpoint."""
    if not images or not on_aws(clients):
        return {}
    out: dict[str, list[Use]] = {}
    for start in range(0, len(images), CHUNK):
        rows = clients.paginate(
            "ec2",
            "DescribeImageReferences",
            result_key="ImageReferences",
            page_size=None,
            ImageIds=list(images[start : start + CHUNK]),
            IncludeAllResourceTypes=True,
        )
        for row in rows:
            kind = str(row.get("ResourceType") or "resource")
            reason = REFERENCE_REASONS.get(kind, KeepReason.REFERENCED)
            out.setdefault(str(row["ImageId"]), []).append(Use(reason, f"{kind} {row.get('Arn')}"))
    return out


def in_use(
    candidates: Sequence[str],
    *,
    groups: Sequence[Mapping[str, Any]],
    versions: Sequence[Mapping[str, Any]],
    instances: Sequence[Mapping[str, Any]],
) -> dict[str, list[Use]]:
    """Pure: the uses of each candidate image among these groups, template versions and instances."""
    wanted = set(candidates)
    image_of: dict[tuple[str, int], str] = {}
    name_of: dict[str, str] = {}
    defaults: dict[str, int] = {}
    latest: dict[str, int] = {}
    for v in versions:
        tid, number = str(v["LaunchTemplateId"]), int(v["VersionNumber"])
        image_of[(tid, number)] = str((v.get("LaunchTemplateData") or {}).get("ImageId") or "")
        name_of[tid] = str(v.get("LaunchTemplateName") or tid)
        if v.get("DefaultVersion"):
            defaults[tid] = number
        latest[tid] = max(latest.get(tid, 0), number)
    out: dict[str, list[Use]] = {}

    def add(image: str, use: Use) -> None:
        if image in wanted and use not in out.setdefault(image, []):
            out[image].append(use)

    for group in groups:
        spec = _group_template(group)
        if spec is None:
            continue
        tid, version = spec
        pin: int | None = int(version) if version.isdigit() else None
        if version == "$Default":
            pin = defaults.get(tid)
        elif version == "$Latest":
            pin = latest.get(tid)
        if pin is None or (tid, pin) not in image_of:
            continue
        template = name_of.get(tid, tid)
        what = f"group {group['AutoScalingGroupName']} (launch template {template} version {pin})"
        add(image_of[(tid, pin)], Use(KeepReason.GROUP, what))
    for (tid, number), image in sorted(image_of.items()):
        name = name_of.get(tid, tid)
        if defaults.get(tid) == number:
            add(image, Use(KeepReason.TEMPLATE_DEFAULT, f"launch template {name} default version {number}"))
        if latest.get(tid) == number and defaults.get(tid) != number:
            add(image, Use(KeepReason.TEMPLATE_LATEST, f"launch template {name} latest version {number}"))
    for instance in instances:
        if (instance.get("State") or {}).get("Name", "running") in LIVE_STATES:
            add(
                str(instance.get("ImageId")),
                Use(KeepReason.INSTANCE, f"instance {instance.get('InstanceId')}"),
            )
    return out


def planned_uses(related: Related) -> list[tuple[str, Use]]:
    """What the rest of the plan still needs: images launch templates move to, copy sources."""
    out: list[tuple[str, Use]] = []
    for obj in related.objects():
        after = obj.after or {}
        if obj.type_name == "aws_launch_template" and isinstance(after.get("image_id"), str):
            out.append(
                (
                    after["image_id"],
                    Use(KeepReason.PLANNED, f"{obj.address or 'a launch template'} in this plan"),
                )
            )
        if obj.type_name == "aws_ami_copy" and isinstance(after.get("source_ami_id"), str):
            out.append(
                (
                    after["source_ami_id"],
                    Use(KeepReason.COPY_SOURCE, f"the source of {obj.address or 'an image copy'}"),
                )
            )
    return out
