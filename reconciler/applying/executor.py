"""The apply executor: walks a Plan in dependency order, in parallel, calling providers and
writing state after every resource step.

It re-evaluates each resource's arguments with the values apply has learnt (ids of resources it
just created), using the data-source results recorded in the plan (never re-resolving a lookup),
and refuses when that differs from what the plan promised. On the first failure it starts nothing
new, lets running steps finish, and raises ApplyError; state already holds every finished step, so
the next run converges. Secrets: evaluation gives marked values; a provider gets them unmarked
(sensitive.reveal), state gets them concealed under the state's key, and dependants evaluate
against the marked values. Callers: cli (apply, destroy).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from reconciler.address import Address, InstanceKey, Mode
from reconciler.applying.checks import accept_refresh, check_consistent
from reconciler.applying.coordinator import clean_up, poll_seconds
from reconciler.applying.phases import after_rollouts
from reconciler.applying.rollout_jobs import NotStarted
from reconciler.applying.rollouts import RolloutCoordinator
from reconciler.errors import ApplyError, ConfigError, Diagnostic, NameClashError, ReconcilerError
from reconciler.expressions import EvalContext, evaluate
from reconciler.graph.build import build_graph
from reconciler.graph.walk import walk
from reconciler.planning.instances import assemble, evaluate_instance, expand
from reconciler.planning.model import Action, Plan, ResourceChange
from reconciler.planning.names import NameRegistry, instance_claim, planned_claims, provider_scopes
from reconciler.planning.related import Values
from reconciler.planning.sensitivity import marked_result, output_value
from reconciler.rollout.report import RolloutEvent
from reconciler.rollout.resolve import with_new_release
from reconciler.sdk import (
    ChangeRequest,
    DeleteRequest,
    ObservedResource,
    Provider,
    ReadDataRequest,
    ResourceSchema,
    known_image,
)
from reconciler.sdk.registry import all_schemas
from reconciler.sensitive import conceal, digest_paths, reveal
from reconciler.state import OutputState, ResourceState, StateWriter
from reconciler.values import Path, has_marks, mark_paths, marked_paths

if TYPE_CHECKING:
    from reconciler.config import ResourceBlock, Stack

EventSink = Callable[[str, str], None]  # (address, message)
RolloutSink = Callable[[str, RolloutEvent, str], None]  # (address, event, its one-line text)


@dataclass
class _Run:
    plan: Plan
    stack: Stack
    writer: StateWriter
    providers: Mapping[str, Provider]
    ctx: EvalContext
    pool: ThreadPoolExecutor
    stop: threading.Event
    emit: EventSink
    lock: threading.Lock
    on_rollout: RolloutSink | None = None
    rollouts: RolloutCoordinator | None = None
    rollout_pool: ThreadPoolExecutor | None = None
    names: NameRegistry = field(default_factory=NameRegistry)
    scopes: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.writer.key


def apply_plan(
    *,
    plan: Plan,
    stack: Stack,
    variables: Mapping[str, Any],
    writer: StateWriter,
    providers: Mapping[str, Provider],
    parallelism: int = 10,
    emit: EventSink = lambda _a, _m: None,
    on_rollout: RolloutSink | None = None,
    max_rollouts: int | None = None,
) -> None:
    """Carry out `plan`; raises ApplyError (state saved) on failure. Every ROLLOUT is handed to
    one rollout coordinator (applying.rollouts); `max_rollouts` fleets of a wave roll at once
    (None: all of it)."""
    if plan.refresh_only:
        accept_refresh(plan, writer)
        return
    graph: dict[str, set[str]] = {} if plan.destroy else build_graph(stack)
    deletes = [c for c in plan.changes if c.action is Action.DELETE]
    state_now = writer.snapshot()
    for c in deletes:
        node = f"delete:{c.address}"
        deps: set[str] = set()
        for other_text, rs in state_now.resources.items():
            if str(c.address) in rs.dependencies or str(c.address.block) in rs.dependencies:
                other = Address.parse(other_text)
                if any(d.address == other for d in deletes):
                    deps.add(f"delete:{other}")
                elif str(other.block) in graph:
                    deps.add(str(other.block))
        graph[node] = deps
    after_rollouts(graph, plan, all_schemas())
    ctx = EvalContext(variables=dict(variables), locals={}, data={}, resources={}, base_dir=stack.directory)
    stop = threading.Event()
    scopes = provider_scopes({key: p.settings for key, p in providers.items()})
    rollouts = [c for c in plan.changes if c.action is Action.ROLLOUT and c.rollout is not None]
    coordinator = (
        RolloutCoordinator(
            waves={str(c.address): c.rollout.wave for c in rollouts if c.rollout is not None},
            writer=writer,
            stack=plan.stack,
            emit=emit,
            on_event=on_rollout,
            poll_s=poll_seconds(),
            max_rollouts=max_rollouts,
            parallelism=parallelism,
            rules=plan.waves.rules if plan.waves is not None else None,
            stop=stop,
            hold=plan.waves.hold if plan.waves is not None else None,
            providers=providers,
        )
        if rollouts
        else None
    )
    # a block waiting for its fleets' waves holds a walk worker and its instances a pool thread
    # each (they only wait): give them their own so every fleet of a wave can be handed over
    rollout_blocks = len({str(c.address.block) for c in rollouts})
    with (
        ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="apply") as pool,
        ThreadPoolExecutor(max_workers=max(1, len(rollouts)), thread_name_prefix="handover") as handover,
    ):
        if coordinator is not None:
            coordinator.start()
        run = _Run(
            plan=plan,
            stack=stack,
            writer=writer,
            providers=providers,
            ctx=ctx,
            pool=pool,
            stop=stop,
            emit=emit,
            lock=threading.Lock(),
            on_rollout=on_rollout,
            rollouts=coordinator,
            rollout_pool=handover,
            names=NameRegistry(planned_claims(plan, stack, scopes)),
            scopes=scopes,
        )
        try:
            result = walk(
                graph, lambda n: _visit(n, run), parallelism=parallelism + rollout_blocks, stop=stop
            )
        finally:
            halted = None
            if coordinator is not None:
                coordinator.close()
                halted = coordinator.halted_error()
    if result.failures or halted is not None:
        failures: list[tuple[str, Exception]] = [("rollout", halted)] if halted is not None else []
        for node, err in result.failures:
            if isinstance(err, _InstanceFailures):
                failures.extend(err.failures)
            else:
                failures.append(
                    (
                        node.removeprefix("delete:"),
                        err if isinstance(err, Exception) else RuntimeError(str(err)),
                    )
                )
        raise ApplyError(failures)
    if not plan.destroy:
        _write_outputs(run)
    else:
        writer.set_outputs({})


class _InstanceFailures(Exception):
    def __init__(self, failures: list[tuple[str, Exception]]) -> None:
        self.failures = failures
        super().__init__("; ".join(f"{a}: {e}" for a, e in failures))


def _visit(node: str, run: _Run) -> None:
    if node.startswith("delete:"):
        change = run.plan.change_for(Address.parse(node.removeprefix("delete:")))
        assert change is not None
        _delete(change, run)
        return
    kind, _, name = node.partition(".")
    if kind == "var" or kind == "output":
        return
    if kind == "local":
        value = evaluate(run.stack.locals[name].expr, run.ctx)
        with run.lock:
            run.ctx.locals[name] = value
        return
    addr = Address.parse(node)
    if addr.mode is Mode.DATA:
        _data(run.stack.data[addr], run)
    else:
        _resource(run.stack.resources[addr], run)


def _data(block: ResourceBlock, run: _Run) -> None:
    values: dict[InstanceKey, Any] = {}
    for inst in expand(block, run.ctx):
        read = next((d for d in run.plan.data if d.address == inst.address), None)
        if read is not None and not read.deferred and not digest_paths(read.attributes):
            attrs = read.attributes
        else:  # deferred, or sensitive (a plan holds only digests of it): read it again
            schema = all_schemas()[(Mode.DATA, block.type_name)]
            config = evaluate_instance(block, inst, schema)
            res = run.providers[block.provider_key].read_data(
                ReadDataRequest(
                    address=inst.address,
                    type_name=block.type_name,
                    config=reveal(config, what=str(inst.address)),
                )
            )
            attrs = marked_result(res.attributes, schema.sensitive, whole=has_marks(config))
        values[inst.key] = attrs
        stored = conceal(attrs, run.key)
        if run.writer.data_of(str(inst.address)) != stored:
            run.writer.set_data(str(inst.address), stored)
    with run.lock:
        run.ctx.data[block.address] = assemble(block, values)


def _resource(block: ResourceBlock, run: _Run) -> None:
    schema = all_schemas()[(Mode.MANAGED, block.type_name)]
    instances = expand(block, run.ctx)
    values: dict[InstanceKey, Any] = {}
    failures: list[tuple[str, Exception]] = []
    views: list[Values] = []  # one view of the other blocks, shared by this block's instances

    def related_view() -> Values:
        with run.lock:
            if not views:
                views.append(Values(run.ctx.resources))
            return views[0]

    def one(inst: Any) -> tuple[InstanceKey, Any]:
        if run.stop.is_set():
            raise _Skipped()
        change = run.plan.change_for(inst.address)
        current = run.writer.resource(str(inst.address))
        if change is None or change.action is Action.NOOP:
            if (
                change is not None
                and current is not None
                and change.before is not None
                and current.attributes != change.before
            ):
                current.attributes = dict(change.before)  # take in what the refresh saw
                run.writer.set_resource(current)
            return inst.key, _seen(block, inst, schema, current)
        config = evaluate_instance(block, inst, schema)
        if schema.complete is not None:  # the planner's rule, with what apply knows now
            schema.complete(config, current.attributes if current else None, related_view())
        for ignored in block.lifecycle.ignore_changes:  # as the planner did: keep what the cloud had
            if change.before is not None and ignored in change.before:
                config[ignored] = change.before[ignored]
        check_consistent(change, conceal(config, run.key))
        if change.action in (Action.CREATE, Action.REPLACE):  # a name known only now: still unique?
            scope = run.scopes.get(block.provider_key, f"the region of provider {block.provider_key}")
            clash = run.names.claim(instance_claim(block, inst.address, config, scope=scope))
            if clash is not None:
                raise NameClashError(clash)
        deps = sorted(set(change.depends_on))
        provider = run.providers[block.provider_key]
        marks = [*marked_paths(config), *((n,) for n in schema.sensitive)]
        plain = reveal(config, what=str(inst.address))
        step = _Step(
            run=run,
            block=block,
            schema=schema,
            address=inst.address,
            change=change,
            current=current,
            config=config,
            plain=plain,
            marks=marks,
            deps=deps,
            provider=provider,
        )
        observed = _STEPS[change.action](step)
        return inst.key, mark_paths(dict(observed.attributes), marks)

    def pool_for(inst: Any) -> ThreadPoolExecutor:
        change = run.plan.change_for(inst.address)
        rolls = change is not None and change.action is Action.ROLLOUT and run.rollout_pool is not None
        return run.rollout_pool if rolls and run.rollout_pool is not None else run.pool

    futures = [(inst, pool_for(inst).submit(one, inst)) for inst in instances]
    for inst, fut in futures:
        try:
            key, value = fut.result()
            values[key] = value
        except _Skipped:
            continue
        except Exception as err:
            failures.append((str(inst.address), err))
            run.stop.set()
    if failures:
        raise _InstanceFailures(failures)
    with run.lock:
        run.ctx.resources[block.address] = assemble(block, values)


@dataclass
class _Step:
    """One resource instance's planned change, with what apply evaluated for it."""

    run: _Run
    block: ResourceBlock
    schema: ResourceSchema
    address: Address
    change: ResourceChange
    current: ResourceState | None
    config: dict[str, Any]  # evaluated, sensitive values marked
    plain: dict[str, Any]  # the same, unmarked: what the provider gets
    marks: list[Path]
    deps: list[str]
    provider: Provider

    def record(self, observed: ObservedResource, **kw: Any) -> None:
        _record(self.run, self.address, self.block, observed, self.deps, **kw)


def _change(s: _Step) -> ObservedResource:
    """CREATE, UPDATE, REPLACE: one provider call (two for a replacement)."""
    run, change, current = s.run, s.change, s.current
    if change.action is Action.REPLACE and not change.create_before_destroy and current is not None:
        _delete(change, run, verb="Destroying (replace)")
        current = None
    started = time.monotonic()
    verb = "Modifying" if change.action is Action.UPDATE else "Creating"
    run.emit(str(s.address), f"{verb}...")
    if change.action is Action.UPDATE and current is not None:
        request = ChangeRequest(
            address=s.address,
            type_name=s.block.type_name,
            config=s.plain,
            stack=run.plan.stack,
            prior=current.attributes,
            id=current.id,
            payload=change.payload,
            progress=lambda line: run.emit(str(s.address), line),
        )
        observed = s.provider.update(request)
    else:
        request = ChangeRequest(
            address=s.address,
            type_name=s.block.type_name,
            config=s.plain,
            stack=run.plan.stack,
            payload=change.payload,
            progress=lambda line: run.emit(str(s.address), line),
        )
        old = current
        observed = s.provider.create(request)
        if change.action is Action.REPLACE and old is not None:  # create_before_destroy
            s.record(observed, config=s.config, marks=s.marks)
            _delete_id(run, s.address, s.block.type_name, s.block.provider_key, old)
    s.record(observed, config=s.config, marks=s.marks)
    done = {"Creating": "Creation", "Modifying": "Modifications"}[verb]
    run.emit(str(s.address), f"{done} complete after {time.monotonic() - started:.0f}s [id={observed.id}]")
    return observed


def _in_state(s: _Step) -> ResourceState:
    if s.current is None:
        raise ReconcilerError(f"{s.address} is not in the state any more; run plan again")
    return s.current


def _roll_out(s: _Step) -> ObservedResource:
    """ROLLOUT: the coordinator runs it; the fleet's other changed arguments are updated after."""
    run, change, current = s.run, s.change, _in_state(s)
    if s.schema.fleet is None or change.rollout is None:
        raise ReconcilerError(f"{s.address}: {s.block.type_name} is not a fleet; run plan again")
    if not known_image(change.rollout.plan.new.image_id):  # e.g. an image copied by this apply
        with run.lock:
            related = Values(run.ctx.resources)
        _, new = s.schema.fleet.releases(
            prior=current.attributes, desired=s.plain, related=related, labels={}
        )
        resolved = replace(change.rollout, plan=with_new_release(change.rollout.plan, new))
        change = replace(change, rollout=resolved)
    if run.rollouts is None:
        raise ReconcilerError(f"{s.address}: the plan holds no rollout for it; plan again")
    try:
        observed, failure = run.rollouts.run(
            change=change, current=current, provider=s.provider, fleet=s.schema.fleet, config=s.plain
        )
    except NotStarted as err:  # its wave was not reached: the apply's summary says so
        raise _Skipped() from err
    recorded = run.writer.resource(str(s.address))
    rollout = recorded.rollout if recorded is not None else None
    if failure is not None:
        kept = current.attributes
        s.record(observed, config=kept, marks=[*s.marks, *digest_paths(kept)], rollout=rollout)
        raise failure
    if change.rollout is not None and change.rollout.update_after:  # e.g. capacity changed too
        observed = s.provider.update(
            ChangeRequest(
                address=s.address,
                type_name=s.block.type_name,
                config=s.plain,
                stack=run.plan.stack,
                prior=dict(observed.attributes),
                id=observed.id,
            )
        )
    s.record(observed, config=s.config, marks=s.marks, rollout=rollout)
    return observed


def _clean_up(s: _Step) -> ObservedResource:
    """CLEANUP: the coordinator deletes what the fleet's last rollout kept; the fleet stays."""
    run, current = s.run, _in_state(s)
    observed = clean_up(
        change=s.change, current=current, provider=s.provider, emit=run.emit, stack=run.plan.stack
    )
    kept = current.attributes
    s.record(observed, config=kept, marks=[*s.marks, *digest_paths(kept)], rollout=current.rollout)
    return observed


# What apply does for each action of the closed vocabulary (NOOP and READ do nothing here).
_STEPS: dict[Action, Callable[[_Step], ObservedResource]] = {
    Action.CREATE: _change,
    Action.UPDATE: _change,
    Action.REPLACE: _change,
    Action.ROLLOUT: _roll_out,
    Action.CLEANUP: _clean_up,
}


def _seen(block: ResourceBlock, inst: Any, schema: Any, current: ResourceState | None) -> Any:
    """What dependants see of an unchanged instance: its state, where state holds digests of
    sensitive values, with the configuration's own (marked) values instead."""
    if current is None:
        return None
    attributes = dict(current.attributes)
    if not digest_paths(attributes):
        return attributes
    config = evaluate_instance(block, inst, schema)
    return {**attributes, **{k: v for k, v in config.items() if k in attributes}}


class _Skipped(Exception):
    """An instance step not started because another step already failed."""


def _record(
    run: _Run,
    address: Address,
    block: ResourceBlock,
    observed: ObservedResource,
    deps: list[str],
    *,
    config: Mapping[str, Any] | None = None,
    marks: list[Path] | None = None,
    rollout: dict[str, Any] | None = None,
) -> None:
    """State after a step: what the cloud reports, plus the config-only arguments it cannot
    report (a fleet's rollout block), kept so the next plan compares like with like; concealed
    wherever the configuration (`marks`) or the schema says a value is sensitive."""
    attributes = conceal(mark_paths(dict(observed.attributes), list(marks or [])), run.key)
    for name, value in conceal(dict(config or {}), run.key).items():
        attributes.setdefault(name, value)
    run.writer.set_resource(
        ResourceState(
            address=str(address),
            type=block.type_name,
            provider=block.provider_key,
            id=observed.id,
            attributes=attributes,
            dependencies=deps,
            rollout=rollout,
        )
    )


def _delete(change: ResourceChange, run: _Run, verb: str = "Destroying") -> None:
    current = run.writer.resource(str(change.address))
    if current is None:
        return
    run.emit(str(change.address), f"{verb}... [id={current.id}]")
    started = time.monotonic()
    _delete_id(run, change.address, change.type_name, change.provider, current)
    run.emit(str(change.address), f"Destruction complete after {time.monotonic() - started:.0f}s")


def _delete_id(run: _Run, address: Address, type_name: str, provider: str, current: ResourceState) -> None:
    run.providers[provider].delete(
        DeleteRequest(
            address=address,
            type_name=type_name,
            id=current.id,
            stack=run.plan.stack,
            prior=dict(current.attributes),
        )
    )
    latest = run.writer.resource(str(address))
    if latest is not None and latest.id == current.id:
        run.writer.remove_resource(str(address))


def _write_outputs(run: _Run) -> None:
    outputs: dict[str, OutputState] = {}
    diags: list[Diagnostic] = []
    for name, out in run.stack.outputs.items():
        try:
            value = output_value(out, evaluate(out.value, run.ctx), key=run.key)
            outputs[name] = OutputState(value=value, sensitive=out.sensitive)
        except ConfigError as err:
            diags.extend(err.diagnostics)
    if diags:
        raise ConfigError(diags)
    if outputs != run.writer.outputs():
        run.writer.set_outputs(outputs)
