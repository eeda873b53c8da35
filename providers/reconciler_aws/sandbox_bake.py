"""`reconciler sandbox bake`: register a tagged image in the sandbox, as a release pipeline would
(a volume, its snapshot, an image from it). boto3 lives here, not in the engine. Callers:
reconciler.sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping

import boto3


class ImageExists(Exception):
    """An image of that name is already registered."""


def register_image_version(
    endpoint: str, *, region: str, image_name: str, tags: Mapping[str, str], description: str
) -> str:
    ec2 = boto3.client(
        "ec2",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )
    if ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [image_name]}])["Images"]:
        raise ImageExists(f"an image named {image_name} already exists in the sandbox")
    vol = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8)
    snap = ec2.create_snapshot(VolumeId=vol["VolumeId"], Description=f"bake {image_name}")
    image_id: str = ec2.register_image(
        Name=image_name,
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        BlockDeviceMappings=[
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {"SnapshotId": snap["SnapshotId"], "VolumeSize": 8, "VolumeType": "gp3"},
            }
        ],
        Description=description,
    )["ImageId"]
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return image_id
