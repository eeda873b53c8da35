"""ARNs: the one place that reads a name out of one. Pure. Callers: reconciler_aws.fleet_type."""

from __future__ import annotations

__all__ = ["target_group_name"]


def target_group_name(arn: str) -> str:
    """ "arn:aws:elasticloadbalancing:...:targetgroup/web/0123" -> "web"; anything else as given."""
    parts = arn.split(":")[-1].split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "targetgroup" else arn
