"""The secrets scan's capture: one stack that uses a sensitive value everywhere a value can go, every
command run against it, and every file the tool writes, searched for the secret.

`run_capture(root, cli)` runs the whole sequence and returns every command's output and every file
under `.reconciler/` (and the plan files) by name; `hits(captured, needles)` counts where each
needle occurs. The needles (`needles_for`) are the secret values, a value derived from them
(`upper()`), the rendered user data, and the plain sha256 hex digest of each: none may appear
anywhere. Used by tests/security/test_secrets_scan.py, and runnable on its own to print the figures
(`python -m tests.security.capture`): it then starts its own moto server.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRET_1 = "s3cr3t-Value-4242-xyzzy"
SECRET_2 = "s3cr3t-Value-4343-plugh"
TEMPLATE = "#!/bin/sh\nexport TOKEN=${token}\nexport ENV=${env}\n"

STACK = {
    "main.hcl": """
        reconciler {
          stack = "secrets"
        }

        provider "aws" {
          region = "us-east-1"
        }

        variable "token" {
          type      = string
          sensitive = true
        }

        locals {
          banner   = "%{ if length(var.token) > 0 }token=${var.token}%{ endif }"
          env      = { TOKEN = var.token, MODE = "prod" }
          env_list = flatten([for k, v in local.env : ["${k}=${v}"]])
          shout    = upper(var.token)
        }

        data "aws_ami" "app" {
          name        = "app-*"
          most_recent = true
          version_tag = "Version"
        }

        resource "aws_launch_template" "web" {
          name        = "web"
          image_id    = data.aws_ami.app.id
          description = "built for ${local.shout}"
          user_data   = templatefile("init.tpl", { token = var.token, env = join(",", local.env_list) })
          tags        = { Name = "web", Token = var.token, Banner = local.banner }
        }

        resource "aws_fleet" "web" {
          name               = "web"
          launch_template    = aws_launch_template.web.id
          min_size           = 0
          max_size           = 2
          desired_capacity   = 1
          availability_zones = ["us-east-1a"]
          tags               = { Service = "web", Shout = local.shout }

          rollout {
            strategy       = "rolling"
            health_timeout = "1m"
          }
        }

        output "token" {
          value     = var.token
          sensitive = true
        }

        output "env" {
          value     = local.env_list
          sensitive = true
        }

        output "template_id" {
          value = aws_launch_template.web.id
        }
    """,
    "init.tpl": TEMPLATE,
}

# Three mistakes whose messages would echo the secret: an argument that fails validation, a
# sensitive number given a string, and a variable validation rule whose message quotes it.
INVALID_STACK = {
    "main.hcl": """
        reconciler {
          stack = "secrets-invalid"
        }

        variable "token" {
          type      = string
          sensitive = true
        }

        variable "port" {
          type      = number
          sensitive = true
        }

        resource "aws_target_group" "bad" {
          name     = "tg_${var.token}"
          port     = 80
          protocol = "HTTP"
          vpc_id   = "vpc-0123"
        }

        variable "mode" {
          type    = string
          default = "strict"
          validation {
            condition     = length(var.token) < 5
            error_message = "Strict mode needs a short token, not ${var.token}."
          }
        }
    """,
}

# A stack whose apply fails in the cloud with a message that quotes the argument (moto:
# "The VPC ID 'vpc-…' is not found").
FAILING_STACK = {
    "main.hcl": """
        reconciler {
          stack = "secrets-failing"
        }

        provider "aws" {
          region = "us-east-1"
        }

        variable "token" {
          type      = string
          sensitive = true
        }

        resource "aws_target_group" "web" {
          name     = "web"
          port     = 80
          protocol = "HTTP"
          vpc_id   = "vpc-${var.token}"
        }
    """,
}


def user_data(secret: str) -> str:
    """The user data the stack renders for `secret` (what the cloud must receive)."""
    env = f"MODE=prod,TOKEN={secret}"
    return TEMPLATE.replace("${token}", secret).replace("${env}", env)


def needles_for(secret: str) -> dict[str, str]:
    """What must never appear: the secret, a value derived from it, and their plain digests."""
    plain = {
        "value": secret,
        "upper(value)": secret.upper(),
        "user_data": user_data(secret),
        "user_data (base64)": base64.b64encode(user_data(secret).encode()).decode(),
    }
    digests = {f"sha256({k})": hashlib.sha256(v.encode()).hexdigest() for k, v in plain.items()}
    return {**plain, **digests}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str = ""

    @property
    def out(self) -> str:
        """Everything the command printed (or the file's text)."""
        return self.stdout + self.stderr


CliFn = Callable[..., Run]


def in_process_cli(directory: Path) -> CliFn:
    """reconciler's main() in this process, stdout and stderr captured."""
    from reconciler.cli import main

    def run(*args: str, env: dict[str, str] | None = None) -> Run:
        stdout, stderr = io.StringIO(), io.StringIO()
        saved = {k: os.environ.get(k) for k in env or {}}
        os.environ.update(env or {})
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(["--chdir", str(directory), *args])
            except SystemExit as exc:  # argparse refused the command line
                code = int(exc.code or 0)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        return Run(code, stdout.getvalue(), stderr.getvalue())

    return run


def write_stack(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        body = textwrap.dedent(text).lstrip() if name.endswith(".hcl") else text
        (directory / name).write_text(body)
    return directory


def run_capture(root: Path, make_cli: Callable[[Path], CliFn] = in_process_cli) -> dict[str, Run]:
    """Run every command against the three stacks under `root`; name → output (and files)."""
    stack = write_stack(root / "stack", STACK)
    cli = make_cli(stack)
    out: dict[str, Run] = {}

    def run(name: str, *args: str, env: dict[str, str] | None = None) -> Run:
        result = cli(*args, env=env)
        out[name] = result
        return result

    v1, v2 = f"token={SECRET_1}", f"token={SECRET_2}"
    run("validate", "validate", env={"RECONCILER_VAR_token": SECRET_1})
    run("plan (create)", "plan", "--var", v1)
    run("plan --format json (create)", "plan", "--var", v1, "--format", "json")
    run("plan --format markdown (create)", "plan", "--var", v1, "--format", "markdown")
    run("plan --out plan1.json", "plan", "--var", v1, "--out", "plan1.json")
    run("show plan1.json", "show", "plan1.json")
    run("show plan1.json --format json", "show", "plan1.json", "--format", "json")
    run("show plan1.json --format json --pretty", "show", "plan1.json", "--format", "json", "--pretty")
    run("show plan1.json --format markdown", "show", "plan1.json", "--format", "markdown")
    run("apply plan1.json", "apply", "plan1.json", "--var", v1)
    _inspect(run, "after create")
    run("plan (no change)", "plan", "--var", v1, "--detailed-exitcode")
    run("plan (secret changed)", "plan", "--var", v2)
    run("plan --format json (secret changed)", "plan", "--var", v2, "--format", "json")
    run("plan --format json --pretty (secret changed)", "plan", "--var", v2, "--format", "json", "--pretty")
    run("plan --format markdown (secret changed)", "plan", "--var", v2, "--format", "markdown")
    run("plan --out plan2.json", "plan", "--var", v2, "--out", "plan2.json")
    run("show plan2.json", "show", "plan2.json")
    run("show plan2.json --format json", "show", "plan2.json", "--format", "json")
    run("show plan2.json --format markdown", "show", "plan2.json", "--format", "markdown")
    run("apply (secret changed, rollout)", "apply", "--var", v2, "--auto-approve")
    _inspect(run, "after rollout")
    run("rollout status", "rollout", "status", env={"RECONCILER_VAR_token": SECRET_2})
    run("apply plan1.json (stale)", "apply", "plan1.json", "--var", v1)
    invalid = make_cli(write_stack(root / "invalid", INVALID_STACK))
    out["plan (a sensitive number given the secret)"] = invalid(
        "plan", "--var", v1, "--var", f"port={SECRET_1}"
    )
    out["plan (an invalid argument)"] = invalid("plan", "--var", v1, "--var", "port=8080")
    out["validate (an invalid argument)"] = invalid(
        "validate", env={"RECONCILER_VAR_token": SECRET_1, "RECONCILER_VAR_port": "8080"}
    )
    failing = make_cli(write_stack(root / "failing", FAILING_STACK))
    out["apply (cloud error quoting the argument)"] = failing("apply", "--var", v1, "--auto-approve")
    (stack / ".reconciler" / "state.json").unlink()  # lost: rebuilt from the ownership tags
    run("state recover", "state", "recover", "--var", v2)
    run("plan (after recover)", "plan", "--var", v2, "--detailed-exitcode")
    for directory in (stack, root / "failing"):
        for path in sorted(directory.rglob("*")):
            if path.is_file() and (".reconciler" in path.parts or path.suffix == ".json"):
                text = path.read_bytes().decode("utf-8", errors="replace")
                out[f"file {path.relative_to(root)}"] = Run(0, text)
    return out


def _inspect(run: Callable[..., Run], when: str) -> None:
    run(f"state list ({when})", "state", "list")
    for address in ("aws_launch_template.web", "aws_fleet.web"):
        run(f"state show {address} ({when})", "state", "show", address)
    run(f"state pull ({when})", "state", "pull")
    run(f"show ({when})", "show")
    run(f"show --json ({when})", "show", "--json")
    run(f"output ({when})", "output")
    run(f"output --json ({when})", "output", "--json")
    for name in ("token", "env", "template_id"):
        run(f"output {name} ({when})", "output", name)


def hits(captured: dict[str, Run], needles: dict[str, str]) -> dict[str, dict[str, int]]:
    """capture name → needle name → number of occurrences (only names with a hit)."""
    found: dict[str, dict[str, int]] = {}
    for name, run in captured.items():
        counts = {k: run.out.count(v) for k, v in needles.items() if v and v in run.out}
        if counts:
            found[name] = counts
    return found


def report(captured: dict[str, Run], needles: dict[str, str]) -> str:
    found = hits(captured, needles)
    total = sum(sum(c.values()) for c in found.values())
    lines = [f"{total} hits in {len(found)} of {len(captured)} captured outputs and files"]
    by_needle: dict[str, int] = {}
    for counts in found.values():
        for k, n in counts.items():
            by_needle[k] = by_needle.get(k, 0) + n
    lines += [f"  {k}: {n}" for k, n in sorted(by_needle.items())]
    lines += [f"  - {name}: {json.dumps(counts)}" for name, counts in found.items()]
    return "\n".join(lines)


def all_needles(secrets: Iterable[str] = (SECRET_1, SECRET_2)) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, secret in enumerate(secrets, 1):
        out.update({f"{k} #{i}": v for k, v in needles_for(secret).items()})
    return out


def _main() -> None:  # pragma: no cover - a measuring script
    import tempfile

    import boto3
    from moto.server import ThreadedMotoServer

    from reconciler_aws.sandbox_server import apply_moto_fixes

    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    apply_moto_fixes()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "NO_COLOR": "1",
        "RECONCILER_ROLLOUT_POLL": "0.1",
    }
    os.environ.update(env)
    try:
        register(boto3.client("ec2", region_name="us-east-1", endpoint_url=endpoint))
        with tempfile.TemporaryDirectory() as tmp:
            captured = run_capture(Path(tmp))
            print(report(captured, all_needles()))
            if os.environ.get("CAPTURE_DUMP"):
                dump = {k: {"code": r.code, "out": r.out} for k, r in captured.items()}
                Path(os.environ["CAPTURE_DUMP"]).write_text(json.dumps(dump, indent=1))
            codes = {k: r.code for k, r in captured.items() if not k.startswith("file")}
            print("exit codes:", json.dumps(codes))
    finally:
        server.stop()


def register(ec2: Any) -> str:
    """Register app-1.0.0 (tagged Version) as a bake would."""
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)
    snap = ec2.create_snapshot(VolumeId=vol["VolumeId"])
    image_id: str = ec2.register_image(
        Name="app-1.0.0",
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap["SnapshotId"]}}],
    )["ImageId"]
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": "Version", "Value": "1.0.0"}])
    return image_id


if __name__ == "__main__":
    _main()
