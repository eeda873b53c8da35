"""Alarm gates checked while planning: every alarm a fleet's `rollout { alarms = [...] }` names
must be an alarm of this stack (a resource of an ALARM type the plan keeps) or exist in the cloud
now. Otherwise the plan fails with an error at the `alarms` line, instead of an apply that starts
a rollout and rolls it back at the first health gate ("alarm … does not exist").

`gate_names` and `missing_alarms` are pure; `check_alarm_gates` asks each fleet's provider once,
in one batched read (`FleetOps.alarm_states`), about the names the stack does not declare.
Callers: planning.planner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.errors import ConfigError, Diagnostic, SourcePos
from reconciler.planning.model import Action, ResourceChange
from reconciler.sdk import AlarmState, FleetOps, Provider, TypeRole, provider_for_type
from reconciler.sdk.registry import all_schemas
from reconciler.values import contains_unknown

if TYPE_CHECKING:
    from reconciler.config import Stack


class _AlarmReader(Protocol):
    def fleet_ops(self) -> FleetOps: ...


@dataclass(frozen=True)
class Gate:
    """One alarm name one fleet's rollout gates on."""

    fleet: ResourceChange
    alarm: str


def _schema(change: ResourceChange) -> Any:
    return all_schemas().get((change.address.mode, change.type_name))


def gate_names(changes: Iterable[ResourceChange]) -> list[Gate]:
    """The alarm names of every fleet the plan keeps (known names only)."""
    gates: list[Gate] = []
    for change in changes:
        schema = _schema(change)
        if schema is None or schema.fleet is None or change.action is Action.DELETE or not change.after:
            continue
        try:
            config = schema.fleet.rollout_config(change.after)
        except (ValueError, TypeError):  # a name known only after apply: nothing to check yet
            continue
        gates += [Gate(change, name) for name in config.alarms if not contains_unknown(name)]
    return gates


def stack_alarms(changes: Iterable[ResourceChange]) -> tuple[set[str], set[str]]:
    """(names of the alarms the plan keeps or creates, names of those it deletes)."""
    kept: set[str] = set()
    deleted: set[str] = set()
    for change in changes:
        schema = _schema(change)
        if schema is None or schema.role is not TypeRole.ALARM or schema.cloud_name is None:
            continue
        if change.action is Action.DELETE:
            deleted.add(str((change.before or {}).get(schema.cloud_name)))
        elif change.after is not None and isinstance(change.after.get(schema.cloud_name), str):
            kept.add(change.after[schema.cloud_name])
    return kept, deleted


def missing_alarms(
    gates: Iterable[Gate], *, declared: set[str], deleted: set[str], in_cloud: Mapping[str, AlarmState]
) -> list[Gate]:
    """Gates whose alarm is neither declared by the stack nor in the cloud (or deleted by this plan)."""
    return [
        g
        for g in gates
        if g.alarm not in declared
        and (g.alarm in deleted or in_cloud.get(g.alarm, AlarmState.MISSING) is AlarmState.MISSING)
    ]


def _position(stack: Stack, change: ResourceChange) -> tuple[SourcePos | None, str]:
    block = stack.block_at(change.address)
    if block is None:
        return None, ""
    for rollout in block.body.blocks_of("rollout"):
        attr = rollout.body.attributes.get("alarms")
        if attr is not None:
            return attr.pos, block.context
    return block.pos, block.context


def _alarm_type(provider_key: str) -> str:
    """`resource "T"` for the provider's alarm type, in words for the error's hint."""
    name = provider_key.split(".")[0]
    for (_, type_name), schema in sorted(all_schemas().items()):
        if schema.role is TypeRole.ALARM and provider_for_type(type_name) == name:
            return f'resource "{type_name}"'
    return "an alarm resource"


def check_alarm_gates(
    changes: list[ResourceChange], *, stack: Stack, providers: Mapping[str, Provider]
) -> None:
    """Raise ConfigError naming each `alarms` line whose alarm exists nowhere."""
    gates = gate_names(changes)
    if not gates:
        return
    declared, deleted = stack_alarms(changes)
    unknown: dict[str, set[str]] = {}
    for gate in gates:
        if gate.alarm not in declared:
            unknown.setdefault(gate.fleet.provider, set()).add(gate.alarm)
    in_cloud: dict[str, AlarmState] = {}
    for key, names in sorted(unknown.items()):
        provider = providers.get(key)
        if provider is None or not hasattr(provider, "fleet_ops"):
            in_cloud.update(dict.fromkeys(names, AlarmState.OK))  # cannot tell: leave it to the gate
            continue
        reader: _AlarmReader = provider  # type: ignore[assignment]
        in_cloud.update(reader.fleet_ops().alarm_states(sorted(names)))
    diags: list[Diagnostic] = []
    seen: set[tuple[Any, str]] = set()
    for gate in missing_alarms(gates, declared=declared, deleted=deleted, in_cloud=in_cloud):
        pos, context = _position(stack, gate.fleet)
        if (pos, gate.alarm) in seen:  # one error per line and name, however many instances
            continue
        seen.add((pos, gate.alarm))
        where = "is deleted by this plan" if gate.alarm in deleted else "does not exist"
        kind = _alarm_type(gate.fleet.provider)
        diags.append(
            Diagnostic(
                summary=f'Alarm "{gate.alarm}" {where}',
                pos=pos,
                context=context,
                detail=f"{gate.fleet.address} gates its rollouts on alarm {gate.alarm!r}, which is neither "
                "a resource of this stack nor an alarm in the cloud, so every rollout would fail its "
                f"first health gate. Declare it ({kind}) and name it by reference, or fix the name.",
            )
        )
    if diags:
        raise ConfigError(diags)
