"""Configuration: HCL files → typed, validated model with source positions.

`load_stack` reads a stack directory (all diagnostics at once), `resolve_variables` gives the
input variable values, `evaluate_body`/`validate_arguments` turn a block body into checked
argument values, `format_source` is `reconciler fmt`. Callers: the CLI, planning.
"""

from reconciler.config.arguments import evaluate_body, validate_arguments
from reconciler.config.fmt import format_source
from reconciler.config.loader import load_stack, read_stack
from reconciler.config.model import (
    Attribute,
    Body,
    Lifecycle,
    Loaded,
    NestedBlock,
    OutputBlock,
    ProviderBlock,
    ResourceBlock,
    Stack,
    StackSettings,
    VariableBlock,
)
from reconciler.config.types import TypeKind, TypeSpec
from reconciler.config.variables import collect_variables, resolve_variables

__all__ = [
    "Attribute",
    "Body",
    "Lifecycle",
    "Loaded",
    "NestedBlock",
    "OutputBlock",
    "ProviderBlock",
    "ResourceBlock",
    "Stack",
    "StackSettings",
    "TypeKind",
    "TypeSpec",
    "VariableBlock",
    "collect_variables",
    "evaluate_body",
    "format_source",
    "load_stack",
    "read_stack",
    "resolve_variables",
    "validate_arguments",
]
