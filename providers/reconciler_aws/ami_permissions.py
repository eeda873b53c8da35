"""Resource `aws_ami_launch_permissions`: the whole set of launch permissions of one image.

Authoritative: accounts, organizations and organizational units not in the configuration are
removed; `public` (the group `all`) only with `allow_public = true` (a schema error at the
`public` line otherwise), and a plan that makes an image public carries a warning every rendering
shows as a banner (`hazards`). `share_snapshots` grants the same accounts createVolumePermission
on the image's snapshots (snapshots have no organization form). The image is not the resource's:
it may be a baked image found by a data source; it is never deregistered. The resource's id is the
image id; it claims the image with the tag `reconciler:launch-permissions = <stack>/<address>`
(its ownership), and refuses an image another stack or address claims, because two
authoritative owners of one set would undo each other.

Calls: refresh = one DescribeImages (image-id filter) for all, then one DescribeImageAttribute per
image that exists; a change = at most one ModifyImageAttribute (`LaunchPermission` Add and Remove
together; the OperationType form loses all but the first organization ARN on moto) and one
ModifySnapshotAttribute per snapshot and direction. The plan's note comes from `preview`
(current permissions read from the cloud on create, from the refresh on update): "+ 2 accounts
(…), - 1 account (…)". Callers: reconciler_aws.provider (MANAGED, preview), reconciler_aws SCHEMAS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from reconciler.sdk import (
    ChangePreview,
    ChangeRequest,
    CloudError,
    DeleteRequest,
    ImportRequest,
    Mode,
    ObservedResource,
    Ownership,
    OwnershipError,
    PreviewRequest,
    RefreshRequest,
    ResourceSchema,
)
from reconciler_aws.ami_images import images_by_ids, snapshot_ids
from reconciler_aws.settings import AwsSettings
from reconciler_aws.tags import tag_dict
from reconciler_aws.validation import validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_ami_launch_permissions"
CLAIM_TAG = "reconciler:launch-permissions"

ACCOUNT = re.compile(r"^\d{12}$")
ORG_ARN = re.compile(r"^arn:aws[a-z-]*:organizations::\d{12}:organization/o-[a-z0-9]{10,32}$")
OU_ARN = re.compile(
    r"^arn:aws[a-z-]*:organizations::\d{12}:ou/o-[a-z0-9]{10,32}/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$"
)


def _checked(values: list[str], pattern: re.Pattern[str], what: str) -> list[str]:
    bad = [v for v in values if not pattern.match(v)]
    if bad:
        raise ValueError(f"not {what}: {', '.join(repr(b) for b in bad)}")
    return sorted(set(values))


class LaunchPermissionsArgs(BaseModel):
    """Arguments of `resource "aws_ami_launch_permissions"`."""

    model_config = ConfigDict(extra="forbid")

    image_id: str
    account_ids: list[str] = Field(default_factory=list)
    organization_arns: list[str] = Field(default_factory=list)
    organizational_unit_arns: list[str] = Field(default_factory=list)
    allow_public: bool = False  # declared before `public`, which reads it
    public: bool = False
    share_snapshots: bool = False

    @field_validator("image_id")
    @classmethod
    def _image(cls, value: str) -> str:
        if not value.startswith("ami-"):
            raise ValueError(f"expected an image id (ami-…), got {value!r}")
        return value

    @field_validator("account_ids")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        return _checked(value, ACCOUNT, "12-digit AWS account ids")

    @field_validator("organization_arns")
    @classmethod
    def _orgs(cls, value: list[str]) -> list[str]:
        return _checked(
            value, ORG_ARN, "organization ARNs (arn:aws:organizations::123456789012:organization/o-…)"
        )

    @field_validator("organizational_unit_arns")
    @classmethod
    def _ous(cls, value: list[str]) -> list[str]:
        return _checked(value, OU_ARN, "organizational unit ARNs (arn:aws:organizations::…:ou/o-…/ou-…)")

    @field_validator("public")
    @classmethod
    def _public(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("allow_public"):
            raise ValueError(
                "making an image public lets anyone launch it; set allow_public = true as well "
                "if that is really meant"
            )
        return value


# The permission sets as attributes: (attribute, LaunchPermission key, word for the note).
SETS = (
    ("account_ids", "UserId", "account"),
    ("organization_arns", "OrganizationArn", "organization"),
    ("organizational_unit_arns", "OrganizationalUnitArn", "organizational unit"),
)


def hazards(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """A plan that makes an image public says so, loudly."""
    if after.get("public") is True and not (before or {}).get("public"):
        return [f"image {after.get('image_id')} becomes PUBLIC: anyone in any AWS account can launch it"]
    return []


SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.MANAGED,
    model=LaunchPermissionsArgs,
    computed=frozenset({"id", "snapshot_ids"}),
    force_new=frozenset({"image_id"}),
    hazards=hazards,
    previewed=True,
    description="Every launch permission of one image (accounts, organizations, OUs, public): authoritative.",
    terraform_types=(
        (
            "aws_ami_launch_permission",
            "Terraform's type holds one permission per block; this one holds the image's whole set "
            "(accounts, organizations, organizational units, public) and removes any other.",
        ),
    ),
)


# --- pure -----------------------------------------------------------------------------------------


def permissions_of(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """DescribeImageAttribute's LaunchPermissions → the resource's sets and `public`."""
    out: dict[str, Any] = {name: sorted({str(r[key]) for r in rows if r.get(key)}) for name, key, _ in SETS}
    out["public"] = any(r.get("Group") == "all" for r in rows)
    return out


def permission_changes(
    current: Mapping[str, Any], desired: Mapping[str, Any]
) -> dict[str, list[dict[str, str]]]:
    """The ModifyImageAttribute LaunchPermission argument turning `current` into `desired`."""
    add: list[dict[str, str]] = []
    remove: list[dict[str, str]] = []
    for name, key, _ in SETS:
        have, want = set(current.get(name) or []), set(desired.get(name) or [])
        add += [{key: v} for v in sorted(want - have)]
        remove += [{key: v} for v in sorted(have - want)]
    if bool(desired.get("public")) != bool(current.get("public")):
        (add if desired.get("public") else remove).append({"Group": "all"})
    return {"Add": add, "Remove": remove}


def change_note(current: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> str:
    """`+ 2 accounts (111111111111, 222222222222), - 1 account (333333333333)`."""
    current = current or {}
    parts = []
    for name, _, word in SETS:
        have, want = set(current.get(name) or []), set(desired.get(name) or [])
        for sign, items in (("+", sorted(want - have)), ("-", sorted(have - want))):
            if items:
                noun = word if len(items) == 1 else f"{word}s"
                parts.append(f"{sign} {len(items)} {noun} ({', '.join(items)})")
    if bool(desired.get("public")) != bool(current.get("public")):
        parts.append("+ PUBLIC" if desired.get("public") else "- public")
    return ", ".join(parts) or "no permission changes"


def claim_value(stack: str, address: str) -> str:
    return f"{stack}/{address}"


def ownership_of_claim(tags: Mapping[str, str]) -> Ownership:
    stack, _, address = (tags.get(CLAIM_TAG) or "").partition("/")
    return Ownership(stack=stack or None, address=address or None)


# --- cloud ----------------------------------------------------------------------------------------


def _read(clients: AwsClients, image: Mapping[str, Any], *, address: object) -> ObservedResource:
    image_id = str(image["ImageId"])
    rows = clients.call(
        "ec2", "DescribeImageAttribute", address=address, ImageId=image_id, Attribute="launchPermission"
    ).get("LaunchPermissions", [])
    attributes = {
        "id": image_id,
        "image_id": image_id,
        **permissions_of(rows),
        "snapshot_ids": snapshot_ids(image),
    }
    fingerprint = "|".join(
        [image_id, *(",".join(attributes[name]) for name, _, _ in SETS), str(attributes["public"])]
    )
    return ObservedResource(
        id=image_id,
        attributes=attributes,
        ownership=ownership_of_claim(tag_dict(image.get("Tags"))),
        fingerprint=fingerprint,
    )


def refresh(
    clients: AwsClients, request: RefreshRequest, *, settings: AwsSettings
) -> dict[str, ObservedResource | None]:
    images = images_by_ids(clients, request.ids)
    out: dict[str, ObservedResource | None] = {}
    for image_id, address in request.ids.items():
        image = images.get(image_id)
        usable = image is not None and image.get("State") not in ("deregistered", "invalid")
        out[image_id] = _read(clients, image, address=address) if image is not None and usable else None
    return out


def preview(clients: AwsClients, request: PreviewRequest) -> ChangePreview:
    """The permissions added and removed: from the refresh, or on create from the image itself."""
    current: Mapping[str, Any] | None = request.prior
    if current is None:
        image = images_by_ids(clients, [str(request.config["image_id"])], address=request.address)
        found = image.get(str(request.config["image_id"]))
        current = _read(clients, found, address=request.address).attributes if found is not None else None
    note = change_note(current, request.config)
    return ChangePreview(note=note, pending=False)


def _image(clients: AwsClients, image_id: str, *, address: str) -> dict[str, Any]:
    image = images_by_ids(clients, [image_id], address=address).get(image_id)
    if image is None:
        raise CloudError(
            call="DescribeImages",
            message=f"image {image_id} does not exist (or is not visible to this account)",
            address=address,
            code="InvalidAMIID.NotFound",
        )
    return image


def _claim(clients: AwsClients, image: Mapping[str, Any], *, stack: str, address: str) -> dict[str, Any]:
    """Tag the image as this resource's (refusing another stack's or address's claim); the image
    record with that tag."""
    image_id = str(image["ImageId"])
    owner = ownership_of_claim(tag_dict(image.get("Tags")))
    if owner.stack is not None and (owner.stack, owner.address) != (stack, address):
        raise OwnershipError(
            f"refusing to manage the launch permissions of image {image_id} as {address}: "
            f"{owner.address} of stack {owner.stack!r} manages them (tag {CLAIM_TAG})"
        )
    if owner.stack is None:
        clients.call(
            "ec2",
            "CreateTags",
            address=address,
            Resources=[image_id],
            Tags=[{"Key": CLAIM_TAG, "Value": claim_value(stack, address)}],
        )
    tags = [t for t in image.get("Tags") or [] if t.get("Key") != CLAIM_TAG]
    return {**image, "Tags": [*tags, {"Key": CLAIM_TAG, "Value": claim_value(stack, address)}]}


def _share_snapshots(
    clients: AwsClients, snapshots: list[str], *, add: list[str], remove: list[str], address: str
) -> None:
    for snap in snapshots:
        for operation, accounts in (("add", add), ("remove", remove)):
            if accounts:
                clients.call(
                    "ec2",
                    "ModifySnapshotAttribute",
                    address=address,
                    SnapshotId=snap,
                    Attribute="createVolumePermission",
                    OperationType=operation,
                    UserIds=accounts,
                )


def _converge(
    clients: AwsClients,
    image: Mapping[str, Any],
    *,
    desired: Mapping[str, Any],
    shared_before: list[str],
    share: bool,
    address: str,
) -> ObservedResource:
    current = _read(clients, image, address=address).attributes
    change = permission_changes(current, desired)
    if change["Add"] or change["Remove"]:
        clients.call(
            "ec2",
            "ModifyImageAttribute",
            address=address,
            ImageId=str(image["ImageId"]),
            LaunchPermission=change,
        )
    wanted = list(desired.get("account_ids") or []) if share else []
    _share_snapshots(
        clients,
        snapshot_ids(image),
        add=wanted,
        remove=sorted(set(shared_before) - set(wanted)),
        address=address,
    )
    return _read(clients, image, address=address)


def create(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = validate_config(LaunchPermissionsArgs, request.config, address=request.address)
    address = str(request.address)
    image = _claim(
        clients, _image(clients, args.image_id, address=address), stack=request.stack, address=address
    )
    return _converge(
        clients,
        image,
        desired=args.model_dump(),
        shared_before=[],
        share=args.share_snapshots,
        address=address,
    )


def _shared_before(prior: Mapping[str, Any] | None) -> list[str]:
    prior = prior or {}
    return list(prior.get("account_ids") or []) if prior.get("share_snapshots") else []


def update(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    args = validate_config(LaunchPermissionsArgs, request.config, address=request.address)
    address = str(request.address)
    image = _claim(
        clients, _image(clients, args.image_id, address=address), stack=request.stack, address=address
    )
    return _converge(
        clients,
        image,
        desired=args.model_dump(),
        shared_before=_shared_before(request.prior),
        share=args.share_snapshots,
        address=address,
    )


def delete(clients: AwsClients, request: DeleteRequest) -> None:
    """Make the image private again (every permission removed) and drop the claim; the image stays."""
    address = str(request.address)
    image = images_by_ids(clients, [request.id], address=address).get(request.id)
    if image is None or image.get("State") == "deregistered":
        return
    owner = ownership_of_claim(tag_dict(image.get("Tags")))
    if (owner.stack, owner.address) != (request.stack, address):
        raise OwnershipError(
            f"refusing to clear the launch permissions of image {request.id}: they are managed by "
            f"{owner.address or 'nobody'} of stack {owner.stack or '(none)'}, not {address} (tag {CLAIM_TAG})"
        )
    _converge(
        clients, image, desired={}, shared_before=_shared_before(request.prior), share=False, address=address
    )
    clients.call("ec2", "DeleteTags", address=address, Resources=[request.id], Tags=[{"Key": CLAIM_TAG}])


def find_owned(clients: AwsClients, stack: str, *, settings: AwsSettings) -> list[ObservedResource]:
    images = clients.paginate(
        "ec2",
        "DescribeImages",
        result_key="Images",
        Owners=["self"],
        Filters=[{"Name": "tag-key", "Values": [CLAIM_TAG]}],
    )
    return [
        _read(clients, image, address=None)
        for image in images
        if ownership_of_claim(tag_dict(image.get("Tags"))).stack == stack
    ]


def import_resource(
    clients: AwsClients, request: ImportRequest, *, settings: AwsSettings
) -> ObservedResource:
    address = str(request.address)
    image = _claim(
        clients, _image(clients, request.id, address=address), stack=request.stack, address=address
    )
    observed = _read(clients, image, address=address)
    return ObservedResource(
        id=observed.id,
        attributes=observed.attributes,
        ownership=Ownership(stack=request.stack, address=address),
        fingerprint=observed.fingerprint,
    )
