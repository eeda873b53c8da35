"""State recovery and import: rebuild state from the ownership tags in the cloud, adopt one object.

`recover` asks every provider for every managed type it knows which objects carry this stack's
`reconciler:stack` tag (`Provider.find_owned`, batched and tag-filtered), records each under the
address its `reconciler:address` tag names, and then lets the planner evaluate the configuration
once so that what the cloud cannot report comes from the configuration, as apply would have
recorded it: config-only arguments (a fleet's `rollout` block), dependencies, data sources and
outputs. Objects tagged for the stack whose address the configuration does not declare are recorded
too, so the next plan shows them as deletions; nothing is adopted or dropped silently. It holds the
state lock and refuses to replace a state that is not empty (or cannot be read) unless forced.

`import_object` adopts one existing object as a configured address (`Provider.import_resource`
reads it, refuses another stack's, adds the ownership tags) and records it like apply would.

The choices are pure functions (`assign`, `inferred_dependencies`, `complete_from_plan`); only the
providers touch the cloud. What is recorded is concealed as apply would record it: the schema's
sensitive attributes, and whatever the configuration marks sensitive (taken from the plan), are
kept only as keyed digests. Callers: cli.state (`state recover`, `import`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reconciler.address import Address, Mode
from reconciler.config import Loaded
from reconciler.errors import AddressError, ReconcilerError, StateError
from reconciler.planning.model import Action, Plan
from reconciler.planning.planner import PlanOptions, make_plan
from reconciler.sdk import ImportRequest, ObservedResource, Provider, provider_for_type
from reconciler.sdk.registry import all_schemas
from reconciler.sensitive import conceal, conceal_like, digest_paths, mark_schema
from reconciler.state import Backend, OutputState, ResourceState, State, StateWriter, read_or_new
from reconciler.values import contains_unknown, has_marks


@dataclass(frozen=True)
class Found:
    """One object a provider reports as this stack's: the provider key and type it was found as."""

    provider: str
    type_name: str
    observed: ObservedResource


@dataclass
class Recovery:
    """What `recover` rebuilt: the state, which addresses the configuration declares, warnings."""

    state: State
    configured: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def orphans(self) -> list[str]:
        return sorted(a for a in self.state.resources if a not in self.configured)


# --- pure decisions ------------------------------------------------------------------------------


def _identity(f: Found) -> tuple[str, str]:
    return f.observed.id, str(f.observed.attributes.get("arn") or "")


def assign(found: Iterable[Found], *, preferred: Mapping[str, str]) -> tuple[dict[str, Found], list[str]]:
    """Address text → the object recorded there, and a warning for every object left out.

    `preferred` maps a configured block address to its provider key: when two providers report
    objects for one address, that provider's object wins (the same object seen through two
    provider blocks of one region is one object). An object without a usable address tag, or a
    second object tagged with an address already taken, is left out with a warning.
    """
    by_address: dict[str, list[Found]] = {}
    warnings: list[str] = []
    for f in found:
        tag = f.observed.ownership.address
        what = f"{f.type_name} {f.observed.id}"
        try:
            addr = Address.parse(tag or "")
        except AddressError:
            warnings.append(f"{what} carries this stack's tag but no usable reconciler:address tag ({tag!r})")
            continue
        if addr.mode is not Mode.MANAGED or addr.type != f.type_name:
            warnings.append(f"{what} is tagged with address {tag}, which is not a {f.type_name}")
            continue
        by_address.setdefault(str(addr), []).append(f)
    chosen: dict[str, Found] = {}
    for text, candidates in sorted(by_address.items()):
        block = Address.parse(text).block
        want = preferred.get(str(block), provider_for_type(block.type))
        ranked = sorted(candidates, key=lambda f: (f.provider != want, f.provider, _identity(f)))
        chosen[text] = ranked[0]
        others = sorted({_identity(f)[0] for f in ranked[1:] if _identity(f) != _identity(ranked[0])})
        if others:
            warnings.append(
                f"{text}: recorded {ranked[0].observed.id}; also tagged with this address: "
                f"{', '.join(others)} (not recorded: delete them or correct their reconciler:address tag)"
            )
    return chosen, warnings


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def inferred_dependencies(resources: Mapping[str, ResourceState]) -> dict[str, list[str]]:
    """For each resource, the others whose id or ARN appears among its attributes (so a fleet
    depends on its template and target group), for ordering deletions of unconfigured objects."""
    owners: dict[str, str] = {}
    for text, rs in resources.items():
        for key in (rs.id, rs.attributes.get("arn")):
            if isinstance(key, str) and key:
                owners.setdefault(key, text)
    out: dict[str, list[str]] = {}
    for text, rs in resources.items():
        deps = {owners[s] for s in _strings(rs.attributes) if s in owners and owners[s] != text}
        out[text] = sorted(deps)
    return out


def config_values(after: Mapping[str, Any] | None, arguments: Iterable[str]) -> dict[str, Any]:
    """The known configuration arguments of a planned value (UNKNOWN ones left out)."""
    after = after or {}
    return {
        n: copy.deepcopy(after[n])
        for n in arguments
        if n in after and not contains_unknown(after[n]) and not has_marks(after[n])
    }


def complete_from_plan(state: State, plan: Plan) -> set[str]:
    """Fill in, from a plan made against `state`, what the cloud cannot report: config-only
    arguments, dependencies, data sources and outputs. Returns the configured addresses."""
    schemas = all_schemas()
    configured: set[str] = set()
    for change in plan.changes:
        text = str(change.address)
        rs = state.resources.get(text)
        if rs is None or change.action is Action.DELETE:
            continue
        configured.add(text)
        schema = schemas.get((Mode.MANAGED, rs.type))
        for name, value in (change.before or {}).items():  # concealed where the config is sensitive
            if has_marks(value) and name in rs.attributes:
                rs.attributes[name] = copy.deepcopy(value)
        for name, value in config_values(change.after, schema.arguments if schema else ()).items():
            rs.attributes.setdefault(name, value)  # as apply records it: the cloud's view first
        for name, value in (change.after or {}).items():
            if has_marks(value) and schema is not None and name in schema.arguments:
                rs.attributes.setdefault(name, copy.deepcopy(value))
        rs.dependencies = sorted(set(change.depends_on))
    for read in plan.data:
        if not read.deferred:
            state.data[str(read.address)] = copy.deepcopy(read.attributes)
    for out in plan.outputs:
        if not contains_unknown(out.after):
            state.outputs[out.name] = OutputState(value=copy.deepcopy(out.after), sensitive=out.sensitive)
    return configured


# --- recovery ------------------------------------------------------------------------------------


def find_all(*, providers: Mapping[str, Provider], stack: str, parallelism: int = 10) -> list[Found]:
    """Every object of every managed type that each provider finds tagged with `stack`."""
    jobs = [
        (key, type_name)
        for key, provider in sorted(providers.items())
        for (mode, type_name) in sorted(provider.schemas())
        if mode is Mode.MANAGED
    ]

    def one(job: tuple[str, str]) -> list[Found]:
        key, type_name = job
        return [Found(key, type_name, o) for o in providers[key].find_owned(type_name, stack)]

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return [f for part in pool.map(one, jobs) for f in part]


def _existing(backend: Backend, loaded: Loaded, *, force: bool) -> State | None:
    """The state now (None if none or unreadable and forced); refuses to replace one unforced."""
    try:
        state = read_or_new(backend, stack=loaded.stack.settings.name)
    except StateError as err:
        if not force:
            raise StateError(
                f"{err}\n`reconciler state recover --force` replaces {backend.describe()} with what "
                "the cloud says (the current copy becomes the backup)"
            ) from err
        return None
    if state.resources and not force:
        raise StateError(
            f"{backend.describe()} already records {len(state.resources)} resource(s); "
            "`state recover` rebuilds a lost or damaged state and would replace it. "
            "Use --force to replace it anyway"
        )
    return state


def recover(
    *,
    loaded: Loaded,
    backend: Backend,
    providers: Mapping[str, Provider],
    force: bool = False,
    dry_run: bool = False,
    lock_timeout: float = 0.0,
    parallelism: int = 10,
) -> Recovery:
    """Rebuild the stack's state from its ownership tags (see the module docstring)."""
    stack = loaded.stack
    name = stack.settings.name
    with backend.lock(command="reconciler state recover", timeout=lock_timeout):
        old = _existing(backend, loaded, force=force)
        found = find_all(providers=providers, stack=name, parallelism=parallelism)
        preferred = {str(a): b.provider_key for a, b in stack.resources.items()}
        chosen, warnings = assign(found, preferred=preferred)
        state = (
            State.new(name)
            if old is None
            else State(stack=name, lineage=old.lineage, serial=old.serial, digest_key=old.digest_key)
        )
        schemas = all_schemas()
        for text, f in chosen.items():
            before = old.resources.get(text) if old is not None else None
            schema = schemas.get((Mode.MANAGED, f.type_name))
            observed = mark_schema(f.observed.attributes, schema.sensitive if schema else ())
            state.resources[text] = ResourceState(
                address=text,
                type=f.type_name,
                provider=f.provider,
                id=f.observed.id,
                attributes=conceal(observed, state.digest_key),
                rollout=copy.deepcopy(before.rollout) if before and before.id == f.observed.id else None,
            )
        inferred = inferred_dependencies(state.resources)
        configured: set[str] = set()
        try:
            for _ in range(2):  # again when outputs depend on what config-only arguments changed
                plan = make_plan(
                    stack=stack,
                    variables=loaded.variables,
                    state=state.copy(),
                    providers=providers,
                    options=PlanOptions(parallelism=parallelism),
                )
                configured = complete_from_plan(state, plan)
                if all(o.name in state.outputs for o in plan.outputs):
                    break
        except ReconcilerError as err:
            warnings.append(
                f"the configuration could not be evaluated ({str(err).splitlines()[0]}); config-only "
                "arguments (a fleet's rollout block), data sources and outputs are not recorded: "
                "run `reconciler plan` to see why"
            )
            configured = {t for t in state.resources if Address.parse(t).block in stack.resources}
        for text, rs in state.resources.items():
            if text not in configured:
                rs.dependencies = inferred[text]
        result = Recovery(state=state, configured=configured, warnings=warnings)
        if not dry_run:
            state.serial += 1
            backend.write(state)
            result.written = True
        return result


# --- import --------------------------------------------------------------------------------------


def _same_object(rs: ResourceState, *, type_name: str, ids: Sequence[str]) -> bool:
    keys = {rs.id, rs.attributes.get("name"), rs.attributes.get("group_name"), rs.attributes.get("arn")}
    return rs.type == type_name and any(i in keys for i in ids if i)


def import_object(
    *,
    loaded: Loaded,
    backend: Backend,
    providers: Mapping[str, Provider],
    address: Address,
    cloud_id: str,
    lock_timeout: float = 0.0,
    parallelism: int = 10,
) -> ResourceState:
    """Adopt the object `cloud_id` as `address` (declared in the configuration) and record it."""
    stack = loaded.stack
    if address.mode is not Mode.MANAGED:
        raise StateError(f"{address} is a data source; only resources can be imported")
    block = stack.resources.get(address.block)
    if block is None:
        raise StateError(
            f'{address} is not in the configuration; add a resource "{address.type}" "{address.name}" '
            "block first, then import the object into it"
        )
    if address.key is None and (block.count is not None or block.for_each is not None):
        raise StateError(
            f'{address} has count or for_each: name one instance, as in {address}[0] or {address}["key"]'
        )
    with backend.lock(command="reconciler import", timeout=lock_timeout):
        state = read_or_new(backend, stack=stack.settings.name)
        if str(address) in state.resources:
            held = state.resources[str(address)]
            raise StateError(
                f"{address} is already in the state (id {held.id}); "
                f"`reconciler state rm {address}` first to import another object into it"
            )
        plan = make_plan(
            stack=stack,
            variables=loaded.variables,
            state=state,
            providers=providers,
            options=PlanOptions(parallelism=parallelism),
        )
        change = plan.change_for(address)
        if change is None:
            raise StateError(f"{address} is not an instance the configuration declares (check its key)")
        schema = all_schemas()[(Mode.MANAGED, address.type)]
        config = config_values(change.after, schema.arguments)
        ids = [cloud_id, schema.fleet.fleet_name(config) if schema.fleet is not None else ""]
        for text, rs in sorted(state.resources.items()):
            if _same_object(rs, type_name=address.type, ids=ids):
                raise StateError(f"{cloud_id} is already managed as {text} (id {rs.id}) in this stack")
        observed = providers[block.provider_key].import_resource(
            ImportRequest(
                address=address, type_name=address.type, id=cloud_id, stack=stack.settings.name, config=config
            )
        )
        marked = mark_schema(observed.attributes, schema.sensitive)  # and where the config is sensitive:
        attributes = conceal_like(marked, digest_paths(change.after), state.digest_key)
        for name, value in config.items():
            attributes.setdefault(name, value)
        record = ResourceState(
            address=str(address),
            type=address.type,
            provider=block.provider_key,
            id=observed.id,
            attributes=attributes,
            dependencies=sorted(set(change.depends_on)),
        )
        StateWriter(backend, state).set_resource(record)
        return record
