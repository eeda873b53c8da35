"""Facts about an image, pure: the short words a plan line shows ("ebs root 8 GiB encrypted",
"x86_64") and why a lookup must refuse the image it chose (deprecated). Callers: ami (label,
read), ami_details (ami list).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["facts", "refusal"]


def facts(attributes: Mapping[str, Any]) -> tuple[str, ...]:
    """Short words on an image for plan lines: ("ebs root 8 GiB encrypted", "x86_64")."""
    out = []
    kind = attributes.get("root_device_type")
    if kind == "instance-store":
        out.append("instance-store root")
    elif kind == "ebs":
        root_name = attributes.get("root_device_name")
        mappings = attributes.get("block_device_mappings") or []
        root = next((m for m in mappings if m.get("device_name") == root_name), None)
        words = ["ebs root"]
        if root is not None and root.get("volume_size"):
            words.append(f"{root['volume_size']} GiB")
        if root is not None and root.get("encrypted"):
            words.append("encrypted")
        out.append(" ".join(words))
    if attributes.get("architecture"):
        out.append(str(attributes["architecture"]))
    return tuple(out)


def refusal(image: Mapping[str, Any], *, include_deprecated: bool, now: datetime) -> str | None:
    """Why the chosen image must not be used (None when it may): deprecated, unless allowed.
    `now` is naive UTC."""
    raw = str(image.get("DeprecationTime") or "")
    if not raw or include_deprecated:
        return None
    try:
        since = datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        return None
    if since > now:
        return None
    return (
        f"the newest match {image.get('Name')} ({image.get('ImageId')}) is deprecated since {raw}; "
        "narrow the selection (version, name) or set include_deprecated = true"
    )
