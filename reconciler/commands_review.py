"""`reconciler ami list NAME_OR_ADDR`: the candidate images of an AMI query, with versions and
dates, which one each `aws_ami` lookup of the stack resolves to and why, and which images a
lookup's version constraint (or name_regex, or a missing version tag) excludes.

NAME_OR_ADDR is an image name glob (`app-*`, owners `--owner`, default self) or the address of
an `aws_ami` lookup in the stack (`data.aws_ami.app`), whose own filters are then used. Lookups
are resolved exactly as `plan` resolves them (variables, locals and the data sources they need;
resources stay unknown), through the provider's `read_data`. A CLI plugin (see PLUGINS in
reconciler/cli.py). Callers: cli.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from reconciler.address import Address, Mode
from reconciler.errors import ReconcilerError

if TYPE_CHECKING:  # the engine is imported when the command runs: `reconciler --help` stays fast
    from reconciler.config import Stack
    from reconciler.sdk import Provider

DEFAULT_VERSION_TAG = "Version"


@dataclass
class Lookup:
    """One aws_ami lookup instance of the stack, resolved as plan would resolve it."""

    address: Address
    provider_key: str
    config: dict[str, Any] | None  # None: its arguments are known only at apply
    image_id: str | None = None
    name: str = ""
    explanation: str = ""  # why this image, or why none (the lookup's own error message)
    sensitive: bool = False  # its arguments hold a sensitive value: never shown


def add_parsers(sub: Any, *, state_group: Any) -> None:
    p = sub.add_parser("ami", help="AMI lookups: candidate images and what each lookup resolves to")
    ss = p.add_subparsers(dest="ami_command", required=True, metavar="SUBCOMMAND")
    s = ss.add_parser(
        "list",
        help="candidate images with versions and dates, and which one each lookup of the stack takes",
        description=(
            "List the images an AMI query finds, newest first (by version, then creation date, then "
            "id), mark the one each aws_ami lookup of the stack resolves to and why, and show images "
            "a lookup excludes (version constraint, name_regex, missing version tag)."
        ),
    )
    s.add_argument("target", metavar="NAME_OR_ADDR", help="an image name glob (app-*) or data.aws_ami.NAME")
    s.add_argument(
        "--owner",
        action="append",
        default=[],
        metavar="OWNER",
        help="image owners for a glob (default: self)",
    )
    s.add_argument("--version-tag", default=None, metavar="TAG", help="tag holding versions, for a glob")
    s.add_argument(
        "--provider", default=None, metavar="KEY", help="provider configuration (aws or aws.ALIAS)"
    )
    s.add_argument("--json", action="store_true", help="print the listing as JSON")
    s.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="set a variable")
    s.add_argument("--var-file", action="append", default=[], type=Path, metavar="FILE")


def dispatch(args: argparse.Namespace, directory: Path, console: Console) -> int | None:
    if args.command != "ami":
        return None
    return ami_list(args, directory, out=console)


# ---- resolving the stack's lookups ----------------------------------------------------------------


def _needed(graph: dict[str, set[str]], roots: set[str]) -> set[str]:
    """`roots` and everything they depend on."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def image_types() -> list[str]:
    """The data-source types that look up machine images (aws_ami)."""
    from reconciler.sdk import Mode, TypeRole
    from reconciler.sdk.registry import all_schemas

    schemas = all_schemas().items()
    return sorted(t for (mode, t), s in schemas if mode is Mode.DATA and s.role is TypeRole.IMAGE_LOOKUP)


def resolve_lookups(stack: Stack, variables: dict[str, Any], providers: dict[str, Provider]) -> list[Lookup]:
    """Every image lookup instance (aws_ami), read through its provider as plan reads it."""
    from reconciler.errors import CloudError
    from reconciler.expressions import EvalContext, evaluate
    from reconciler.graph.build import build_graph
    from reconciler.planning.instances import assemble, evaluate_instance, expand
    from reconciler.planning.planner import schema_for
    from reconciler.planning.sensitivity import SECRET_LOOKUP
    from reconciler.sdk import ReadDataRequest
    from reconciler.sensitive import REGISTRY, reveal
    from reconciler.values import UNKNOWN, contains_unknown, has_marks

    kinds = image_types()
    graph = build_graph(stack)
    needed = _needed(graph, {str(a) for a in stack.data if a.type in kinds})
    ctx = EvalContext(
        variables=dict(variables),
        resources={a: UNKNOWN for a in stack.resources},
        base_dir=stack.directory,
    )
    found: list[Lookup] = []
    for node in TopologicalSorter({n: graph[n] & needed for n in needed}).static_order():
        kind, _, name = node.partition(".")
        if kind == "local":
            ctx.locals[name] = evaluate(stack.locals[name].expr, ctx)
        elif kind == "data":
            block = stack.data[Address.parse(node)]
            values: dict[Any, Any] = {}
            for inst in expand(block, ctx):
                marked = evaluate_instance(block, inst, schema_for(block))
                config = reveal(marked, what=str(inst.address)) if not contains_unknown(marked) else marked
                lookup = Lookup(
                    inst.address,
                    block.provider_key,
                    None if contains_unknown(config) else config,
                    sensitive=has_marks(marked),
                )
                values[inst.key] = UNKNOWN
                if lookup.config is not None:
                    request = ReadDataRequest(address=inst.address, type_name=block.type_name, config=config)
                    try:
                        result = providers[block.provider_key].read_data(request)
                    except CloudError as exc:
                        if block.type_name not in kinds:
                            raise
                        lookup.explanation = REGISTRY.scrub(exc.message)
                    else:
                        values[inst.key] = result.attributes
                        lookup.image_id = str(result.attributes.get("id") or "") or None
                        lookup.name = str(result.attributes.get("name") or "")
                        lookup.explanation = SECRET_LOOKUP if lookup.sensitive else result.explanation
                else:
                    lookup.explanation = "its arguments are known only at apply"
                if block.type_name in kinds:
                    found.append(lookup)
            ctx.data[block.address] = assemble(block, values)
    return sorted(found, key=lambda lk: lk.address.sort_key())


# ---- the command ----------------------------------------------------------------------------------


def _stack_dir(directory: Path) -> bool:
    return any(p.is_file() for p in directory.glob("*.hcl"))


def ami_list(args: argparse.Namespace, directory: Path, *, out: Console) -> int:
    from reconciler.sdk import provider_for_type
    from reconciler.sdk.images import ImageLister
    from reconciler.sdk.registry import make_provider, plugins
    from reconciler.session import load, provider_settings

    target = args.target.strip()
    is_address = target.startswith("data.")
    loaded = (
        load(directory, cli_vars=args.var, var_files=args.var_file)
        if is_address or _stack_dir(directory)
        else None
    )
    settings = (
        provider_settings(loaded.stack, loaded.variables)
        if loaded
        else {n: p.configure(alias=None, values={}) for n, p in plugins().items()}
    )
    providers = {key: make_provider(s) for key, s in settings.items()}
    lookups = resolve_lookups(loaded.stack, loaded.variables, providers) if loaded else []

    def lister(key: str) -> ImageLister:
        provider = providers[key]
        if not isinstance(provider, ImageLister):
            raise ReconcilerError(f'provider "{key}" cannot list images')
        return provider

    sections: list[tuple[str, list[Any]]] = []
    kinds = image_types()
    kind = kinds[0] if kinds else "image"
    if is_address:
        wanted = Address.parse(target)
        if wanted.mode is not Mode.DATA or wanted.type not in kinds:
            raise ReconcilerError(f"{target} is not an {kind} lookup; give data.{kind}.NAME or a name glob")
        chosen = [lk for lk in lookups if wanted.contains(lk.address)]
        if not chosen:
            known = ", ".join(str(lk.address) for lk in lookups) or "none"
            raise ReconcilerError(f"no lookup {target} in the stack (its {kind} lookups: {known})")
        for lk in chosen:
            if lk.config is None:
                sections.append((f"{lk.address}: {lk.explanation}", []))
                continue
            images = lister(lk.provider_key)
            found = images.list_images(config=lk.config, address=lk.address)
            hidden = "(its arguments are sensitive)"
            query = hidden if lk.sensitive else images.describe_image_query(lk.config)
            sections.append((f"{lk.address}: {query}", found))
    else:
        key = args.provider or provider_for_type(kind)
        if key not in providers:
            raise ReconcilerError(f'no provider configuration "{key}" in the stack')
        tag = args.version_tag or next(
            (str(lk.config["version_tag"]) for lk in lookups if lk.config and lk.config.get("version_tag")),
            DEFAULT_VERSION_TAG,
        )
        images = lister(key)
        config = images.name_query(target, owners=args.owner)
        found = images.list_images(config=config, version_tag=tag)
        sections.append((f"images named {target}: {images.describe_image_query(config)}", found))
    if args.json:
        sys.stdout.write(json.dumps(_document(sections, lookups), indent=2) + "\n")
    else:
        _print(sections, lookups, out=out)
    return 0


def _marks(lookups: list[Lookup]) -> dict[str, list[str]]:
    marks: dict[str, list[str]] = {}
    for lk in lookups:
        if lk.image_id:
            marks.setdefault(lk.image_id, []).append(str(lk.address))
    return marks


def _document(sections: list[tuple[str, list[Any]]], lookups: list[Lookup]) -> dict[str, Any]:
    marks = _marks(lookups)
    return {
        "queries": [
            {
                "query": title,
                "images": [{**c.to_dict(), "chosen_by": marks.get(c.image_id, [])} for c in found],
            }
            for title, found in sections
        ],
        "lookups": [
            {
                "address": str(lk.address),
                "id": lk.image_id,
                "name": lk.name or None,
                "explanation": lk.explanation,
            }
            for lk in lookups
        ],
    }


def _print(sections: list[tuple[str, list[Any]]], lookups: list[Lookup], *, out: Console) -> None:
    marks = _marks(lookups)
    for title, found in sections:
        out.print(Text(title, style="bold"))
        if not found:
            out.print("  no images found")
            out.print()
            continue
        n = len(found)
        out.print(Text(f"  {n} image{'s' if n != 1 else ''}, newest first (version, then date, then id):"))
        rows = [("", "NAME", "ID", "VERSION", "CREATED", "")]
        for c in found:
            by = marks.get(c.image_id, [])
            notes = ([f"← {', '.join(by)}"] if by else []) + (
                [f"excluded: {c.excluded}"] if c.excluded else []
            )
            note = "; ".join(notes)
            mark = "→" if by else ("x" if c.excluded else "")
            rows.append((mark, c.name, c.image_id, c.version or "-", c.creation_date, note))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for n, r in enumerate(rows):
            cells = [r[i].ljust(widths[i]) for i in range(5)]
            style = "dim" if r[0] == "x" else ("bold green" if r[0] == "→" else "")
            out.print(Text(("  " + "  ".join(cells) + "  " + r[5]).rstrip(), style=style))
            for line in found[n - 1].details if n else ():  # the provider's words on the image
                out.print(Text(f"       {line}", style="dim"))
        out.print()
    for lk in lookups:
        if lk.image_id:
            out.print(Text(f"{lk.address} → {lk.name} ({lk.image_id}): {lk.explanation}"))
        else:
            out.print(Text(f"{lk.address}: {lk.explanation}", style="yellow"))
