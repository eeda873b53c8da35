"""Resource `aws_ami_copy`: a copy of an image in the region of its provider (alias), with its
snapshots, optionally re-encrypted with that region's key.

Immutable: every argument forces a replacement. Create sends one CopyImage (ClientToken derived
from stack, address and source, so a resend or a crashed run's retry makes no second copy on AWS)
with the ownership tags as TagSpecifications, sets the ownership tags again with CreateTags (they
win over tags copied from the source with `copy_tags`), then polls DescribeImages every
RECONCILER_IMAGE_POLL seconds (default 15) until the copy is `available`; `failed` is a permanent
CloudError with AWS's reason (the failed image is deregistered), and RECONCILER_IMAGE_TIMEOUT
(default 3600 s) bounds the wait. A crashed run's copy (tagged with this stack and address) is
adopted instead of copied again. Delete deregisters the copy, then deletes its snapshots (a
snapshot another image still uses is kept). The plan checks, through `preview`, that the source
image exists in `source_region` and that `kms_key_id` resolves in the copy's region (KMS
DescribeKey): AWS itself accepts a bad key and fails the copy minutes later.

Only what the image reports is observed (name, description, source, snapshots, size); the other
arguments are the configuration's, kept in state (an unencrypted request over an encrypted source
gives an encrypted copy on AWS: not drift). Callers: reconciler_aws.provider (MANAGED, PREVIEWS),
reconciler_aws SCHEMAS.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reconciler.sdk import (
    OWNER_ADDRESS_TAG,
    OWNER_STACK_TAG,
    ChangePreview,
    ChangeRequest,
    CloudError,
    DeleteRequest,
    ImportRequest,
    Mode,
    ObservedResource,
    OwnershipError,
    PreviewRequest,
    RefreshRequest,
    ResourceSchema,
    format_duration,
)
from reconciler_aws import terraform_shapes
from reconciler_aws.ami_images import images_by_ids, size_gib, snapshot_ids
from reconciler_aws.error_codes import is_not_found
from reconciler_aws.settings import AwsSettings
from reconciler_aws.tags import claim_for_import, desired_tags, ownership_of, tag_dict, tag_list
from reconciler_aws.validation import validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_ami_copy"
POLL_ENV = "RECONCILER_IMAGE_POLL"
TIMEOUT_ENV = "RECONCILER_IMAGE_TIMEOUT"


class AmiCopyArgs(BaseModel):
    """Arguments of `resource "aws_ami_copy"`."""

    model_config = ConfigDict(extra="forbid")

    source_ami_id: str
    source_region: str
    name: str = Field(min_length=3, max_length=128)
    description: str | None = None
    encrypted: bool = False
    kms_key_id: str | None = None
    copy_tags: bool = False
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _key_needs_encryption(self) -> AmiCopyArgs:
        if self.kms_key_id and not self.encrypted:
            raise ValueError(
                '"kms_key_id" needs encrypted = true (AWS refuses a key for an unencrypted copy)'
            )
        return self


ARGUMENTS = frozenset(AmiCopyArgs.model_fields)
COMPUTED = frozenset(
    {
        "id",
        "state",
        "owner_id",
        "creation_date",
        "snapshot_ids",
        "size_gib",
        "root_device_type",
        "architecture",
    }
)

SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.MANAGED,
    model=AmiCopyArgs,
    computed=COMPUTED,
    force_new=ARGUMENTS,
    cloud_name="name",
    previewed=True,
    noun="image",
    description="A copy of an AMI (and its snapshots) in the region of its provider; immutable.",
    terraform_types=(
        ("aws_ami_copy", "the same arguments, plus copy_tags; the copy's region is its provider's."),
    ),
    terraform_view=terraform_shapes.AMI_COPY,
)


def client_token(*, stack: str, address: str, source: str) -> str:
    """The same token for every attempt at one copy of `source` by one resource."""
    return hashlib.sha256(f"{stack}/{address}/{source}".encode()).hexdigest()[:64]


def observe(image: Mapping[str, Any]) -> ObservedResource:
    tags = tag_dict(image.get("Tags"))
    attributes: dict[str, Any] = {
        "id": image["ImageId"],
        "name": image.get("Name"),
        "description": image.get("Description") or None,
        "state": image.get("State"),
        "owner_id": image.get("OwnerId"),
        "creation_date": image.get("CreationDate"),
        "snapshot_ids": snapshot_ids(image),
        "size_gib": size_gib(image),
        "root_device_type": image.get("RootDeviceType"),
        "architecture": image.get("Architecture"),
    }
    if image.get("SourceImageId"):
        attributes["source_ami_id"] = image["SourceImageId"]
    if image.get("SourceImageRegion"):
        attributes["source_region"] = image["SourceImageRegion"]
    fingerprint = f"{image['ImageId']}|{image.get('State')}|{','.join(attributes['snapshot_ids'])}"
    return ObservedResource(
        id=str(image["ImageId"]), attributes=attributes, ownership=ownership_of(tags), fingerprint=fingerprint
    )


def refresh(
    clients: AwsClients, request: RefreshRequest, *, settings: AwsSettings
) -> dict[str, ObservedResource | None]:
    images = images_by_ids(clients, request.ids)
    out: dict[str, ObservedResource | None] = {}
    for image_id in request.ids:
        image = images.get(image_id)
        gone = image is None or image.get("State") in ("deregistered", "failed", "invalid")
        out[image_id] = None if gone or image is None else observe(image)
    return out


def _in_region(clients: AwsClients, region: str) -> AwsClients:
    from reconciler_aws.clients import AwsClients

    return AwsClients(dataclasses.replace(clients.settings, region=region), max_attempts=clients.max_attempts)


def preview(clients: AwsClients, request: PreviewRequest) -> ChangePreview:
    """Plan-time checks of a copy to be made: the source exists, the key resolves."""
    if request.prior is not None:
        return ChangePreview()
    args = validate_config(AmiCopyArgs, request.config, address=request.address)
    address = str(request.address)
    source = images_by_ids(_in_region(clients, args.source_region), [args.source_ami_id], address=address)
    found = source.get(args.source_ami_id)
    if found is None or found.get("State") != "available":
        raise CloudError(
            call="DescribeImages",
            message=f"the source image {args.source_ami_id} does not exist in {args.source_region}"
            + (f" (it is {found.get('State')})" if found is not None else ""),
            address=address,
            code="InvalidAMIID.NotFound",
        )
    if args.kms_key_id:
        try:
            clients.call("kms", "DescribeKey", address=address, KeyId=args.kms_key_id)
        except CloudError as err:
            if not is_not_found(err) and err.code != "NotFoundException":
                raise
            raise CloudError(
                call="DescribeKey",
                message=f"kms_key_id {args.kms_key_id!r} is not a key in {clients.region()}",
                address=address,
                code=err.code,
            ) from err
    return ChangePreview(note=f"copy {found.get('Name')} from {args.source_region} to {clients.region()}")


def _owned_copy(clients: AwsClients, args: AmiCopyArgs, *, stack: str, address: str) -> dict[str, Any] | None:
    """A copy of this source that a crashed run of this very resource made (pending or available),
    if any: tagged with this stack and address, and named as this one (an older copy of the same
    resource, kept by create_before_destroy, has another name, since names are unique per region)."""
    images = clients.paginate(
        "ec2",
        "DescribeImages",
        result_key="Images",
        address=address,
        Owners=["self"],
        Filters=[
            {"Name": f"tag:{OWNER_STACK_TAG}", "Values": [stack]},
            {"Name": f"tag:{OWNER_ADDRESS_TAG}", "Values": [address]},
            {"Name": "state", "Values": ["pending", "available"]},
        ],
    )
    for image in images:
        same_source = image.get("SourceImageId") in (None, args.source_ami_id)
        if image.get("Name") == args.name and same_source:
            return dict(image)
    return None


def _wait(
    clients: AwsClients, image_id: str, *, address: str, what: str, progress: Callable[[str], None]
) -> dict[str, Any]:
    """Poll until the copy is available; a progress line when its state changes and every minute."""
    poll = float(os.environ.get(POLL_ENV) or 15)
    started = time.monotonic()
    deadline = started + float(os.environ.get(TIMEOUT_ENV) or 3600)
    said: tuple[str | None, int] = (None, -1)
    while True:
        image = images_by_ids(clients, [image_id], address=address).get(image_id)
        state = image.get("State") if image is not None else None
        if image is not None and state == "available":
            return image
        if state in ("failed", "invalid", "error", "deregistered"):
            reason = ((image or {}).get("StateReason") or {}).get("Message") or "no reason given"
            if state != "deregistered":
                clients.call("ec2", "DeregisterImage", address=address, ImageId=image_id)
            raise CloudError(
                call="CopyImage",
                message=f"the copy {image_id} {state}: {reason}",
                address=address,
                code=state,
            )
        waited = int(time.monotonic() - started)
        if (state, waited // 60) != said:
            said = (state, waited // 60)
            progress(f"{what}: {state or 'not visible yet'} ({format_duration(waited)})")
        if time.monotonic() > deadline:
            raise CloudError(
                call="CopyImage",
                message=f"the copy {image_id} is still {state or 'not visible'}; run apply again to wait on",
                address=address,
                code="Timeout",
            )
        time.sleep(poll)


def create(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = validate_config(AmiCopyArgs, request.config, address=request.address)
    address = str(request.address)
    tags = desired_tags(user=args.tags, default=settings.default_tags, stack=request.stack, address=address)
    existing = _owned_copy(clients, args, stack=request.stack, address=address)
    if existing is not None:
        image_id = str(existing["ImageId"])
    else:
        extra: dict[str, Any] = {"Description": args.description} if args.description else {}
        if args.encrypted:
            extra["Encrypted"] = True
        if args.kms_key_id:
            extra["KmsKeyId"] = args.kms_key_id
        image_id = str(
            clients.call(
                "ec2",
                "CopyImage",
                address=address,
                SourceImageId=args.source_ami_id,
                SourceRegion=args.source_region,
                Name=args.name,
                CopyImageTags=args.copy_tags,
                ClientToken=client_token(stack=request.stack, address=address, source=args.source_ami_id),
                TagSpecifications=[{"ResourceType": "image", "Tags": tag_list(tags)}],
                **extra,
            )["ImageId"]
        )
    clients.call("ec2", "CreateTags", address=address, Resources=[image_id], Tags=tag_list(tags))
    what = f"copying {args.name} from {args.source_region} to {clients.region()}"
    image = _wait(clients, image_id, address=address, what=what, progress=request.progress)
    # copy_tags copies every tag, this tool's too (another resource's claim on the source): not ours
    stale = [k for k in tag_dict(image.get("Tags")) if k.startswith("reconciler:") and k not in tags]
    if stale:
        clients.call(
            "ec2", "DeleteTags", address=address, Resources=[image_id], Tags=[{"Key": k} for k in stale]
        )
        image = {**image, "Tags": [t for t in image.get("Tags") or [] if t.get("Key") not in stale]}
    return observe(image)


def update(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    raise CloudError(  # every argument forces a replacement: the planner never asks for this
        call="CopyImage", message="an image copy cannot be changed in place", address=str(request.address)
    )


def delete(clients: AwsClients, request: DeleteRequest) -> None:
    address = str(request.address)
    image = images_by_ids(clients, [request.id], address=address).get(request.id)
    snapshots = list(request.prior.get("snapshot_ids") or [])
    if image is not None and image.get("State") != "deregistered":
        owner = ownership_of(tag_dict(image.get("Tags")))
        if owner.stack != request.stack:
            raise OwnershipError(
                f"refusing to deregister image {request.id}: it belongs to stack "
                f"{owner.stack or '(none)'}, not {request.stack!r} (tag {OWNER_STACK_TAG})"
            )
        snapshots = snapshot_ids(image) or snapshots
        try:
            clients.call("ec2", "DeregisterImage", address=address, ImageId=request.id)
        except CloudError as err:
            if not is_not_found(err) and err.code != "InvalidAMIID.Unavailable":
                raise
    delete_snapshots(clients, snapshots, address=address)


def delete_snapshots(clients: AwsClients, snapshots: list[str], *, address: str) -> list[str]:
    """Delete each snapshot; one already gone is done, one another image uses is kept. The kept ones."""
    kept = []
    for snap in snapshots:
        try:
            clients.call("ec2", "DeleteSnapshot", address=address, SnapshotId=snap)
        except CloudError as err:
            if err.code == "InvalidSnapshot.InUse":
                kept.append(snap)
            elif not is_not_found(err):
                raise
    return kept


def find_owned(clients: AwsClients, stack: str, *, settings: AwsSettings) -> list[ObservedResource]:
    images = clients.paginate(
        "ec2",
        "DescribeImages",
        result_key="Images",
        Owners=["self"],
        Filters=[{"Name": f"tag:{OWNER_STACK_TAG}", "Values": [stack]}],
    )
    return [
        observe(image)
        for image in images
        if str(tag_dict(image.get("Tags")).get(OWNER_ADDRESS_TAG, "")).startswith(f"{TYPE_NAME}.")
        and image.get("State") in ("pending", "available")
    ]


def import_resource(
    clients: AwsClients, request: ImportRequest, *, settings: AwsSettings
) -> ObservedResource:
    address = str(request.address)
    image = images_by_ids(clients, [request.id], address=address).get(request.id)
    if image is None:
        raise CloudError(
            call="DescribeImages",
            message=f"image {request.id} does not exist",
            address=address,
            code="InvalidAMIID.NotFound",
        )
    what = f'image "{image.get("Name")}" ({request.id})'
    to_set, merged = claim_for_import(
        tag_dict(image.get("Tags")), stack=request.stack, address=address, what=what
    )
    if to_set:
        clients.call("ec2", "CreateTags", address=address, Resources=[request.id], Tags=tag_list(to_set))
    return observe({**image, "Tags": tag_list(merged)})
