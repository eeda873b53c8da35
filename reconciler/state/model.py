"""The state model: what reconciler remembers between runs, and its JSON form.

`State` holds, per stack, every managed resource by address (its cloud id, attributes, dependencies
and any fleet rollout in progress), the last resolved data sources (so a plan can say "old AMI →
new AMI"), the outputs and, while one runs, the bake between rollout waves (optional `bake`).
`to_dict`/`from_dict` give the JSON-safe form; `from_dict` checks the shape and raises
`StateError` with a message that names the file and what is wrong.

Secrets: every sensitive part of an attribute, a data source or an output is held as a
`values.Digest` (HMAC-SHA256 under `digest_key`, a random key per lineage that only state holds;
written as {"__sensitive__": "hmac-sha256:..."}), and a sensitive output keeps only that digest.
A state written by an older version (format 1: no key, `sha256:` strings, sensitive outputs in
clear) is migrated when read: it gets a key, its sensitive outputs are replaced by their keyed
digest and its `sha256:` strings are read as Digests (reconciler.sensitive.migrate_legacy turns
those into keyed ones once a refresh confirms them); the next write stores only the new form.

Callers: state backends (read/write), `state.writer.StateWriter` (apply), planning (prior state),
cli (`state list/show/rm`, `output`, `show`).
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from reconciler.address import Address
from reconciler.errors import AddressError, StateError
from reconciler.sensitive import conceal, from_json, keyed_digest, new_key, to_json
from reconciler.values import Digest, mark

FORMAT_VERSION = 2  # the newest state format this build reads and the one it writes
# 2: sensitive values as keyed digests ({"__sensitive__": ...}), digest_key, no sensitive outputs


@dataclass
class OutputState:
    """An output's last applied value; a `sensitive` one holds only its keyed Digest."""

    value: Any
    sensitive: bool = False

    def to_dict(self, key: str) -> dict[str, Any]:
        """JSON form; a sensitive output's value only as its keyed digest, whatever it holds."""
        value = conceal(mark(self.value) if self.sensitive else self.value, key)
        return {"value": to_json(value), "sensitive": self.sensitive}


@dataclass
class ResourceState:
    """One managed resource instance as last applied; ownership tags live in `attributes`."""

    address: str
    type: str
    provider: str
    id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    rollout: dict[str, Any] | None = None  # progress of a fleet rollout, None when none is running

    def to_dict(self, key: str) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "provider": self.provider,
            "id": self.id,
            "attributes": to_json(conceal(self.attributes, key)),
            "dependencies": sorted(self.dependencies),
            "rollout": copy.deepcopy(self.rollout),
        }


@dataclass
class State:
    """Everything one stack's state file holds."""

    stack: str
    lineage: str
    serial: int = 0
    format_version: int = FORMAT_VERSION
    digest_key: str = field(default_factory=new_key, repr=False)  # never in a plan file
    resources: dict[str, ResourceState] = field(default_factory=dict)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, OutputState] = field(default_factory=dict)
    # the bake between rollout waves in progress (rollout.bake reads and writes it); None: none.
    # Optional: a state without it (any older one) has no bake in progress; no format change.
    bake: dict[str, Any] | None = None

    @classmethod
    def new(cls, stack: str) -> State:
        """A fresh, empty state: new lineage, serial 0."""
        return cls(stack=stack, lineage=str(uuid.uuid4()))

    def copy(self) -> State:
        return copy.deepcopy(self)

    def check_stack(self, stack: str, *, source: str = "state") -> None:
        """Refuse a state that belongs to another stack."""
        if self.stack != stack:
            raise StateError(
                f'{source} belongs to stack "{self.stack}", not to this stack "{stack}"; '
                "check the backend settings (path or key) of this stack"
            )

    def to_dict(self, *, sections: bool = True) -> dict[str, Any]:
        """The JSON-safe form (`sections=False`: without "resources" and "data", which
        state.encoding encodes entry by entry)."""
        out: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "lineage": self.lineage,
            "serial": self.serial,
            "stack": self.stack,
            "digest_key": self.digest_key,
        }
        if sections:
            out["resources"] = {a: self.resources[a].to_dict(self.digest_key) for a in sorted(self.resources)}
            out["data"] = {a: self.data_dict(a) for a in sorted(self.data)}
        out["outputs"] = {n: self.outputs[n].to_dict(self.digest_key) for n in sorted(self.outputs)}
        if self.bake is not None:
            out["bake"] = copy.deepcopy(self.bake)
        return out

    def data_dict(self, address: str) -> Any:
        """One data source's recorded attributes in JSON-safe form (sensitive parts concealed)."""
        return to_json(conceal(self.data[address], self.digest_key))

    def to_json(self) -> str:
        """Stable text: sorted keys, two-space indent, trailing newline. StateError if not JSON-safe."""
        try:
            return (
                json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
                + "\n"
            )
        except (TypeError, ValueError) as exc:
            raise StateError(f"state of stack {self.stack!r} cannot be written as JSON: {exc}") from exc

    @classmethod
    def from_json(cls, text: str, *, source: str = "state", expected_stack: str | None = None) -> State:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StateError(f"{source} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc
        return cls.from_dict(raw, source=source, expected_stack=expected_stack)

    @classmethod
    def from_dict(cls, raw: Any, *, source: str = "state", expected_stack: str | None = None) -> State:
        """Validate and load; `source` (e.g. "state file .reconciler/state.json") starts every message."""
        v = _Validator(source)
        top = v.obj(raw, "the top level")
        version = v.field(top, "format_version", int, "the top level")
        if version > FORMAT_VERSION:
            raise StateError(
                f"{source} has format_version {version}, but this reconciler supports up to "
                f"{FORMAT_VERSION}; upgrade reconciler to use it"
            )
        if version < 1:
            raise StateError(f"{source} has an invalid format_version {version}")
        lineage = v.field(top, "lineage", str, "the top level")
        if not lineage:
            raise StateError(f"{source}: lineage is empty")
        serial = v.field(top, "serial", int, "the top level")
        if serial < 0:
            raise StateError(f"{source}: serial must not be negative (got {serial})")
        stack = v.field(top, "stack", str, "the top level")
        key = v.field(top, "digest_key", str, "the top level", default="") or new_key()
        if not _is_key(key):
            raise StateError(f"{source}: digest_key must be 64 hexadecimal digits")
        state = cls(stack=stack, lineage=lineage, serial=serial, format_version=version, digest_key=key)
        if expected_stack is not None:
            state.check_stack(expected_stack, source=source)
        legacy = version < 2
        for addr, item in v.obj(top.get("resources", {}), "resources").items():
            state.resources[addr] = _resource_from_dict(v, addr, item, legacy=legacy)
        for addr, item in v.obj(top.get("data", {}), "data").items():
            _check_address(v, addr, "data")
            state.data[addr] = from_json(v.obj(item, f"data[{addr!r}]"), legacy=legacy)
        for name, item in v.obj(top.get("outputs", {}), "outputs").items():
            where = f"outputs[{name!r}]"
            out = v.obj(item, where)
            if "value" not in out:
                raise StateError(f"{source}: {where} is missing value")
            sensitive = v.field(out, "sensitive", bool, where, default=False)
            value = from_json(out["value"], legacy=legacy)
            if sensitive and not isinstance(value, Digest) and value is not None:
                value = keyed_digest(value, key)  # an older version kept it in clear
            state.outputs[name] = OutputState(value=value, sensitive=sensitive)
        bake = top.get("bake")
        if bake is not None:
            state.bake = copy.deepcopy(v.obj(bake, "bake"))
        return state


def _is_key(key: str) -> bool:
    return len(key) == 64 and all(c in "0123456789abcdef" for c in key)


def _resource_from_dict(v: _Validator, key: str, item: Any, *, legacy: bool) -> ResourceState:
    where = f"resources[{key!r}]"
    _check_address(v, key, "resources")
    obj = v.obj(item, where)
    address = v.field(obj, "address", str, where)
    if address != key:
        raise StateError(f"{v.source}: {where} has address {address!r}, which does not match its key")
    deps = v.field(obj, "dependencies", list, where, default=[])
    if not all(isinstance(d, str) for d in deps):
        raise StateError(f"{v.source}: {where}.dependencies must be a list of addresses (strings)")
    rollout = obj.get("rollout")
    if rollout is not None:
        rollout = v.obj(rollout, f"{where}.rollout")
    return ResourceState(
        address=address,
        type=v.field(obj, "type", str, where),
        provider=v.field(obj, "provider", str, where),
        id=v.field(obj, "id", str, where),
        attributes=from_json(v.obj(obj.get("attributes", {}), f"{where}.attributes"), legacy=legacy),
        dependencies=list(deps),
        rollout=copy.deepcopy(rollout),
    )


def _check_address(v: _Validator, key: str, section: str) -> None:
    try:
        Address.parse(key)
    except AddressError as exc:
        raise StateError(f"{v.source}: {section} has a key that is not an address: {exc}") from exc


_TYPE_NAMES = {int: "an integer", str: "a string", bool: "true or false", list: "a list", dict: "an object"}


class _Validator:
    """Shape checks that raise StateError naming the source and the offending place."""

    def __init__(self, source: str) -> None:
        self.source = source

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise StateError(f"{self.source}: {where} must be an object, not {_json_type(value)}")
        return value

    def field(self, obj: dict[str, Any], name: str, kind: type, where: str, default: Any = ...) -> Any:
        if name not in obj:
            if default is not ...:
                return default
            place = "" if where == "the top level" else f" in {where}"
            raise StateError(f"{self.source}: missing {name}{place}")
        value = obj[name]
        # bool is a subclass of int; a serial of `true` is still wrong.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            place = name if where == "the top level" else f"{where}.{name}"
            raise StateError(f"{self.source}: {place} must be {_TYPE_NAMES[kind]}, not {_json_type(value)}")
        return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )
