"""Image reads and facts shared by the AMI resource types: batched DescribeImages by id, an image's
snapshots and their size, and how an image reads in a plan line.

`images_by_ids` never fails on a missing id (it filters on `image-id`, which AWS and moto both
answer with the images that exist), in chunks of 200 ids. The rest is pure. Callers:
ami_permissions, ami_copy, ami_retention.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

__all__ = ["image_line", "images_by_ids", "size_gib", "snapshot_ids"]

CHUNK = 200


def images_by_ids(
    clients: AwsClients, ids: Iterable[str], *, address: object = None
) -> dict[str, dict[str, Any]]:
    """image id → its DescribeImages record, for the ids that exist (any owner, any state)."""
    wanted = sorted({i for i in ids if i})
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for image in clients.paginate(
            "ec2",
            "DescribeImages",
            result_key="Images",
            address=address,
            Filters=[{"Name": "image-id", "Values": chunk}],
        ):
            out[str(image["ImageId"])] = image
    return out


def snapshot_ids(image: Mapping[str, Any]) -> list[str]:
    """The EBS snapshots of an image's block device mappings, in mapping order."""
    out = []
    for mapping in image.get("BlockDeviceMappings") or []:
        snap = (mapping.get("Ebs") or {}).get("SnapshotId")
        if snap and snap not in out:
            out.append(str(snap))
    return out


def size_gib(image: Mapping[str, Any]) -> int:
    """The provisioned size of an image's EBS volumes, in GiB (what its snapshots can hold)."""
    return sum(
        int((m.get("Ebs") or {}).get("VolumeSize") or 0) for m in image.get("BlockDeviceMappings") or []
    )


def image_line(image: Mapping[str, Any], *, version: str | None = None, extra: Sequence[str] = ()) -> str:
    """`app-1.2.0 (ami-…, 2026-10-01)` for a plan line."""
    created = str(image.get("CreationDate") or "")[:10]
    parts = [str(image.get("ImageId")), *([created] if created else []), *extra]
    name = str(image.get("Name") or image.get("ImageId"))
    return f"{name}{' v' + version if version and version not in name else ''} ({', '.join(parts)})"
