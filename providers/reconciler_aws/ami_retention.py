"""Resource `aws_ami_retention`: deregister the images a selection finds beyond its rules, with their
snapshots, never one in use.

The one type that acts on cloud objects the stack did not create (README, "AMI retention"): the
selection (`name`, `name_regex`, `tags`, `version_tag`, owners = self only; at least one of name,
name_regex or tags) names them, and the plan lists each image before anything happens. Images
tagged with another stack and copies made by this stack's `aws_ami_copy` are never deregistered.

Plan (`preview`): one DescribeImages for the selection, the region's uses (ami_usage), the uses the
rest of the plan adds (templates moving to an image, copy sources), then the pure
`ami_retention_model.decide`; its decision is the change's payload, its lines are shown under the
change (each image to deregister with its reason, snapshots and GiB; each image kept although the
rules would remove it, with why). Something to deregister makes the change an update even when the
arguments did not change. Apply (after every rollout of the apply: `after_rollouts`) takes the
plan's DEREGISTER verdicts one by one: it reads the uses of that image again and keeps it when it
came into use, else DeregisterImage and, with delete_snapshots, DeleteSnapshot of each of its
snapshots (one another image uses is kept). What the run did is the `last_run` attribute
(`reconciler state show`). Destroy forgets the rules; it deletes nothing.
Callers: reconciler_aws.provider (MANAGED, PREVIEWS), reconciler_aws SCHEMAS.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
    Ownership,
    PreviewRequest,
    RefreshRequest,
    ResourceSchema,
    parse_duration,
)
from reconciler_aws.ami import AmiArgs, describe_filters, image_version
from reconciler_aws.ami_copy import TYPE_NAME as COPY_TYPE
from reconciler_aws.ami_copy import delete_snapshots
from reconciler_aws.ami_images import images_by_ids, snapshot_ids
from reconciler_aws.ami_retention_model import KeepReason, RetentionDecision, Rules, Use, decide
from reconciler_aws.ami_usage import planned_uses, read_uses
from reconciler_aws.error_codes import is_not_found
from reconciler_aws.settings import AwsSettings
from reconciler_aws.tags import tag_dict
from reconciler_aws.validation import regex_or_none, validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_ami_retention"


class RetentionArgs(BaseModel):
    """Arguments of `resource "aws_ami_retention"`."""

    model_config = ConfigDict(extra="forbid")

    owners: list[str] = Field(default_factory=lambda: ["self"])
    name: str | None = None
    name_regex: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    version_tag: str | None = None
    keep_last: int | None = Field(default=None, ge=1)
    keep_newer_than: str | None = None
    delete_snapshots: bool = True

    @field_validator("owners")
    @classmethod
    def _owners(cls, value: list[str]) -> list[str]:
        if value != ["self"]:
            raise ValueError(
                'only owners = ["self"]: images of other accounts cannot be deregistered from here'
            )
        return value

    @field_validator("name_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return regex_or_none(value)

    @field_validator("keep_newer_than")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _bounded(self) -> RetentionArgs:
        if not (self.name or self.name_regex or self.tags):
            raise ValueError(
                "a retention needs name, name_regex or tags: it never prunes every image of the account"
            )
        if self.keep_last is None and self.keep_newer_than is None:
            raise ValueError("a retention needs keep_last or keep_newer_than (or both)")
        return self

    def rules(self) -> Rules:
        newer = parse_duration(self.keep_newer_than) if self.keep_newer_than is not None else None
        return Rules(keep_last=self.keep_last, keep_newer_than_s=newer, version_tag=self.version_tag)

    def lookup(self) -> AmiArgs:
        return AmiArgs(owners=self.owners, name=self.name, name_regex=self.name_regex, tags=self.tags)


SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.MANAGED,
    model=RetentionArgs,
    computed=frozenset({"id", "last_run"}),
    previewed=True,
    after_rollouts=True,
    description="Deregisters the images a selection finds beyond its rules, never one in use.",
)


def _id(region: str, address: object) -> str:
    return f"{region}/{address}"


def refresh(
    clients: AwsClients, request: RefreshRequest, *, settings: AwsSettings
) -> dict[str, ObservedResource | None]:
    """Rules live only in state: nothing to read (the images are read by `preview`)."""
    return {
        rid: ObservedResource(
            id=rid, attributes={"id": rid}, ownership=Ownership(request.stack, str(address))
        )
        for rid, address in request.ids.items()
    }


def selected_images(
    clients: AwsClients, args: RetentionArgs, *, stack: str, address: object
) -> tuple[list[dict[str, Any]], list[tuple[str, Use]]]:
    """The available images the selection names, and the ones kept whatever the rules: this stack's
    copies and other stacks' images (as uses)."""
    lookup = args.lookup()
    images = clients.paginate(
        "ec2",
        "DescribeImages",
        result_key="Images",
        address=address,
        Owners=lookup.owners,
        Filters=describe_filters(lookup),
    )
    if args.name_regex:
        images = [i for i in images if re.search(args.name_regex, str(i.get("Name", "")))]
    if args.version_tag:
        images = [i for i in images if image_version(i, args.version_tag) is not None]
    kept: list[tuple[str, Use]] = []
    for image in images:
        tags = tag_dict(image.get("Tags"))
        owner = tags.get(OWNER_STACK_TAG)
        if owner is not None and owner != stack:
            kept.append(
                (str(image["ImageId"]), Use(KeepReason.FOREIGN, f"stack {owner} (tag {OWNER_STACK_TAG})"))
            )
        elif owner == stack and str(tags.get(OWNER_ADDRESS_TAG, "")).startswith(f"{COPY_TYPE}."):
            detail = f"{tags[OWNER_ADDRESS_TAG]} of this stack (remove that resource to drop it)"
            kept.append((str(image["ImageId"]), Use(KeepReason.MANAGED, detail)))
    return images, kept


def plan_decision(
    clients: AwsClients, args: RetentionArgs, *, stack: str, address: object, planned: list[tuple[str, Use]]
) -> RetentionDecision:
    images, kept = selected_images(clients, args, stack=stack, address=address)
    rules = args.rules()
    first = decide(
        images,
        rules=rules,
        uses={},
        now=_now(),
        region=clients.region(),
        delete_snapshots=args.delete_snapshots,
    )
    candidates = [v.image_id for v in first.verdicts]
    uses = read_uses(clients, candidates) if candidates else {}
    return decide(
        images,
        rules=rules,
        uses=uses,
        now=_now(),
        region=clients.region(),
        delete_snapshots=args.delete_snapshots,
        protected=[*planned, *kept],
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def preview(clients: AwsClients, request: PreviewRequest) -> ChangePreview:
    args = validate_config(RetentionArgs, request.config, address=request.address)
    decision = plan_decision(
        clients, args, stack=request.stack, address=request.address, planned=planned_uses(request.related)
    )
    lines = decision.lines()
    if decision.to_deregister:
        lines.append(
            "note      these images were not created by this stack: aws_ami_retention deregisters what its "
            "selection names"
        )
    return ChangePreview(
        payload=decision.to_dict(),
        lines=tuple(lines),
        note=decision.note(),
        pending=bool(decision.to_deregister),
    )


def _apply(clients: AwsClients, request: ChangeRequest) -> ObservedResource:
    args = validate_config(RetentionArgs, request.config, address=request.address)
    address = str(request.address)
    rid = _id(clients.region(), address)
    if request.payload is None:
        raise CloudError(
            call="DeregisterImage",
            message="the plan holds no retention decision for it; run plan again",
            address=address,
        )
    decision = RetentionDecision.from_dict(request.payload)
    protected: dict[str, list[Use]] = {}
    for image_id, use in decision.protected:
        protected.setdefault(image_id, []).append(use)
    done: list[str] = []
    kept: list[dict[str, str]] = []
    for verdict in decision.to_deregister:
        image = images_by_ids(clients, [verdict.image_id], address=address).get(verdict.image_id)
        if image is None or image.get("State") != "available":
            continue  # gone already (a crashed run, or someone else)
        uses = [
            *protected.get(verdict.image_id, []),
            *read_uses(clients, [verdict.image_id]).get(verdict.image_id, []),
        ]
        owner = tag_dict(image.get("Tags")).get(OWNER_STACK_TAG)
        if owner is not None and owner != request.stack:
            uses.append(Use(KeepReason.FOREIGN, f"stack {owner}"))
        if uses:
            why = "; ".join(u.detail for u in uses)
            kept.append({"image_id": verdict.image_id, "name": verdict.name, "why": f"came into use: {why}"})
            continue
        snapshots = snapshot_ids(image)
        try:
            clients.call("ec2", "DeregisterImage", address=address, ImageId=verdict.image_id)
        except CloudError as err:
            if not is_not_found(err) and err.code != "InvalidAMIID.Unavailable":
                raise
        if args.delete_snapshots:
            delete_snapshots(clients, snapshots, address=address)
        done.append(verdict.image_id)
    last_run = {"region": decision.region, "deregistered": done, "kept": kept}
    return ObservedResource(
        id=rid,
        attributes={"id": rid, "last_run": last_run},
        ownership=Ownership(request.stack, address),
    )


def create(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    return _apply(clients, request)


def update(clients: AwsClients, request: ChangeRequest, *, settings: AwsSettings) -> ObservedResource:
    return _apply(clients, request)


def delete(clients: AwsClients, request: DeleteRequest) -> None:
    """Forget the rules: no image is touched."""


def find_owned(clients: AwsClients, stack: str, *, settings: AwsSettings) -> list[ObservedResource]:
    return []  # nothing in the cloud is a retention


def import_resource(
    clients: AwsClients, request: ImportRequest, *, settings: AwsSettings
) -> ObservedResource:
    raise CloudError(
        call="Import",
        message="an aws_ami_retention is rules, not a cloud object: add the block and run apply",
        address=str(request.address),
    )
