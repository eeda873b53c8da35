"""Tag helpers shared by the AWS types: AWS tag lists ↔ dicts, ownership, and tag diffs.

Pure functions. Callers: ami (image tags), vpc, subnets, launch_template (ownership tags,
default tags, CreateTags/DeleteTags plans).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.sdk import OWNER_ADDRESS_TAG, OWNER_STACK_TAG, Ownership

OWNERSHIP_KEYS = frozenset({OWNER_STACK_TAG, OWNER_ADDRESS_TAG})


def tag_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """`[{"Key": k, "Value": v}, ...]` → `{k: v}` (sorted by key, for stable output)."""
    pairs = ((str(t.get("Key", "")), str(t.get("Value", ""))) for t in tags or [])
    return dict(sorted(pairs))


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def ownership_of(tags: Mapping[str, str]) -> Ownership:
    return Ownership(stack=tags.get(OWNER_STACK_TAG), address=tags.get(OWNER_ADDRESS_TAG))


def desired_tags(
    *, user: Mapping[str, str], default: Mapping[str, str], stack: str, address: str
) -> dict[str, str]:
    """Every tag an object of this stack carries: default tags, then the user's, then ownership."""
    return {**default, **user, OWNER_STACK_TAG: stack, OWNER_ADDRESS_TAG: address}


def user_tags(tags: Mapping[str, str], *, default: Mapping[str, str]) -> dict[str, str]:
    """What the configuration's `tags` argument would be: no ownership tags, no default tags.

    A default tag is hidden only while it still has the provider's value; a tag the user set to
    another value shows up (so a change of it shows in a plan).
    """
    return {
        k: v
        for k, v in sorted(tags.items())
        if k not in OWNERSHIP_KEYS and not (k in default and default[k] == v)
    }


def tag_changes(current: Mapping[str, str], desired: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to delete) that turn `current` into `desired`."""
    to_set = {k: v for k, v in desired.items() if current.get(k) != v}
    to_delete = sorted(k for k in current if k not in desired)
    return to_set, to_delete


def claim_for_import(
    tags: Mapping[str, str], *, stack: str, address: str, what: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The ownership tags an import adds, as (tags to set, all tags after); refuses an object that
    another stack owns. `what` names it in the error, e.g. 'target group "web" (arn:…)'."""
    owner = ownership_of(tags)
    if owner.stack not in (None, stack):
        from reconciler.sdk import OwnershipError

        raise OwnershipError(
            f"refusing to import {what} as {address}: "
            f"it belongs to stack {owner.stack!r} (tag {OWNER_STACK_TAG})"
        )
    merged = {**tags, OWNER_STACK_TAG: stack, OWNER_ADDRESS_TAG: address}
    to_set, _ = tag_changes(tags, merged)
    return to_set, merged
