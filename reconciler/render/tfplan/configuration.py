"""The configuration as Terraform's plan JSON shows it: `configuration`, `checks`, and from them
`relevant_attributes`.

`configuration_document(stack)` runs when a plan is made (the plan file keeps its result in
`Plan.configuration`, so `show PLAN_FILE` needs no configuration on disk): providers, resources
and data sources with their expressions, outputs and variables, as written, never evaluated. An
expression is `{"constant_value": v}` when it is a literal, `{"references": [...]}` when it refers
to something (each reference with its shorter prefixes and, for a resource instance, its block, as
Terraform lists them), `{}` otherwise. No constant is written for a sensitive variable's default,
a sensitive output, or an argument the provider schema marks sensitive (user_data). Types with a
same-object TerraformView have their arguments renamed and nested as that provider type's (managed
resources only: a data source's arguments are its query, which Terraform's type writes otherwise).
Callers: commands_planfile (plan time), render.tfplan (rendering).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from reconciler.address import Mode
from reconciler.config.model import Body, ResourceBlock, Stack
from reconciler.config.validate import block_field
from reconciler.expressions import Reference, RefKind
from reconciler.expressions.ast import Expr, Literal, ObjectExpr, Template, TupleExpr
from reconciler.planning.model import Plan
from reconciler.render.tfplan.resources import provider_source, reported_type
from reconciler.sdk import ResourceSchema
from reconciler.sdk.registry import all_schemas, plugins
from reconciler.values import UNKNOWN, contains_unknown

_NONE = object()
_SHORT_ROOTS = {RefKind.VAR, RefKind.LOCAL, RefKind.EACH, RefKind.COUNT, RefKind.PATH}


@dataclass(frozen=True)
class _Arg:
    """One argument's expression, carried through a TerraformView like any other leaf."""

    expr: Expr
    secret: bool = False


# ---- expressions ----------------------------------------------------------------------------------


def _constant(expr: Expr) -> Any:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Template) and all(isinstance(p, str) for p in expr.parts):
        return "".join(str(p) for p in expr.parts)
    if isinstance(expr, TupleExpr):
        items = [_constant(e) for e in expr.items]
        return _NONE if any(i is _NONE for i in items) else items
    if isinstance(expr, ObjectExpr):
        out: dict[str, Any] = {}
        for item in expr.items:
            key, value = _constant(item.key), _constant(item.value)
            if key is _NONE or value is _NONE:
                return _NONE
            out[str(key)] = value
        return out
    return _NONE


def _text(parts: tuple[str | int, ...]) -> str:
    out = str(parts[0])
    for p in parts[1:]:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def references(refs: Iterable[Reference]) -> list[str]:
    """Terraform's `references`: each reference, its prefixes down to the object it names, and the
    block of a resource instance (`aws_x.y[0].id`, `aws_x.y[0]`, `aws_x.y`)."""
    out: list[str] = []
    for ref in refs:
        parts = ref.parts
        if ref.kind in _SHORT_ROOTS:
            subject = 2
        else:
            subject = 3 if ref.kind is RefKind.DATA else 2
            if len(parts) > subject and isinstance(parts[subject], int):
                subject += 1
        subject = min(subject, len(parts))
        for end in range(len(parts), subject - 1, -1):
            out.append(_text(parts[:end]))
        block = ref.target_address()
        if block is not None:
            out.append(str(block))
    return list(dict.fromkeys(out))


def expression(expr: Expr, *, secret: bool = False) -> dict[str, Any]:
    refs = references(expr.references())
    if refs:
        return {"references": refs}
    value = _NONE if secret else _constant(expr)
    return {} if value is _NONE else {"constant_value": value}


# ---- resources --------------------------------------------------------------------------------------


def _arguments(body: Body, model: type[BaseModel] | None, sensitive: frozenset[str]) -> dict[str, Any]:
    """A body as the model's shape: arguments as _Arg leaves, single blocks as objects, repeated
    blocks as lists (a `dynamic` block as the blocks it generates, written once)."""
    fields = model.model_fields if model is not None else {}
    out: dict[str, Any] = {n: _Arg(a.expr, secret=n in sensitive) for n, a in body.attributes.items()}
    for block in body.blocks:
        name, inner = block.type, block.body
        if block.type == "dynamic" and block.labels:
            name = block.labels[0]
            contents = inner.blocks_of("content")
            inner = contents[0].body if contents else Body({}, [], inner.pos)
        field = fields.get(name)
        nested, repeated = block_field(field.annotation) if field is not None else (None, True)
        tree = _arguments(inner, nested, frozenset())
        if repeated:
            out.setdefault(name, []).append(tree)
        else:
            out[name] = tree
    return out


def _expressions(tree: Mapping[str, Any]) -> dict[str, Any]:
    """The argument tree as Terraform's `expressions`: leaves the view added itself are dropped."""
    out: dict[str, Any] = {}
    for name, value in tree.items():
        if isinstance(value, _Arg):
            out[name] = expression(value.expr, secret=value.secret)
        elif isinstance(value, Mapping):
            out[name] = [_expressions(value)]
        elif isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
            out[name] = [_expressions(v) for v in value]
    return out


def _resource(block: ResourceBlock, schema: ResourceSchema | None) -> dict[str, Any]:
    view = schema.terraform_view if schema is not None else None
    # a data source's view shapes what it reads, not its arguments (aws_ami's name is a glob here)
    same = view if view is not None and view.same_object and block.mode is Mode.MANAGED else None
    tree = _arguments(
        block.body, schema.model if schema else None, schema.sensitive if schema else frozenset()
    )
    if same is not None:
        tree = same.shape(tree)
    out: dict[str, Any] = {
        "address": str(block.address),
        "mode": block.mode.value,
        "type": reported_type(block.mode, block.type_name),
        "name": block.name,
        "provider_config_key": block.provider_key,
        "expressions": _expressions(tree),
        "schema_version": same.schema_version if same is not None else 0,
    }
    if block.count is not None:
        out["count_expression"] = expression(block.count)
    if block.for_each is not None:
        out["for_each_expression"] = expression(block.for_each)
    if block.depends_on:
        out["depends_on"] = [str(r) for r in block.depends_on]
    return out


def _providers(stack: Stack) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, provider in sorted(stack.providers.items()):
        expressions: dict[str, Any] = {}
        for name, attr in provider.body.attributes.items():
            if name == "alias":
                continue
            shown = expression(attr.expr)
            expressions[name] = [{"tags": shown}] if name == "default_tags" else shown
        entry: dict[str, Any] = {"name": provider.name, "full_name": provider_source(provider.name)}
        if provider.alias:
            entry["alias"] = provider.alias
        entry["expressions"] = expressions
        out[key] = entry
    for block in stack.all_blocks():  # a provider used without a block of its own
        name = block.provider_key.split(".")[0]
        out.setdefault(block.provider_key, {"name": name, "full_name": provider_source(name)})
    return out


def configuration_document(stack: Stack) -> dict[str, Any]:
    """What `Plan.configuration` holds: Terraform's `configuration` object and `checks` list."""
    schemas = all_schemas()
    resources = [
        _resource(b, schemas.get((b.mode, b.type_name)))
        for b in sorted(stack.all_blocks(), key=lambda b: b.address.sort_key())
    ]
    outputs: dict[str, Any] = {}
    for name, o in sorted(stack.outputs.items()):
        entry: dict[str, Any] = {"expression": expression(o.value, secret=o.sensitive)}
        if o.sensitive:
            entry["sensitive"] = True
        if o.description:
            entry["description"] = o.description
        outputs[name] = entry
    variables: dict[str, Any] = {}
    for name, v in sorted(stack.variables.items()):
        var: dict[str, Any] = {}
        default = _NONE if v.default is None or v.sensitive else _constant(v.default)
        if default is not _NONE:
            var["default"] = default
        if v.description:
            var["description"] = v.description
        if v.sensitive:
            var["sensitive"] = True
        variables[name] = var
    root: dict[str, Any] = {}
    if outputs:
        root["outputs"] = outputs
    if resources:
        root["resources"] = resources
    if variables:
        root["variables"] = variables
    return {
        "configuration": {"provider_config": _providers(stack), "root_module": root},
        "checks": [_passed_check(name) for name, v in sorted(stack.variables.items()) if v.validations],
    }


def _passed_check(name: str) -> dict[str, Any]:
    """A variable's validation rules: a plan exists only when they all held."""
    display = f"var.{name}"
    return {
        "address": {"kind": "var", "name": name, "to_display": display},
        "status": "pass",
        "instances": [{"address": {"to_display": display}, "status": "pass"}],
    }


# ---- at render time --------------------------------------------------------------------------------


def configuration(plan: Plan) -> dict[str, Any]:
    """The plan's `configuration`, without any constant a plan file redacted; a plan saved before
    plans kept their configuration gets its resources without expressions."""
    saved = plan.configuration.get("configuration")
    if isinstance(saved, dict):
        return _scrub(saved)  # type: ignore[no-any-return]
    blocks: dict[str, dict[str, Any]] = {}
    for c in plan.changes:
        block = c.address.block
        blocks.setdefault(
            str(block),
            {
                "address": str(block),
                "mode": block.mode.value,
                "type": reported_type(block.mode, c.type_name),
                "name": block.name,
                "provider_config_key": c.provider,
                "expressions": {},
                "schema_version": 0,
            },
        )
    names = sorted({c.provider for c in plan.changes} or set(plugins()))
    return {
        "provider_config": {n: {"name": n.split(".")[0], "full_name": provider_source(n)} for n in names},
        "root_module": {"resources": list(blocks.values())} if blocks else {},
    }


def _scrub(value: Any) -> Any:
    """Keys sorted (as plan files store them), and constants a plan file redacted left out."""
    if isinstance(value, dict):
        return {
            k: _scrub(v)
            for k, v in sorted(value.items())
            if not (k == "constant_value" and (v is UNKNOWN or contains_unknown(v)))
        }
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def checks(plan: Plan) -> list[dict[str, Any]]:
    saved = plan.configuration.get("checks")
    return list(saved) if isinstance(saved, list) else []


def relevant_attributes(plan: Plan, config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Attributes of other objects that the changing resources' expressions refer to."""
    changing = {str(c.address.block) for c in plan.changes if c.is_change}
    out: list[dict[str, Any]] = []
    for resource in config.get("root_module", {}).get("resources", []):
        if resource.get("address") not in changing:
            continue
        for ref in _all_references(resource.get("expressions", {})):
            found = _attribute_of(ref)
            if found is not None and found not in out:
                out.append(found)
    return out


def _all_references(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "references" and isinstance(v, list):
                yield from (str(r) for r in v)
            else:
                yield from _all_references(v)
    elif isinstance(value, list):
        for v in value:
            yield from _all_references(v)


def _attribute_of(ref: str) -> dict[str, Any] | None:
    """`data.aws_ami.app.id` → {"resource": "data.aws_ami.app", "attribute": ["id"]}; None for a
    reference to a variable, local or the like, or to a whole object."""
    parts = ref.split(".")
    root = 3 if parts[0] == "data" else 2
    if parts[0] in ("var", "local", "each", "count", "path", "self", "module", "terraform"):
        return None
    if len(parts) <= root:
        return None
    resource = ".".join(parts[:root])
    return {"resource": resource, "attribute": parts[root:]}


__all__ = ["checks", "configuration", "configuration_document", "expression", "relevant_attributes"]
