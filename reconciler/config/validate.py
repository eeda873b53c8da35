"""Static checks of a decoded stack: resource types and argument names against the provider
schemas, lifecycle ignore_changes, provider references, and every reference (var, local, data,
resource, count, each, path). No cloud calls.

Callers: config.loader.load_stack; `block_field` is also used by config.arguments.
"""

from __future__ import annotations

import difflib
import inspect
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from reconciler.address import Address, Mode
from reconciler.config import dynamic
from reconciler.config.decode import Diags
from reconciler.config.model import Body, ResourceBlock, Stack
from reconciler.errors import Diagnostic
from reconciler.expressions import Reference, RefKind, suggest

_ROOT_NAMES = ("var", "local", "data", "count", "each", "path")


def block_field(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(nested model, repeated) for a field typed X, X | None or list[X] with X a BaseModel."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return block_field(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return block_field(members[0]) if len(members) == 1 else (None, False)
    if origin in (list, tuple, set, frozenset):  # typing.List[X] has origin list too
        args = get_args(annotation)
        if args and inspect.isclass(args[0]) and issubclass(args[0], BaseModel):
            return args[0], True
        return None, False
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def field_names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def check_body(body: Body, model: type[BaseModel], diags: Diags, *, context: str) -> None:
    """Unknown argument and nested block names, recursively."""
    fields = model.model_fields
    open_model = model.model_config.get("extra") == "allow"
    for attr in body.attributes.values():
        if attr.name not in fields and not open_model:
            diags.add(
                f'Unsupported attribute "{attr.name}"',
                attr.pos,
                context=context,
                suggestion=suggest(attr.name, fields),
            )
    seen: dict[str, int] = {}
    for block in body.blocks:
        generated = block.labels[0] if block.type == dynamic.DYNAMIC and block.labels else None
        block_type = generated or block.type
        field = fields.get(block_type)
        nested, repeated = block_field(field.annotation) if field is not None else (None, False)
        if nested is None and open_model and field is None:
            continue
        content = dynamic.check(block, add=diags.add, context=context) if block.type == "dynamic" else None
        if block.type == dynamic.DYNAMIC and (content is None or generated is None):
            continue
        if nested is None:
            block_names = [n for n, f in fields.items() if block_field(f.annotation)[0] is not None]
            detail = (
                f'An argument named "{block_type}" is expected here; write {block_type} = ...'
                if field is not None
                else ""
            )
            diags.add(
                f'Unsupported block type "{block_type}"',
                block.pos,
                context=context,
                detail=detail,
                suggestion=None if field is not None else suggest(block_type, block_names),
            )
            continue
        if content is not None:
            check_body(content.body, nested, diags, context=context)
            continue
        if block.labels:
            diags.add(
                f'Extraneous label for "{block.type}" block',
                block.pos,
                context=context,
                detail="Nested blocks take no labels.",
            )
        seen[block.type] = seen.get(block.type, 0) + 1
        if not repeated and seen[block.type] == 2:
            diags.add(
                f'Too many "{block.type}" blocks',
                block.pos,
                context=context,
                detail=f'Only one "{block.type}" block is allowed.',
            )
        check_body(block.body, nested, diags, context=context)


def validate_stack(stack: Stack) -> list[Diagnostic]:
    from reconciler.sdk import registry

    diags = Diags()
    schemas = registry.all_schemas()
    for block in stack.all_blocks():
        schema = schemas.get((block.mode, block.type_name))
        if schema is None:
            kind = "data source" if block.mode is Mode.DATA else "resource"
            same_mode = [s for (m, _), s in schemas.items() if m is block.mode]
            meant, detail = type_suggestion(block.type_name, same_mode)
            diags.add(
                f'Unknown {kind} type "{block.type_name}"',
                block.pos,
                context=block.context,
                suggestion=meant,
                detail=detail,
            )
        else:
            check_body(block.body, schema.model, diags, context=block.context)
            fields = schema.model.model_fields
            lc = block.lifecycle
            for name, pos in zip(lc.ignore_changes, lc.ignore_positions, strict=False):
                head = name.split(".")[0]
                open_model = schema.model.model_config.get("extra") == "allow"
                if name != "all" and head not in fields and not open_model:
                    diags.add(
                        f'Unsupported attribute "{head}" in ignore_changes',
                        pos,
                        context=block.context,
                        suggestion=suggest(head, fields),
                    )
        _check_provider(stack, block, diags, registry.known_providers())
    _check_all_references(stack, diags)
    return list(diags)


def type_suggestion(name: str, schemas: list[Any]) -> tuple[str | None, str]:
    """(the type meant, a line on the difference) for an unknown type name: a Terraform name
    this provider knows an equivalent for, else a near-miss spelling (never a far guess)."""
    for schema in schemas:
        for terraform_name, difference in schema.terraform_types:
            if terraform_name == name:
                return schema.type_name, difference
    close = difflib.get_close_matches(name, [s.type_name for s in schemas], n=1, cutoff=0.85)
    if close:
        return close[0], ""
    return None, "reconciler supports " + ", ".join(sorted(s.type_name for s in schemas)) + "."


def _check_provider(stack: Stack, block: ResourceBlock, diags: Diags, known: tuple[str, ...]) -> None:
    key = block.provider_key
    name = key.split(".")[0]
    if name not in known:
        diags.add(
            f'Unknown provider "{name}"', block.pos, context=block.context, suggestion=suggest(name, known)
        )
    elif "." in key and key not in stack.providers:
        diags.add(
            f'Provider configuration "{key}" is not declared',
            block.pos,
            context=block.context,
            detail=f'Add provider "{name}" {{ alias = "{key.split(".", 1)[1]}" }}.',
            suggestion=suggest(key, stack.providers),
        )


def _check_all_references(stack: Stack, diags: Diags) -> None:
    checker = _RefChecker(stack, diags)
    for block in stack.all_blocks():
        ctx = block.context
        for ref in block.body.references():
            checker.check(
                ref,
                context=ctx,
                count=block.count is not None,
                each=block.for_each is not None,
                own=block.address,
            )
        for meta in (block.count, block.for_each):
            for ref in meta.references() if meta is not None else []:
                checker.check(ref, context=ctx, own=block.address)
        for ref in block.depends_on:
            checker.check(ref, context=ctx, own=block.address)
    for name, attr in stack.locals.items():
        for ref in attr.expr.references():
            checker.check(ref, context=f'in local "{name}"')
    for output in stack.outputs.values():
        for ref in [*output.value.references(), *output.depends_on]:
            checker.check(ref, context=f'in output "{output.name}"')
    for provider in stack.providers.values():
        for ref in provider.body.references():
            checker.check(ref, context=f'in provider "{provider.key}"')


class _RefChecker:
    def __init__(self, stack: Stack, diags: Diags) -> None:
        self.stack = stack
        self.diags = diags
        self.candidates = [
            *(f"var.{v}" for v in stack.variables),
            *(f"local.{v}" for v in stack.locals),
            *(str(a) for a in stack.resources),
            *(str(a) for a in stack.data),
        ]

    def check(
        self,
        ref: Reference,
        *,
        context: str,
        count: bool = False,
        each: bool = False,
        own: Address | None = None,
    ) -> None:
        add = self.diags.add
        kind, parts, pos = ref.kind, ref.parts, ref.pos
        second = parts[1] if len(parts) > 1 and isinstance(parts[1], str) else None
        if kind in (RefKind.VAR, RefKind.LOCAL):
            table: dict[str, Any] = dict(self.stack.variables if kind is RefKind.VAR else self.stack.locals)
            noun = "input variable" if kind is RefKind.VAR else "local value"
            if second is None:
                add(
                    f'Invalid reference "{parts[0]}"',
                    pos,
                    context=context,
                    detail=f'"{parts[0]}" must be followed by a name, like {parts[0]}.example.',
                )
            elif second not in table:
                hint = suggest(second, table)
                add(
                    f'Reference to undeclared {noun} "{second}"',
                    pos,
                    context=context,
                    suggestion=f"{parts[0]}.{hint}" if hint else None,
                    detail=(
                        f'Declare it with variable "{second}" {{ ... }}.'
                        if kind is RefKind.VAR
                        else f"Define it in a locals block: {second} = ..."
                    ),
                )
        elif kind is RefKind.COUNT:
            if second != "index":
                add("Invalid reference: only count.index exists", pos, context=context)
            elif not count:
                add(
                    'Reference to "count.index" in a block without "count"',
                    pos,
                    context=context,
                    detail='"count.index" is only available in resources and data sources that set "count".',
                )
        elif kind is RefKind.EACH:
            if second not in ("key", "value"):
                add(
                    "Invalid reference: use each.key or each.value",
                    pos,
                    context=context,
                    suggestion=f"each.{suggest(str(second), ('key', 'value'))}" if second else None,
                )
            elif not each:
                add(
                    f'Reference to "each.{second}" in a block without "for_each"',
                    pos,
                    context=context,
                    detail=f'"each.{second}" is only available in blocks that set "for_each".',
                )
        elif kind is RefKind.PATH:
            if second not in ("module", "root", "cwd"):
                add("Invalid reference: use path.module, path.root or path.cwd", pos, context=context)
        else:
            self._check_block_ref(ref, context=context, own=own)

    def _check_block_ref(self, ref: Reference, *, context: str, own: Address | None) -> None:
        add = self.diags.add
        target = ref.target_address()
        parts, pos = ref.parts, ref.pos
        if target is None:
            if ref.kind is RefKind.DATA:
                add(
                    "Invalid reference: data must be followed by a type and a name",
                    pos,
                    context=context,
                    detail="For example data.aws_ami.app.id.",
                )
            else:
                add(
                    f'Invalid reference "{parts[0]}"',
                    pos,
                    context=context,
                    detail="A reference to a resource type must be followed by the resource name; "
                    "variables are var.NAME and locals local.NAME.",
                    suggestion=suggest(
                        str(parts[0]), [*_ROOT_NAMES, *(a.type for a in self.stack.resources)]
                    ),
                )
            return
        table = self.stack.data if target.mode is Mode.DATA else self.stack.resources
        if target not in table:
            noun = "data source" if target.mode is Mode.DATA else "resource"
            add(
                f'Reference to undeclared {noun} "{target}"',
                pos,
                context=context,
                suggestion=suggest(str(target), self.candidates),
            )
        elif own is not None and target == own:
            add(f'Self-referential block: "{target}" refers to itself', pos, context=context)
