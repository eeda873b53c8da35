"""What `reconciler ami list` says about each listed image beyond name and version: its root device
and architecture, snapshots and size, whose copy it is, who may launch it, and what uses it.

Reads, for the `DETAILED` newest images of a listing only: one DescribeImageAttribute
(launchPermission) per image, and the region's uses in one batch (ami_usage.read_uses). An image
whose permissions cannot be read (another account's) just says nothing about them. The wording
is pure (`describe`). Callers: ami_list (list_candidates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.sdk import CloudError
from reconciler_aws.ami_facts import facts
from reconciler_aws.ami_images import size_gib, snapshot_ids
from reconciler_aws.ami_permissions import permissions_of
from reconciler_aws.ami_retention_model import Use
from reconciler_aws.ami_usage import read_uses

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

__all__ = ["DETAILED", "describe", "details"]

DETAILED = 10  # the newest images of a listing get details (calls grow with each one)


def _facts(image: Mapping[str, Any]) -> tuple[str, ...]:
    mappings = [
        {
            "device_name": m.get("DeviceName"),
            "volume_size": (m.get("Ebs") or {}).get("VolumeSize"),
            "encrypted": (m.get("Ebs") or {}).get("Encrypted"),
        }
        for m in image.get("BlockDeviceMappings") or []
    ]
    return facts(
        {
            "root_device_type": image.get("RootDeviceType"),
            "root_device_name": image.get("RootDeviceName"),
            "architecture": image.get("Architecture"),
            "block_device_mappings": mappings,
        }
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe(
    image: Mapping[str, Any], *, permissions: Mapping[str, Any] | None, uses: Sequence[Use]
) -> tuple[str, ...]:
    """Pure: the lines shown under one image."""
    lines = [", ".join(_facts(image))] if _facts(image) else []
    snaps = snapshot_ids(image)
    lines.append(
        f"snapshots: {_plural(len(snaps), 'snapshot')}, {size_gib(image)} GiB" if snaps else "snapshots: none"
    )
    if image.get("SourceImageId"):
        lines.append(f"copy of {image['SourceImageId']} ({image.get('SourceImageRegion') or '?'})")
    if permissions is not None:
        shared = [
            _plural(len(permissions.get(name) or []), word)
            for name, word in (
                ("account_ids", "account"),
                ("organization_arns", "organization"),
                ("organizational_unit_arns", "organizational unit"),
            )
            if permissions.get(name)
        ]
        if permissions.get("public"):
            lines.append("launch: PUBLIC" + (f", and {', '.join(shared)}" if shared else ""))
        else:
            lines.append(f"launch: {', '.join(shared)}" if shared else "launch: private")
    lines.append("used by: " + "; ".join(u.detail for u in uses) if uses else "used by: nothing")
    return tuple(lines)


def details(clients: AwsClients, images: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, ...]]:
    """image id → its lines, for `images` (give only the ones to detail)."""
    ids = [str(i["ImageId"]) for i in images]
    uses = read_uses(clients, ids)
    out: dict[str, tuple[str, ...]] = {}
    for image in images:
        image_id = str(image["ImageId"])
        try:
            rows = clients.call(
                "ec2", "DescribeImageAttribute", ImageId=image_id, Attribute="launchPermission"
            ).get("LaunchPermissions", [])
            permissions: dict[str, Any] | None = permissions_of(rows)
        except CloudError:
            permissions = None  # not ours to read
        out[image_id] = describe(image, permissions=permissions, uses=uses.get(image_id, []))
    return out
