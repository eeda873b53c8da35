"""The planner's rules for sensitive values: where one may not go (outputs), where it goes with a
warning (tags), what a lookup with sensitive arguments shows, and older state's digests.

An output whose value holds a sensitive value anywhere must say `sensitive = true` (as Terraform
requires: "Output refers to sensitive values"), else it is an error at its line. A sensitive
output's value is concealed whole (a keyed Digest; a value known only after apply stays UNKNOWN),
so neither plans nor state ever hold it. A sensitive value in `tags` (or a provider's
`default_tags`) is sent to the cloud as configured, shown masked, and warned about: tags are
readable by anyone allowed to describe the object. A data source read with sensitive arguments is
marked whole (its result may repeat them) and its explanation withheld. `sha256:` digests left by
older versions are replaced by keyed ones where the cloud still holds that value. Callers:
planning.planner, planning.static (the check before any cloud call), applying.executor (the values
recorded after apply), planning.lookups (ami list).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError, Diagnostic, Severity
from reconciler.expressions import EvalContext, evaluate
from reconciler.sdk import ObservedResource
from reconciler.sensitive import conceal, digest_paths, keyed_digest, migrate_legacy
from reconciler.values import has_marks, mark

if TYPE_CHECKING:
    from reconciler.config.model import OutputBlock, ResourceBlock, Stack
    from reconciler.state import State

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


SECRET_LOOKUP = "(how it was chosen is not shown: the lookup's arguments are sensitive)"


def lookup_fingerprint(text: str, *, secret: bool, key: str) -> str:
    """A lookup's fingerprint; keyed when its arguments were sensitive (it may name the result)."""
    return keyed_digest(text, key).text if secret and text else text


def marked_result(attributes: dict[str, Any], sensitive: frozenset[str], *, whole: bool) -> dict[str, Any]:
    """A data source's result, marked where its schema says so, or entirely when the lookup's
    arguments were sensitive (its result may repeat them)."""
    if whole:
        return {k: mark(v) if v is not None else v for k, v in attributes.items()}
    return {k: mark(v) if k in sensitive and v is not None else v for k, v in attributes.items()}


def dotted_digests(value: dict[str, Any] | None) -> list[str]:
    return [".".join(str(p) for p in path) for path in digest_paths(value)] if value is not None else []


def migrate_legacy_digests(state: State, observed: Mapping[str, ObservedResource | None]) -> None:
    """Older versions stored `sha256:` digests; where the cloud still holds that very value,
    state now holds its keyed digest (written on the next write)."""
    for text, rs in state.resources.items():
        obs = observed.get(text)
        if obs is not None:
            rs.attributes = migrate_legacy(rs.attributes, obs.attributes, state.digest_key)
