"""Commands that read the configuration only: `validate` and `fmt`. No cloud, no state.

Callers: reconciler.cli (GROUPS).
"""

from __future__ import annotations

import argparse

from reconciler.cli.common import Context, ExitCode, Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("validate", help="parse and validate the stack; no cloud calls (terraform validate)")
    p.set_defaults(run=validate)
    p = sub.add_parser("fmt", help="rewrite the stack's HCL files in canonical form (terraform fmt)")
    p.add_argument(
        "--check", action="store_true", help="only report files that are not formatted; exit 1 if any"
    )
    p.set_defaults(run=fmt)


def validate(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler.cli.session import load_from

    load_from(args, ctx.directory)
    ctx.out.print("Success! The configuration is valid.")
    return ExitCode.OK


def fmt(args: argparse.Namespace, ctx: Context) -> ExitCode:
    from reconciler import sourcetext
    from reconciler.config import format_source
    from reconciler.config.hclparse import encoding_diagnostic, parse_file
    from reconciler.errors import ConfigError, Diagnostic, ReconcilerError

    unformatted = []
    broken: list[Diagnostic] = []
    for path in sorted(ctx.directory.glob("*.hcl")):
        try:  # decoded from bytes: CRLF line endings stay as they are
            text = sourcetext.read(path, strip_bom=False)
        except sourcetext.SourceEncodingError as exc:
            broken.append(encoding_diagnostic(exc))  # a file that is not UTF-8 is left as it is
            continue
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        body, syntax = parse_file(path, text.removeprefix(bom))
        if body is None:  # like terraform fmt: never reformat what does not parse
            broken.extend(syntax)
            continue
        new = bom + format_source(text.removeprefix(bom))
        if new != text:
            unformatted.append(path.name)
            if not args.check:
                path.write_bytes(new.encode("utf-8"))
    for name in unformatted:
        ctx.out.print(name)
    if broken:
        raise ConfigError(broken)
    if args.check and unformatted:
        raise ReconcilerError(f"{len(unformatted)} file(s) are not in canonical format; run `reconciler fmt`")
    return ExitCode.OK
