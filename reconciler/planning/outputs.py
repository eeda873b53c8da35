"""Where a sensitive value may not go, or goes with a warning: outputs, and tags.

An output whose value holds a sensitive value anywhere must say `sensitive = true` (as Terraform
requires: "Output refers to sensitive values"), else it is an error at its line. A sensitive
output's value is concealed whole (a keyed Digest; a value known only after apply stays UNKNOWN),
so neither plans nor state ever hold it. A sensitive value in `tags` (or a provider's
`default_tags`) is sent to the cloud as configured, shown masked, and warned about: tags are
readable by anyone allowed to describe the object. Callers: planning.planner, planning.static (the
check before any cloud call), applying.executor (the values recorded after apply).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError, Diagnostic, Severity
from reconciler.expressions import EvalContext, evaluate
from reconciler.sensitive import conceal
from reconciler.values import has_marks, mark

if TYPE_CHECKING:
    from reconciler.config.model import OutputBlock, ResourceBlock, Stack

DETAIL = (
    "To reduce the risk of showing sensitive data that was meant to stay internal, an output "
    "whose value comes from a sensitive value (a variable with sensitive = true, user_data, or "
    "anything computed from them) must be marked as sensitive, to confirm the intent. If it is "
    "meant to be exported, add this argument to the output block:\n    sensitive = true"
)


def check_output(out: OutputBlock, value: Any) -> None:
    """Refuse a marked value in an output that does not say `sensitive = true`."""
    if not out.sensitive and has_marks(value):
        where = f'in output "{out.name}"'
        summary = "Output refers to sensitive values"
        raise ConfigError([Diagnostic(summary, out.pos, detail=DETAIL, context=where)])


def output_value(out: OutputBlock, value: Any, *, key: str) -> Any:
    """The output's value as plans and state hold it (checked first, see check_output)."""
    check_output(out, value)
    return conceal(mark(value), key) if out.sensitive and value is not None else value


TAGS_DETAIL = (
    "Tags are readable by anyone allowed to describe the object (and are copied to instances and "
    "their volumes), so the value is sent to the cloud in clear. reconciler shows it as "
    "(sensitive) and keeps only a keyed digest of it. Consider passing it another way (user_data, "
    "a secrets manager)."
)


def tag_warning(block: ResourceBlock, tags: Any) -> Diagnostic | None:
    """A warning when a resource's `tags` hold a sensitive value."""
    if not has_marks(tags):
        return None
    attr = block.body.attributes.get("tags")
    return Diagnostic(
        "Sensitive value in tags",
        attr.pos if attr is not None else block.pos,
        detail=TAGS_DETAIL,
        context=block.context,
        severity=Severity.WARNING,
    )


def provider_tag_warnings(stack: Stack, ctx: EvalContext) -> list[Diagnostic]:
    """The same warning for a provider's `default_tags` (applied to every object it creates)."""
    out = []
    for provider in stack.providers.values():
        attr = provider.body.attributes.get("default_tags")
        if attr is not None and has_marks(evaluate(attr.expr, ctx)):
            out.append(
                Diagnostic(
                    "Sensitive value in default_tags",
                    attr.pos,
                    detail=TAGS_DETAIL,
                    context=f'in provider "{provider.key}"',
                    severity=Severity.WARNING,
                )
            )
    return out
