"""`output NAME --reveal`: a sensitive output's value, evaluated again, since state does not keep it.

State holds only a keyed digest of a sensitive output. Its value comes from the configuration and
inputs the user holds, so this evaluates the output's expression once more against the variables
given now (as for plan), the data sources and resources state recorded, and the locals, and gives
the plain value for stdout. A value that depends on something state holds only as a digest
(user_data, say) or on what is not applied yet cannot be revealed, and says so. No cloud call, no
write. Callers: cli.review (`output NAME --reveal`, which loads the stack and reads the state).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from graphlib import TopologicalSorter
from typing import Any

from reconciler.address import Address, InstanceKey, Mode
from reconciler.config import Loaded
from reconciler.errors import ConfigError, StateError
from reconciler.expressions import EvalContext, evaluate
from reconciler.graph.build import build_graph
from reconciler.planning.instances import assemble
from reconciler.sensitive import reveal
from reconciler.state import State
from reconciler.values import UNKNOWN, contains_unknown


def reveal_output(*, loaded: Loaded, read_state: Callable[[], State], name: str) -> Any:
    """The plain value of output `name` (StateError when it cannot be computed from what is held);
    the state is read only for an output the configuration declares."""
    stack = loaded.stack
    out = stack.outputs.get(name)
    if out is None:
        raise StateError(f'output "{name}" is not in the configuration')
    ctx = _context(read_state(), loaded.variables, stack)
    for node in TopologicalSorter(build_graph(stack)).static_order():
        kind, _, local = node.partition(".")
        if kind == "local":
            try:
                ctx.locals[local] = evaluate(stack.locals[local].expr, ctx)
            except ConfigError:
                ctx.locals[local] = UNKNOWN  # not needed by this output, or reported below
    value = evaluate(out.value, ctx)
    plain = reveal(value, what=f'output "{name}"')
    if contains_unknown(plain):
        raise StateError(
            f'output "{name}" depends on values that are not applied yet, or that state holds only as '
            "digests; run apply first"
        )
    return plain


def _context(state: State, variables: dict[str, Any], stack: Any) -> EvalContext:
    found: dict[Address, dict[InstanceKey, Any]] = defaultdict(dict)
    for text, rs in state.resources.items():
        addr = Address.parse(text)
        found[addr.block][addr.key] = dict(rs.attributes)
    for text, attrs in state.data.items():
        addr = Address.parse(text)
        found[addr.block][addr.key] = dict(attrs)
    ctx = EvalContext(variables=dict(variables), base_dir=stack.directory)
    for addr, block in stack.data.items():
        ctx.data[addr] = assemble(block, found.get(addr, {}))
    for addr, block in stack.resources.items():
        ctx.resources[addr] = assemble(block, found.get(addr, {}))
    assert all(a.mode is Mode.DATA for a in ctx.data)
    return ctx
