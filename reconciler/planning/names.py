"""Cloud names claimed by this stack's resources: no two resources may claim one cloud object.

A resource type's schema names the argument that names its object in the cloud
(`ResourceSchema.cloud_name`: the `name` of a launch template, a target group, a fleet), unique
per type within a region and account. Two resource instances of one stack with the same type,
namespace and name would fight over one object (a target group would even be shared silently,
as ELBv2 answers a second identical CreateTargetGroup with the first group), so the stack is
refused: statically, for names known without the cloud (planning.static, before any cloud call),
and at apply, before a create, for names known only then (applying.executor, via NameRegistry).

Namespaces: provider configurations with the same region, profile and endpoint share one; a
provider whose region is not set in the stack (it comes from the environment) is its own, so
that a stack is never refused for a clash that may not exist. Pure, apart from the registry's
lock. A sensitive name is compared like any other and never shown in a message.
Callers: planning.static, applying.executor.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.address import Address, Mode
from reconciler.errors import Diagnostic, SourcePos
from reconciler.planning.model import Action, Plan
from reconciler.sdk import ProviderSettings, ResourceSchema, registry
from reconciler.values import SHOWN, unmark

if TYPE_CHECKING:
    from reconciler.config import ResourceBlock, Stack


@dataclass(frozen=True)
class Claim:
    """Resource instance `address` names its cloud object `name` (of `type_name`) in `scope`."""

    type_name: str
    scope: str
    name: str
    address: str
    pos: SourcePos | None
    context: str = ""  # 'in resource "aws_fleet" "web"'
    sensitive: bool = False  # the name is a sensitive value: messages never show it

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type_name, self.scope, self.name)


def provider_scopes(settings: Mapping[str, ProviderSettings]) -> dict[str, str]:
    """Provider key → name space: equal for configurations that reach the same region and account."""
    return {key: s.scope() or f"the region of provider {key}" for key, s in settings.items()}


def claim_of(
    *,
    schema: ResourceSchema,
    values: Mapping[str, Any],
    address: str,
    scope: str,
    pos: SourcePos | None,
    context: str = "",
) -> Claim | None:
    """The claim of one instance whose (evaluated) arguments are `values`; None if the type has no
    cloud name or the name is not known yet."""
    if schema.cloud_name is None:
        return None
    name, sensitive = unmark(values.get(schema.cloud_name))
    if not isinstance(name, str):
        return None
    return Claim(
        type_name=schema.type_name,
        scope=scope,
        name=name,
        address=address,
        pos=pos,
        context=context,
        sensitive=sensitive,
    )


def clash(claim: Claim, first: Claim) -> Diagnostic:
    where = f" ({first.pos})" if first.pos is not None else ""
    shown = SHOWN if claim.sensitive or first.sensitive else f'"{claim.name}"'
    return Diagnostic(
        f"Duplicate cloud name: {claim.type_name} {shown}",
        claim.pos,
        context=claim.context,
        detail=f"{claim.address} and {first.address}{where} both name their {claim.type_name} {shown} "
        f"in {first.scope}: they would fight over one cloud object. Give each its own name (with count "
        'or for_each, include count.index or each.key, e.g. "web-${each.key}").',
    )


def duplicate_claims(claims: Iterable[Claim]) -> list[Diagnostic]:
    """One diagnostic for every claim of a name an earlier claim (in the given order) took."""
    first: dict[tuple[str, str, str], Claim] = {}
    out: list[Diagnostic] = []
    for claim in claims:
        taken = first.setdefault(claim.key, claim)
        if taken.address != claim.address:
            out.append(clash(claim, taken))
    return out


class NameRegistry:
    """The names the resources of one apply claim, checked again just before each create."""

    def __init__(self, claims: Iterable[Claim] = ()) -> None:
        self._lock = threading.Lock()
        self._taken: dict[tuple[str, str, str], Claim] = {}
        for claim in claims:
            self._taken.setdefault(claim.key, claim)

    def claim(self, claim: Claim | None) -> Diagnostic | None:
        """Take `claim`'s name; the clash if another address has it already."""
        if claim is None:
            return None
        with self._lock:
            taken = self._taken.setdefault(claim.key, claim)
        return clash(claim, taken) if taken.address != claim.address else None


def instance_claim(
    block: ResourceBlock, address: Address, values: Mapping[str, Any], *, scope: str
) -> Claim | None:
    """The claim of one instance of a managed block with these (evaluated) arguments."""
    schema = registry.all_schemas().get((Mode.MANAGED, block.type_name))
    if schema is None or block.mode is not Mode.MANAGED:
        return None
    attr = block.body.attributes.get(schema.cloud_name or "")
    return claim_of(
        schema=schema,
        values=values,
        address=str(address),
        scope=scope,
        pos=attr.pos if attr is not None else block.pos,
        context=block.context,
    )


def planned_claims(plan: Plan, stack: Stack, scopes: Mapping[str, str]) -> list[Claim]:
    """The names a plan's resources keep or take (every change but a deletion), where known."""
    out: list[Claim] = []
    for change in plan.changes:
        block = stack.block_at(change.address)
        if change.action is Action.DELETE or change.after is None or block is None:
            continue
        scope = scopes.get(change.provider, f"the region of provider {change.provider}")
        claim = instance_claim(block, change.address, change.after, scope=scope)
        if claim is not None:
            out.append(claim)
    return out
