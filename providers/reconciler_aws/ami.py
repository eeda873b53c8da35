"""Data source `aws_ami`: find one image by owners, name, tags and an optional version constraint.

One paginated DescribeImages (owners + server-side filters, `state=available`), then pure
selection: `name_regex` (re.search, like Terraform), the version tag (PEP 440; images whose tag is
missing or invalid are excluded), the `version` specifier, and a total order
(version, creation date, image id) so that ties never flip between runs. The explanation line and
the no-match message are pure functions too. Callers: `reconciler_aws.provider.AwsProvider`.
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reconciler.sdk import (
    CloudError,
    CloudErrorKind,
    DataResult,
    Label,
    Mode,
    ReadDataRequest,
    ResourceSchema,
    TypeRole,
)
from reconciler_aws import terraform_shapes
from reconciler_aws.ami_facts import facts, refusal
from reconciler_aws.tags import tag_dict
from reconciler_aws.validation import regex_or_none, validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_ami"
MAX_LISTED = 5


class AmiArgs(BaseModel):
    """Arguments of `data "aws_ami"`."""

    model_config = ConfigDict(extra="forbid")

    owners: list[str] = Field(default_factory=lambda: ["self"])
    name: str | None = None
    name_regex: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    architecture: str | None = None
    virtualization_type: str | None = None
    root_device_type: str | None = None
    most_recent: bool = False
    version_tag: str | None = None
    version: str | None = None
    include_deprecated: bool = False  # Terraform's name: else a deprecated newest match is an error

    @field_validator("owners")
    @classmethod
    def _owners(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('owners must name at least one owner (an account id, "self" or "amazon")')
        return value

    @field_validator("name_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return regex_or_none(value)

    @field_validator("version")
    @classmethod
    def _specifier(cls, value: str | None) -> str | None:
        if value is not None:
            parse_specifier(value)
        return value

    @model_validator(mode="after")
    def _version_needs_tag(self) -> AmiArgs:
        if self.version is not None and not self.version_tag:
            raise ValueError('"version" needs "version_tag": the tag that holds each image\'s version')
        return self


def label(attributes: Mapping[str, Any]) -> Label | None:
    """How an image reads in a plan: its name, version tag and creation date (AMIs only), and
    its root device and architecture."""
    image_id = str(attributes.get("id", ""))
    if not image_id.startswith("ami-"):
        return None
    return Label(
        id=image_id,
        name=str(attributes.get("name") or ""),
        version=str(attributes.get("version") or ""),
        created=str(attributes.get("creation_date") or ""),
        facts=facts(attributes),
    )


SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.DATA,
    model=AmiArgs,
    label=label,
    noun="image",
    role=TypeRole.IMAGE_LOOKUP,
    computed=frozenset(
        {
            "id",
            "name",
            "creation_date",
            "description",
            "architecture",
            "owner_id",
            "version",
            "root_device_name",
            "virtualization_type",
            "block_device_mappings",
            "public",
            "candidates",
            "root_device_type",
            "boot_mode",
            "ena_support",
            "deprecation_time",
            "source_image_id",
            "source_image_region",
        }
    ),
    description="One AMI chosen by owners, name, tags and an optional PEP 440 version constraint.",
    terraform_view=terraform_shapes.AMI,
)


def parse_specifier(text: str) -> SpecifierSet:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise ValueError(
            f'invalid version constraint {text!r}: expected a PEP 440 specifier such as ">=1.4,<2"'
        ) from exc


def parse_version(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def describe_filters(args: AmiArgs) -> list[dict[str, Any]]:
    """The server-side DescribeImages filters for these arguments."""
    filters: list[dict[str, Any]] = [{"Name": "state", "Values": ["available"]}]
    if args.name:
        filters.append({"Name": "name", "Values": [args.name]})
    for key, value in sorted(args.tags.items()):
        filters.append({"Name": f"tag:{key}", "Values": [value]})
    for filter_name, wanted in (
        ("architecture", args.architecture),
        ("virtualization-type", args.virtualization_type),
        ("root-device-type", args.root_device_type),
    ):
        if wanted:
            filters.append({"Name": filter_name, "Values": [wanted]})
    return filters


def _created(image: Mapping[str, Any]) -> datetime:
    raw = str(image.get("CreationDate") or "")
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def created_at(image: Mapping[str, Any]) -> datetime:
    """An image's CreationDate as naive UTC (datetime.min when missing or malformed)."""
    return _created(image)


def image_version(image: Mapping[str, Any], version_tag: str | None) -> Version | None:
    if not version_tag:
        return None
    return parse_version(tag_dict(image.get("Tags")).get(version_tag))


def order_key(image: Mapping[str, Any], version_tag: str | None) -> tuple[Any, ...]:
    """Total order for choosing: (version, creation date, image id); larger is preferred."""
    version = image_version(image, version_tag) or Version("0")
    return (version, _created(image), str(image.get("ImageId", "")))


def criteria_text(args: AmiArgs) -> str:
    """`owners=[self], name=app-*, tags={App=web}, version >=1.4,<2` for messages."""
    parts = [f"owners=[{', '.join(args.owners)}]"]
    if args.name:
        parts.append(f"name={args.name}")
    if args.name_regex:
        parts.append(f"name_regex={args.name_regex}")
    if args.tags:
        parts.append("tags={" + ", ".join(f"{k}={v}" for k, v in sorted(args.tags.items())) + "}")
    for label, value in (
        ("architecture", args.architecture),
        ("virtualization_type", args.virtualization_type),
        ("root_device_type", args.root_device_type),
    ):
        if value:
            parts.append(f"{label}={value}")
    if args.version_tag:
        parts.append(f"version {args.version}" if args.version else f"version_tag={args.version_tag}")
    return ", ".join(parts)


def _plural(n: int) -> str:
    return f"{n} image" if n == 1 else f"{n} images"


def explain(args: AmiArgs, *, candidates: int) -> str:
    """One line for the plan: `newest of 3 images named app-* with Version in >=1.4,<2`."""
    described = []
    if args.name:
        described.append(f"named {args.name}")
    if args.name_regex:
        described.append(f"matching /{args.name_regex}/")
    if args.tags:
        described.append("tagged " + ", ".join(f"{k}={v}" for k, v in sorted(args.tags.items())))
    if not described:
        described.append(f"owned by {', '.join(args.owners)}")
    if args.version_tag and args.version:
        described.append(f"with {args.version_tag} in {args.version}")
    what = " ".join(described)
    if candidates == 1:
        return f"the only image {what}"
    order = f" by {args.version_tag} tag" if args.version_tag and not args.version else ""
    order = order or ("" if args.version_tag else " by creation date")
    return f"newest of {candidates} images {what}{order}"


class AmiSelectionError(ValueError):
    """No image, or several without most_recent; the message is meant for the user."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Selection:
    image: Mapping[str, Any]
    candidates: int
    version: Version | None


def no_match_message(args: AmiArgs, *, matched: int, by_regex: int, versioned: int) -> str:
    why: str
    if matched == 0:
        why = "no image matched the filters"
    elif args.name_regex and by_regex == 0:
        why = f"{_plural(matched)} matched the filters, none matched name_regex"
    elif args.version_tag and versioned == 0:
        why = (
            f"{_plural(by_regex)} matched the filters, none has a valid PEP 440 version in tag "
            f"{args.version_tag}"
        )
    else:
        invalid = by_regex - versioned
        extra = f", {invalid} without a valid {args.version_tag} tag" if invalid else ""
        why = f"{_plural(by_regex)} matched the filters{extra}, none in the version range"
    return f"no AMI matches: {criteria_text(args)} ({why})"


def select_image(images: Sequence[Mapping[str, Any]], args: AmiArgs) -> Selection:
    """Choose one image among those DescribeImages returned; raise AmiSelectionError otherwise."""
    pool = list(images)
    by_regex = [i for i in pool if not args.name_regex or re.search(args.name_regex, str(i.get("Name", "")))]
    candidates = by_regex
    versioned = by_regex
    if args.version_tag:
        versioned = [i for i in by_regex if image_version(i, args.version_tag) is not None]
        spec = parse_specifier(args.version) if args.version else None
        candidates = [
            i
            for i in versioned
            if spec is None or spec.contains(image_version(i, args.version_tag) or "", prereleases=True)
        ]
    if not candidates:
        raise AmiSelectionError(
            no_match_message(args, matched=len(pool), by_regex=len(by_regex), versioned=len(versioned)),
            code="NoMatchingImage",
        )
    ordered = sorted(candidates, key=lambda i: order_key(i, args.version_tag), reverse=True)
    if len(ordered) > 1 and not args.most_recent:
        listed = "; ".join(
            f"{i.get('ImageId')} ({i.get('Name')}, {i.get('CreationDate')})" for i in ordered[:MAX_LISTED]
        )
        more = f" and {len(ordered) - MAX_LISTED} more" if len(ordered) > MAX_LISTED else ""
        raise AmiSelectionError(
            f"{len(ordered)} AMIs match {criteria_text(args)}: {listed}{more}; "
            "set most_recent = true to take the newest, or narrow the filters",
            code="AmbiguousImage",
        )
    chosen = ordered[0]
    return Selection(image=chosen, candidates=len(ordered), version=image_version(chosen, args.version_tag))


def _block_devices(image: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for bdm in image.get("BlockDeviceMappings", []) or []:
        ebs = bdm.get("Ebs") or {}
        out.append(
            {
                "device_name": bdm.get("DeviceName"),
                "virtual_name": bdm.get("VirtualName"),
                "snapshot_id": ebs.get("SnapshotId"),
                "volume_size": ebs.get("VolumeSize"),
                "volume_type": ebs.get("VolumeType"),
                "encrypted": ebs.get("Encrypted"),
                "delete_on_termination": ebs.get("DeleteOnTermination"),
            }
        )
    return out


def image_attributes(selection: Selection) -> dict[str, Any]:
    image = selection.image
    return {
        "id": image.get("ImageId"),
        "name": image.get("Name"),
        "creation_date": image.get("CreationDate"),
        "description": image.get("Description"),
        "architecture": image.get("Architecture"),
        "owner_id": image.get("OwnerId"),
        "tags": tag_dict(image.get("Tags")),
        "version": str(selection.version) if selection.version is not None else None,
        "root_device_name": image.get("RootDeviceName"),
        "virtualization_type": image.get("VirtualizationType"),
        "block_device_mappings": _block_devices(image),
        "public": bool(image.get("Public", False)),
        "candidates": selection.candidates,
        "root_device_type": image.get("RootDeviceType"),
        "boot_mode": image.get("BootMode"),
        "ena_support": image.get("EnaSupport"),
        "deprecation_time": image.get("DeprecationTime"),
        "source_image_id": image.get("SourceImageId"),
        "source_image_region": image.get("SourceImageRegion"),
    }


# One provider (one command run) answers identical image queries from one DescribeImages: a
# hundred fleets looking up `app-*` cost one call, and all of them see the same newest image.
_QUERIES: weakref.WeakKeyDictionary[AwsClients, dict[str, _Query]] = weakref.WeakKeyDictionary()
_QUERIES_LOCK = threading.Lock()


class _Query:
    """One image query's answer; its lock makes concurrent identical lookups wait for the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.images: list[dict[str, Any]] | None = None


def describe_images(clients: AwsClients, args: AmiArgs, address: Any) -> list[dict[str, Any]]:
    key = json.dumps({"owners": args.owners, "filters": describe_filters(args)}, sort_keys=True)
    with _QUERIES_LOCK:
        query = _QUERIES.setdefault(clients, {}).setdefault(key, _Query())
    with query.lock:
        if query.images is None:
            query.images = clients.paginate(
                "ec2",
                "DescribeImages",
                result_key="Images",
                address=address,
                Owners=args.owners,
                Filters=describe_filters(args),
            )
        return query.images


def read(clients: AwsClients, request: ReadDataRequest) -> DataResult:
    args = validate_config(AmiArgs, request.config, address=request.address)
    images = describe_images(clients, args, request.address)
    try:
        selection = select_image(images, args)
    except AmiSelectionError as exc:
        raise CloudError(
            call="DescribeImages",
            message=str(exc),
            kind=CloudErrorKind.PERMANENT,
            address=str(request.address),
            code=exc.code,
        ) from exc
    now = datetime.now(UTC).replace(tzinfo=None)
    refused = refusal(selection.image, include_deprecated=args.include_deprecated, now=now)
    if refused is not None:
        raise CloudError(
            call="DescribeImages",
            message=refused,
            kind=CloudErrorKind.PERMANENT,
            address=str(request.address),
            code="DeprecatedImage",
        )
    attributes = image_attributes(selection)
    return DataResult(
        attributes=attributes,
        explanation=explain(args, candidates=selection.candidates),
        fingerprint=str(attributes["id"]),
    )
