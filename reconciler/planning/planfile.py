"""Saved plan files (`plan --out FILE`, `apply FILE`, `show FILE`): a Plan as self-contained JSON.

A plan file holds the format and tool versions, the stack, the state lineage and serial it was
planned against, the planning options, a digest of the configuration (every *.hcl file and every
file they read with file()/templatefile(), plus the variable values), the variable values, the
fingerprint of every cloud object read, the resolved data sources and the changes, when the plan
was made and its configuration as written (`configuration`: expressions, never evaluated values,
for `show PLAN_FILE --format json`). The layout is docs/plan-file.schema.json. UNKNOWN is stored
as {"__unknown__": true}; addresses as their text. No secret is ever written: every sensitive
value (an argument, a tag, an output, a variable) is there only as its keyed digest (HMAC-SHA256
under the state lineage's key, which the file does not hold, so the digest cannot be checked
against guesses without the state), and as a safety net any string that holds a sensitive
variable's value is replaced by a redaction marker (read back as UNKNOWN, so apply's consistency
check skips it). Files are written 0600.

The model ↔ JSON mapping of changes, data reads, outputs and drift is planning.plan_codec.
Callers: cli.plan (plan --out and --format, apply PLAN_FILE), cli.review (show PLAN_FILE),
planning.staleness (reads PlanFile).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import __version__
from reconciler.errors import AddressError, PlanFileError
from reconciler.expressions.ast import Expr, FunctionCall, Literal, Template
from reconciler.planning.model import Plan
from reconciler.planning.plan_codec import (
    REDACTED_KEY,
    change_from_dict,
    change_to_dict,
    data_from_dict,
    data_to_dict,
    decode_value,
    drift_from_dict,
    drift_to_dict,
    encode_value,
    labels_from_dict,
    labels_to_dict,
    output_from_dict,
    output_to_dict,
)
from reconciler.rollout.waves import WavePlan
from reconciler.sensitive import keyed_digest
from reconciler.state.files import atomic_write
from reconciler.values import SENSITIVE_PREFIX, is_marked, marked_leaves

if TYPE_CHECKING:
    from reconciler.config import Body, Stack

KIND = "reconciler-plan"
FORMAT_VERSION = 4  # 2: typed rollout and cleanup changes, labels; 3: rollout waves;
# 4: the bake an interrupted apply left (waves.bake_in_progress): a reader that ignored it would
# start the held wave without its bake
REDACT_SUBSTRING_MIN = 8  # shorter secrets are redacted only where they are the whole value
FILE_FUNCTIONS = ("file", "templatefile")


@dataclass(frozen=True)
class ConfigDigest:
    """What the configuration was: file name → digest, variable name → salted digest of its value."""

    files: dict[str, str]
    variables: dict[str, str]

    @property
    def value(self) -> str:
        text = json.dumps({"files": self.files, "variables": self.variables}, sort_keys=True)
        return SENSITIVE_PREFIX + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class PlanFile:
    """A loaded plan file. `plan.variables` holds sensitive variables as their digest only."""

    plan: Plan
    config: ConfigDigest
    salt: str
    replace: list[str] = field(default_factory=list)
    sensitive_variables: frozenset[str] = frozenset()
    tool_version: str = __version__
    format_version: int = FORMAT_VERSION


# --- the configuration digest -------------------------------------------------------------


def config_digest(stack: Stack, variables: Mapping[str, Any], *, salt: str, key: str) -> ConfigDigest:
    """Digest every *.hcl file, every file they read with a literal file()/templatefile() path,
    and every variable value: salted, and a sensitive one keyed with the state's `key` (so it cannot
    be looked up in a table, or checked against guesses, without the state)."""
    files: dict[str, str] = {}
    for path, text in stack.sources.items():
        files[_relative(stack.directory, path)] = _digest_bytes(text.encode())
    for path in sorted(referenced_files(stack)):
        name = _relative(stack.directory, path)
        try:
            files.setdefault(name, _digest_bytes(path.read_bytes()))
        except OSError:
            files.setdefault(name, "missing")
    return ConfigDigest(
        files=dict(sorted(files.items())),
        variables={
            name: variable_digest(value, salt=salt, key=key) for name, value in sorted(variables.items())
        },
    )


def variable_digest(value: Any, *, salt: str, key: str) -> str:
    if is_marked(value):
        return keyed_digest(value, key).text
    text = json.dumps(value, sort_keys=True, default=str)
    return SENSITIVE_PREFIX + hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def referenced_files(stack: Stack) -> set[Path]:
    """Files named by a literal first argument of file() or templatefile() anywhere in the stack."""
    exprs: list[Expr] = [a.expr for a in stack.locals.values()]
    exprs += [o.value for o in stack.outputs.values()]
    exprs += [v.default for v in stack.variables.values() if v.default is not None]
    for block in stack.all_blocks():
        exprs += [e for e in (block.count, block.for_each) if e is not None]
        exprs += list(_body_exprs(block.body))
    for provider in stack.providers.values():
        exprs += list(_body_exprs(provider.body))
    found: set[Path] = set()
    while exprs:
        expr = exprs.pop()
        if isinstance(expr, FunctionCall) and expr.name in FILE_FUNCTIONS and expr.args:
            raw = _literal_text(expr.args[0])
            if raw:
                path = Path(raw)
                found.add(path if path.is_absolute() else stack.directory / path)
        exprs.extend(expr.children())
    return found


def _body_exprs(body: Body) -> Iterator[Expr]:
    for attr in body.attributes.values():
        yield attr.expr
    for nested in body.blocks:
        yield from _body_exprs(nested.body)


def _literal_text(expr: Expr) -> str | None:
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, Template):
        parts = [p if isinstance(p, str) else _literal_text(p) for p in expr.parts]
        return None if any(p is None for p in parts) else "".join(str(p) for p in parts)
    return None


def _relative(directory: Path, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(directory.resolve()))
    except ValueError:
        return str(path)


def _digest_bytes(data: bytes) -> str:
    return SENSITIVE_PREFIX + hashlib.sha256(data).hexdigest()


# --- writing ------------------------------------------------------------------------------


def plan_file_dict(
    plan: Plan,
    *,
    config: ConfigDigest,
    salt: str,
    replace: Collection[str] = (),
    sensitive_variables: Collection[str] = (),
) -> dict[str, Any]:
    """The JSON-safe document of a plan file; holds no value of a sensitive variable or output."""
    hidden = frozenset(sensitive_variables)
    variables: dict[str, Any] = {}
    for name, value in sorted(plan.variables.items()):
        if name in hidden:
            variables[name] = {"sensitive": True, "digest": config.variables.get(name, "")}
        else:
            variables[name] = {"value": encode_value(value)}
    doc = {
        "kind": KIND,
        "format_version": FORMAT_VERSION,
        "tool_version": __version__,
        "stack": plan.stack,
        "state": {"lineage": plan.lineage, "serial": plan.serial},
        "options": {
            "targets": list(plan.targets),
            "replace": sorted(replace),
            "refresh_only": plan.refresh_only,
            "destroy": plan.destroy,
        },
        "config": {"digest": config.value, "files": config.files, "variables": config.variables},
        "salt": salt,
        "variables": variables,
        "fingerprints": dict(sorted(plan.fingerprints.items())),
        "data": [data_to_dict(d) for d in plan.data],
        "changes": [change_to_dict(c) for c in plan.changes],
        "outputs": [output_to_dict(o) for o in plan.outputs],
        "drift": [drift_to_dict(d) for d in plan.drift],
        "labels": labels_to_dict(plan.labels),
        "timestamp": plan.timestamp,
        "configuration": encode_value(plan.configuration),
        "waves": plan.waves.to_dict() if plan.waves is not None else None,
    }
    secrets_ = [v for n, v in plan.variables.items() if n in hidden or is_marked(v)]
    return _redact(doc, _secret_strings(secrets_))  # type: ignore[no-any-return]


def write_plan_file(path: Path, doc: Mapping[str, Any]) -> None:
    """Write a plan file document (from `plan_file_dict`) atomically with mode 0600."""
    try:
        text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise PlanFileError(f"the plan cannot be saved as JSON: {exc}") from exc
    try:
        atomic_write(path, text.encode())
    except OSError as exc:
        raise PlanFileError(f"cannot write the plan file {path}: {exc.strerror or exc}") from exc


def _secret_strings(values: list[Any]) -> list[str]:
    leaves = [leaf for v in values for leaf in (marked_leaves(v) if is_marked(v) else _plain_leaves(v))]
    return [leaf for leaf in leaves if isinstance(leaf, str) and leaf]


def _plain_leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _plain_leaves(v)]
    if isinstance(value, list | tuple):
        return [leaf for v in value for leaf in _plain_leaves(v)]
    return [value]


def _redact(value: Any, secret_texts: list[str]) -> Any:
    """Replace every string that is, or holds, a sensitive variable's value by a marker."""
    if not secret_texts:
        return value
    if isinstance(value, str):
        for s in secret_texts:
            if value == s or (len(s) >= REDACT_SUBSTRING_MIN and s in value):
                return {REDACTED_KEY: True}
        return value
    if isinstance(value, dict):
        return {k: _redact(v, secret_texts) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secret_texts) for v in value]
    return value


# --- reading ------------------------------------------------------------------------------


def load_plan(path: Path) -> PlanFile:
    """Read a plan file; PlanFileError says what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanFileError(f"no plan file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read the plan file {path}: {exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{path} is not a plan file: invalid JSON (line {exc.lineno})") from None
    return plan_file_from_dict(raw, source=str(path))


def plan_file_from_dict(raw: Any, *, source: str = "plan file") -> PlanFile:
    if not isinstance(raw, dict) or raw.get("kind") != KIND:
        raise PlanFileError(f"{source} is not a reconciler plan file (made with `plan --out`)")
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise PlanFileError(
            f"{source} has plan format version {version!r}, newer than this reconciler "
            f"{__version__} reads ({FORMAT_VERSION}); use the version that made it "
            f"({raw.get('tool_version', 'unknown')})"
        )
    if version < FORMAT_VERSION:
        raise PlanFileError(
            f"{source} was made by an older reconciler ({raw.get('tool_version', 'unknown')}, plan "
            f"format version {version}); run `reconciler plan --out {source}` again"
        )
    try:
        return _plan_file(raw)
    except (KeyError, TypeError, ValueError, AddressError) as exc:
        raise PlanFileError(f"{source} is damaged: {type(exc).__name__}: {exc}") from None


def _plan_file(raw: dict[str, Any]) -> PlanFile:
    options, state, config = raw["options"], raw["state"], raw["config"]
    hidden = frozenset(n for n, v in raw["variables"].items() if v.get("sensitive"))
    variables = {
        n: (v["digest"] if n in hidden else decode_value(v["value"])) for n, v in raw["variables"].items()
    }
    plan = Plan(
        stack=str(raw["stack"]),
        changes=[change_from_dict(c) for c in raw["changes"]],
        data=[data_from_dict(d) for d in raw["data"]],
        outputs=[output_from_dict(o) for o in raw["outputs"]],
        drift=[drift_from_dict(d) for d in raw["drift"]],
        refresh_only=bool(options["refresh_only"]),
        destroy=bool(options["destroy"]),
        lineage=state["lineage"],
        serial=int(state["serial"]),
        variables=variables,
        config_digest=str(config["digest"]),
        fingerprints={str(k): str(v) for k, v in raw["fingerprints"].items()},
        targets=[str(t) for t in options["targets"]],
        labels=labels_from_dict(raw["labels"]),
        configuration=dict(decode_value(raw.get("configuration") or {})),
        waves=WavePlan.from_dict(raw["waves"]) if raw.get("waves") else None,
    )
    if isinstance(raw.get("timestamp"), str):
        plan.timestamp = raw["timestamp"]
    return PlanFile(
        plan=plan,
        config=ConfigDigest(files=dict(config["files"]), variables=dict(config["variables"])),
        salt=str(raw["salt"]),
        replace=[str(r) for r in options["replace"]],
        sensitive_variables=hidden,
        tool_version=str(raw.get("tool_version", "")),
        format_version=int(raw["format_version"]),
    )
