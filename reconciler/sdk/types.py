"""The Provider protocol and its request/response dataclasses.

The engine (reconciler/) talks to clouds only through this module's types. A provider sees one
resource request at a time, plus batched reads (`refresh` takes every instance of one type at
once); it never sees the graph. Callers: planning (schemas, read_data, refresh), applying (create,
update, delete), state recovery and import (find_owned, import_resource).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel

from reconciler.address import Address, Mode

if TYPE_CHECKING:
    from reconciler.sdk.fleet import FleetType

OWNER_STACK_TAG = "reconciler:stack"
OWNER_ADDRESS_TAG = "reconciler:address"


@dataclass(frozen=True)
class UpdatePreview:
    """What an in-place update will do to computed attributes, known while planning, and a note
    for the reviewer (e.g. launch template: `latest_version` 7 → 8, "new version 8 (default)")."""

    computed: dict[str, Any] = field(default_factory=dict)
    note: str = ""


# (prior attributes, changed argument paths, desired arguments) → preview; pure, no cloud calls.
UpdatePreviewer = Callable[[Mapping[str, Any], Sequence[str], Mapping[str, Any]], UpdatePreview]


class TypeRole(StrEnum):
    """What the engine does with a type beyond planning it."""

    PLAIN = "plain"
    FLEET = "fleet"  # rolled out when its release arguments change (`ResourceSchema.fleet`)
    IMAGE_LOOKUP = "image_lookup"  # a machine-image lookup: `ami list`, "old → new image" in plans
    ALARM = "alarm"  # a monitoring alarm a fleet's `rollout { alarms }` may name, by its cloud_name


@dataclass(frozen=True)
class Label:
    """How an object reads in a plan: "app-1.4.2 (ami-0a1b…, 2026-11-20)"; `facts` are short
    provider words shown after the id ("ebs root 8 GiB encrypted", "x86_64")."""

    id: str
    name: str
    version: str = ""
    created: str = ""
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedObject:
    """Another object of the plan as a hook may see it: before and after this run."""

    type_name: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    address: str = ""  # "aws_launch_template.web" ("" when the view does not know it)


class Related(Protocol):
    """What a hook may see of the rest of the plan: objects by their id, or all of them."""

    def find(self, object_id: Any) -> PlannedObject | None: ...

    def objects(self) -> Iterator[PlannedObject]: ...


# (before or None, planned after) → warnings a reviewer must not miss (e.g. "image … becomes
# PUBLIC"); pure. The engine shows them as a banner in every rendering of the plan.
Hazards = Callable[[Mapping[str, Any] | None, Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class PreviewRequest:
    """A planned create or update of a type whose schema has `previewed`: the provider may read
    the cloud and the rest of the plan to say what apply will do beyond setting arguments.
    `config` holds the planned arguments (UNKNOWN where known only at apply)."""

    address: Address
    type_name: str
    config: Mapping[str, Any]
    prior: Mapping[str, Any] | None
    stack: str
    related: Related


@dataclass(frozen=True)
class ChangePreview:
    """A provider's account of one planned change: `payload` (JSON-safe) is saved in the plan and
    given back to create/update at apply (`ChangeRequest.payload`); `lines` are shown under the
    change, `note` beside it, `warnings` in the plan's banner. `pending` says the cloud needs work
    although the arguments match (the change is an update then, not a no-op)."""

    payload: dict[str, Any] | None = None
    lines: tuple[str, ...] = ()
    note: str = ""
    warnings: tuple[str, ...] = ()
    pending: bool = False


@runtime_checkable
class Previewer(Protocol):
    """A provider that previews the changes of its `previewed` types (see PreviewRequest)."""

    def preview(self, request: PreviewRequest) -> ChangePreview: ...


# (desired arguments, to fill in place; prior attributes or None; the related objects) → None
Completer = Callable[[dict[str, Any], Mapping[str, Any] | None, Related], None]


@dataclass(frozen=True)
class TerraformView:
    """How a type appears in Terraform's plan JSON (`plan --format json`, docs/plan-json.md).

    `shape` maps the type's attributes (or its configuration arguments) to the attribute names and
    nesting of `type_name` in Terraform's provider, so that policies written for that type apply
    unchanged. It must be structural: move and rename leaves, turn blocks into lists, convert
    plain leaves (a bool to "true"); any other leaf (an unknown, a secret, an expression) is
    passed through untouched wherever it lands. With `same_object` the type *is* that provider
    type (its changes are reported as `type_name`); without it the view is only a second picture
    of the object in `planned_values` and `prior_state` (an `aws_fleet` seen as its auto-scaling
    group). `schema_version` is that provider type's schema version.
    """

    type_name: str
    shape: Callable[[Mapping[str, Any]], dict[str, Any]]
    same_object: bool = True
    schema_version: int = 0


@dataclass(frozen=True)
class ResourceSchema:
    """What the engine needs to know about one resource or data-source type.

    `model` validates the configuration arguments (nested blocks are fields typed as a model for a
    single block, or a list of models for a repeatable one). `computed` attributes exist only after
    apply (ids, ARNs, version numbers) and are UNKNOWN in a plan that creates the resource.
    Changing a `force_new` argument replaces the resource. `sensitive` arguments are marked by the
    engine as they arrive (from the configuration or from `refresh`): never shown, stored only as
    keyed digests. A provider is given, and reports, their plain values. `cloud_name` is the
    argument that names the object in the cloud, unique per type within a region and account:
    two resources of a stack may not claim one.
    """

    type_name: str
    mode: Mode
    model: type[BaseModel]
    computed: frozenset[str] = frozenset()
    force_new: frozenset[str] = frozenset()
    sensitive: frozenset[str] = frozenset()
    computed_on_update: frozenset[str] = frozenset()  # computed attrs an in-place update changes
    preview_update: UpdatePreviewer | None = None  # refines computed_on_update when it can
    # Arguments the engine fills from other planned objects before comparing, at plan and apply
    # (a fleet without a pinned version runs its template's planned default version).
    complete: Completer | None = None
    label: Callable[[Mapping[str, Any]], Label | None] | None = None  # how a result reads in plans
    noun: str = "result"  # what one is called in a stale-plan reason ("image", "VPC")
    role: TypeRole = TypeRole.PLAIN
    fleet: FleetType | None = None  # set iff role is FLEET: the rollout hooks
    description: str = ""
    # Terraform types users write for this one: (Terraform type, one line on the difference).
    # An unknown type that is one of these is answered with this type and that line.
    terraform_types: tuple[tuple[str, str], ...] = ()
    cloud_name: str | None = None
    terraform_view: TerraformView | None = None  # its picture in Terraform's plan JSON
    hazards: Hazards | None = None  # warnings for a planned create/update (banner in every rendering)
    previewed: bool = False  # the provider's `preview` (Previewer) runs for each planned change
    after_rollouts: bool = False  # apply starts its changes only once every rollout has finished

    @property
    def arguments(self) -> tuple[str, ...]:
        """The configurable attribute names (the model's fields)."""
        return tuple(self.model.model_fields)


def provider_for_type(type_name: str) -> str:
    """The provider a type belongs to, by Terraform's rule: the name before the first "_"."""
    return type_name.split("_", 1)[0]


@dataclass(frozen=True)
class ProviderSettings:
    """An evaluated `provider "NAME" { ... }` block: the engine's part. A provider's own settings
    type (made by its plugin's `configure`) derives from this and adds the block's arguments."""

    name: str
    alias: str | None = None

    @property
    def key(self) -> str:
        return f"{self.name}.{self.alias}" if self.alias else self.name

    def scope(self) -> str | None:
        """The name space of the cloud objects this configuration reaches, in words ("region
        us-east-1"): equal for configurations that reach the same one; None when unknown."""
        return None


@dataclass(frozen=True)
class Ownership:
    """The stack and address a cloud object is tagged with (None when untagged)."""

    stack: str | None
    address: str | None


@dataclass(frozen=True)
class ObservedResource:
    """A resource as the cloud reports it, in the shape of its schema's model plus computed attrs.

    `fingerprint` is a short string that changes whenever the object changes (for stale-plan
    checks); `ownership` is read from its tags.
    """

    id: str
    attributes: dict[str, Any]
    ownership: Ownership
    fingerprint: str = ""


@dataclass(frozen=True)
class ReadDataRequest:
    address: Address
    type_name: str
    config: dict[str, Any]


@dataclass(frozen=True)
class DataResult:
    """A data source's attributes, plus a one-line explanation of the choice for the plan."""

    attributes: dict[str, Any]
    explanation: str = ""
    fingerprint: str = ""


@dataclass(frozen=True)
class RefreshRequest:
    """Every instance of one type that state knows, by id: read them all in a batch.

    `known` is what state last recorded of each id (its attributes; sensitive ones as digests),
    when the caller has it. A provider may take from it facts that cannot have changed for that
    object (an instance's image never changes for its id) instead of reading them again; anything
    that can change is read every time.
    """

    type_name: str
    ids: Mapping[str, Address]  # cloud id → address it has in state
    stack: str
    known: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeRequest:
    """Create or update one resource. `config` holds fully known, validated arguments.

    `prior` is the state attributes (None on create). `stack` and `address` go into ownership tags.
    """

    address: Address
    type_name: str
    config: dict[str, Any]
    stack: str
    prior: dict[str, Any] | None = None
    id: str | None = None
    payload: Mapping[str, Any] | None = None  # the plan's ChangePreview.payload for this change
    # A line for the operator while a long change runs ("copying app-1.4.0 to eu-west-1: pending
    # (2m10s)"); the engine shows it beside the resource. A no-op by default.
    progress: Callable[[str], None] = field(default=lambda _line: None, compare=False, repr=False)


@dataclass(frozen=True)
class ImportRequest:
    """Adopt an existing cloud object as `address`: read it by `id`, tag it for `stack`/`address`.

    `id` is what the user typed (launch template id or name, target group ARN or name, auto-scaling
    group name). `config` holds the configuration's known arguments for `address` (a fleet takes
    its fleet name from `name`); values known only after apply are left out.
    """

    address: Address
    type_name: str
    id: str
    stack: str
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteRequest:
    address: Address
    type_name: str
    id: str
    stack: str
    prior: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    """What the engine needs from a cloud provider."""

    @property
    def settings(self) -> ProviderSettings: ...

    def schemas(self) -> Mapping[tuple[Mode, str], ResourceSchema]: ...

    def read_data(self, request: ReadDataRequest) -> DataResult: ...

    def refresh(self, request: RefreshRequest) -> dict[str, ObservedResource | None]:
        """Current state of each id; None for an id that no longer exists."""
        ...

    def create(self, request: ChangeRequest) -> ObservedResource:
        """Create (or adopt an object of this stack and address left by a crashed run)."""
        ...

    def update(self, request: ChangeRequest) -> ObservedResource: ...

    def delete(self, request: DeleteRequest) -> None:
        """Delete; refuses (OwnershipError) an object without this stack's ownership tag."""
        ...

    def find_owned(self, type_name: str, stack: str) -> list[ObservedResource]:
        """Every object of `type_name` tagged `reconciler:stack = stack`, whatever its address
        (batched, tag-filtered reads); `ownership.address` says which address it is tagged with."""
        ...

    def import_resource(self, request: ImportRequest) -> ObservedResource:
        """Read an existing object by id, add the ownership tags for `request.stack` and
        `request.address`, and return it. Refuses (OwnershipError) an object tagged for another
        stack; a missing object is a CloudError."""
        ...
