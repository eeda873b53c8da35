"""reconciler plans of every action kind, as `plan --format json` writes them, for the policy-tool
tests (test_policy_tools.py) and the Terraform key-set comparison.

One stack like tests/render/fixtures/terraform/main.tf.example (the recorded Terraform plans): a
sensitive variable in the web template's user data, a validated variable, data sources, a web
template with `metadata_options { http_tokens = "required" }`, `for_each` workers without it, a
create-before-destroy spare template, two target groups, a blue/green fleet, outputs (one
sensitive). It is applied once against the moto server; each other plan starts from that state
with the configuration (or the cloud) changed as its kind needs, and is left unapplied.
`make_plans(root, endpoint)` returns kind → the JSON text, one line as written.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

SECRET = "tfplan-s3cr3t-token-8d1f"
REGION = "us-east-1"

BLOCKS: dict[str, str] = {
    "settings": """
        reconciler {
          stack = "policy"
        }

        provider "aws" {
          region       = "us-east-1"
          default_tags = { Project = "policy" }
        }

        variable "instance_type" {
          type        = string
          default     = "t3.micro"
          description = "EC2 instance type for the web fleet"

          validation {
            condition     = can(regex("^t3\\\\.", var.instance_type))
            error_message = "The web fleet runs on t3 instances."
          }
        }

        variable "app_token" {
          type      = string
          sensitive = true
        }

        data "aws_vpc" "default" {
          default = true
        }

        data "aws_ami" "app" {
          name        = "app-*"
          most_recent = true
          version_tag = "Version"
        }
    """,
    "web": """
        resource "aws_launch_template" "web" {
          name          = "web"
          image_id      = data.aws_ami.app.id
          instance_type = var.instance_type
          user_data     = "#!/bin/sh\\necho API_TOKEN=${var.app_token} > /etc/app.env\\n"

          block_device_mapping {
            device_name = "/dev/xvda"
            volume_size = 8
            volume_type = "gp3"
            encrypted   = true
          }

          metadata_options {
            http_tokens = "required"
          }

          tags = { Name = "web" }
        }
    """,
    "workers": """
        locals {
          workers = { batch = "t3.small", queue = "t3.micro" }
        }

        resource "aws_launch_template" "worker" {
          for_each      = local.workers
          name          = "worker-${each.key}"
          image_id      = data.aws_ami.app.id
          instance_type = each.value
        }
    """,
    "spare": """
        resource "aws_launch_template" "spare" {
          name          = "spare"
          image_id      = data.aws_ami.app.id
          instance_type = "t3.nano"

          metadata_options {
            http_tokens = "required"
          }

          lifecycle {
            create_before_destroy = true
          }
        }
    """,
    "tg_web": """
        resource "aws_target_group" "web" {
          name                 = "web"
          port                 = 80
          protocol             = "HTTP"
          vpc_id               = data.aws_vpc.default.id
          deregistration_delay = 5

          health_check {
            path = "/healthz"
          }
        }
    """,
    "tg_old": """
        resource "aws_target_group" "old" {
          name     = "old"
          port     = 8080
          protocol = "HTTP"
          vpc_id   = data.aws_vpc.default.id
        }
    """,
    "fleet": """
        resource "aws_fleet" "web" {
          name               = "web"
          launch_template    = aws_launch_template.web.id
          min_size           = 1
          max_size           = 4
          desired_capacity   = 2
          availability_zones = ["us-east-1a", "us-east-1b"]
          target_group_arns  = [aws_target_group.web.arn]
          tags               = { Service = "web" }

          rollout {
            strategy       = "blue_green"
            health_timeout = "1m"
            drain_timeout  = "1s"
            keep_previous  = "1h"
          }
        }
    """,
    "outputs": """
        output "web_ami" {
          value = data.aws_ami.app.name
        }

        output "web_template_id" {
          value = aws_launch_template.web.id
        }

        output "web_user_data" {
          value     = aws_launch_template.web.user_data
          sensitive = true
        }
    """,
}

# Each kind: (block → [(old text, new text)] edits, extra CLI arguments); no edits removes the block.
EDITS: dict[str, tuple[dict[str, list[tuple[str, str]]], list[str]]] = {
    "update": (
        {"tg_web": [("deregistration_delay = 5", 'deregistration_delay = 5\n  tags = { Owner = "web" }')]},
        [],
    ),
    "replace": (
        {"spare": [('"spare"\n', '"spare-v2"\n')], "workers": [('"worker-${each.key}"', '"wk-${each.key}"')]},
        ["--replace", "aws_target_group.old"],
    ),
    "delete": ({"workers": [(', queue = "t3.micro"', "")], "tg_old": []}, []),
    "production": (
        {
            "fleet": [
                ('Service = "web" }', 'Service = "web", Environment = "production" }'),
                ("blue_green", "rolling"),
            ]
        },
        [],
    ),
    "outputs": (
        {
            "outputs": [
                ("value = data.aws_ami.app.name", "value = data.aws_ami.app.id"),
                (
                    'output "web_user_data"',
                    'output "web_group" {\n  value = aws_fleet.web.name\n}\n\noutput "x"',
                ),
                (
                    "value     = aws_launch_template.web.user_data\n  sensitive = true",
                    "value = var.instance_type",
                ),
            ],
        },
        [],
    ),
}


def stack_text(kind: str = "") -> str:
    """main.hcl for a kind: the base blocks with that kind's edits."""
    edits = EDITS.get(kind, ({}, []))[0]
    parts = []
    for name, block in BLOCKS.items():
        text = textwrap.dedent(block).strip() + "\n"
        if name in edits and not edits[name]:
            continue  # the block is removed
        for old, new in edits.get(name, []):
            assert old in text, (kind, name, old)
            text = text.replace(old, new)
        parts.append(text)
    return "\n".join(parts)


# "production" breaks both rules of examples/policy/fleets.rego: a production fleet rolled out
# `rolling`, and (made so just for that plan) a public AMI.
KINDS = (
    "create",
    "no-op",
    "update",
    "replace",
    "delete",
    "outputs",
    "production",
    "rollout",
    "drift",
    "destroy",
)


def user_data(secret: str = SECRET) -> str:
    return f"#!/bin/sh\necho API_TOKEN={secret} > /etc/app.env\n"


def needles(secret: str = SECRET) -> dict[str, str]:
    """What no document may hold: the secret, the user data, their base64 and plain sha256."""
    import hashlib

    plain = {
        "secret": secret,
        "user_data": user_data(secret),
        "user_data (base64)": base64.b64encode(user_data(secret).encode()).decode(),
    }
    return {**plain, **{f"sha256({k})": hashlib.sha256(v.encode()).hexdigest() for k, v in plain.items()}}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _cli(directory: Path, *args: str) -> tuple[int, str, str]:
    from reconciler.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--chdir", str(directory), *args])
    return code, out.getvalue(), err.getvalue()


def _write(directory: Path, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.hcl").write_text(text)


def _register(ec2: Any, *, version: str) -> None:  # as a bake pipeline would
    vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)
    snap = ec2.create_snapshot(VolumeId=vol["VolumeId"])
    image = ec2.register_image(
        Name=f"app-{version}",
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap["SnapshotId"]}}],
    )["ImageId"]
    ec2.create_tags(Resources=[image], Tags=[{"Key": "Version", "Value": version}])


def make_plans(root: Path, endpoint: str) -> dict[str, str]:
    """Apply the stack once, then make one plan of each kind; kind → `plan --format json` text."""
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "NO_COLOR": "1",
        "RECONCILER_ROLLOUT_POLL": "0.1",
        "RECONCILER_VAR_app_token": SECRET,
    }
    stack = root / "stack"
    base = stack_text()
    plans: dict[str, str] = {}
    with _environment(env):
        ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=endpoint)
        _register(ec2, version="1.0.0")
        _write(stack, base)

        def plan(kind: str, *args: str) -> None:
            code, out, err = _cli(stack, "plan", "--format", "json", *args)
            assert code == 0, f"{kind}: exit {code}\n{out}\n{err}"
            plans[kind] = out

        plan("create")
        code, out, err = _cli(stack, "apply", "--auto-approve")
        assert code == 0, out + err
        plan("no-op")
        image = ec2.describe_images(Owners=["self"])["Images"][0]["ImageId"]
        for kind, (_, args) in EDITS.items():
            _write(stack, stack_text(kind))
            public = {"LaunchPermission": {"Add" if kind == "production" else "Remove": [{"Group": "all"}]}}
            ec2.modify_image_attribute(ImageId=image, **public)
            plan(kind, *args)
        _write(stack, base)
        _drift(endpoint, desired=3, owner=True)
        plan("drift")
        _drift(endpoint, desired=2, owner=False)  # put back by hand
        _register(ec2, version="1.1.0")
        code, out, err = _cli(stack, "plan", "--out", "rollout.plan")  # the file path: show PLAN_FILE
        assert code == 0, out + err
        code, shown, err = _cli(stack, "show", "rollout.plan", "--format", "json")
        assert code == 0, shown + err
        plans["rollout"] = shown
        plan("destroy", "--destroy")
    return plans


def _drift(endpoint: str, *, desired: int, owner: bool) -> None:
    """Changes made by hand: the fleet's group resized, an Owner tag on the web target group."""
    asg = boto3.client("autoscaling", region_name=REGION, endpoint_url=endpoint)
    elbv2 = boto3.client("elbv2", region_name=REGION, endpoint_url=endpoint)
    groups = asg.describe_auto_scaling_groups()["AutoScalingGroups"]
    group = next(g["AutoScalingGroupName"] for g in groups if g["AutoScalingGroupName"].startswith("web-"))
    asg.set_desired_capacity(AutoScalingGroupName=group, DesiredCapacity=desired)
    arn = next(
        t["TargetGroupArn"]
        for t in elbv2.describe_target_groups()["TargetGroups"]
        if t["TargetGroupName"] == "web"
    )
    if owner:
        elbv2.add_tags(ResourceArns=[arn], Tags=[{"Key": "Owner", "Value": "ops-by-hand"}])
    else:
        elbv2.remove_tags(ResourceArns=[arn], TagKeys=["Owner"])
