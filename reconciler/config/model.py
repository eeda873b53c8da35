"""The typed configuration model of a stack: blocks, bodies and attributes, each with its position.

Built by `config.loader.load_stack`; read by planning (resources, data, providers, outputs),
the CLI (settings, backend) and rendering (`Stack.source_line` for snippets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.address import Address, Mode
from reconciler.config.types import TypeSpec
from reconciler.errors import SourcePos
from reconciler.expressions import Expr, Reference
from reconciler.sdk import provider_for_type


@dataclass(frozen=True)
class Attribute:
    name: str
    expr: Expr
    pos: SourcePos


@dataclass
class Body:
    attributes: dict[str, Attribute]
    blocks: list[NestedBlock]
    pos: SourcePos

    def blocks_of(self, type_name: str) -> list[NestedBlock]:
        return [b for b in self.blocks if b.type == type_name]

    def references(self) -> list[Reference]:
        from reconciler.config import dynamic

        out: list[Reference] = []
        for attr in self.attributes.values():
            out.extend(attr.expr.references())
        for block in self.blocks:
            if block.type == dynamic.DYNAMIC:
                out.extend(dynamic.references(block))  # its iterator is no reference
            else:
                out.extend(block.body.references())
        return out


@dataclass
class NestedBlock:
    type: str
    labels: tuple[str, ...]
    body: Body
    pos: SourcePos


@dataclass
class ProviderBlock:
    name: str
    alias: str | None
    body: Body
    pos: SourcePos

    @property
    def key(self) -> str:
        return f"{self.name}.{self.alias}" if self.alias else self.name


@dataclass(kw_only=True)
class VariableBlock:
    name: str
    type: TypeSpec
    default: Expr | None
    description: str
    sensitive: bool
    nullable: bool
    pos: SourcePos
    validations: list[Any] = field(default_factory=list)  # config.var_validation.Validation

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(kw_only=True)
class OutputBlock:
    name: str
    value: Expr
    sensitive: bool
    description: str
    depends_on: list[Reference]
    pos: SourcePos


@dataclass(frozen=True)
class Lifecycle:
    prevent_destroy: bool = False
    create_before_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()  # attribute names; ("all",) for `ignore_changes = all`
    ignore_positions: tuple[SourcePos, ...] = field(default=(), compare=False, repr=False)


@dataclass(kw_only=True)
class ResourceBlock:
    """A `resource` or `data` block; `body` holds arguments and nested blocks, no meta-arguments."""

    address: Address
    mode: Mode
    type_name: str
    name: str
    body: Body
    pos: SourcePos
    count: Expr | None = None
    for_each: Expr | None = None
    depends_on: list[Reference] = field(default_factory=list)
    provider_key: str = ""  # "" → the type's provider (provider_for_type)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)

    def __post_init__(self) -> None:
        if not self.provider_key:
            self.provider_key = provider_for_type(self.type_name)

    @property
    def context(self) -> str:
        """'in resource "aws_fleet" "web"' for diagnostics."""
        kind = "data" if self.mode is Mode.DATA else "resource"
        return f'in {kind} "{self.type_name}" "{self.name}"'

    def references(self) -> list[Reference]:
        """References in the body, count and for_each (depends_on is kept separate)."""
        out = self.body.references()
        for expr in (self.count, self.for_each):
            if expr is not None:
                out.extend(expr.references())
        return out


@dataclass(kw_only=True)
class StackSettings:
    name: str
    backend_type: str = "local"
    backend: dict[str, Any] = field(default_factory=dict)  # literal values only
    pos: SourcePos | None = None  # of the reconciler block, if any
    waves: WavesSettings | None = None  # `waves { }`: rules between rollout waves


@dataclass(frozen=True)
class WavesSettings:
    """`reconciler { waves { bake = "10m"  alarms = [...]  provider = aws.eu } }` (literal)."""

    bake_s: int = 0
    alarms: tuple[str, ...] = ()
    provider: str | None = None  # where the wave alarms are read; None: the stack's only provider
    pos: SourcePos | None = None


@dataclass(kw_only=True)
class Stack:
    directory: Path
    sources: dict[Path, str]
    settings: StackSettings
    providers: dict[str, ProviderBlock] = field(default_factory=dict)
    variables: dict[str, VariableBlock] = field(default_factory=dict)
    locals: dict[str, Attribute] = field(default_factory=dict)
    data: dict[Address, ResourceBlock] = field(default_factory=dict)
    resources: dict[Address, ResourceBlock] = field(default_factory=dict)
    outputs: dict[str, OutputBlock] = field(default_factory=dict)

    def block_at(self, address: Address) -> ResourceBlock | None:
        """The block an address (block- or instance-level) belongs to."""
        table = self.data if address.mode is Mode.DATA else self.resources
        return table.get(address.block)

    def all_blocks(self) -> list[ResourceBlock]:
        return [*self.data.values(), *self.resources.values()]

    def source_line(self, pos: SourcePos) -> str:
        """The text of the line `pos` points at ('' if unknown)."""
        text = self.sources.get(pos.file)
        if text is None:
            return ""
        lines = text.splitlines()
        return lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""


@dataclass
class Loaded:
    """A stack as a command loaded it, with its variables resolved."""

    stack: Stack
    variables: dict[str, Any]
