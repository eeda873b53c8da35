"""stale_reasons: what the plan saw (state lineage and serial, configuration, cloud fingerprints)
against what is there now, one sentence per difference. Table-driven."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from reconciler.errors import StalePlanError, stale_message
from reconciler.planning.model import Plan
from reconciler.planning.planfile import ConfigDigest, PlanFile
from reconciler.planning.staleness import stale_reasons
from reconciler.state import State

FILES = {"main.hcl": "sha256:1", "cloud-init.sh": "sha256:2"}
VARS = {"db_password": "sha256:p", "instance_type": "sha256:t"}
PRINTS = {
    "aws_fleet.web": "web-g1:v1:abc",
    "aws_launch_template.web": "lt-1:v1:1",
    "data.aws_ami.app": "ami-old",
    "data.aws_subnets.all": "subnet-1,subnet-2,subnet-3,subnet-4,subnet-5,subnet-6",
}


@dataclass
class Case:
    name: str
    expected: list[str]
    plan_serial: int = 3
    plan_lineage: str = "L1"
    state_serial: int = 3
    state_lineage: str = "L1"
    files: dict[str, str] = field(default_factory=lambda: dict(FILES))
    variables: dict[str, str] = field(default_factory=lambda: dict(VARS))
    fingerprints: dict[str, str] | None = field(default_factory=lambda: dict(PRINTS))


def changed(base: dict[str, str], **kw: str | None) -> dict[str, str]:
    out = dict(base)
    for k, v in kw.items():
        key = k.replace("__", ".")
        if v is None:
            out.pop(key, None)
        else:
            out[key] = v
    return out


CASES = [
    Case("nothing moved", []),
    Case("fingerprints not read again", [], fingerprints=None),
    Case(
        "another apply",
        ["the state changed since the plan was made (serial 3 → 5)"],
        state_serial=5,
    ),
    Case("state replaced", ["the state was replaced (lineage L1 → L2)"], state_lineage="L2", state_serial=1),
    Case(
        "planned against an empty state, applied since",
        ["the plan was made against an empty state, and the state has been written since (serial 0 → 2)"],
        plan_serial=0,
        plan_lineage="fresh-1",
        state_serial=2,
        state_lineage="L9",
    ),
    Case(
        "planned against an empty state, still empty",
        [],
        plan_serial=0,
        plan_lineage="fresh-1",
        state_serial=0,
        state_lineage="fresh-2",
    ),
    Case(
        "main.hcl edited",
        ["the configuration changed (main.hcl)"],
        files=changed(FILES, main__hcl="sha256:9"),
    ),
    Case(
        "a file added and one removed",
        ["the configuration changed (extra.hcl added, cloud-init.sh removed)"],
        files={"main.hcl": "sha256:1", "extra.hcl": "sha256:3"},
    ),
    Case(
        "a sensitive variable given differently",
        ['the value of variable "db_password" differs from the one the plan was made with'],
        variables=changed(VARS, db_password="sha256:other"),
    ),
    Case(
        "a new image",
        ["data.aws_ami.app now resolves to a different image (ami-old → ami-new)"],
        fingerprints=changed(PRINTS, data__aws_ami__app="ami-new"),
    ),
    Case(
        "fleet resized by hand",
        ["aws_fleet.web changed in the cloud"],
        fingerprints=changed(PRINTS, aws_fleet__web="web-g1:v1:def"),
    ),
    Case(
        "template deleted by hand",
        ["aws_launch_template.web no longer exists in the cloud"],
        fingerprints=changed(PRINTS, aws_launch_template__web=None),
    ),
    Case(
        "long fingerprints are not shown",
        ["data.aws_subnets.all now resolves to a different set of subnets"],
        fingerprints=changed(PRINTS, data__aws_subnets__all="subnet-1,subnet-2,subnet-3,subnet-4,subnet-5"),
    ),
    Case(
        "a data source that could not be read",
        ["data.aws_ami.app could not be read again as it was when the plan was made"],
        fingerprints=changed(PRINTS, data__aws_ami__app=None),
    ),
    Case(
        "objects the plan did not read are not reasons",
        [],
        fingerprints=changed(PRINTS, aws_fleet__api="api-g1:v1:x"),
    ),
    Case(
        "everything at once, in order: state, configuration, cloud",
        [
            "the state changed since the plan was made (serial 3 → 4)",
            "the configuration changed (main.hcl)",
            "aws_fleet.web changed in the cloud",
            "data.aws_ami.app now resolves to a different image (ami-old → ami-new)",
        ],
        state_serial=4,
        files=changed(FILES, main__hcl="sha256:9"),
        fingerprints=changed(PRINTS, aws_fleet__web="x", data__aws_ami__app="ami-new"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_stale_reasons(case: Case) -> None:
    plan = Plan(stack="s", lineage=case.plan_lineage, serial=case.plan_serial, fingerprints=dict(PRINTS))
    saved = PlanFile(plan=plan, config=ConfigDigest(files=dict(FILES), variables=dict(VARS)), salt="x")
    state = State(stack="s", lineage=case.state_lineage, serial=case.state_serial)
    reasons = stale_reasons(
        plan_file=saved,
        state=state,
        config_digest=ConfigDigest(files=case.files, variables=case.variables),
        current_fingerprints=case.fingerprints,
    )
    assert reasons == case.expected


def test_the_message_says_stale_lists_the_reasons_and_what_to_do() -> None:
    err = StalePlanError("plan.json", ["a moved", "b moved"])
    assert err.reasons == ["a moved", "b moved"]
    assert str(err) == stale_message("plan.json", ["a moved", "b moved"])
    assert str(err).splitlines() == [
        "the saved plan plan.json is stale; nothing was applied:",
        "  - a moved",
        "  - b moved",
        "Run `reconciler plan --out plan.json` again and review the new plan.",
    ]
