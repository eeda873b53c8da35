"""Scenario (issue 5, item 5): `reconciler ami list NAME_OR_ADDR` shows the candidate images with
versions and dates, which one each lookup of the stack resolves to and why, and the images a
lookup's version constraint excludes; the order (version, then date, then id) never flips.

Given images app-1.3.0, app-1.4.2, app-1.5.0 (Channel=stable), app-2.0.0, app-1.6.0-rc (Channel
=beta) and an untagged app-nightly in the moto server, and a stack whose `app` lookup takes
`>=1.4,<2` from stable and whose `beta` lookup takes the newest beta.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler_aws.ami import AmiArgs, select_image
from reconciler_aws.ami_list import classify
from tests.conftest import register_ami
from tests.scenarios.harness import Cli, write_stack

STACK = {
    "main.hcl": """
        variable "app" {
          type    = string
          default = "app"
        }

        locals { pattern = "${var.app}-*" }

        data "aws_ami" "app" {
          name        = local.pattern
          tags        = { Channel = "stable" }
          most_recent = true
          version_tag = "Version"
          version     = ">=1.4,<2"
        }

        data "aws_ami" "beta" {
          name        = local.pattern
          tags        = { Channel = "beta" }
          most_recent = true
          version_tag = "Version"
        }

        resource "aws_launch_template" "web" {
          name     = "web"
          image_id = data.aws_ami.app.id
        }
    """
}


@pytest.fixture
def images(aws_env: str, boto: Any) -> dict[str, str]:
    """name → image id."""
    stable = {"Channel": "stable"}
    out = {
        name: register_ami(boto, name=name, version=version, tags=tags)
        for name, version, tags in [
            ("app-1.3.0", "1.3.0", stable),
            ("app-1.4.2", "1.4.2", stable),
            ("app-1.5.0", "1.5.0", stable),
            ("app-2.0.0", "2.0.0", stable),
            ("app-1.6.0-rc", "1.6.0rc1", {"Channel": "beta"}),
            ("db-1.9.0", "1.9.0", stable),
        ]
    }
    out["app-nightly"] = register_ami(boto, name="app-nightly", tags=stable)
    return out


def row(text: str, name: str) -> str:
    """The listing row of the image called `name`."""
    return next(line for line in text.splitlines() if f" {name} " in f" {line} ")


def test_lookup_address_lists_its_candidates_choice_and_exclusions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], images: dict[str, str]
) -> None:
    cli = Cli(write_stack(tmp_path / "stack", STACK), capsys)
    res = cli("ami", "list", "data.aws_ami.app")
    assert res.code == 0, res.text
    out = res.out
    assert "data.aws_ami.app: owners=[self], name=app-*, tags={Channel=stable}, version >=1.4,<2" in out
    names = [n for n in ("app-2.0.0", "app-1.5.0", "app-1.4.2", "app-1.3.0", "app-nightly") if n in out]
    assert names == ["app-2.0.0", "app-1.5.0", "app-1.4.2", "app-1.3.0", "app-nightly"]
    assert sorted(names, key=out.index) == names  # newest version first
    listing = out.split("\n\n")[0]
    assert "db-1.9.0" not in listing and "app-1.6.0-rc" not in listing  # other name, other channel
    chosen = row(out, "app-1.5.0")
    assert images["app-1.5.0"] in chosen and "1.5.0" in chosen and "← data.aws_ami.app" in chosen
    assert "excluded: Version 2.0.0 not in >=1.4,<2" in row(out, "app-2.0.0")
    assert "excluded: Version 1.3.0 not in >=1.4,<2" in row(out, "app-1.3.0")
    assert "excluded: no Version tag" in row(out, "app-nightly")
    assert "excluded" not in row(out, "app-1.4.2") and "←" not in row(out, "app-1.4.2")
    assert (
        f"data.aws_ami.app → app-1.5.0 ({images['app-1.5.0']}): "
        "newest of 2 images named app-* tagged Channel=stable with Version in >=1.4,<2"
    ) in out


def test_name_glob_marks_what_each_lookup_resolves_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], images: dict[str, str]
) -> None:
    cli = Cli(write_stack(tmp_path / "stack", STACK), capsys)
    res = cli("ami", "list", "app-*")
    assert res.code == 0, res.text
    out = res.out
    assert "images named app-*" in out
    for name in ("app-2.0.0", "app-1.6.0-rc", "app-1.5.0", "app-1.4.2", "app-1.3.0", "app-nightly"):
        assert images[name] in row(out, name)
    assert "db-1.9.0" not in out
    assert "← data.aws_ami.app" in row(out, "app-1.5.0")
    assert "← data.aws_ami.beta" in row(out, "app-1.6.0-rc")
    assert "1.6.0rc1" in row(out, "app-1.6.0-rc")  # the version tag as written
    assert "excluded" not in out  # a glob has no constraint of its own
    assert f"data.aws_ami.beta → app-1.6.0-rc ({images['app-1.6.0-rc']}): the only image" in out


def test_json_listing(tmp_path: Path, capsys: pytest.CaptureFixture[str], images: dict[str, str]) -> None:
    cli = Cli(write_stack(tmp_path / "stack", STACK), capsys)
    res = cli("ami", "list", "data.aws_ami.app", "--json")
    assert res.code == 0, res.text
    doc = json.loads(res.out)
    listed = {i["name"]: i for i in doc["queries"][0]["images"]}
    assert listed["app-1.5.0"]["chosen_by"] == ["data.aws_ami.app"]
    assert listed["app-1.5.0"]["id"] == images["app-1.5.0"]
    assert listed["app-1.5.0"]["creation_date"]
    assert listed["app-2.0.0"]["excluded"] == "Version 2.0.0 not in >=1.4,<2"
    assert listed["app-1.4.2"] | {"creation_date": None} == {
        "id": images["app-1.4.2"],
        "name": "app-1.4.2",
        "version": "1.4.2",
        "creation_date": None,
        "excluded": None,
        "chosen_by": [],
        "details": [
            "ebs root 8 GiB, x86_64",
            "snapshots: 1 snapshot, 8 GiB",
            "launch: private",
            "used by: nothing",
        ],
    }
    lookups = {lk["address"]: lk for lk in doc["lookups"]}
    assert lookups["data.aws_ami.beta"]["id"] == images["app-1.6.0-rc"]


def test_glob_outside_a_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], images: dict[str, str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    res = Cli(empty, capsys)("ami", "list", "app-1.*")
    assert res.code == 0, res.text
    assert "app-1.5.0" in res.out and "app-2.0.0" not in res.out and "←" not in res.out


def test_a_lookup_that_matches_nothing_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], images: dict[str, str]
) -> None:
    stack = {"main.hcl": STACK["main.hcl"].replace('">=1.4,<2"', '">=3"')}
    res = Cli(write_stack(tmp_path / "stack", stack), capsys)("ami", "list", "data.aws_ami.app")
    assert res.code == 0, res.text
    assert "excluded: Version 1.5.0 not in >=3" in row(res.out, "app-1.5.0")
    assert "data.aws_ami.app: no AMI matches" in res.out
    assert "none in the version range" in res.out


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("data.aws_ami.nope", "no lookup data.aws_ami.nope in the stack (its aws_ami lookups: "),
        ("data.aws_vpc.default", "is not an aws_ami lookup"),
    ],
)
def test_unknown_lookups_are_errors(
    target: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], images: dict[str, str]
) -> None:
    res = Cli(write_stack(tmp_path / "stack", STACK), capsys)("ami", "list", target)
    assert res.code == 1
    assert message in res.err


def test_the_listing_never_flips_between_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], aws_env: str, boto: Any
) -> None:
    """Same version on several images (re-baked): the order is (version, date, id), every run."""
    for _ in range(4):
        register_ami(boto, name="app-1.5.0", version="1.5.0", tags={"Channel": "stable"})
    cli = Cli(write_stack(tmp_path / "stack", STACK), capsys)
    first = cli("ami", "list", "data.aws_ami.app", "--json")
    again = cli("ami", "list", "data.aws_ami.app", "--json")
    assert first.code == 0 and first.out == again.out
    doc = json.loads(first.out)
    listed = doc["queries"][0]["images"]
    assert listed[0]["chosen_by"] == ["data.aws_ami.app"]  # the lookup takes the first eligible
    keys = [(i["creation_date"], i["id"]) for i in listed]
    assert keys == sorted(keys, reverse=True)


T0, T1 = "2026-11-20T10:00:00.000Z", "2026-11-22T10:00:00.000Z"


def img(image_id: str, *, version: str | None = None, created: str = T0, name: str = "app") -> dict[str, Any]:
    tags = [{"Key": "Version", "Value": version}] if version is not None else []
    return {"ImageId": image_id, "Name": name, "CreationDate": created, "Tags": tags}


@pytest.mark.parametrize(
    ("images", "args", "order", "excluded"),
    [
        # equal creation dates: the id decides, whatever order DescribeImages answers in
        ([img("ami-a"), img("ami-c"), img("ami-b")], {"most_recent": True}, ["ami-c", "ami-b", "ami-a"], {}),
        # equal versions: date, then id
        (
            [
                img("ami-z", version="1.0"),
                img("ami-a", version="1.0.0", created=T1),
                img("ami-y", version="1.0"),
            ],
            {"most_recent": True, "version_tag": "Version"},
            ["ami-a", "ami-z", "ami-y"],
            {},
        ),
        # the constraint, a missing tag and name_regex exclude; excluded images keep their place
        (
            [img("ami-1", version="2.0"), img("ami-2", version="1.5"), img("ami-3"), img("ami-4", name="db")],
            {"most_recent": True, "version_tag": "Version", "version": "<2", "name_regex": "^app"},
            ["ami-1", "ami-2", "ami-4", "ami-3"],
            {
                "ami-1": "Version 2.0 not in <2",
                "ami-3": "no Version tag",
                "ami-4": "name does not match /^app/",
            },
        ),
    ],
)
def test_classify_orders_like_the_lookup_chooses(
    images: list[dict[str, Any]], args: dict[str, Any], order: list[str], excluded: dict[str, str]
) -> None:
    ami_args = AmiArgs(**args)
    for answer in (images, list(reversed(images))):
        listed = classify(answer, ami_args)
        assert [c.image_id for c in listed] == order
        assert {c.image_id: c.excluded for c in listed if c.excluded} == excluded
        eligible = [c.image_id for c in listed if not c.excluded]
        assert eligible[0] == select_image(answer, ami_args).image["ImageId"]
