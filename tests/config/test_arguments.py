"""evaluate_body and validate_arguments: defaults, nested blocks, UNKNOWN fields, error positions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.address import Address, Mode
from reconciler.config import Body, evaluate_body, validate_arguments
from reconciler.config.hclparse import parse_file
from reconciler.errors import ConfigError
from reconciler.expressions import UNKNOWN, EvalContext
from tests.config.fake_schemas import SCHEMAS

LT = SCHEMAS[(Mode.MANAGED, "aws_launch_template")]
FLEET = SCHEMAS[(Mode.MANAGED, "aws_fleet")]
FILE = Path("main.hcl")

CTX = EvalContext(
    variables={"type": "t3.micro"},
    resources={Address("aws_launch_template", "base"): {"id": UNKNOWN}},
    data={Address("aws_ami", "app", None, Mode.DATA): {"id": "ami-1"}},
)


def body_of(text: str) -> Body:
    body, diags = parse_file(FILE, 'resource "x" "y" {\n' + text + "}\n")
    assert body is not None and not diags
    return body.blocks[0].body


def check(schema: Any, text: str) -> tuple[dict[str, Any], list[Any]]:
    body = body_of(text)
    return validate_arguments(schema, evaluate_body(body, CTX), body, context='in resource "x" "y"')


def test_evaluate_body_nested_blocks_are_lists() -> None:
    body = body_of(
        '  name = "a"\n  block_device_mapping {\n    device_name = "/dev/a"\n  }\n'
        '  block_device_mapping {\n    device_name = "/dev/b"\n  }\n  metadata_options {}\n'
    )
    assert evaluate_body(body, CTX) == {
        "name": "a",
        "block_device_mapping": [{"device_name": "/dev/a"}, {"device_name": "/dev/b"}],
        "metadata_options": [{}],
    }


def test_evaluate_body_reports_every_error() -> None:
    body = body_of("  name = var.nope\n  image_id = local.nope\n  tags { a = var.x }\n")
    with pytest.raises(ConfigError) as info:
        evaluate_body(body, CTX)
    assert [d.pos.line for d in info.value.diagnostics if d.pos] == [2, 3, 4]


def test_defaults_filled_and_single_block_unwrapped() -> None:
    result, diags = check(
        LT,
        '  name = "web"\n  image_id = data.aws_ami.app.id\n  instance_type = var.type\n'
        '  block_device_mapping {\n    device_name = "/dev/xvda"\n    volume_size = 8\n  }\n'
        '  metadata_options {\n    http_tokens = "optional"\n  }\n',
    )
    assert diags == []
    assert result == {
        "name": "web",
        "image_id": "ami-1",
        "instance_type": "t3.micro",
        "user_data": None,
        "security_group_ids": [],
        "block_device_mapping": [
            {"device_name": "/dev/xvda", "volume_size": 8, "volume_type": "gp3", "encrypted": True}
        ],
        "metadata_options": {"http_tokens": "optional"},
        "tags": {},
    }


def test_unknown_fields_are_not_validated_and_come_back_unknown() -> None:
    # image_id is required and unknown: its absence is not an error; tags holds an UNKNOWN inside
    result, diags = check(
        LT,
        '  name = "web"\n  image_id = aws_launch_template.base.id\n'
        '  tags = { Name = "web", Base = aws_launch_template.base.id }\n',
    )
    assert diags == []
    assert result["image_id"] is UNKNOWN and result["tags"] is UNKNOWN
    assert result["name"] == "web" and result["security_group_ids"] == []
    assert set(result) == set(LT.model.model_fields)


def test_known_fields_still_validated_next_to_unknown_ones() -> None:
    _, diags = check(
        FLEET, '  name = "web"\n  launch_template = aws_launch_template.base.id\n  min_size = "x"\n'
    )
    assert [d.summary for d in diags] == [
        'Inappropriate value for attribute "min_size": a number is required, got "x"'
    ]
    assert diags[0].pos is not None and diags[0].pos.line == 4


@pytest.mark.parametrize(
    ("text", "summary", "line"),
    [
        ('  name = "w"\n', 'Missing required argument "launch_template"', 1),
        (
            '  name = "w"\n  launch_template = "lt"\n  max_size = "many"\n',
            'Inappropriate value for attribute "max_size": a number is required, got "many"',
            4,
        ),
        (
            '  name = "w"\n  launch_template = "lt"\n  max_size = 1.5\n',
            'Inappropriate value for attribute "max_size": a whole number is required, got 1.5',
            4,
        ),
        (
            '  name = ["w"]\n  launch_template = "lt"\n',
            'Inappropriate value for attribute "name": a string is required, got ["w"]',
            2,
        ),
        (
            '  name = "w"\n  launch_template = "lt"\n  tags = { a = ["x"] }\n',
            'Inappropriate value for attribute "tags.a": a string is required, got ["x"]',
            4,
        ),
        (
            '  name = "w"\n  launch_template = "lt"\n  tags = "x"\n',
            'Inappropriate value for attribute "tags": a map is required, got "x"',
            4,
        ),
    ],
)
def test_pydantic_errors_map_to_positions(text: str, summary: str, line: int) -> None:
    _, diags = check(FLEET, text)
    assert [d.summary for d in diags] == [summary]
    assert diags[0].pos is not None and (diags[0].pos.file, diags[0].pos.line) == (FILE, line)
    assert diags[0].context == 'in resource "x" "y"'


def test_nested_block_errors_point_into_the_block() -> None:
    _, diags = check(
        LT,
        '  name = "w"\n  image_id = "i"\n  block_device_mapping {\n    device_name = "/dev/a"\n  }\n'
        "  block_device_mapping {\n    volume_size = 8\n  }\n"
        "  metadata_options {\n    http_tokens = 3\n  }\n  metadata_options {}\n",
    )
    got = sorted((d.summary, d.pos.line) for d in diags if d.pos)
    assert got == sorted(
        [
            ('Missing required argument "device_name"', 7),
            (
                'Inappropriate value for attribute "metadata_options.http_tokens": '
                "a string is required, got 3",
                11,
            ),
            ('Too many "metadata_options" blocks', 13),
        ]
    )
