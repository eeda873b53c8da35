"""Two resources of a stack never claim one cloud name: refused before any cloud call when the
names are known then, naming both places; names known only at apply are checked before create."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.session import load
from reconciler.errors import ConfigError, SourcePos
from reconciler.planning.names import Claim, NameRegistry, duplicate_claims, provider_scopes
from reconciler_aws.settings import AwsSettings

PROVIDERS = """
provider "aws" {
  region = "us-east-1"
}
provider "aws" {
  alias  = "east"
  region = "us-east-1"
}
provider "aws" {
  alias  = "eu"
  region = "eu-west-1"
}
"""

LT = """
resource "aws_launch_template" "{label}" {{
{extra}  name     = {name}
  image_id = "ami-12345678"
}}
"""

TG = """
resource "aws_target_group" "{label}" {{
  name   = {name}
  port   = 80
  vpc_id = "vpc-1"
}}
"""

FLEET = """
resource "aws_fleet" "{label}" {{
  name               = {name}
  launch_template    = aws_launch_template.a.id
  min_size           = 1
  max_size           = 1
  availability_zones = ["us-east-1a"]
}}
"""


def lt(label: str, name: str, extra: str = "") -> str:
    return LT.format(label=label, name=name, extra=extra)


def problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "main.hcl").write_text(PROVIDERS + text)
    try:
        load(tmp_path, environ={})
    except ConfigError as err:
        return [f"{d.summary} @{d.pos.line if d.pos else '-'}: {d.detail}" for d in err.diagnostics]
    return []


def test_two_launch_templates_with_one_name(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, lt("a", '"web"') + lt("b", '"web"'))
    assert found.startswith('Duplicate cloud name: aws_launch_template "web" @20:')
    assert "aws_launch_template.b and aws_launch_template.a (main.hcl:15:3)" in found
    assert "in region us-east-1" in found


def test_two_target_groups_and_two_fleets_with_one_name(tmp_path: Path) -> None:
    text = (
        lt("a", '"web"')
        + TG.format(label="x", name='"tg"')
        + TG.format(label="y", name='"tg"')
        + FLEET.format(label="f", name='"web"')
        + FLEET.format(label="g", name='"${"w"}eb"')
    )
    found = problems(tmp_path, text)
    assert [f.split(" @")[0] for f in found] == [
        'Duplicate cloud name: aws_target_group "tg"',
        'Duplicate cloud name: aws_fleet "web"',
    ]
    assert "aws_target_group.y and aws_target_group.x" in found[0]
    assert "aws_fleet.g and aws_fleet.f" in found[1]


def test_instances_of_one_block_with_one_name(tmp_path: Path) -> None:
    text = lt("c", '"fixed"', extra="  count    = 2\n") + lt(
        "e", '"same"', extra='  for_each = toset(["x", "y"])\n'
    )
    found = problems(tmp_path, text)
    assert len(found) == 2
    assert "aws_launch_template.c[1] and aws_launch_template.c[0]" in found[0]
    assert 'aws_launch_template.e["y"] and aws_launch_template.e["x"]' in found[1]


def test_distinct_names_types_and_regions_are_fine(tmp_path: Path) -> None:
    text = (
        lt("a", '"web"')
        + lt("c", '"web-${count.index}"', extra="  count    = 3\n")
        + lt("e", '"web-${each.key}"', extra="  for_each = { x = 1, y = 2 }\n")
        + lt("eu", '"web"', extra="  provider = aws.eu\n")  # another region: another name space
        + TG.format(label="t", name='"web"')  # another type
        + FLEET.format(label="f", name='"web"')
    )
    assert problems(tmp_path, text) == []


def test_aliases_of_one_region_share_a_name_space(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, lt("a", '"web"') + lt("b", '"web"', extra="  provider = aws.east\n"))
    assert "aws_launch_template.b and aws_launch_template.a" in found


def test_a_sensitive_name_is_compared_but_never_shown(tmp_path: Path) -> None:
    secret = 'variable "n" {\n  default   = "web-hunter2-name"\n  sensitive = true\n}\n'
    (found,) = problems(tmp_path, secret + lt("a", "var.n") + lt("b", "var.n"))
    assert found.startswith("Duplicate cloud name: aws_launch_template (sensitive value) @24:")
    assert "hunter2" not in found and "aws_launch_template.b and aws_launch_template.a" in found


def test_a_name_known_only_after_apply_is_not_judged_before(tmp_path: Path) -> None:
    unknown = 'split("-", aws_launch_template.a.id)[0] == "lt" ? "web" : "other"'
    assert problems(tmp_path, lt("a", '"web"') + lt("b", unknown)) == []


def test_a_region_from_the_environment_is_its_own_name_space() -> None:
    scopes = provider_scopes(
        {"aws": AwsSettings(), "aws.x": AwsSettings(alias="x", region="us-east-1")}
    )
    assert scopes == {"aws": "the region of provider aws", "aws.x": "region us-east-1"}
    same = provider_scopes(
        {
            "aws.a": AwsSettings(alias="a", region="r", profile="p"),
            "aws.b": AwsSettings(alias="b", region="r", profile="q"),
        }
    )
    assert same["aws.a"] != same["aws.b"]  # another profile may be another account


def claim(address: str, name: str = "web", line: int = 1) -> Claim:
    return Claim("aws_launch_template", "region r", name, address, SourcePos(Path("m.hcl"), line))


def test_the_registry_refuses_a_second_address_and_accepts_the_same_again() -> None:
    registry = NameRegistry([claim("aws_launch_template.a", line=3)])
    assert registry.claim(claim("aws_launch_template.a")) is None
    assert registry.claim(claim("aws_launch_template.c", name="other")) is None
    clash = registry.claim(claim("aws_launch_template.b", line=9))
    assert clash is not None and clash.pos is not None and clash.pos.line == 9
    assert "aws_launch_template.b and aws_launch_template.a (m.hcl:3:1)" in clash.detail
    assert registry.claim(None) is None


@pytest.mark.parametrize("order", [0, 1])
def test_each_later_claim_is_reported_once(order: int) -> None:
    claims = [claim("aws_launch_template.a"), claim("aws_launch_template.b"), claim("aws_launch_template.c")]
    found = duplicate_claims(claims[order:])
    assert len(found) == 2 - order


def test_a_huge_count_is_checked_once_and_left_to_apply(tmp_path: Path) -> None:
    """Evaluating a billion instances would hang validate; one is checked, names are left to the
    check before each create."""
    text = lt("c", '"fixed"', extra="  count    = 1000000000\n") + lt("d", '"x"', extra="  count    = 1001\n")
    found = problems(tmp_path, text)
    assert len(found) == 1 and found[0].startswith('Invalid value for attribute "name"')  # "x": too short
