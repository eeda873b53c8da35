"""Batched reads of CloudWatch metric alarms: by name (one DescribeAlarms per 100 names), all of
them (state recovery), and their tags (ListTagsForResource, one per alarm: CloudWatch has no
batched tag read and moto's Resource Groups Tagging API does not list alarms).
Callers: reconciler_aws.alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reconciler.sdk import CloudError
from reconciler_aws.tags import tag_dict

if TYPE_CHECKING:
    from reconciler_aws.clients import AwsClients

NAME_CHUNK = 100  # AlarmNames per DescribeAlarms (the AWS maximum)
NOT_FOUND = "ResourceNotFound"


def alarms_by_names(clients: AwsClients, names: Iterable[str], *, address: object = None) -> dict[str, Any]:
    """Metric alarms by name; names without an alarm are absent."""
    wanted = sorted(set(names))
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), NAME_CHUNK):
        rows = clients.paginate(
            "cloudwatch",
            "DescribeAlarms",
            result_key="MetricAlarms",
            address=address,
            page_size=NAME_CHUNK,
            AlarmNames=wanted[start : start + NAME_CHUNK],
            AlarmTypes=["MetricAlarm"],
        )
        found.update({str(row["AlarmName"]): row for row in rows})
    return found


def all_alarms(clients: AwsClients) -> dict[str, Any]:
    """Every metric alarm of the region, by name (state recovery)."""
    rows = clients.paginate(
        "cloudwatch",
        "DescribeAlarms",
        result_key="MetricAlarms",
        page_size=NAME_CHUNK,
        AlarmTypes=["MetricAlarm"],
    )
    return {str(row["AlarmName"]): row for row in rows}


def tags_of(clients: AwsClients, arn: str, *, address: object = None) -> dict[str, str]:
    """An alarm's tags; {} for an alarm deleted since it was described."""
    try:
        rows = clients.call("cloudwatch", "ListTagsForResource", address=address, ResourceARN=arn)["Tags"]
    except CloudError as err:
        if err.code != NOT_FOUND:
            raise
        return {}
    return tag_dict(rows)
