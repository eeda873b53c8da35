"""Batched reads of ELBv2 target groups: by ARN in chunks of 20 (the DescribeTags limit), by
name, their tags, and their deregistration delay. Callers: reconciler_aws.target_group.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reconciler.sdk import CloudError
from reconciler_aws.tags import tag_dict

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

ARN_CHUNK = 20  # DescribeTags takes at most 20 ARNs; target groups are read in the same chunks
DELAY_KEY = "deregistration_delay.timeout_seconds"
NOT_FOUND = "TargetGroupNotFound"


def chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), ARN_CHUNK):
        yield items[start : start + ARN_CHUNK]


def groups_by_arns(clients: AwsClients, arns: Iterable[str], *, address: object = None) -> dict[str, Any]:
    """Target groups by ARN; deleted ones are absent (AWS fails a whole call for one unknown ARN)."""
    found: dict[str, Any] = {}
    for chunk in chunks(sorted(set(arns))):
        try:
            rows = clients.paginate(
                "elbv2",
                "DescribeTargetGroups",
                result_key="TargetGroups",
                address=address,
                page_size=None,
                TargetGroupArns=chunk,
            )
        except CloudError as err:
            if err.code not in (NOT_FOUND, "ValidationError"):
                raise
            rows = []
            for one in chunk:
                rows += _described(clients, address=address, TargetGroupArns=[one])
        found.update({g["TargetGroupArn"]: g for g in rows})
    return found


def _described(clients: AwsClients, *, address: object, **kwargs: Any) -> list[Any]:
    try:
        rows: list[Any] = clients.call("elbv2", "DescribeTargetGroups", address=address, **kwargs)[
            "TargetGroups"
        ]
    except CloudError as err:
        if err.code not in (NOT_FOUND, "ValidationError"):
            raise
        return []
    return rows


def group_by_name(clients: AwsClients, name: str, *, address: object = None) -> dict[str, Any] | None:
    rows = _described(clients, address=address, Names=[name])
    return rows[0] if rows else None


def tags_of(clients: AwsClients, arns: Iterable[str], *, address: object = None) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for chunk in chunks(sorted(set(arns))):
        rows = clients.call("elbv2", "DescribeTags", address=address, ResourceArns=chunk)["TagDescriptions"]
        out.update({str(r["ResourceArn"]): tag_dict(r.get("Tags")) for r in rows})
    return out


def delay_of(clients: AwsClients, arn: str, *, address: object = None) -> int:
    rows = clients.call("elbv2", "DescribeTargetGroupAttributes", address=address, TargetGroupArn=arn)[
        "Attributes"
    ]
    values = {str(r["Key"]): str(r.get("Value", "")) for r in rows}
    return int(values.get(DELAY_KEY) or 300)
