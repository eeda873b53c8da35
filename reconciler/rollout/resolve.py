"""A rollout planned before its new image was known (a fleet on an image copy made by the same
apply): at apply, once the launch template holds the image, the steps that launch and count the
new release are given its id. Pure. Callers: applying.executor (before the coordinator runs it).
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.rollout.model import RolloutPlan
from reconciler.sdk import Release, known_image

__all__ = ["with_new_release"]


def with_new_release(plan: RolloutPlan, new: Release) -> RolloutPlan:
    """`plan` with its unknown new image replaced by `new`'s (unchanged when either is unknown/known)."""
    if known_image(plan.new.image_id) or not known_image(new.image_id):
        return plan
    unknown = plan.new.image_id
    steps = [
        replace(s, image_id=new.image_id, image_name=new.image_name or new.image_id)
        if s.image_id == unknown
        else s
        for s in plan.steps
    ]
    release = replace(plan.new, image_id=new.image_id, image_name=new.image_name or new.image_id)
    return replace(plan, new=release, steps=steps)
