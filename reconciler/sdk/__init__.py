"""The provider SDK: everything the engine and a provider share, and nothing else.

A provider package (reconciler_aws) imports only this package and its modules: the resource and
data-source type declarations and the request/response types of the `Provider` protocol
(`types`), the fleet protocol a rollout runs through and the fleet as it is planned from
(`fleet`), the `rollout { }` block a fleet type embeds (`rollout_block`), what a plugin registers
(`plugin`, `backend`), what `ami list` asks of a provider (`images`), and, re-exported here,
the engine's addresses, errors, value sentinels and state records a provider reads or raises.
import-linter keeps it so (pyproject.toml). This module's `__all__` is the contract.
Callers: the engine (planning, applying, rollout, config, cli), provider packages.
"""

from reconciler.address import Address, Mode
from reconciler.errors import (
    CloudError,
    CloudErrorKind,
    ConfigError,
    Diagnostic,
    LockError,
    LockHolder,
    OwnershipError,
    ReconcilerError,
    SandboxError,
    StateError,
)
from reconciler.sdk.fleet import (
    UNKNOWN_IMAGE,
    AlarmState,
    FleetOps,
    FleetSnapshot,
    FleetType,
    GroupInfo,
    GroupMember,
    InstanceInfo,
    LifecycleState,
    Release,
    TargetHealth,
    known_image,
)
from reconciler.sdk.rollout_block import (
    RolloutConfig,
    StrategyName,
    format_duration,
    parse_duration,
)
from reconciler.sdk.types import (
    OWNER_ADDRESS_TAG,
    OWNER_STACK_TAG,
    ChangeRequest,
    Completer,
    DataResult,
    DeleteRequest,
    ImportRequest,
    Label,
    ObservedResource,
    Ownership,
    PlannedObject,
    Provider,
    ProviderSettings,
    ReadDataRequest,
    RefreshRequest,
    Related,
    ResourceSchema,
    TerraformView,
    TypeRole,
    UpdatePreview,
    UpdatePreviewer,
    provider_for_type,
)
from reconciler.state.backend import Backend
from reconciler.state.holder import holder_from_json, holder_json, new_holder
from reconciler.state.model import State
from reconciler.values import UNKNOWN, contains_unknown

__all__ = [
    "OWNER_ADDRESS_TAG",
    "OWNER_STACK_TAG",
    "UNKNOWN",
    "UNKNOWN_IMAGE",
    "Address",
    "AlarmState",
    "Backend",
    "ChangeRequest",
    "CloudError",
    "CloudErrorKind",
    "Completer",
    "ConfigError",
    "DataResult",
    "DeleteRequest",
    "Diagnostic",
    "FleetOps",
    "FleetSnapshot",
    "FleetType",
    "GroupInfo",
    "GroupMember",
    "ImportRequest",
    "InstanceInfo",
    "Label",
    "LifecycleState",
    "LockError",
    "LockHolder",
    "Mode",
    "ObservedResource",
    "Ownership",
    "OwnershipError",
    "PlannedObject",
    "Provider",
    "ProviderSettings",
    "ReadDataRequest",
    "ReconcilerError",
    "RefreshRequest",
    "Related",
    "Release",
    "ResourceSchema",
    "RolloutConfig",
    "SandboxError",
    "State",
    "StateError",
    "StrategyName",
    "TargetHealth",
    "TerraformView",
    "TypeRole",
    "UpdatePreview",
    "UpdatePreviewer",
    "contains_unknown",
    "format_duration",
    "holder_from_json",
    "holder_json",
    "known_image",
    "new_holder",
    "parse_duration",
    "provider_for_type",
]
