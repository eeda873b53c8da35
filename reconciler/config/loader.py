"""load_stack: every *.hcl file of a directory → a validated Stack, or ConfigError with ALL problems.

Parses each file (syntax errors of every file are reported), decodes the top-level blocks
(reconciler, provider, variable, locals, data, resource, output), then runs the static checks of
`config.validate` (schemas and references; no cloud calls). Callers: the CLI (validate, plan,
apply, ...), scenario tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from reconciler import sourcetext
from reconciler.address import Mode
from reconciler.config import var_validation
from reconciler.config.decode import (
    Diags,
    check_names,
    depends_on_list,
    is_missing,
    literal,
    literal_of,
    resource_block,
)
from reconciler.config.hclparse import encoding_diagnostic, parse_file
from reconciler.config.model import (
    Body,
    NestedBlock,
    OutputBlock,
    ProviderBlock,
    Stack,
    StackSettings,
    VariableBlock,
)
from reconciler.config.types import ANY, TypeSpec, TypeSpecError, convert, parse_type
from reconciler.config.validate import validate_stack
from reconciler.config.waves_block import waves_settings
from reconciler.errors import ConfigError, Diagnostic, Severity, SourcePos
from reconciler.expressions import suggest
from reconciler.expressions.coerce import ConversionError
from reconciler.sdk import registry

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
BLOCK_LABELS = {
    "reconciler": (),
    "provider": ("name",),
    "variable": ("name",),
    "locals": (),
    "data": ("type", "name"),
    "resource": ("type", "name"),
    "output": ("name",),
}
VARIABLE_ARGUMENTS = ("type", "default", "description", "sensitive", "nullable")
OUTPUT_ARGUMENTS = ("value", "description", "sensitive", "depends_on")


def load_stack(directory: Path) -> Stack:
    """Read, parse and validate the stack in `directory`; raises ConfigError with every diagnostic."""
    stack, diags, _ = read_stack(directory)
    if any(d.severity is Severity.ERROR for d in diags):
        raise ConfigError(sorted(diags, key=_order))
    return stack


def read_stack(directory: Path) -> tuple[Stack, list[Diagnostic], bool]:
    """(the stack as far as it could be read, its diagnostics, whether any file failed to parse).

    Raises ConfigError only when there is nothing to read. Callers that go on to later stages
    (session.load) use this to report every stage's problems together."""
    directory = Path(directory)
    files = sorted(p for p in directory.glob("*.hcl") if p.is_file())
    if not files:
        raise ConfigError(
            [
                Diagnostic(
                    f"No configuration files (*.hcl) in {directory}",
                    detail="A stack is a directory of *.hcl files.",
                )
            ]
        )
    diags = Diags()
    sources: dict[Path, str] = {}
    bodies: list[Body] = []
    for path in files:
        try:
            text = sourcetext.read(path)
        except sourcetext.SourceEncodingError as exc:
            diags.append(encoding_diagnostic(exc))
            continue
        except OSError as exc:
            diags.add(f"Cannot read {path.name}: {exc.strerror or exc}", SourcePos(path, 1))
            continue
        sources[path] = text
        body, file_diags = parse_file(path, text)
        diags.extend(file_diags)
        if body is not None:
            bodies.append(body)
    stack = Stack(directory=directory, sources=sources, settings=StackSettings(name=directory.resolve().name))
    builder = _Builder(stack, diags)
    for body in bodies:
        builder.add_file(body)
    diags.extend(validate_stack(stack))
    return stack, list(diags), len(bodies) < len(files)


def _order(diag: Diagnostic) -> tuple[str, int, int]:
    pos = diag.pos
    return ("", 0, 0) if pos is None else (str(pos.file), pos.line, pos.column)


class _Builder:
    def __init__(self, stack: Stack, diags: Diags) -> None:
        self.stack = stack
        self.diags = diags
        self.settings_seen: SourcePos | None = None

    def add_file(self, body: Body) -> None:
        for attr in body.attributes.values():
            self.diags.add(
                f'Unexpected argument "{attr.name}" at the top level',
                attr.pos,
                detail="Arguments belong inside a block such as resource, variable or locals.",
            )
        for block in body.blocks:
            if block.type not in BLOCK_LABELS:
                self.diags.add(
                    f'Unsupported block type "{block.type}"',
                    block.pos,
                    suggestion=_suggest(block.type, BLOCK_LABELS),
                )
                continue
            want = BLOCK_LABELS[block.type]
            if len(block.labels) != len(want):
                names = " and ".join(want) or "no labels"
                summary = (
                    f"Missing {want[len(block.labels)]} for {block.type} block"
                    if len(block.labels) < len(want)
                    else f"Extraneous label for {block.type} block"
                )
                self.diags.add(summary, block.pos, detail=f"A {block.type} block takes {names}.")
                continue
            getattr(self, "_" + block.type)(block)

    # ---- blocks ------------------------------------------------------------------------------

    def _reconciler(self, block: NestedBlock) -> None:
        context = "in reconciler block"
        if self.settings_seen is not None:
            self.diags.add(
                'Duplicate "reconciler" block',
                block.pos,
                detail=f"It is already defined at {self.settings_seen}.",
            )
            return
        self.settings_seen = block.pos
        settings = self.stack.settings
        settings.pos = block.pos
        check_names(
            block.body,
            allowed_attrs=("stack",),
            allowed_blocks=("backend", "waves"),
            diags=self.diags,
            context=context,
        )
        settings.name = literal_of(
            block.body.attributes.get("stack"), str, settings.name, self.diags, context=context
        )
        waves = block.body.blocks_of("waves")
        if waves:
            settings.waves = waves_settings(waves, self.diags, context=context)
        backends = block.body.blocks_of("backend")
        for extra in backends[1:]:
            self.diags.add('Duplicate "backend" block', extra.pos, context=context)
        if not backends:
            return
        backend = backends[0]
        known = registry.backends()
        if len(backend.labels) != 1 or backend.labels[0] not in known:
            got = backend.labels[0] if backend.labels else ""
            self.diags.add(
                f'Unsupported backend type "{got}"',
                backend.pos,
                context=context,
                detail="Use " + " or ".join(f'backend "{n}"' for n in known) + ".",
                suggestion=_suggest(got, known),
            )
            return
        kind = backend.labels[0]
        ctx = f'in backend "{kind}"'
        check_names(backend.body, allowed_attrs=known[kind].settings, diags=self.diags, context=ctx)
        settings.backend_type = kind
        for name, attr in backend.body.attributes.items():
            value = literal(attr.expr, self.diags, what=f'backend argument "{name}"', context=ctx)
            if not is_missing(value):
                settings.backend[name] = value

    def _provider(self, block: NestedBlock) -> None:
        name = block.labels[0]
        context = f'in provider "{name}"'
        if name not in registry.known_providers():
            self.diags.add(
                f'Unknown provider "{name}"', block.pos, suggestion=_suggest(name, registry.known_providers())
            )
            return
        arguments = ("alias", *registry.plugins()[name].arguments)
        check_names(block.body, allowed_attrs=arguments, diags=self.diags, context=context)
        alias = literal_of(block.body.attributes.get("alias"), str, None, self.diags, context=context)
        provider = ProviderBlock(name, alias, block.body, block.pos)
        if provider.key in self.stack.providers:
            self.diags.add(
                f'Duplicate provider configuration "{provider.key}"',
                block.pos,
                detail=f"It is already defined at {self.stack.providers[provider.key].pos}; "
                "give one of them an alias.",
            )
            return
        self.stack.providers[provider.key] = provider

    def _variable(self, block: NestedBlock) -> None:
        name = block.labels[0]
        context = f'in variable "{name}"'
        attrs = block.body.attributes
        check_names(
            block.body,
            allowed_attrs=VARIABLE_ARGUMENTS,
            allowed_blocks=("validation",),
            diags=self.diags,
            context=context,
        )
        if name in self.stack.variables:
            self.diags.add(
                f'Duplicate variable "{name}"',
                block.pos,
                detail=f"It is already declared at {self.stack.variables[name].pos}.",
            )
            return
        spec: TypeSpec = ANY
        if "type" in attrs:
            try:
                spec = parse_type(attrs["type"].expr)
            except TypeSpecError as exc:
                self.diags.append(exc.diagnostic)
        default = attrs["default"].expr if "default" in attrs else None
        if default is not None:
            value = literal(default, self.diags, what="a variable default", context=context)
            if not is_missing(value):
                try:
                    convert(value, spec)
                except ConversionError as exc:
                    self.diags.add(
                        f'Invalid default value for variable "{name}": {exc}',
                        default.pos,
                        detail=f"The variable's type is {spec}.",
                    )
        self.stack.variables[name] = VariableBlock(
            name=name,
            type=spec,
            default=default,
            description=literal_of(attrs.get("description"), str, "", self.diags, context=context),
            sensitive=literal_of(attrs.get("sensitive"), bool, False, self.diags, context=context),
            nullable=literal_of(attrs.get("nullable"), bool, True, self.diags, context=context),
            pos=block.pos,
            validations=var_validation.decode(
                block.body.blocks_of("validation"), self.diags, context=context
            ),
        )

    def _locals(self, block: NestedBlock) -> None:
        for nested in block.body.blocks:
            self.diags.add(f'Unsupported block type "{nested.type}" in locals', nested.pos)
        for name, attr in block.body.attributes.items():
            if name in self.stack.locals:
                self.diags.add(
                    f'Duplicate local value "{name}"',
                    attr.pos,
                    detail=f"It is already defined at {self.stack.locals[name].pos}.",
                )
                continue
            self.stack.locals[name] = attr

    def _output(self, block: NestedBlock) -> None:
        name = block.labels[0]
        context = f'in output "{name}"'
        attrs = block.body.attributes
        check_names(block.body, allowed_attrs=OUTPUT_ARGUMENTS, diags=self.diags, context=context)
        if name in self.stack.outputs:
            self.diags.add(
                f'Duplicate output "{name}"',
                block.pos,
                detail=f"It is already defined at {self.stack.outputs[name].pos}.",
            )
            return
        if "value" not in attrs:
            self.diags.add('Missing required argument "value"', block.pos, context=context)
            return
        self.stack.outputs[name] = OutputBlock(
            name=name,
            value=attrs["value"].expr,
            sensitive=literal_of(attrs.get("sensitive"), bool, False, self.diags, context=context),
            description=literal_of(attrs.get("description"), str, "", self.diags, context=context),
            depends_on=depends_on_list(attrs.get("depends_on"), self.diags, context=context),
            pos=block.pos,
        )

    def _data(self, block: NestedBlock) -> None:
        self._resource_like(block, Mode.DATA)

    def _resource(self, block: NestedBlock) -> None:
        self._resource_like(block, Mode.MANAGED)

    def _resource_like(self, block: NestedBlock, mode: Mode) -> None:
        for label in block.labels:
            if not _NAME.fullmatch(label):
                self.diags.add(
                    f'Invalid name "{label}"',
                    block.pos,
                    detail="Types and names must start with a letter or underscore and contain "
                    "only letters, digits, underscores and dashes.",
                )
                return
        resource = resource_block(block, mode, self.diags)
        table = self.stack.data if mode is Mode.DATA else self.stack.resources
        if resource.address in table:
            kind = "data source" if mode is Mode.DATA else "resource"
            self.diags.add(
                f'Duplicate {kind} "{resource.address}" configuration',
                block.pos,
                detail=f"It is already defined at {table[resource.address].pos}; "
                "each block needs a unique name.",
            )
            return
        table[resource.address] = resource


def _suggest(name: str, candidates: Iterable[str]) -> str | None:
    return suggest(name, candidates)
