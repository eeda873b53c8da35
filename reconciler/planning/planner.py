"""The planner: refresh, then walk the stack's blocks in dependency order and decide, for every
resource instance, what apply must do. The result is a Plan, the only thing apply acts on.

Callers: cli (plan, apply without a plan file, destroy). Network access happens only through the
providers it is given (refresh and data-source reads); the decisions are the pure functions in
planning.decide.

Secrets: evaluation gives marked values (values.Sensitive); the planner compares and records them
concealed (keyed digests under the state's key, reconciler.sensitive), so the Plan never holds a
secret. The cloud's side is marked where the configuration, the schema or state says a value is
sensitive before the two are compared, so an unchanged secret compares equal and a changed one
shows as "(sensitive value changed)". Dependants evaluate against the marked values themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.address import Address, InstanceKey, Mode
from reconciler.errors import ConfigError, Diagnostic
from reconciler.expressions import EvalContext, evaluate
from reconciler.graph.build import build_graph
from reconciler.graph.walk import walk
from reconciler.planning.decide import decide_action, diff_attributes
from reconciler.planning.fleets import (
    cleanup_change,
    expand_fleet_rollout,
    in_wave,
    is_release_change,
    resume_change,
    rollout_change,
)
from reconciler.planning.gates import check_alarm_gates
from reconciler.planning.instances import (
    assemble,
    evaluate_instance,
    expand,
    planned_value,
)
from reconciler.planning.labels import labels_of_reads
from reconciler.planning.model import (
    Action,
    DataRead,
    OutputChange,
    Plan,
    ResourceChange,
)
from reconciler.planning.previews import add_previews
from reconciler.planning.refresh import Observed, detect_drift, refresh_state
from reconciler.planning.related import Changes, Values
from reconciler.planning.scope import apply_targets, check_ownership, plan_destroy, plan_orphans
from reconciler.planning.sensitivity import (
    SECRET_LOOKUP,
    dotted_digests,
    lookup_fingerprint,
    marked_result,
    migrate_legacy_digests,
    output_value,
    provider_tag_warnings,
    tag_warning,
)
from reconciler.planning.waves import plan_waves
from reconciler.rollout.record import RolloutRecord, read_record
from reconciler.sdk import FleetType, Provider, ReadDataRequest, ResourceSchema
from reconciler.sdk.registry import all_schemas
from reconciler.sensitive import conceal, conceal_like, digest_paths, keyed_digest, reveal
from reconciler.state import State
from reconciler.values import UNKNOWN, contains_unknown, has_marks, marked_paths

if TYPE_CHECKING:
    from reconciler.config import ResourceBlock, Stack


@dataclass(frozen=True)
class PlanOptions:
    targets: tuple[Address, ...] = ()
    replace: tuple[Address, ...] = ()
    refresh_only: bool = False
    destroy: bool = False
    parallelism: int = 10


@dataclass
class _Walk:
    """Mutable scratch space of one planning walk, shared by its worker threads."""

    ctx: EvalContext
    observed: Observed
    plan: Plan
    key: str  # the state lineage's digest key
    lock: threading.Lock = field(default_factory=threading.Lock)
    configured: set[str] = field(default_factory=set)


def make_plan(
    *,
    stack: Stack,
    variables: Mapping[str, Any],
    state: State,
    providers: Mapping[str, Provider],
    options: PlanOptions = PlanOptions(),
) -> Plan:
    graph = build_graph(stack)
    plan = Plan(
        stack=stack.settings.name,
        lineage=state.lineage,
        serial=state.serial,
        refresh_only=options.refresh_only,
        destroy=options.destroy,
        variables=dict(variables),
        targets=[str(t) for t in options.targets],
    )
    observed = refresh_state(
        state=state, providers=providers, stack=plan.stack, parallelism=options.parallelism
    )
    migrate_legacy_digests(state, observed)
    plan.drift = detect_drift(state=state, observed=observed)
    for text, obs in observed.items():
        if obs is not None and obs.fingerprint:  # keyed: a fleet's covers its (maybe secret) tags
            plan.fingerprints[text] = keyed_digest(obs.fingerprint, state.digest_key).text[12:44]
    if options.destroy:
        plan_destroy(plan, state, observed, stack)
        return plan
    ctx = EvalContext(variables=dict(variables), locals={}, data={}, resources={}, base_dir=stack.directory)
    w = _Walk(ctx=ctx, observed=observed, plan=plan, key=state.digest_key)

    def visit(node: str) -> None:
        _visit(node, stack=stack, state=state, providers=providers, w=w, options=options)

    result = walk(graph, visit, parallelism=options.parallelism)
    if result.failures:
        _raise_failures([err for _, err in result.failures])
    plan.warnings.extend(provider_tag_warnings(stack, ctx))
    if options.refresh_only:
        plan.changes = []
    else:
        plan_orphans(plan, state, observed, w.configured)
        check_alarm_gates(plan.changes, stack=stack, providers=providers)
        if options.targets:
            apply_targets(plan, graph, options.targets)
        else:  # an output no longer declared: apply drops it from state, so the plan says so
            for name in sorted(set(state.outputs) - set(stack.outputs)):
                prev = state.outputs[name]
                plan.outputs.append(
                    OutputChange(name=name, before=prev.value, after=None, sensitive=prev.sensitive)
                )
        add_previews(plan, schemas=all_schemas(), providers=providers)
    plan.changes.sort(key=lambda c: c.address.sort_key())
    plan.data.sort(key=lambda d: d.address.sort_key())
    plan.labels = labels_of_reads(plan.data)
    plan.waves = plan_waves(
        plan.changes, settings=stack.settings.waves, graph=graph, stack=stack, state=state, now=time.time()
    )
    check_ownership(plan, observed)
    return plan


def _raise_failures(errors: list[BaseException]) -> None:
    diags: list[Diagnostic] = []
    for err in errors:
        if isinstance(err, ConfigError):
            diags.extend(err.diagnostics)
        else:
            raise err
    raise ConfigError(diags)


def _visit(
    node: str,
    *,
    stack: Stack,
    state: State,
    providers: Mapping[str, Provider],
    w: _Walk,
    options: PlanOptions,
) -> None:
    kind, _, name = node.partition(".")
    if kind == "var":
        return
    if kind == "local":
        value = evaluate(stack.locals[name].expr, w.ctx)
        with w.lock:
            w.ctx.locals[name] = value
        return
    if kind == "output":
        out = stack.outputs[name]
        after = output_value(out, evaluate(out.value, w.ctx), key=w.key)
        prev = state.outputs.get(name)
        with w.lock:
            w.plan.outputs.append(
                OutputChange(
                    name=name, before=prev.value if prev else None, after=after, sensitive=out.sensitive
                )
            )
        return
    addr = Address.parse(node)
    if addr.mode is Mode.DATA:
        _plan_data(stack.data[addr], stack=stack, state=state, providers=providers, w=w)
    else:
        _plan_resource(stack.resources[addr], state=state, w=w, options=options)


def schema_for(block: ResourceBlock) -> ResourceSchema:
    return all_schemas()[(block.mode, block.type_name)]


def _plan_data(
    block: ResourceBlock, *, stack: Stack, state: State, providers: Mapping[str, Provider], w: _Walk
) -> None:
    schema = schema_for(block)
    values: dict[InstanceKey, Any] = {}
    for inst in expand(block, w.ctx):
        config = evaluate_instance(block, inst, schema)
        previous = state.data.get(str(inst.address))
        if contains_unknown(config):
            read = DataRead(
                address=inst.address,
                type_name=block.type_name,
                attributes={},
                deferred=True,
                previous=previous,
                explanation="read during apply: its arguments are known only then",
            )
            values[inst.key] = UNKNOWN
        else:
            provider = providers[block.provider_key]
            plain = reveal(config, what=str(inst.address))
            res = provider.read_data(
                ReadDataRequest(address=inst.address, type_name=block.type_name, config=plain)
            )
            secret = has_marks(config)
            attributes = marked_result(res.attributes, schema.sensitive, whole=secret)
            read = DataRead(
                address=inst.address,
                type_name=block.type_name,
                attributes=conceal(attributes, w.key),
                explanation=res.explanation if not secret else SECRET_LOOKUP,
                previous=previous,
                fingerprint=lookup_fingerprint(res.fingerprint, secret=secret, key=w.key),
            )
            values[inst.key] = attributes
        with w.lock:
            w.plan.data.append(read)
            if read.fingerprint:
                w.plan.fingerprints[str(inst.address)] = read.fingerprint
    with w.lock:
        w.ctx.data[block.address] = assemble(block, values)


def _plan_resource(block: ResourceBlock, *, state: State, w: _Walk, options: PlanOptions) -> None:
    schema = schema_for(block)
    values: dict[InstanceKey, Any] = {}
    related: Values | None = None  # the other blocks' values: this block's join them after the loop
    depends_on = sorted(set(_block_deps(block)))  # the same for every instance
    for inst in expand(block, w.ctx):
        text = str(inst.address)
        rs = state.resources.get(text)
        obs = w.observed.get(text)
        marked = evaluate_instance(block, inst, schema)  # sensitive parts marked
        warning = tag_warning(block, marked.get("tags"))
        if warning is not None:
            with w.lock:
                if warning not in w.plan.warnings:
                    w.plan.warnings.append(warning)
        if schema.complete is not None:  # e.g. a fleet's unpinned version: its template's default
            if related is None:
                with w.lock:
                    related = Values(w.ctx.resources)
            schema.complete(marked, obs.attributes if obs is not None else None, related)
        # the cloud's side is sensitive where the configuration, the schema or state says so
        paths = [*marked_paths(marked), *(digest_paths(rs.attributes) if rs is not None else [])]
        paths += [(n,) for n in schema.sensitive]
        prior_marked = dict(obs.attributes) if obs is not None else None
        if prior_marked is not None and rs is not None:  # config-only arguments (rollout) live in state
            for name in schema.arguments:
                if name not in prior_marked and name in rs.attributes:
                    prior_marked[name] = rs.attributes[name]
        prior = conceal_like(prior_marked, paths, w.key) if prior_marked is not None else None
        desired = conceal(marked, w.key)
        diffs = diff_attributes(
            prior,
            desired,
            arguments=schema.arguments,
            sensitive=schema.sensitive,
            force_new=schema.force_new,
            ignore=block.lifecycle.ignore_changes,
        )
        if prior is not None and prior_marked is not None:
            for ignored in block.lifecycle.ignore_changes:  # keep what the cloud has
                if ignored in prior:
                    desired[ignored] = prior[ignored]
                    marked[ignored] = prior_marked[ignored]
        replace = any(t.contains(inst.address) for t in options.replace)
        action, reason, replace_paths = decide_action(
            prior=prior,
            desired=desired,
            diffs=diffs,
            replace_requested=replace,
            existed_in_state=rs is not None,
        )
        if action is Action.REPLACE and block.lifecycle.prevent_destroy:
            raise ConfigError(
                [
                    Diagnostic(
                        summary=f"Instance cannot be destroyed: {text} has lifecycle.prevent_destroy set",
                        pos=block.pos,
                        detail="The plan would replace it (because "
                        f"{', '.join(replace_paths) or 'requested'}).",
                    )
                ]
            )
        in_place = action in (Action.NOOP, Action.UPDATE)
        changed = [d.path for d in diffs] if action is Action.UPDATE else None
        after, note = planned_value(
            schema=schema, desired=desired, prior=prior, in_place=in_place, changed=changed
        )
        seen, _ = planned_value(  # what dependants evaluate against: the marked values themselves
            schema=schema, desired=marked, prior=prior_marked, in_place=in_place, changed=changed
        )
        change = ResourceChange(
            address=inst.address,
            action=action,
            type_name=block.type_name,
            provider=block.provider_key,
            reason=reason,
            id=rs.id if rs else None,
            before=prior,
            after=after,
            note=note,
            diffs=diffs if action is not Action.CREATE else [],
            replace_paths=replace_paths,
            sensitive_paths=sorted({*schema.sensitive, *dotted_digests(prior), *dotted_digests(after)}),
            depends_on=list(depends_on),
            create_before_destroy=block.lifecycle.create_before_destroy,
        )
        if schema.fleet is not None and prior is not None:
            _plan_rollout(
                change,
                schema.fleet,
                desired=desired,
                prior=prior,
                record=read_record(rs.rollout, where=text) if rs else None,
                w=w,
            )
        values[inst.key] = seen
        with w.lock:
            w.plan.changes.append(change)
            w.configured.add(text)
    with w.lock:
        w.ctx.resources[block.address] = assemble(block, values)


def _plan_rollout(
    change: ResourceChange,
    fleet: FleetType,
    *,
    desired: dict[str, Any],
    prior: dict[str, Any],
    record: RolloutRecord | None,
    w: _Walk,
) -> None:
    """A fleet whose launch template version changes is rolled out, not merely updated."""
    if resume_change(change, record, fleet):
        in_wave(change, fleet.rollout_config(desired).wave)
        return
    if cleanup_change(change, record, prior, fleet=fleet, now=time.time()):
        return
    if change.action is not Action.UPDATE or not is_release_change(change.diffs, fleet):
        return
    with w.lock:
        reads = list(w.plan.data)
        related = Changes(w.plan.changes)
    plan = expand_fleet_rollout(
        fleet=fleet, prior=prior, desired=desired, related=related, reads=reads, record=record
    )
    rollout_change(change, plan, fleet)
    in_wave(change, fleet.rollout_config(desired).wave)


def _block_deps(block: ResourceBlock) -> list[str]:
    from reconciler.graph.build import node_for

    out = []
    for ref in [*block.references(), *block.depends_on]:
        node = node_for(ref)
        if node and not node.startswith(("var.", "local.", "data.")):
            out.append(node)
    return out
