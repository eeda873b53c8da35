"""The benchmark's N-fleet stack, written once for reconciler (HCL) and once for Terraform.

Each fleet is the same three things in both tools: an AMI lookup (`bench-*`, owned by this
account, newest), a launch template built from it, and an auto-scaling group of 2 in us-east-1a
running the template's latest version. Both tools talk to `endpoint` (the counting proxy).
Caller: `benchmarks/fleets.py`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["AMI_PREFIX", "GROUP_PREFIX", "fleet_names", "write_reconciler_stack", "write_terraform_stack"]

AMI_PREFIX = "bench"
GROUP_PREFIX = "bench-"  # every auto-scaling group of either tool starts with it


def fleet_names(count: int) -> list[str]:
    return [f"f{i:03d}" for i in range(count)]


def _hcl_set(names: list[str]) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


def _hcl_map(names: list[str]) -> str:
    body = "\n".join(f'    {n} = "{n}"' for n in names)
    return "{\n" + body + "\n  }"


def write_reconciler_stack(
    directory: Path, *, count: int, endpoint: str, strategy: str = "rolling", waves: tuple[int, ...] = ()
) -> None:
    """`strategy` of every fleet's rollout; `waves` (e.g. (10, 90)): that many fleets in wave 1, 2, …
    (fleets beyond their sum go to the last wave)."""
    names = fleet_names(count)
    wave_of: dict[str, int] = {}
    if waves:
        bounds = [sum(waves[: i + 1]) for i in range(len(waves))]
        for n, name in enumerate(names):
            wave_of[name] = next((i + 1 for i, b in enumerate(bounds) if n < b), len(waves))
    wave_line = "    wave           = local.wave[each.key]\n" if waves else ""
    wave_body = "\n".join(f"    {n} = {w}" for n, w in wave_of.items())
    wave_local = f"  wave   = {{\n{wave_body}\n  }}\n" if waves else ""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.hcl").write_text(
        f"""# {count} fleets: AMI lookup -> launch template -> auto-scaling fleet of 2 (generated).

reconciler {{
  stack = "bench-{count}"
}}

provider "aws" {{
  region       = "us-east-1"
  endpoint_url = "{endpoint}"
}}

locals {{
  fleets = {_hcl_map(names)}
{wave_local}}}

data "aws_ami" "app" {{
  for_each    = local.fleets
  owners      = ["self"]
  name        = "{AMI_PREFIX}-*"
  most_recent = true
  version_tag = "Version"
}}

resource "aws_launch_template" "app" {{
  for_each      = local.fleets
  name          = "{GROUP_PREFIX}${{each.key}}"
  image_id      = data.aws_ami.app[each.key].id
  instance_type = "t3.micro"
}}

resource "aws_fleet" "app" {{
  for_each           = local.fleets
  name               = "{GROUP_PREFIX}${{each.key}}"
  launch_template    = aws_launch_template.app[each.key].id
  min_size           = 2
  max_size           = 2
  desired_capacity   = 2
  availability_zones = ["us-east-1a"]

  rollout {{
    strategy       = "{strategy}"
    max_surge      = 1
    health_timeout = "2m"
    drain_timeout  = "0s"
{wave_line}  }}
}}
"""
    )


def write_terraform_stack(directory: Path, *, count: int, endpoint: str) -> None:
    names = fleet_names(count)
    directory.mkdir(parents=True, exist_ok=True)
    endpoints = "\n".join(
        f'    {svc:<11} = "{endpoint}"' for svc in ("ec2", "autoscaling", "sts", "iam", "elbv2")
    )
    (directory / "main.tf").write_text(
        f"""# {count} fleets: AMI lookup -> launch template -> auto-scaling group of 2 (generated).

terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "5.100.0"
    }}
  }}
}}

provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "bench"
  secret_key                  = "bench"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {{
{endpoints}
  }}
}}

locals {{
  fleets = toset({_hcl_set(names)})
}}

data "aws_ami" "app" {{
  for_each    = local.fleets
  owners      = ["self"]
  most_recent = true

  filter {{
    name   = "name"
    values = ["{AMI_PREFIX}-*"]
  }}
}}

resource "aws_launch_template" "app" {{
  for_each      = local.fleets
  name          = "{GROUP_PREFIX}${{each.key}}"
  image_id      = data.aws_ami.app[each.key].id
  instance_type = "t3.micro"
}}

resource "aws_autoscaling_group" "app" {{
  for_each           = local.fleets
  name               = "{GROUP_PREFIX}${{each.key}}"
  min_size           = 2
  max_size           = 2
  desired_capacity   = 2
  availability_zones = ["us-east-1a"]

  launch_template {{
    id      = aws_launch_template.app[each.key].id
    version = aws_launch_template.app[each.key].latest_version
  }}
}}
"""
    )


TERRAFORM_CLI_CONFIG = """provider_installation {
  filesystem_mirror {
    path    = "/opt/tf-plugins"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
"""
