"""The AWS types as Terraform's AWS provider names and nests them, for `plan --format json`.

Each `TerraformView` here maps one type's attributes (and, for the types that are the same cloud
object as a Terraform type, its configuration arguments) onto that provider type's attribute
names and shapes, so that policies written against Terraform plans (checkov, terraform-compliance,
OPA) read reconciler's plans unchanged:

- `aws_launch_template` → `aws_launch_template`: `security_group_ids` is `vpc_security_group_ids`,
  `metadata_options` a one-element list, `block_device_mapping` → `block_device_mappings[]` with
  an `ebs` one-element list whose `encrypted`/`delete_on_termination` are the strings "true" and
  "false", `iam_instance_profile` a `[{name}]` list. reconciler's own bookkeeping of the latest
  version (`latest_version_digest`, `latest_version_user_data`) is left out.
- `aws_target_group` → `aws_lb_target_group`: `deregistration_delay` a string, `health_check` a
  one-element list with `enabled = true` (reconciler always enables it).
- `aws_fleet` has no Terraform type; its view is the auto-scaling group serving it, shaped as an
  `aws_autoscaling_group` (`launch_template [{id, version}]` with the version as a string, `tag`
  blocks that propagate at launch, `vpc_zone_identifier` for subnets), shown only in
  `planned_values` and `prior_state` (`same_object=False`).
- data `aws_ami` → `aws_ami` (`image_id`; `block_device_mappings[].ebs` a map of strings, as the
  provider has it), data `aws_vpc` → `aws_vpc` (`default`).

The functions are structural (see reconciler.sdk.TerraformView): they convert only plain values
and pass anything else (unknowns, secrets, expressions) through where it lands. Pure.
Callers: the SCHEMA of each type module (launch_template, target_group, fleet, ami, vpc).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconciler.sdk import TerraformView


def _copy(source: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {n: source[n] for n in names if n in source}


def _rename(source: Mapping[str, Any], out: dict[str, Any], pairs: Iterable[tuple[str, str]]) -> None:
    for ours, theirs in pairs:
        if ours in source:
            out[theirs] = source[ours]


def _flag(value: Any) -> Any:
    """A boolean as the provider's string ("true"/"false"); anything else unchanged."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def _text(value: Any) -> Any:
    """A number as the provider's string; anything else unchanged."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _one(value: Any, shape: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None) -> Any:
    """A single block as the provider's one-element list (`[]` when absent)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [shape(value) if shape else dict(value)]
    return value


def _each(value: Any, shape: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Any:
    if isinstance(value, list):
        return [shape(v) if isinstance(v, Mapping) else v for v in value]
    return value


# ---- aws_launch_template ---------------------------------------------------------------------------

_LT_SAME = (
    "id",
    "arn",
    "name",
    "description",
    "image_id",
    "instance_type",
    "key_name",
    "user_data",
    "default_version",
    "latest_version",
    "tags",
)
_EBS = ("volume_size", "volume_type", "iops", "throughput", "snapshot_id")


def _block_device(b: Mapping[str, Any]) -> dict[str, Any]:
    ebs = _copy(b, _EBS)
    for name in ("encrypted", "delete_on_termination"):
        if name in b:
            ebs[name] = _flag(b[name])
    return {**_copy(b, ("device_name",)), "ebs": [ebs]}


def _profile(value: Any) -> Any:
    if value is None:
        return []
    return [{"name": value}] if isinstance(value, str) else value


def launch_template(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = _copy(attrs, _LT_SAME)
    _rename(attrs, out, [("security_group_ids", "vpc_security_group_ids")])
    if "iam_instance_profile" in attrs:
        out["iam_instance_profile"] = _profile(attrs["iam_instance_profile"])
    if "block_device_mapping" in attrs:
        out["block_device_mappings"] = _each(attrs["block_device_mapping"], _block_device)
    if "metadata_options" in attrs:
        out["metadata_options"] = _one(attrs["metadata_options"])
    return out


# ---- aws_target_group → aws_lb_target_group ---------------------------------------------------------

_TG_SAME = ("id", "arn", "arn_suffix", "name", "port", "protocol", "vpc_id", "target_type", "tags")


def _health_check(check: Mapping[str, Any]) -> dict[str, Any]:
    return {"enabled": True, **check}


def target_group(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = _copy(attrs, _TG_SAME)
    if "deregistration_delay" in attrs:
        out["deregistration_delay"] = _text(attrs["deregistration_delay"])
    if "health_check" in attrs:
        out["health_check"] = _one(attrs["health_check"], _health_check)
    return out


# ---- aws_fleet, seen as its auto-scaling group ------------------------------------------------------

_ASG_SAME = (
    "arn",
    "min_size",
    "max_size",
    "desired_capacity",
    "availability_zones",
    "target_group_arns",
    "health_check_type",
    "health_check_grace_period",
)


def _tag_blocks(tags: Any) -> Any:
    if not isinstance(tags, Mapping):
        return tags
    return [{"key": k, "value": v, "propagate_at_launch": True} for k, v in sorted(tags.items())]


def fleet_group(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = _copy(attrs, _ASG_SAME)
    _rename(attrs, out, [("group_name", "id"), ("group_name", "name"), ("subnet_ids", "vpc_zone_identifier")])
    if "launch_template" in attrs:
        template: dict[str, Any] = {"id": attrs["launch_template"]}
        version = attrs.get("launch_template_version")
        if version is not None:
            template["version"] = _text(version)
        out["launch_template"] = [template]
    if "tags" in attrs:
        out["tag"] = _tag_blocks(attrs["tags"])
    return out


# ---- data sources -----------------------------------------------------------------------------------

_AMI_SAME = (
    "id",
    "name",
    "creation_date",
    "description",
    "architecture",
    "owner_id",
    "tags",
    "root_device_name",
    "virtualization_type",
    "public",
)


def _image_device(b: Mapping[str, Any]) -> dict[str, Any]:
    ebs = {k: _text(_flag(v)) for k, v in b.items() if k not in ("device_name", "virtual_name")}
    return {**_copy(b, ("device_name", "virtual_name")), "ebs": ebs}


def ami(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = _copy(attrs, _AMI_SAME)
    _rename(attrs, out, [("id", "image_id")])
    if "block_device_mappings" in attrs:
        out["block_device_mappings"] = _each(attrs["block_device_mappings"], _image_device)
    return out


def vpc(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = _copy(attrs, ("id", "cidr_block", "tags"))
    _rename(attrs, out, [("is_default", "default")])
    return out


LAUNCH_TEMPLATE = TerraformView(type_name="aws_launch_template", shape=launch_template)
TARGET_GROUP = TerraformView(type_name="aws_lb_target_group", shape=target_group)
FLEET = TerraformView(
    type_name="aws_autoscaling_group", shape=fleet_group, same_object=False, schema_version=1
)
AMI = TerraformView(type_name="aws_ami", shape=ami)
VPC = TerraformView(type_name="aws_vpc", shape=vpc)
