"""The plan: the one contract between `plan` and `apply`, and the vocabulary it is written in.

Everything a renderer shows and everything apply does comes from these types: a fleet's change
carries its typed rollout or cleanup (reconciler.rollout.change), `labels` say how the objects it
names read. They serialise to plain JSON for saved plan files (planning.plan_codec).
Callers: planner (builds), render (reads), applying (executes), cli (saves and loads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from reconciler.address import Address
from reconciler.errors import Diagnostic
from reconciler.rollout.change import CleanupChange, RolloutChange
from reconciler.rollout.waves import WavePlan
from reconciler.sdk import Label, provider_for_type


class Action(StrEnum):
    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    READ = "read"
    ROLLOUT = "rollout"
    CLEANUP = "cleanup"  # delete what a finished rollout kept for rollback; the fleet itself stays


class ActionReason(StrEnum):
    NONE = ""
    REPLACE_BECAUSE_ATTRIBUTE = "replace_because_cannot_update"
    REPLACE_BY_REQUEST = "replace_by_request"
    REPLACE_BECAUSE_GONE_TAINTED = "replace_because_tainted"
    DELETE_BECAUSE_NO_CONFIG = "delete_because_no_resource_config"
    DELETE_BECAUSE_NO_INSTANCE = "delete_because_no_instance_key"
    CREATE_BECAUSE_GONE = "create_because_deleted_outside"
    READ_BECAUSE_CONFIG_UNKNOWN = "read_because_config_unknown"
    ROLLOUT_BECAUSE_LAUNCH_TEMPLATE = "rollout_because_launch_template_changed"


# What each action looks like in a human plan; renderers use this, never their own strings.
ACTION_SYMBOL: dict[Action, str] = {
    Action.NOOP: " ",
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.READ: "<=",
    Action.ROLLOUT: "↻",
    Action.CLEANUP: "~",  # an in-place change of the fleet
}


@dataclass
class AttributeDiff:
    """One changed leaf or subtree: `path` is dotted (`tags.Name`, `block_device_mapping.0.volume_size`)."""

    path: str
    before: Any
    after: Any
    unknown: bool = False  # after is known only after apply
    sensitive: bool = False  # never render before/after
    forces_replacement: bool = False


@dataclass
class ResourceChange:
    address: Address
    action: Action
    type_name: str
    provider: str = ""  # "" → the type's provider (provider_for_type)
    reason: ActionReason = ActionReason.NONE
    id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None  # UNKNOWN leaves are rendered "(known after apply)"
    diffs: list[AttributeDiff] = field(default_factory=list)
    replace_paths: list[str] = field(default_factory=list)
    sensitive_paths: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    create_before_destroy: bool = False
    note: str = ""  # a provider's line shown after the action, e.g. "new version 2 (default)"
    rollout: RolloutChange | None = None  # set iff the action is ROLLOUT
    cleanup: CleanupChange | None = None  # set iff the action is CLEANUP
    # A provider's preview (sdk.ChangePreview) and the type's hazards: JSON-safe payload given
    # back at apply, lines shown under the change, warnings shown as the plan's banner.
    payload: dict[str, Any] | None = None
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.provider:
            self.provider = provider_for_type(self.type_name)

    @property
    def is_change(self) -> bool:
        return self.action not in (Action.NOOP, Action.READ)


@dataclass
class DataRead:
    """A data source resolved while planning (or deferred to apply when its config is unknown)."""

    address: Address
    type_name: str
    attributes: dict[str, Any]
    explanation: str = ""
    deferred: bool = False
    previous: dict[str, Any] | None = None  # what state recorded last time, for "old → new"
    fingerprint: str = ""


@dataclass
class OutputChange:
    name: str
    before: Any
    after: Any
    sensitive: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.before != self.after)


class DriftKind(StrEnum):
    DELETED = "deleted"  # the object is gone
    UPDATED = "updated"  # its attributes changed
    OWNERSHIP = "ownership"  # its reconciler:stack / reconciler:address tags were removed or changed


@dataclass
class DriftEntry:
    """Something that changed outside reconciler since the last apply."""

    address: Address
    kind: DriftKind
    diffs: list[AttributeDiff] = field(default_factory=list)
    after: dict[str, Any] | None = None  # the attributes the cloud reports now


@dataclass
class Plan:
    stack: str
    changes: list[ResourceChange] = field(default_factory=list)
    data: list[DataRead] = field(default_factory=list)
    outputs: list[OutputChange] = field(default_factory=list)
    drift: list[DriftEntry] = field(default_factory=list)
    refresh_only: bool = False
    destroy: bool = False
    lineage: str | None = None
    serial: int = 0
    variables: dict[str, Any] = field(default_factory=dict)
    config_digest: str = ""
    fingerprints: dict[str, str] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)  # shown with the plan, not saved
    labels: dict[str, Label] = field(default_factory=dict)  # object id → how it reads (image names)
    # The configuration as written (expressions, never values), for the JSON plan: built when the
    # plan is saved or rendered (render.tfplan.configuration), kept in plan files.
    configuration: dict[str, Any] = field(default_factory=dict)
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    waves: WavePlan | None = None  # the rollout waves, when the stack uses waves (planning.waves)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def has_changes(self) -> bool:
        return (
            any(c.is_change for c in self.changes)
            or any(o.changed for o in self.outputs)
            or (self.refresh_only and bool(self.takeable_drift))
        )

    @property
    def takeable_drift(self) -> list[DriftEntry]:
        """What `apply --refresh-only` records (a changed ownership tag is only reported)."""
        return [d for d in self.drift if d.kind is not DriftKind.OWNERSHIP]

    @property
    def hazards(self) -> list[str]:
        """Every change's warnings, in plan order: shown as a banner by every renderer."""
        return [w for c in self.changes for w in c.warnings]

    def change_for(self, address: Address) -> ResourceChange | None:
        return next((c for c in self.changes if c.address == address), None)
