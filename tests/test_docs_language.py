"""docs/language.md is the language reference in the repository (issue 14): it names every
resource and data-source type the installed provider declares, every argument of each (nested
blocks and the rollout block included), every provider and backend argument and every built-in
function; the README links to it."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from reconciler.expressions.functions import FUNCTIONS
from reconciler.sdk.registry import all_schemas
from reconciler_aws.settings import ARGUMENTS, S3_BACKEND_SETTINGS

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "language.md").read_text()


def nested_models(annotation: object) -> list[type[BaseModel]]:
    """The block models in an annotation: `X`, `X | None`, `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in nested_models(arg)]


def fields_of(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        out.append(prefix + name)
        for sub in nested_models(info.annotation):
            out += fields_of(sub, f"{prefix}{name}.")
    return out


def section(type_name: str) -> str:
    match = re.search(rf"^### `{type_name}`\n(.*?)(?=^#{{2,3}} )", DOC, re.MULTILINE | re.DOTALL)
    assert match is not None, f"docs/language.md has no section for {type_name}"
    return match.group(1)


def test_every_type_and_argument_is_documented_in_its_section() -> None:
    undocumented = []
    for (_, type_name), schema in sorted(all_schemas().items(), key=lambda kv: kv[0][1]):
        text = section(type_name)
        for path in fields_of(schema.model):
            leaf = path.split(".")[-1]
            if f"`{leaf}`" not in text and f"`{leaf} {{ }}`" not in text:  # an argument, or a block
                undocumented.append(f"{type_name}: {path}")
    assert undocumented == []


def test_provider_backend_and_functions_are_documented() -> None:
    for name in ARGUMENTS:
        assert f"`{name}`" in section('provider "aws"')
    for name in S3_BACKEND_SETTINGS:
        assert f"`{name}`" in DOC
    listed = set(re.search(r"They behave as in Terraform 1.11:\n\n`(.*?)`", DOC, re.DOTALL).group(1).split())  # type: ignore[union-attr]
    assert listed == set(FUNCTIONS) | {"try", "can"}


def test_the_readme_links_the_reference_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(docs/language.md)" in readme
    assert "../shared" not in readme
