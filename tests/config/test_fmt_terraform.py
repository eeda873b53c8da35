"""reconciler fmt is terraform fmt: for every file of the corpus in fixtures/fmt (NAME.in.hcl,
and NAME.out.hcl as `terraform fmt` 1.11.4 wrote it, recorded by record_fmt_corpus.py), formatting
the input gives Terraform's output byte for byte, and Terraform's output is a fixed point."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config import format_source

CORPUS = Path(__file__).parent / "fixtures" / "fmt"
INPUTS = sorted(CORPUS.glob("*.in.hcl"))


def _expected(source: Path) -> str:
    return source.with_name(source.name.replace(".in.hcl", ".out.hcl")).read_bytes().decode("utf-8")


def test_the_corpus_is_large_enough() -> None:
    assert len(INPUTS) >= 30
    assert all(s.with_name(s.name.replace(".in.hcl", ".out.hcl")).exists() for s in INPUTS)


@pytest.mark.parametrize("source", INPUTS, ids=[s.name.removesuffix(".in.hcl") for s in INPUTS])
def test_formats_like_terraform(source: Path) -> None:
    assert format_source(source.read_bytes().decode("utf-8")) == _expected(source)


@pytest.mark.parametrize("source", INPUTS, ids=[s.name.removesuffix(".in.hcl") for s in INPUTS])
def test_terraform_formatted_files_are_fixed_points(source: Path) -> None:
    expected = _expected(source)
    assert format_source(expected) == expected

