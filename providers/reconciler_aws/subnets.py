"""Data source `aws_subnets`: the ids of every subnet matching a VPC, tags and zones.

One paginated DescribeSubnets with filters; no match is an empty list (as in Terraform), not an
error. Callers: `reconciler_aws.provider.AwsProvider`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler.sdk import DataResult, Mode, ReadDataRequest, ResourceSchema
from reconciler_aws.validation import validate_config

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

TYPE_NAME = "aws_subnets"


class SubnetsArgs(BaseModel):
    """Arguments of `data "aws_subnets"`."""

    model_config = ConfigDict(extra="forbid")

    vpc_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    availability_zones: list[str] | None = None


SCHEMA = ResourceSchema(
    type_name=TYPE_NAME,
    mode=Mode.DATA,
    model=SubnetsArgs,
    noun="set of subnets",
    computed=frozenset({"ids", "availability_zones", "cidr_blocks"}),
    description="Every subnet of a VPC (optionally by tags and availability zones).",
    terraform_types=(
        ("aws_subnet_ids", "Terraform's deprecated aws_subnet_ids is aws_subnets: the same ids."),
    ),
)


def describe_filters(args: SubnetsArgs) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if args.vpc_id:
        filters.append({"Name": "vpc-id", "Values": [args.vpc_id]})
    if args.availability_zones:
        filters.append({"Name": "availability-zone", "Values": sorted(args.availability_zones)})
    for key, value in sorted(args.tags.items()):
        filters.append({"Name": f"tag:{key}", "Values": [value]})
    return filters


def read(clients: AwsClients, request: ReadDataRequest) -> DataResult:
    """Attributes: `ids` (sorted), `availability_zones` and `cidr_blocks` (maps id → value), `vpc_id`."""
    args = validate_config(SubnetsArgs, request.config, address=request.address)
    filters = describe_filters(args)
    subnets = clients.paginate(
        "ec2",
        "DescribeSubnets",
        result_key="Subnets",
        address=request.address,
        Filters=filters,
    )
    by_id = {str(s["SubnetId"]): s for s in subnets}
    ids = sorted(by_id)
    attributes = {
        "ids": ids,
        "availability_zones": {i: by_id[i].get("AvailabilityZone") for i in ids},
        "cidr_blocks": {i: by_id[i].get("CidrBlock") for i in ids},
        "vpc_id": args.vpc_id,
    }
    return DataResult(attributes=attributes, explanation=f"{len(ids)} subnets", fingerprint=",".join(ids))
