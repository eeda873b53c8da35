"""The `aws_launch_template` arguments and their mapping to and from AWS launch data.

Pure: the pydantic models (the schema's `model`), `to_launch_data` (config → the
`LaunchTemplateData` AWS takes), `observed_fields` (AWS launch data → the model's own JSON shape) and
`config_fields` (config → the same shape). Both sides go through the model's `model_dump(mode="json")`
so a freshly created template observes exactly equal to its configuration. `user_data` is observed
as its plain text (AWS's base64 decoded), as it was configured: the schema names it sensitive, so
the engine marks it on arrival and keeps only a keyed digest of it in plans and state (see
reconciler.sensitive). `version_digest` names what one version holds apart from its user data, so a
plan can tell whether a version left by an interrupted apply is the one it wants; it never covers
user_data, whose comparison is the engine's (by keyed digest: `latest_version_user_data`).
Callers: `reconciler_aws.launch_template`, `reconciler_aws.launch_template_reads`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reconciler.sdk import contains_unknown

DIGEST_PREFIXES = ("sha256:", "hmac-sha256:")  # what the engine stores instead of a secret

# Fields that are not launch data: they never cause a new version.
NOT_LAUNCH_DATA = frozenset({"name", "tags"})


class BlockDeviceMapping(BaseModel):
    """One `block_device_mapping { ... }` block (an EBS volume)."""

    model_config = ConfigDict(extra="forbid")

    device_name: str
    volume_size: int | None = Field(default=None, ge=1)
    volume_type: str | None = None
    encrypted: bool | None = None
    delete_on_termination: bool = True
    iops: int | None = None
    throughput: int | None = None
    snapshot_id: str | None = None


class MetadataOptions(BaseModel):
    """The `metadata_options { ... }` block (instance metadata service settings)."""

    model_config = ConfigDict(extra="forbid")

    http_tokens: Literal["optional", "required"] = "required"
    http_endpoint: Literal["enabled", "disabled"] = "enabled"
    http_put_response_hop_limit: int = Field(default=2, ge=1, le=64)


class LaunchTemplateArgs(BaseModel):
    """Arguments of `resource "aws_launch_template"`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=3, max_length=128, pattern=r"^[a-zA-Z0-9().\-/_]+$")
    description: str | None = Field(default=None, max_length=255)
    image_id: str
    instance_type: str | None = None
    key_name: str | None = None
    user_data: str | None = None
    security_group_ids: list[str] = Field(default_factory=list)
    iam_instance_profile: str | None = None
    block_device_mapping: list[BlockDeviceMapping] = Field(default_factory=list)
    metadata_options: MetadataOptions | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("security_group_ids")
    @classmethod
    def _sorted_groups(cls, value: list[str]) -> list[str]:
        return sorted(set(value))  # a set in AWS: order and duplicates carry no meaning


def decode_user_data(encoded: str | None) -> str | None:
    """AWS's base64 user data → the plain text that was configured (undecodable: as is)."""
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return encoded


def encode_user_data(plain: str) -> str:
    if plain.startswith(DIGEST_PREFIXES) and len(plain.split()) == 1:
        raise ValueError(
            "user_data holds a digest, not the text itself; the configuration must pass the plain text"
        )
    return base64.b64encode(plain.encode()).decode()


def _normalise(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The model's JSON shape."""
    dumped: dict[str, Any] = LaunchTemplateArgs.model_validate(dict(fields)).model_dump(mode="json")
    return dumped


def config_fields(args: LaunchTemplateArgs) -> dict[str, Any]:
    """What a template built from `args` observes as."""
    return _normalise(args.model_dump())


def to_launch_data(args: LaunchTemplateArgs) -> dict[str, Any]:
    """The `LaunchTemplateData` for CreateLaunchTemplate / CreateLaunchTemplateVersion."""
    data: dict[str, Any] = {"ImageId": args.image_id}
    if args.instance_type:
        data["InstanceType"] = args.instance_type
    if args.key_name:
        data["KeyName"] = args.key_name
    if args.user_data is not None:
        data["UserData"] = encode_user_data(args.user_data)
    if args.security_group_ids:
        data["SecurityGroupIds"] = list(args.security_group_ids)
    if args.iam_instance_profile:
        data["IamInstanceProfile"] = {"Name": args.iam_instance_profile}
    if args.block_device_mapping:
        data["BlockDeviceMappings"] = [_bdm_to_aws(b) for b in args.block_device_mapping]
    if args.metadata_options is not None:
        m = args.metadata_options
        data["MetadataOptions"] = {
            "HttpTokens": m.http_tokens,
            "HttpEndpoint": m.http_endpoint,
            "HttpPutResponseHopLimit": m.http_put_response_hop_limit,
        }
    return data


def _bdm_to_aws(b: BlockDeviceMapping) -> dict[str, Any]:
    ebs: dict[str, Any] = {"DeleteOnTermination": b.delete_on_termination}
    for key, value in (
        ("VolumeSize", b.volume_size),
        ("VolumeType", b.volume_type),
        ("Encrypted", b.encrypted),
        ("Iops", b.iops),
        ("Throughput", b.throughput),
        ("SnapshotId", b.snapshot_id),
    ):
        if value is not None:
            ebs[key] = value
    return {"DeviceName": b.device_name, "Ebs": ebs}


def _bdm_from_aws(raw: Mapping[str, Any]) -> dict[str, Any]:
    ebs = raw.get("Ebs") or {}
    out: dict[str, Any] = {
        "device_name": raw.get("DeviceName"),
        "volume_size": ebs.get("VolumeSize"),
        "volume_type": ebs.get("VolumeType"),
        "encrypted": ebs.get("Encrypted"),
        "iops": ebs.get("Iops"),
        "throughput": ebs.get("Throughput"),
        "snapshot_id": ebs.get("SnapshotId"),
    }
    if ebs.get("DeleteOnTermination") is not None:
        out["delete_on_termination"] = ebs["DeleteOnTermination"]
    return out


def observed_fields(
    data: Mapping[str, Any], *, name: str, description: str | None, tags: Mapping[str, str]
) -> dict[str, Any]:
    """AWS launch data (one version) plus the template's name and user tags → the model's shape."""
    fields: dict[str, Any] = {
        "name": name,
        "description": description or None,
        "image_id": data.get("ImageId") or "",
        "instance_type": data.get("InstanceType") or None,
        "key_name": data.get("KeyName") or None,
        "user_data": decode_user_data(data.get("UserData")),
        "security_group_ids": list(data.get("SecurityGroupIds") or []),
        "iam_instance_profile": (data.get("IamInstanceProfile") or {}).get("Name"),
        "block_device_mapping": [_bdm_from_aws(b) for b in data.get("BlockDeviceMappings") or []],
        "tags": dict(tags),
    }
    meta = data.get("MetadataOptions")
    if meta:
        fields["metadata_options"] = {
            k: v
            for k, v in (
                ("http_tokens", meta.get("HttpTokens")),
                ("http_endpoint", meta.get("HttpEndpoint")),
                ("http_put_response_hop_limit", meta.get("HttpPutResponseHopLimit")),
            )
            if v is not None
        }
    return _normalise(fields)


def launch_data_differs(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """True when `current` differs from `wanted` in a field that lives in a version (not name/tags).

    Only `wanted`'s keys count, so `current` may carry computed attributes (id, versions, arn).
    """
    keys = set(wanted) - NOT_LAUNCH_DATA
    return any(current.get(k) != wanted.get(k) for k in keys)


def version_digest(fields: Mapping[str, Any]) -> str | None:
    """A digest of what a version holds apart from its user data (its launch data and description),
    from the model's shape (`observed_fields`, or planned arguments); None when a value is not known
    yet. Two versions with equal digests and equal user data launch the same instances."""
    wanted = {k: v for k, v in fields.items() if k in LaunchTemplateArgs.model_fields and k != "user_data"}
    if contains_unknown(wanted):
        return None
    try:
        normal = _normalise(wanted)
    except ValueError:  # not valid arguments (the plan reports that elsewhere)
        return None
    # user_data is left out: a digest of a secret (even inside other data) would let anyone with
    # the state test guesses of it; the engine compares it by keyed digest instead. A value that is
    # itself a sensitive stand-in fails validation above: None, the plan cannot tell.
    content = {k: v for k, v in normal.items() if k not in NOT_LAUNCH_DATA and k != "user_data"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
