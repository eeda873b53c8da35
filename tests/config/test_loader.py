"""load_stack on valid stacks: the typed model, positions, meta-arguments and helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.address import Address, Mode
from reconciler.config import TypeKind, load_stack
from reconciler.errors import ConfigError
from reconciler.expressions import EvalContext, Literal, RefKind, evaluate

MAIN = """\
reconciler {
  stack = "web-prod"
  backend "local" { path = ".reconciler/state.json" }
}

provider "aws" {
  region       = "us-east-1"
  default_tags = { Team = "web" }
}

provider "aws" {
  alias  = "eu"
  region = "eu-west-1"
}

variable "instance_type" {
  type        = string
  default     = "t3.micro"
  description = "EC2 instance type"
}

variable "zones" {
  type      = list(string)
  sensitive = true
}

locals { app = "web" }

data "aws_ami" "app" {
  owners      = ["self"]
  name        = "${local.app}-*"
  most_recent = true
}
"""

FLEET = """\
resource "aws_launch_template" "web" {
  name          = "web"
  image_id      = data.aws_ami.app.id
  instance_type = var.instance_type
  user_data     = file("init.sh")
  block_device_mapping {
    device_name = "/dev/xvda"
    volume_size = 8
  }
  metadata_options { http_tokens = "required" }
  tags = { Name = local.app }
}

resource "aws_fleet" "web" {
  for_each        = toset(var.zones)
  provider        = aws.eu
  name            = "web-${each.key}"
  launch_template = aws_launch_template.web.id
  min_size        = 2
  depends_on      = [data.aws_ami.app]

  lifecycle {
    prevent_destroy = true
    ignore_changes  = [min_size, tags["x"]]
  }
}

resource "aws_fleet" "counted" {
  count           = 2
  name            = "c-${count.index}"
  launch_template = aws_launch_template.web.id
}

output "fleet_ami" {
  value     = data.aws_ami.app.name
  sensitive = true
}
"""


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    d = tmp_path / "web"
    d.mkdir()
    (d / "main.hcl").write_text(MAIN)
    (d / "fleet.hcl").write_text(FLEET)
    (d / "init.sh").write_text("#!/bin/sh\n")
    (d / "notes.txt").write_text("not hcl {")
    return d


def test_settings_providers_variables_locals(stack_dir: Path) -> None:
    stack = load_stack(stack_dir)
    assert stack.directory == stack_dir
    assert set(stack.sources) == {stack_dir / "main.hcl", stack_dir / "fleet.hcl"}
    assert stack.settings.name == "web-prod"
    assert stack.settings.backend_type == "local"
    assert stack.settings.backend == {"path": ".reconciler/state.json"}
    assert list(stack.providers) == ["aws", "aws.eu"]
    assert stack.providers["aws.eu"].alias == "eu"
    var = stack.variables["instance_type"]
    assert var.type.kind is TypeKind.STRING and isinstance(var.default, Literal)
    assert var.description == "EC2 instance type" and not var.sensitive
    zones = stack.variables["zones"]
    assert str(zones.type) == "list(string)" and zones.default is None and zones.sensitive
    assert zones.pos.file.name == "main.hcl" and zones.pos.line == 22
    assert list(stack.locals) == ["app"]


def test_resources_and_meta_arguments(stack_dir: Path) -> None:
    stack = load_stack(stack_dir)
    assert list(stack.data) == [Address("aws_ami", "app", None, Mode.DATA)]
    lt = stack.resources[Address("aws_launch_template", "web")]
    assert lt.mode is Mode.MANAGED and lt.type_name == "aws_launch_template" and lt.name == "web"
    assert set(lt.body.attributes) == {"name", "image_id", "instance_type", "user_data", "tags"}
    assert [b.type for b in lt.body.blocks] == ["block_device_mapping", "metadata_options"]
    assert lt.pos.file.name == "fleet.hcl" and lt.pos.line == 1
    assert lt.body.attributes["image_id"].pos.line == 3
    assert lt.provider_key == "aws" and lt.count is None and lt.for_each is None

    fleet = stack.resources[Address("aws_fleet", "web")]
    assert "for_each" not in fleet.body.attributes and "provider" not in fleet.body.attributes
    assert fleet.for_each is not None and fleet.provider_key == "aws.eu"
    assert [r.parts for r in fleet.depends_on] == [("data", "aws_ami", "app")]
    assert fleet.lifecycle.prevent_destroy and not fleet.lifecycle.create_before_destroy
    assert fleet.lifecycle.ignore_changes == ("min_size", "tags.x")
    assert {str(r) for r in fleet.references()} == {"each.key", "aws_launch_template.web.id", "var.zones"}
    targets = {r.target_address() for r in fleet.references() if r.kind is RefKind.RESOURCE}
    assert targets == {Address("aws_launch_template", "web")}

    counted = stack.resources[Address("aws_fleet", "counted")]
    assert counted.count is not None and evaluate(counted.count, EvalContext()) == 2

    out = stack.outputs["fleet_ami"]
    assert out.sensitive and [r.parts for r in out.value.references()] == [("data", "aws_ami", "app", "name")]


def test_helpers(stack_dir: Path) -> None:
    stack = load_stack(stack_dir)
    assert stack.block_at(Address("aws_fleet", "web", "a")) is stack.resources[Address("aws_fleet", "web")]
    assert stack.block_at(Address.parse("data.aws_ami.app")) is not None
    assert stack.block_at(Address("aws_fleet", "nope")) is None
    pos = stack.resources[Address("aws_fleet", "web")].body.attributes["min_size"].pos
    assert stack.source_line(pos) == "  min_size        = 2"


def test_default_stack_name_and_s3_backend(tmp_path: Path) -> None:
    d = tmp_path / "my-stack"
    d.mkdir()
    (d / "main.hcl").write_text(
        'reconciler {\n  backend "s3" {\n    bucket = "b"\n    key = "k.json"\n    region = "us-east-1"\n'
        '    lock_table = "locks"\n    encrypt = true\n  }\n}\n'
    )
    stack = load_stack(d)
    assert stack.settings.name == "my-stack"
    assert stack.settings.backend_type == "s3"
    assert stack.settings.backend == {
        "bucket": "b",
        "key": "k.json",
        "region": "us-east-1",
        "lock_table": "locks",
        "encrypt": True,
    }


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_stack(tmp_path)
    assert "No configuration files" in info.value.diagnostics[0].summary


@pytest.mark.parametrize(
    ("source", "summary"),
    [
        ('variable "x" {\n  type = lst(string)\n}\n', "Invalid type specification"),
        ('variable "x" {\n  type = number\n  default = "abc"\n}\n', 'Invalid default value for variable "x"'),
        ('variable "x" {\n  default = local.y\n}\nlocals { y = 1 }\n', "must be a literal value"),
        ("locals { a = 1 }\nlocals { a = 2 }\n", 'Duplicate local value "a"'),
        ('output "o" {\n  description = "d"\n}\n', 'Missing required argument "value"'),
        ('provider "awz" {}\n', 'Unknown provider "awz"'),
        ('provider "aws" {\n  regoin = "x"\n}\n', 'Unsupported argument "regoin"'),
        ("x = 1\n", 'Unexpected argument "x" at the top level'),
        ('reconciler {\n  backend "gcs" {}\n}\n', 'Unsupported backend type "gcs"'),
        (
            'resource "aws_fleet" "a" {\n  name = "a"\n  launch_template = aws_fleet.a.name\n}\n',
            "Self-referential block",
        ),
        (
            'resource "aws_fleet" "a" {\n  name = "a"\n  launch_template = "x"\n  tags { a = 1 }\n}\n',
            'Unsupported block type "tags"',
        ),
        (
            'resource "aws_launch_template" "a" {\n  name = "a"\n  image_id = "x"\n'
            "  metadata_options {}\n  metadata_options {}\n}\n",
            'Too many "metadata_options" blocks',
        ),
        ('data "aws_ami" "a" {\n  lifecycle {}\n}\n', 'Unsupported block type "lifecycle"'),
        ('output "o" {\n  value = foo\n}\n', 'Invalid reference "foo"'),
        ('output "o" {\n  value = path.modul\n}\n', "Invalid reference: use path.module"),
        ('output "o" {\n  value = "a"\n  value = "b"\n}\n', 'Duplicate argument "value"'),
        ('resource "aws_fleet" "my fleet" {}\n', 'Invalid name "my fleet"'),
    ],
)
def test_other_mistakes(tmp_path: Path, source: str, summary: str) -> None:
    (tmp_path / "main.hcl").write_text(source)
    with pytest.raises(ConfigError) as info:
        load_stack(tmp_path)
    summaries = [d.summary for d in info.value.diagnostics]
    assert any(summary in s for s in summaries), summaries


def test_models_that_allow_extra_fields_accept_any_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import BaseModel, ConfigDict

    from reconciler.sdk import ResourceSchema, registry

    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")

    schemas = {(Mode.MANAGED, "aws_thing"): ResourceSchema("aws_thing", Mode.MANAGED, Open)}
    monkeypatch.setattr(registry, "all_schemas", lambda: schemas)
    (tmp_path / "main.hcl").write_text(
        'resource "aws_thing" "a" {\n  anything = 1\n  nested { x = 1 }\n'
        "  lifecycle {\n    ignore_changes = [whatever]\n  }\n}\n"
    )
    stack = load_stack(tmp_path)
    assert set(stack.resources[Address("aws_thing", "a")].body.attributes) == {"anything"}
