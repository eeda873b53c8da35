"""The AWS provider: static schemas here (no boto3 import, so `validate` needs no cloud).

`SCHEMAS` maps (mode, type name) to each type's ResourceSchema; the live provider is
`reconciler_aws.provider.AwsProvider`. Callers: `reconciler.sdk.registry`.
"""

from __future__ import annotations

from reconciler.sdk import Mode, ResourceSchema
from reconciler_aws import (
    alarm,
    ami,
    ami_copy,
    ami_permissions,
    ami_retention,
    fleet,
    launch_template,
    subnets,
    target_group,
    vpc,
)

SCHEMAS: dict[tuple[Mode, str], ResourceSchema] = {
    (schema.mode, schema.type_name): schema
    for schema in (
        ami.SCHEMA,
        vpc.SCHEMA,
        subnets.SCHEMA,
        launch_template.SCHEMA,
        target_group.SCHEMA,
        fleet.SCHEMA,
        alarm.SCHEMA,
        ami_permissions.SCHEMA,
        ami_copy.SCHEMA,
        ami_retention.SCHEMA,
    )
}

__all__ = ["SCHEMAS"]
