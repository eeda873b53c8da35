"""resolve_variables: precedence, type conversion, and every problem reported at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.config import load_stack, resolve_variables
from reconciler.config.types import TypeSpec, convert, parse_type
from reconciler.errors import ConfigError
from reconciler.expressions import parse_expression
from reconciler.expressions.coerce import ConversionError

VARS = """\
variable "region" {
  default = "us-east-1"
}
variable "size" {
  type    = number
  default = 1
}
variable "on" {
  type    = bool
  default = false
}
variable "zones" {
  type    = list(string)
  default = []
}
variable "tags" {
  type    = map(string)
  default = {}
}
variable "ids" {
  type    = set(number)
  default = []
}
variable "cfg" {
  type    = object({ name = string, port = optional(number) })
  default = { name = "d" }
}
variable "anything" {
  default = null
}
"""


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    (tmp_path / "vars.hcl").write_text(VARS)
    return tmp_path


def test_defaults(stack_dir: Path) -> None:
    values = resolve_variables(load_stack(stack_dir), cli_vars=[], var_files=[], environ={})
    assert values == {
        "region": "us-east-1",
        "size": 1,
        "on": False,
        "zones": [],
        "tags": {},
        "ids": [],
        "cfg": {"name": "d", "port": None},
        "anything": None,
    }


def test_precedence_default_env_file_cli(stack_dir: Path, tmp_path: Path) -> None:
    f1 = tmp_path / "a.tfvars"
    f1.write_text('region = "from-file"\nsize = 3\n')
    f2 = tmp_path / "b.json"
    f2.write_text(json.dumps({"size": 4, "zones": ["x"]}))
    env = {
        "RECONCILER_VAR_region": "from-env",
        "RECONCILER_VAR_on": "true",
        "RECONCILER_VAR_nope": "x",
        "HOME": "/root",
    }
    values = resolve_variables(load_stack(stack_dir), cli_vars=["size=5"], var_files=[f1, f2], environ=env)
    assert values["region"] == "from-file"  # file beats env
    assert values["on"] is True  # env beats default
    assert values["size"] == 5  # cli beats files; later files beat earlier ones
    assert values["zones"] == ["x"]


CLI_CONVERSIONS: list[tuple[str, Any]] = [
    ("size=2.5", 2.5),
    ("on=false", False),
    ('zones=["a", "b"]', ["a", "b"]),
    ('tags={ Team = "web", N = 1 }', {"Team": "web", "N": "1"}),
    ("ids=[3, 1, 3]", [1, 3]),
    ('cfg={ name = "x", port = "80" }', {"name": "x", "port": 80}),
    ("region=a=b", "a=b"),
    ("anything=[1]", "[1]"),  # type any: a command-line value stays a string
]


@pytest.mark.parametrize(("option", "expected"), CLI_CONVERSIONS)
def test_cli_conversion(stack_dir: Path, option: str, expected: Any) -> None:
    values = resolve_variables(load_stack(stack_dir), cli_vars=[option], var_files=[], environ={})
    assert values[option.split("=", 1)[0]] == expected


def test_all_problems_reported_together(stack_dir: Path) -> None:
    (stack_dir / "req.hcl").write_text('variable "needed" {\n  type = string\n}\n')
    with pytest.raises(ConfigError) as info:
        resolve_variables(
            load_stack(stack_dir),
            cli_vars=["size=big", "zonez=[]", "on=maybe", "novalue"],
            var_files=[stack_dir / "missing.tfvars"],
            environ={"RECONCILER_VAR_zones": "not a list ["},
        )
    summaries = sorted(d.summary for d in info.value.diagnostics)
    assert summaries == sorted(
        [
            'Invalid --var option "novalue": expected NAME=VALUE',
            'Value for undeclared variable "zonez"',
            'Failed to read variables file "' + str(stack_dir / "missing.tfvars") + '"',
            'Invalid value for variable "size": a number is required, got "big"',
            'Invalid value for variable "on": a bool is required, got "maybe"',
            'No value for required variable "needed"',
            "Invalid expression: 'not a list ['",
        ]
    )
    undeclared = next(d for d in info.value.diagnostics if "zonez" in d.summary)
    assert undeclared.suggestion == "zones"


def test_var_file_type_error_points_at_the_file(stack_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "prod.tfvars"
    f.write_text('region = "x"\nzones = "not-a-list"\n')
    with pytest.raises(ConfigError) as info:
        resolve_variables(load_stack(stack_dir), cli_vars=[], var_files=[f], environ={})
    (diag,) = info.value.diagnostics
    assert diag.summary == 'Invalid value for variable "zones": a list is required, got "not-a-list"'
    assert diag.pos is not None and (diag.pos.file, diag.pos.line) == (f, 2)


TYPE_CASES: list[tuple[str, Any, Any]] = [
    ("string", 5, "5"),
    ("string", True, "true"),
    ("number", "7", 7),
    ("bool", "true", True),
    ("list(number)", ["1", 2], [1, 2]),
    ("map(bool)", {"a": "false"}, {"a": False}),
    ("set(string)", ["b", "a", "b"], ["a", "b"]),
    ("tuple([string, number])", ["a", "1"], ["a", 1]),
    ("object({ a = list(string) })", {"a": ["x"], "extra": 1}, {"a": ["x"]}),
    ("any", {"x": [1]}, {"x": [1]}),
    ("list(string)", None, None),
]


def _spec(text: str) -> TypeSpec:
    return parse_type(parse_expression(text, file=Path("t.hcl")))


@pytest.mark.parametrize(("type_text", "value", "expected"), TYPE_CASES)
def test_type_conversion(type_text: str, value: Any, expected: Any) -> None:
    assert convert(value, _spec(type_text)) == expected


@pytest.mark.parametrize(
    ("type_text", "value", "message"),
    [
        ("number", "x", 'a number is required, got "x"'),
        ("list(number)", [1, "x"], 'element 1: a number is required, got "x"'),
        ("map(string)", [], "a map is required"),
        ("object({ a = string })", {}, 'attribute "a" is required'),
        ("string", [1], "a string is required, got a list"),
    ],
)
def test_type_conversion_errors(type_text: str, value: Any, message: str) -> None:
    with pytest.raises(ConversionError) as info:
        convert(value, _spec(type_text))
    assert message in str(info.value)
