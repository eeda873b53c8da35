"""The plan's renderers, by format name: `plan --format NAME`, `show PLAN_FILE --format NAME`.

FORMATS maps each name to the module that renders it; a module is imported only when its format
is used (listing the names for `--help` imports none). Each module has
`render(plan, *, out, plan_file=None, pretty=False)`: it prints the plan and decides nothing
(`pretty` matters to the JSON format only). A new format is
its module and its line here. Callers: cli.plan, cli.review, cli.display.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.console import Console

    from reconciler.planning.model import Plan

__all__ = ["FORMATS", "Renderer", "renderer"]

FORMATS: dict[str, str] = {
    "human": "reconciler.render.human",  # the terminal's plan, as Terraform prints one
    "json": "reconciler.render.tfplan",  # Terraform's plan JSON, for policy tools (docs/plan-json.md)
    "markdown": "reconciler.render.markdown",  # a pull-request comment
}


class Renderer(Protocol):
    def __call__(
        self, plan: Plan, *, out: Console, plan_file: str | None = None, pretty: bool = False
    ) -> None: ...


def renderer(name: str) -> Renderer:
    """The `render` function of format `name` (one of FORMATS)."""
    module = importlib.import_module(FORMATS[name])
    found: Renderer = module.render
    return found
