"""The AWS provider: static schemas here (no boto3 import, so `validate` needs no cloud).

`SCHEMAS` maps (mode, type name) to each type's ResourceSchema; the live provider is
`providers.aws.provider.AwsProvider`. Callers: `providers.registry`.
"""

from __future__ import annotations

from providers.aws import ami, fleet, launch_template, subnets, target_group, vpc
from providers.base import ResourceSchema
from reconciler.address import Mode

SCHEMAS: dict[tuple[Mode, str], ResourceSchema] = {
    (schema.mode, schema.type_name): schema
    for schema in (
        ami.SCHEMA,
        vpc.SCHEMA,
        subnets.SCHEMA,
        launch_template.SCHEMA,
        target_group.SCHEMA,
        fleet.SCHEMA,
    )
}

__all__ = ["SCHEMAS"]
