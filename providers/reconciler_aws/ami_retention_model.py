"""What an `aws_ami_retention` decides, as typed data, and the pure decision.

`decide` orders the selected images as the `aws_ami` lookup does (version, creation date, id;
newest first), keeps the first `keep_last` and those newer than `keep_newer_than` (either rule
keeps), and of the rest deregisters each one nothing uses. An image in use (`Use`: a fleet group's
launch template version, a template's default or latest version, a running instance, a template
or copy this plan still needs), an image copied by this stack's `aws_ami_copy` (remove that
resource to drop it) and an image tagged with another stack are kept, with why. The decision
travels in the plan as its JSON form (`to_dict`/`from_dict`) and apply carries out its DEREGISTER
verdicts, checking use again first. Callers: ami_retention (plan and apply), ami_usage (Use).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from reconciler.sdk import format_duration
from reconciler_aws.ami import created_at, image_version, order_key
from reconciler_aws.ami_images import snapshot_ids

__all__ = ["ImageVerdict", "KeepReason", "RetentionDecision", "Rules", "Use", "Verdict", "decide"]


class Verdict(StrEnum):
    DEREGISTER = "deregister"
    KEEP = "keep"


class KeepReason(StrEnum):
    """Why an image the rules alone would remove is kept."""

    GROUP = "group"  # a fleet group's launch template version (live or kept for rollback)
    TEMPLATE_DEFAULT = "template_default"
    TEMPLATE_LATEST = "template_latest"
    INSTANCE = "instance"
    PLANNED = "planned"  # a launch template of this plan moves to it (a pending rollout)
    COPY_SOURCE = "copy_source"  # an aws_ami_copy of this configuration copies it
    MANAGED = "managed"  # an aws_ami_copy of this stack made it
    FOREIGN = "other_stack"  # tagged reconciler:stack = another stack
    REFERENCED = "referenced"  # AWS's DescribeImageReferences names it (an SSM parameter, a recipe…)


@dataclass(frozen=True)
class Use:
    reason: KeepReason
    detail: str  # "group web-g0001 (launch template web version 1)", "instance i-0ab…"

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason.value, "detail": self.detail}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Use:
        return cls(reason=KeepReason(raw["reason"]), detail=str(raw["detail"]))


@dataclass(frozen=True)
class Rules:
    keep_last: int | None
    keep_newer_than_s: int | None
    version_tag: str | None

    def text(self) -> str:
        parts = []
        if self.keep_last is not None:
            parts.append(f"beyond keep_last = {self.keep_last}")
        if self.keep_newer_than_s is not None:
            parts.append(f"older than {format_duration(self.keep_newer_than_s)}")
        return " and ".join(parts)


@dataclass(frozen=True)
class ImageVerdict:
    image_id: str
    name: str
    version: str | None
    created: str
    verdict: Verdict
    rule: str  # "beyond keep_last = 2"
    uses: tuple[Use, ...]  # non-empty ⇒ kept although the rules would remove it
    snapshots: tuple[str, ...]  # deleted with it (none another selected image keeps uses)
    gib: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["uses"] = [u.to_dict() for u in self.uses]
        data["snapshots"] = list(self.snapshots)
        return data

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ImageVerdict:
        return cls(
            image_id=str(raw["image_id"]),
            name=str(raw["name"]),
            version=raw.get("version"),
            created=str(raw["created"]),
            verdict=Verdict(raw["verdict"]),
            rule=str(raw["rule"]),
            uses=tuple(Use.from_dict(u) for u in raw.get("uses") or []),
            snapshots=tuple(str(s) for s in raw.get("snapshots") or []),
            gib=int(raw.get("gib") or 0),
        )

    def line(self, *, delete_snapshots: bool) -> str:
        head = f"{self.name} ({self.image_id}, {self.created[:10]})"
        if self.verdict is Verdict.DEREGISTER:
            snaps = ", ".join(self.snapshots) or "no snapshots"
            freed = f"{snaps}, up to {self.gib} GiB" if delete_snapshots else f"snapshots kept: {snaps}"
            return f"- {head}   {self.rule}   {freed}"
        return f"= {head}   kept: in use by {'; '.join(u.detail for u in self.uses)}"


@dataclass(frozen=True)
class RetentionDecision:
    region: str
    delete_snapshots: bool
    verdicts: tuple[ImageVerdict, ...]
    selected: int  # images the selection found (kept by rule included)
    protected: tuple[tuple[str, Use], ...] = ()  # planned uses, re-applied at apply (id, use)

    @property
    def to_deregister(self) -> list[ImageVerdict]:
        return [v for v in self.verdicts if v.verdict is Verdict.DEREGISTER]

    @property
    def freed_gib(self) -> int:
        return sum(v.gib for v in self.to_deregister) if self.delete_snapshots else 0

    def note(self) -> str:
        n = len(self.to_deregister)
        if not n:
            return f"nothing to deregister ({self.selected} selected images kept, {self.region})"
        images = "1 image" if n == 1 else f"{n} images"
        freed = f", free up to {self.freed_gib} GiB" if self.delete_snapshots else ""
        return f"deregister {images}{freed} ({self.region})"

    def lines(self) -> list[str]:
        return [v.line(delete_snapshots=self.delete_snapshots) for v in self.verdicts]

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "delete_snapshots": self.delete_snapshots,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "selected": self.selected,
            "protected": [[image_id, use.to_dict()] for image_id, use in self.protected],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RetentionDecision:
        return cls(
            region=str(raw["region"]),
            delete_snapshots=bool(raw["delete_snapshots"]),
            verdicts=tuple(ImageVerdict.from_dict(v) for v in raw.get("verdicts") or []),
            selected=int(raw.get("selected") or 0),
            protected=tuple((str(i), Use.from_dict(u)) for i, u in raw.get("protected") or []),
        )


def decide(
    images: Sequence[Mapping[str, Any]],
    *,
    rules: Rules,
    uses: Mapping[str, Sequence[Use]],
    now: datetime,
    region: str,
    delete_snapshots: bool,
    protected: Sequence[tuple[str, Use]] = (),
) -> RetentionDecision:
    """The verdict on every image the rules alone would remove (pure; `now` is naive UTC)."""
    ordered = sorted(images, key=lambda i: order_key(i, rules.version_tag), reverse=True)
    by_rule: list[Mapping[str, Any]] = []
    for rank, image in enumerate(ordered):
        recent = (
            rules.keep_newer_than_s is not None
            and (now - created_at(image)).total_seconds() < rules.keep_newer_than_s
        )
        if (rules.keep_last is not None and rank < rules.keep_last) or recent:
            continue
        by_rule.append(image)
    all_uses: dict[str, list[Use]] = {k: list(v) for k, v in uses.items()}
    for image_id, use in protected:
        all_uses.setdefault(image_id, []).append(use)
    verdicts = []
    doomed = {str(i["ImageId"]) for i in by_rule if not all_uses.get(str(i["ImageId"]))}
    kept_snapshots = {s for i in ordered if str(i["ImageId"]) not in doomed for s in snapshot_ids(i)}
    for image in by_rule:
        image_id = str(image["ImageId"])
        found = tuple(all_uses.get(image_id) or ())
        snaps = tuple(s for s in snapshot_ids(image) if s not in kept_snapshots)
        sizes = {
            str((m.get("Ebs") or {}).get("SnapshotId")): int((m.get("Ebs") or {}).get("VolumeSize") or 0)
            for m in image.get("BlockDeviceMappings") or []
        }
        version = image_version(image, rules.version_tag)
        verdicts.append(
            ImageVerdict(
                image_id=image_id,
                name=str(image.get("Name") or image_id),
                version=str(version) if version is not None else None,
                created=str(image.get("CreationDate") or ""),
                verdict=Verdict.KEEP if found else Verdict.DEREGISTER,
                rule=rules.text(),
                uses=found,
                snapshots=snaps,
                gib=sum(sizes.get(s, 0) for s in snaps),
            )
        )
    return RetentionDecision(
        region=region,
        delete_snapshots=delete_snapshots,
        verdicts=tuple(verdicts),
        selected=len(ordered),
        protected=tuple(protected),
    )
