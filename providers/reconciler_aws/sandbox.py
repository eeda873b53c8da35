"""The AWS provider's sandbox: a moto server on loopback (`reconciler_aws.sandbox_server`, with
the emulator fixes) and `bake`, which registers a tagged image in it as a release pipeline would
(a volume, its snapshot, an image from it). boto3 and moto live here, not in the engine.
Callers: reconciler_aws.plugin (PLUGIN.sandbox), used by the CLI's `sandbox` commands.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping

from reconciler.sdk import SandboxError
from reconciler.sdk.plugin import SandboxServer

__all__ = ["SANDBOX", "AwsSandbox"]

SANDBOX_REGION = "us-east-1"
SANDBOX_KEY = "sandbox"  # a dummy access key id and secret: the sandbox accepts any, holds no secret


class AwsSandbox:
    def server(self, *, port: int) -> SandboxServer:
        if importlib.util.find_spec("moto") is None:
            raise SandboxError("the sandbox needs moto: pip install 'reconciler[sandbox]'")
        argv = [sys.executable, "-m", "reconciler_aws.sandbox_server", "-H", "127.0.0.1", "-p", str(port)]
        return SandboxServer(argv=argv, env={"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"})

    def bake(self, *, endpoint: str, name: str, version: str, tags: Mapping[str, str]) -> str:
        return register_image_version(
            endpoint,
            region=SANDBOX_REGION,
            image_name=f"{name}-{version}",
            tags=tags,
            description=f"{name} {version}, baked by reconciler sandbox",
        )


    def environment(self, *, endpoint: str) -> Mapping[str, str]:
        """boto3's own variables: the endpoint, the sandbox's region and dummy credentials (moto
        accepts any; boto3 refuses to sign without some)."""
        return {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": SANDBOX_REGION,
            "AWS_DEFAULT_REGION": SANDBOX_REGION,
            "AWS_ACCESS_KEY_ID": SANDBOX_KEY,
            "AWS_SECRET_ACCESS_KEY": SANDBOX_KEY,
        }


SANDBOX = AwsSandbox()


def register_image_version(
    endpoint: str, *, region: str, image_name: str, tags: Mapping[str, str], description: str
) -> str:
    import boto3

    ec2 = boto3.client(
        "ec2",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=SANDBOX_KEY,
        aws_secret_access_key=SANDBOX_KEY,
    )
    if ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [image_name]}])["Images"]:
        raise SandboxError(f"an image named {image_name} already exists in the sandbox")
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
