"""aws_ami selection, ordering, messages and explanations: pure functions, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.address import Address, Mode
from reconciler.errors import ConfigError
from reconciler_aws.ami import AmiArgs, AmiSelectionError, describe_filters, explain, select_image
from reconciler_aws.validation import validate_config

T0 = "2026-11-20T10:00:00.000Z"
T1 = "2026-11-21T10:00:00.000Z"
T2 = "2026-11-22T10:00:00.000Z"


def img(image_id: str, *, name: str = "app", created: str = T0, version: str | None = None) -> dict[str, Any]:
    tags = [{"Key": "Version", "Value": version}] if version is not None else []
    return {"ImageId": image_id, "Name": name, "CreationDate": created, "Tags": tags}


@pytest.mark.parametrize(
    ("images", "args", "chosen", "candidates"),
    [
        # newest by creation date
        (
            [img("ami-1", created=T0), img("ami-3", created=T2), img("ami-2", created=T1)],
            {"most_recent": True},
            "ami-3",
            3,
        ),
        # version wins over date; 2.0.0 is outside <2
        (
            [
                img("ami-a", version="1.4.2", created=T2),
                img("ami-b", version="1.5.0", created=T0),
                img("ami-c", version="2.0.0", created=T1),
            ],
            {"most_recent": True, "version_tag": "Version", "version": ">=1.4,<2"},
            "ami-b",
            2,
        ),
        # PEP 440 ordering, not string ordering: 1.10 > 1.9
        (
            [img("ami-a", version="1.9.0"), img("ami-b", version="1.10.0")],
            {"most_recent": True, "version_tag": "Version"},
            "ami-b",
            2,
        ),
        # images without a valid version tag are excluded
        (
            [
                img("ami-a", version="1.0.0"),
                img("ami-b", version="not-a-version", created=T2),
                img("ami-c", created=T2),
            ],
            {"version_tag": "Version"},
            "ami-a",
            1,
        ),
        # equal dates: the image id decides, whatever the input order
        ([img("ami-b"), img("ami-a")], {"most_recent": True}, "ami-b", 2),
        ([img("ami-a"), img("ami-b")], {"most_recent": True}, "ami-b", 2),
        # equal versions: date, then id
        (
            [img("ami-z", version="1.0", created=T0), img("ami-a", version="1.0.0", created=T1)],
            {"most_recent": True, "version_tag": "Version"},
            "ami-a",
            2,
        ),
        # name_regex is a search, like Terraform's
        ([img("ami-1", name="app-1.0"), img("ami-2", name="db-1.0")], {"name_regex": r"^app-"}, "ami-1", 1),
        # a single match needs no most_recent
        ([img("ami-1")], {}, "ami-1", 1),
    ],
)
def test_select_image(
    images: list[dict[str, Any]], args: dict[str, Any], chosen: str, candidates: int
) -> None:
    selection = select_image(images, AmiArgs(**args))
    assert selection.image["ImageId"] == chosen
    assert selection.candidates == candidates
    assert select_image(list(reversed(images)), AmiArgs(**args)).image["ImageId"] == chosen


@pytest.mark.parametrize(
    ("images", "args", "expected"),
    [
        ([], {"name": "app-*"}, "no AMI matches: owners=[self], name=app-* (no image matched the filters)"),
        (
            [img("a", version="1.3.0"), img("b", version="2.0.0"), img("c", version="2.1.0")],
            {"name": "app-*", "tags": {"App": "web"}, "version_tag": "Version", "version": ">=1.4,<2"},
            "no AMI matches: owners=[self], name=app-*, tags={App=web}, version >=1.4,<2 "
            "(3 images matched the filters, none in the version range)",
        ),
        (
            [img("a", version="1.3.0"), img("b")],
            {"version_tag": "Version", "version": ">=1.4"},
            "no AMI matches: owners=[self], version >=1.4 "
            "(2 images matched the filters, 1 without a valid Version tag, none in the version range)",
        ),
        (
            [img("a"), img("b", version="x")],
            {"version_tag": "Version"},
            "no AMI matches: owners=[self], version_tag=Version "
            "(2 images matched the filters, none has a valid PEP 440 version in tag Version)",
        ),
        (
            [img("a", name="db")],
            {"name_regex": "^app"},
            "no AMI matches: owners=[self], name_regex=^app "
            "(1 image matched the filters, none matched name_regex)",
        ),
    ],
)
def test_no_match_messages(images: list[dict[str, Any]], args: dict[str, Any], expected: str) -> None:
    with pytest.raises(AmiSelectionError) as info:
        select_image(images, AmiArgs(**args))
    assert str(info.value) == expected
    assert info.value.code == "NoMatchingImage"


def test_several_without_most_recent_lists_them_newest_first() -> None:
    images = [img(f"ami-{i}", name=f"app-{i}", created=f"2026-11-0{i}T00:00:00.000Z") for i in range(1, 8)]
    with pytest.raises(AmiSelectionError) as info:
        select_image(images, AmiArgs(name="app-*"))
    text = str(info.value)
    assert text.startswith(
        "7 AMIs match owners=[self], name=app-*: ami-7 (app-7, 2026-11-07T00:00:00.000Z); ami-6"
    )
    assert "ami-3" in text and "ami-2" not in text and "and 2 more" in text
    assert "most_recent" in text
    assert info.value.code == "AmbiguousImage"


@pytest.mark.parametrize(
    ("args", "candidates", "expected"),
    [
        (
            {"name": "app-*", "version_tag": "Version", "version": ">=1.4,<2", "most_recent": True},
            3,
            "newest of 3 images named app-* with Version in >=1.4,<2",
        ),
        ({"name": "app-*", "most_recent": True}, 4, "newest of 4 images named app-* by creation date"),
        (
            {"name": "app-*", "version_tag": "Version", "most_recent": True},
            2,
            "newest of 2 images named app-* by Version tag",
        ),
        ({"tags": {"App": "web", "Channel": "stable"}}, 1, "the only image tagged App=web, Channel=stable"),
        ({"name_regex": "^app-[0-9]+$"}, 1, "the only image matching /^app-[0-9]+$/"),
        (
            {"owners": ["amazon"], "most_recent": True},
            9,
            "newest of 9 images owned by amazon by creation date",
        ),
    ],
)
def test_explanation(args: dict[str, Any], candidates: int, expected: str) -> None:
    assert explain(AmiArgs(**args), candidates=candidates) == expected


def test_filters_are_server_side_and_sorted() -> None:
    args = AmiArgs(name="app-*", tags={"b": "2", "a": "1"}, architecture="arm64", root_device_type="ebs")
    assert describe_filters(args) == [
        {"Name": "state", "Values": ["available"]},
        {"Name": "name", "Values": ["app-*"]},
        {"Name": "tag:a", "Values": ["1"]},
        {"Name": "tag:b", "Values": ["2"]},
        {"Name": "architecture", "Values": ["arm64"]},
        {"Name": "root-device-type", "Values": ["ebs"]},
    ]


@pytest.mark.parametrize(
    ("config", "summary", "detail"),
    [
        (
            {"version_tag": "Version", "version": ">=1.4,<<2"},
            'Invalid value for "version"',
            "invalid version constraint '>=1.4,<<2': expected a PEP 440 specifier such as \">=1.4,<2\"",
        ),
        ({"version": ">=1"}, 'Invalid value for "aws_ami"', '"version" needs "version_tag"'),
        ({"name_regex": "("}, 'Invalid value for "name_regex"', "invalid regular expression '('"),
        ({"owner": ["self"]}, 'Unsupported argument "owner"', "Extra inputs are not permitted"),
    ],
)
def test_invalid_arguments_become_diagnostics(config: dict[str, Any], summary: str, detail: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(AmiArgs, config, address=Address("aws_ami", "app", mode=Mode.DATA))
    diag = info.value.diagnostics[0]
    assert diag.summary == summary
    assert diag.detail.startswith(detail)
    assert diag.context == 'in data "aws_ami" "app"'
