"""The rollout hooks of `aws_fleet` (reconciler.sdk.FleetType) and its template-version rule.

The engine plans a rollout from these without knowing AWS: the fleet's live group, generation,
capacity and instances come from the refreshed attributes; target group names from their ARNs;
the release running now is the image most instances run (the template's previous image when none
runs), the one rolled out is the planned template's; groups are named `NAME-gNNNN`. `complete`
fills an unpinned `launch_template_version` with the template's planned default version, at plan
and at apply alike. Pure. Callers: reconciler_aws.fleet (SCHEMA.fleet, SCHEMA.complete).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.sdk import (
    UNKNOWN,
    UNKNOWN_IMAGE,
    FleetSnapshot,
    GroupMember,
    InstanceInfo,
    Label,
    Related,
    Release,
    RolloutConfig,
)
from reconciler_aws.arns import target_group_name
from reconciler_aws.fleet_names import group_name, parse_generation

__all__ = ["FLEET", "TEMPLATE_TYPE", "AwsFleetType", "complete"]

TEMPLATE_TYPE = "aws_launch_template"


def _instances(prior: Mapping[str, Any]) -> list[InstanceInfo]:
    return [
        InstanceInfo(
            id=str(i["id"]),
            image_id=str(i.get("image_id", "")),
            instance_type=str(i.get("instance_type", "")),
            healthy=i.get("health_status", "Healthy") == "Healthy",
        )
        for i in prior.get("instances") or []
    ]


def _release(*, image_id: Any, instance_type: Any, version: Any, labels: Mapping[str, Label]) -> Release:
    image = str(image_id) if isinstance(image_id, str) else UNKNOWN_IMAGE
    label = labels.get(image)
    return Release(
        image_id=image,
        image_name=(label.name if label else "") or image,
        image_version=label.version if label else "",
        instance_type=str(instance_type) if isinstance(instance_type, str) else "",
        launch_template_version=version if isinstance(version, int) else 0,
    )


def _template(related: Related, *ids: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(before, after) of the stack's launch template with one of `ids` ({} when none is)."""
    for object_id in ids:
        if not isinstance(object_id, str):
            continue
        found = related.find(object_id)
        if found is not None and found.type_name == TEMPLATE_TYPE:
            return found.before or {}, found.after or {}
    return {}, {}


class AwsFleetType:
    release_arguments = frozenset({"launch_template", "launch_template_version"})

    def fleet_name(self, desired: Mapping[str, Any]) -> str:
        return str(desired.get("name"))

    def rollout_config(self, desired: Mapping[str, Any]) -> RolloutConfig:
        return RolloutConfig.model_validate(desired.get("rollout") or {})

    def snapshot(self, prior: Mapping[str, Any], desired: Mapping[str, Any]) -> FleetSnapshot:
        arns = [str(a) for a in prior.get("target_group_arns") or []]
        version = prior.get("launch_template_version")
        return FleetSnapshot(
            group_name=str(prior.get("group_name") or group_name(self.fleet_name(desired), 1)),
            generation=int(prior.get("generation") or 1),
            desired=int(prior.get("desired_capacity") or 0),  # what runs now: never shrink a fleet
            min_size=int(prior.get("min_size") or 0),
            max_size=int(prior.get("max_size") or 0),
            instances=_instances(prior),
            target_group_names=[target_group_name(a) for a in arns],
            launch_template_version=version if isinstance(version, int) else 0,
            target_group_arns=arns,
            launch_template_id=str(desired.get("launch_template") or prior.get("launch_template") or ""),
        )

    def releases(
        self,
        *,
        prior: Mapping[str, Any],
        desired: Mapping[str, Any],
        related: Related,
        labels: Mapping[str, Label],
    ) -> tuple[Release, Release]:
        before, after = _template(related, desired.get("launch_template"), prior.get("launch_template"))
        instances = _instances(prior)
        common = Counter(i.image_id for i in instances).most_common(1)
        running_type = Counter(i.instance_type for i in instances).most_common(1)
        old = _release(  # what runs now; the template's previous data only when nothing runs
            image_id=common[0][0] if common else before.get("image_id"),
            instance_type=running_type[0][0] if running_type else before.get("instance_type"),
            version=prior.get("launch_template_version"),
            labels=labels,
        )
        new = _release(
            image_id=after.get("image_id", UNKNOWN),
            instance_type=after.get("instance_type", UNKNOWN),
            version=desired.get("launch_template_version"),
            labels=labels,
        )
        return old, new

    def group_name(self, fleet_name: str, generation: int) -> str:
        return group_name(fleet_name, generation)

    def kept_groups(self, prior: Mapping[str, Any]) -> list[str]:
        return [str(g) for g in prior.get("previous_groups") or []]

    def after_rollout(
        self,
        attributes: Mapping[str, Any],
        *,
        fleet_name: str,
        serving: str,
        kept: Sequence[str],
        version: int,
        members: Sequence[GroupMember],
    ) -> dict[str, Any]:
        out = dict(attributes)
        out.update(
            group_name=serving,
            launch_template_version=version,
            previous_groups=list(kept),
            instances=[
                {
                    "id": m.instance_id,
                    "image_id": m.image_id,
                    "instance_type": m.instance_type,
                    "lifecycle_state": str(m.lifecycle_state),
                    "health_status": m.health_status,
                }
                for m in sorted(members, key=lambda m: m.instance_id)
            ],
        )
        generation = parse_generation(serving, fleet_name)
        if generation is not None:
            out["generation"] = generation
        return out


FLEET = AwsFleetType()


def complete(desired: dict[str, Any], prior: Mapping[str, Any] | None, related: Related) -> None:
    """A fleet without a pinned version runs its template's (planned) default version: UNKNOWN
    while the template id or its version is known only after apply; a template this stack does
    not manage keeps the version the fleet has."""
    if desired.get("launch_template_version") is not None:
        return
    template = desired.get("launch_template")
    version: Any = None
    if template is UNKNOWN:
        version = UNKNOWN
    elif isinstance(template, str):
        found = related.find(template)
        if found is not None and found.type_name == TEMPLATE_TYPE:
            version = (found.after or {}).get("default_version", UNKNOWN)
    if version is None and prior is not None:
        version = prior.get("launch_template_version")
    desired["launch_template_version"] = version
