"""The policy tools teams run on Terraform plans read reconciler's `plan --format json` (issue 12).

Plans of every action kind that exists (create, no-op, update, replace in both orders and by
request, delete, output changes, a fleet rollout, drift, destroy, and a plan that breaks the
example Rego rules), made against the moto server (tests/render/policy_plans.py), are given to:
checkov 3 (its own venv, tests/render/policy_tools.py), which must parse every one, count every
resource of `planned_values` and fail CKV_AWS_79 exactly on the templates without
`metadata_options { http_tokens = "required" }`; terraform-compliance, which must accept every one
and find the same templates; examples/policy/fleets.rego (evaluated with regopy, as conftest
would); and a comparison of key sets with the `terraform show -json` document recorded from a
similar Terraform stack (fixtures/terraform/05-drift.json has every top-level key). None of them
holds the secret, its base64 or their plain digests, on one line or `--pretty`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import regopy
import requests

from tests.render.policy_plans import KINDS, make_plans, needles
from tests.render.policy_tools import run_checkov, run_terraform_compliance

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TERRAFORM = HERE / "fixtures" / "terraform"
FEATURES = HERE / "fixtures" / "compliance"
SCHEMA = json.loads((ROOT / "docs" / "plan-json.schema.json").read_text())


@pytest.fixture(scope="module")
def plans(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory with one `<kind>.json` per action kind, each as `plan --format json` wrote it."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    root = tmp_path_factory.mktemp("policy")
    out = root / "plans"
    out.mkdir()
    for kind, text in make_plans(root, moto_endpoint).items():
        (out / f"{kind}.json").write_text(text)
    yield out


def load(plans: Path, kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((plans / f"{kind}.json").read_text())
    return doc


def planned(doc: dict[str, Any]) -> set[str]:
    return {r["address"] for r in doc["planned_values"]["root_module"].get("resources", [])}


def workers(doc: dict[str, Any]) -> set[str]:
    return {a for a in planned(doc) if a.startswith("aws_launch_template.worker")}


def test_every_kind_was_made_and_validates(plans: Path) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert sorted(p.stem for p in plans.glob("*.json")) == sorted(KINDS)
    actions = {}
    for kind in KINDS:
        text = (plans / f"{kind}.json").read_text()
        assert text.endswith("}\n") and text.count("\n") == 1, kind
        doc = json.loads(text)
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, (kind, errors)
        actions[kind] = {tuple(c["change"]["actions"]) for c in doc.get("resource_changes", [])}
    assert actions["create"] == {("create",)} and actions["no-op"] == {("no-op",)}
    assert ("update",) in actions["update"]
    assert {("delete", "create"), ("create", "delete")} <= actions["replace"]
    assert ("delete",) in actions["delete"] and actions["destroy"] == {("delete",)}
    assert load(plans, "rollout")["reconciler"]["summary"]["rollout"] == 1
    assert load(plans, "drift")["resource_drift"]
    outputs = {k: v["actions"] for k, v in load(plans, "outputs")["output_changes"].items()}
    assert outputs == {
        "web_ami": ["update"],
        "web_group": ["create"],
        "web_template_id": ["no-op"],
        "x": ["create"],
    }


def test_key_sets_match_terraforms_recorded_plan(plans: Path) -> None:
    """Every key Terraform 1.11 writes at the top level, in a change and in an output change is
    there (05-drift.json has all fifteen top-level keys; reconciler adds only `reconciler`)."""
    terraform = json.loads((TERRAFORM / "05-drift.json").read_text())
    ours = load(plans, "drift")
    assert set(terraform) - set(ours) == set(), "missing top-level keys"
    assert set(ours) - set(terraform) == {"reconciler"}
    for section in ("resource_changes", "resource_drift"):
        theirs = {k for c in terraform[section] for k in c["change"]}
        entry_keys = {k for c in terraform[section] for k in c} - {"index"}
        for change in ours[section]:
            assert theirs - set(change["change"]) == set(), (section, change["address"])
            assert entry_keys - set(change) == set(), (section, change["address"])
    theirs_out = {k for c in terraform["output_changes"].values() for k in c} - {"before", "after"}
    for name, change in ours["output_changes"].items():
        assert theirs_out - set(change) == set(), name
    assert set(terraform["prior_state"]) == set(ours["prior_state"])
    assert set(terraform["configuration"]) == set(ours["configuration"])
    union = set()
    for fixture in TERRAFORM.glob("0*.json"):
        union |= set(json.loads(fixture.read_text()))
    assert union - {k for kind in KINDS for k in load(plans, kind)} == set()


def test_no_plan_holds_the_secret_on_one_line_or_pretty(plans: Path) -> None:
    for kind in KINDS:
        text = (plans / f"{kind}.json").read_text()
        pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        for name, needle in needles().items():
            assert needle not in text and needle not in pretty, (kind, name)
    create = load(plans, "create")
    assert create["variables"]["app_token"] == {}
    web = next(c for c in create["resource_changes"] if c["address"] == "aws_launch_template.web")
    assert "user_data" not in web["change"]["after"] and web["change"]["after_sensitive"]["user_data"] is True


@pytest.mark.timeout(1800)  # the first run on a machine builds checkov's venv (~1 min)
def test_checkov_counts_every_resource_and_finds_imdsv1_templates(plans: Path) -> None:
    started = time.monotonic()
    run = run_checkov(plans)
    print(f"checkov over {len(KINDS)} plans: {time.monotonic() - started:.1f} s, {run.summary}")
    assert run.summary["parsing_errors"] == 0 and run.code == 1  # 1: some check failed
    total = 0
    for kind in KINDS:
        doc, name = load(plans, kind), f"{kind}.json"
        total += len(planned(doc))
        assert run.resources(name) == planned(doc), kind  # every resource, and nothing else
        failed_79 = {r for c, r in run.failed.get(name, []) if c == "CKV_AWS_79"}
        passed_79 = {r for c, r in run.passed.get(name, []) if c == "CKV_AWS_79"}
        assert failed_79 == workers(doc), kind  # no metadata_options block
        assert passed_79 == planned(doc) & {"aws_launch_template.web", "aws_launch_template.spare"}, kind
    assert run.summary["resource_count"] == total and total > 50
    assert not planned(load(plans, "destroy"))
    checked = {c for results in run.passed.values() for c, _ in results}
    assert {"CKV_AWS_153", "CKV_AWS_315"} <= checked  # the fleets, as auto-scaling groups
    assert {"CKV_AWS_261", "CKV_AWS_41"} <= checked  # target groups, and the provider block


def test_terraform_compliance_reads_every_plan(plans: Path, tmp_path: Path) -> None:
    def run(kind: str) -> tuple[str, Any]:
        copy = tmp_path / f"{kind}.json"  # it may rewrite the file it reads
        copy.write_text((plans / f"{kind}.json").read_text())
        return kind, run_terraform_compliance(copy, FEATURES)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(pool.map(run, KINDS))
    print(f"terraform-compliance on {len(KINDS)} plans: {time.monotonic() - started:.1f} s")
    for kind, result in results.items():
        out = result.stdout + result.stderr
        assert "not a valid" not in out and "FATAL" not in out and "Traceback" not in out, (kind, out[-2000:])
        failing = set(re.findall(r"Failure: (aws_launch_template\.\S+) \(aws_launch_template\)", out))
        expected = workers(load(plans, kind))
        assert failing == expected, (kind, out[-2000:])
        assert result.returncode == (1 if expected else 0), (kind, out[-2000:])
        if kind != "destroy":
            assert "3 scenarios (2 passed, 1 failed)" in out, (kind, out[-1500:])


def test_the_example_rego_policy_denies_what_it_says(plans: Path) -> None:
    policy = (ROOT / "examples" / "policy" / "fleets.rego").read_text()
    denied: dict[str, list[str]] = {}
    for kind in KINDS:
        rego = regopy.Interpreter()
        rego.add_module("fleets.rego", policy)
        rego.set_input_term((plans / f"{kind}.json").read_text())
        result = json.loads(str(rego.query("data.main.deny")))
        denied[kind] = sorted(result["expressions"][0])
    assert denied.pop("production") == [
        "aws_fleet.web: production fleets must use rollout strategy blue_green, not rolling",
        f"data.aws_ami.app: {load(plans, 'production')['reconciler']['data_sources'][0]['id']} (app-1.0.0) "
        "is a public AMI",
    ]
    assert all(messages == [] for messages in denied.values()), denied
