"""Small pydantic schemas shaped like the AWS provider's, for config tests (no provider needed)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from reconciler.address import Mode
from reconciler.sdk import ResourceSchema


class BDM(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_name: str
    volume_size: int | None = None
    volume_type: str = "gp3"
    encrypted: bool = True


class MetadataOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    http_tokens: str = "required"


class LaunchTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    image_id: str
    instance_type: str | None = None
    user_data: str | None = None
    security_group_ids: list[str] = Field(default_factory=list)
    block_device_mapping: list[BDM] = Field(default_factory=list)
    metadata_options: MetadataOptions | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class Fleet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    launch_template: str
    min_size: int = 1
    max_size: int = 1
    tags: dict[str, str] = Field(default_factory=dict)


class Ami(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owners: list[str] = Field(default_factory=lambda: ["self"])
    name: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    most_recent: bool = False
    version_tag: str | None = None
    version: str | None = None


SCHEMAS: dict[tuple[Mode, str], ResourceSchema] = {
    (Mode.MANAGED, "aws_launch_template"): ResourceSchema(
        "aws_launch_template", Mode.MANAGED, LaunchTemplate, computed=frozenset({"id", "latest_version"})
    ),
    (Mode.MANAGED, "aws_fleet"): ResourceSchema("aws_fleet", Mode.MANAGED, Fleet),
    (Mode.DATA, "aws_ami"): ResourceSchema("aws_ami", Mode.DATA, Ami, computed=frozenset({"id"})),
}
