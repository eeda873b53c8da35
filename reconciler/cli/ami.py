"""`ami list NAME_OR_ADDR`: the candidate images of an AMI query, with versions and dates, which
one each `aws_ami` lookup of the stack resolves to and why, and which images a lookup's version
constraint (or name_regex, or a missing version tag) excludes.

NAME_OR_ADDR is an image name glob (`app-*`, owners `--owner`, default self) or the address of an
`aws_ami` lookup in the stack (`data.aws_ami.app`), whose own filters are then used. Lookups are
resolved as `plan` resolves them (planning.lookups); images are listed by the provider's
ImageLister. Callers: reconciler.cli (GROUPS).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.cli.common import Context, ExitCode, Subparsers, add_variables

if TYPE_CHECKING:
    from rich.console import Console

    from reconciler.planning.lookups import Lookup

DEFAULT_VERSION_TAG = "Version"


def register(sub: Subparsers) -> None:
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
    add_variables(
        s, var_help="set a variable used by the stack's lookups", file_help="read variables from FILE"
    )
    s.set_defaults(run=ami_list)


def _stack_dir(directory: Path) -> bool:
    return any(p.is_file() for p in directory.glob("*.hcl"))


def ami_list(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.address import Address, Mode
    from reconciler.cli.session import load, provider_settings
    from reconciler.errors import ReconcilerError
    from reconciler.planning.lookups import image_types, resolve_lookups
    from reconciler.sdk import provider_for_type
    from reconciler.sdk.images import ImageLister
    from reconciler.sdk.registry import make_provider, plugins

    directory, out = ctx.directory, ctx.out
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
    return ExitCode.OK


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
    from rich.text import Text

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
        for r in rows:
            cells = [r[i].ljust(widths[i]) for i in range(5)]
            style = "dim" if r[0] == "x" else ("bold green" if r[0] == "→" else "")
            out.print(Text(("  " + "  ".join(cells) + "  " + r[5]).rstrip(), style=style))
        out.print()
    for lk in lookups:
        if lk.image_id:
            out.print(Text(f"{lk.address} → {lk.name} ({lk.image_id}): {lk.explanation}"))
        else:
            out.print(Text(f"{lk.address}: {lk.explanation}", style="yellow"))
