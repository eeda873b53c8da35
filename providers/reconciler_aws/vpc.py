"""Data source `aws_vpc`: exactly one VPC by id, default flag, tags or CIDR block.

One paginated DescribeVpcs with filters (never `VpcIds`, which fails the whole call for an unknown
id); zero or several matches are clear errors. Callers: `reconciler_aws.provider.AwsProvider`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler.sdk import CloudError, DataResult, Mode, ReadDataRequest, ResourceSchema
from reconciler_aws import terraform_shapes
from reconciler_aws.tags import tag_dict
from reconciler_aws.validation import validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_vpc"


class VpcArgs(BaseModel):
    """Arguments of `data "aws_vpc"`."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    default: bool | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    cidr_block: str | None = None


SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.DATA,
    model=VpcArgs,
    noun="VPC",
    computed=frozenset({"id", "cidr_block", "is_default", "tags"}),
    description="Exactly one VPC, by id, default flag, tags or CIDR block.",
    terraform_view=terraform_shapes.VPC,
)


def describe_filters(args: VpcArgs) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if args.id:
        filters.append({"Name": "vpc-id", "Values": [args.id]})
    if args.default is not None:
        filters.append({"Name": "is-default", "Values": ["true" if args.default else "false"]})
    if args.cidr_block:
        filters.append({"Name": "cidr", "Values": [args.cidr_block]})
    for key, value in sorted(args.tags.items()):
        filters.append({"Name": f"tag:{key}", "Values": [value]})
    return filters


def criteria_text(args: VpcArgs) -> str:
    parts = []
    if args.id:
        parts.append(f"id={args.id}")
    if args.default is not None:
        parts.append(f"default={str(args.default).lower()}")
    if args.cidr_block:
        parts.append(f"cidr_block={args.cidr_block}")
    if args.tags:
        parts.append("tags={" + ", ".join(f"{k}={v}" for k, v in sorted(args.tags.items())) + "}")
    return ", ".join(parts) or "(no filters)"


def read(clients: AwsClients, request: ReadDataRequest) -> DataResult:
    args = validate_config(VpcArgs, request.config, address=request.address)
    filters = describe_filters(args)
    vpcs = clients.paginate(
        "ec2",
        "DescribeVpcs",
        result_key="Vpcs",
        address=request.address,
        Filters=filters,
    )
    if len(vpcs) != 1:
        found = ", ".join(sorted(str(v.get("VpcId")) for v in vpcs)[:5])
        message = (
            f"no VPC matches {criteria_text(args)}"
            if not vpcs
            else f"{len(vpcs)} VPCs match {criteria_text(args)} ({found}); narrow the filters to one"
        )
        raise CloudError(
            call="DescribeVpcs",
            message=message,
            address=str(request.address),
            code="NoMatchingVpc" if not vpcs else "AmbiguousVpc",
        )
    vpc = vpcs[0]
    attributes = {
        "id": vpc.get("VpcId"),
        "cidr_block": vpc.get("CidrBlock"),
        "is_default": bool(vpc.get("IsDefault", False)),
        "tags": tag_dict(vpc.get("Tags")),
    }
    return DataResult(attributes=attributes, explanation="", fingerprint=str(attributes["id"]))
