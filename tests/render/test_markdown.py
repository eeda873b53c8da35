"""The Markdown plan (issue 5, item 3): a pull-request comment that leads with the verdict, warns
about deletions and replacements, tabulates the changes, explains each rollout, folds the
attribute diffs into <details>, ends with the apply command, never shows a secret, and stays under
GitHub's 65,536-character limit however large the plan."""

from __future__ import annotations

import re

import pytest

from reconciler.address import Address
from reconciler.planning.model import Action, ActionReason, OutputChange, Plan, ResourceChange
from reconciler.render.markdown import GITHUB_LIMIT, render_markdown
from tests.render import DIGEST, NEW_AMI, OLD_AMI, SECRET, many_changes, review_plan


def table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows and rows[0] == "| | Resource | Action |", rows[:1]
    return [re.split(r"(?<!\\) \| ", row.strip("| ").rstrip(" |")) for row in rows[1:]]


def assert_well_formed(text: str) -> None:
    """What GitHub needs to render it as intended: balanced folds and fences, a blank line after
    each <summary> so its Markdown renders."""
    assert text.count("<details>") == text.count("</details>")
    assert text.count("<summary>") == text.count("</summary>") == text.count("<details>")
    assert "<summary>" not in text or "</summary>\n\n" in text
    fences = [line for line in text.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0
    depth = 0
    for line in text.splitlines():  # no fold opens inside another or inside a fence
        depth += line.count("<details>") - line.count("</details>")
        assert depth in (0, 1)


def test_verdict_is_the_first_line() -> None:
    text = render_markdown(review_plan())
    assert text.splitlines()[0] == (
        "**Plan: 2 to add, 1 to change, 2 to destroy, 1 fleet to roll out (12 instances).**"
    )
    assert_well_formed(text)


@pytest.mark.parametrize(
    ("plan", "first_line"),
    [
        (Plan(stack="s"), "**No changes.** The infrastructure matches the configuration."),
        (Plan(stack="s", outputs=[OutputChange("o", 1, 2)]), "**Plan: only outputs change.**"),
        (Plan(stack="s", refresh_only=True), "**No changes outside reconciler.**"),
    ],
)
def test_other_verdicts(plan: Plan, first_line: str) -> None:
    text = render_markdown(plan)
    assert text.splitlines()[0] == first_line
    assert_well_formed(text)


def test_no_changes_has_no_table_banner_or_apply_command() -> None:
    text = render_markdown(Plan(stack="s"), plan_file="plan.json")
    assert "[!WARNING]" not in text and "| Resource |" not in text and "apply" not in text


def test_table_has_one_row_per_change_destructive_first() -> None:
    rows = table_rows(render_markdown(review_plan()))
    assert [(r[0], r[1]) for r in rows] == [
        ("`-`", "`aws_target_group.old`"),
        ("`-/+`", '`aws_launch_template.worker["batch"]`'),
        ("`↻`", "`aws_fleet.web`"),
        ("`~`", "`aws_launch_template.web`"),
        ("`+`", "`aws_target_group.api`"),
    ]  # the no-op is not listed
    notes = {r[1]: r[2] for r in rows}
    assert notes["`aws_target_group.old`"] == "delete (no longer in the configuration)"
    assert notes['`aws_launch_template.worker["batch"]`'] == "replace (name forces replacement)"
    assert notes["`aws_launch_template.web`"] == "update in-place: new version 8 (default)"


def test_warning_banner_lists_deletions_and_replacements() -> None:
    lines = render_markdown(review_plan()).splitlines()
    start = lines.index("> [!WARNING]")
    assert start == 2  # right after the verdict
    banner = []
    for line in lines[start:]:
        if not line.startswith(">"):
            break
        banner.append(line)
    assert any("`aws_target_group.old` will be **deleted**" in b for b in banner)
    assert any('`aws_launch_template.worker["batch"]` will be **replaced** (name forces' in b for b in banner)
    assert not any("aws_target_group.api" in b or "aws_fleet.web" in b for b in banner)


def test_no_banner_without_deletions() -> None:
    plan = review_plan()
    plan.changes = [c for c in plan.changes if c.action not in (Action.DELETE, Action.REPLACE)]
    assert "[!WARNING]" not in render_markdown(plan)


def test_rollout_paragraph() -> None:
    text = render_markdown(review_plan())
    section = text.split("### Rollouts")[1].split("###")[0]
    paragraph = section.strip().split("\n\n")[0]
    for fact in (
        "`aws_fleet.web`",
        f"`app-1.4.2` ({OLD_AMI}, 2026-11-20",
        f"`app-1.5.0` ({NEW_AMI}, 2026-11-22",
        "**blue/green**",
        "**12 of 12** instances",
        "estimated at most 15m 0s",
        "Rollback target: web-g0007 on launch template version 7 (app-1.4.2)",
    ):
        assert fact in paragraph, f"{fact!r} not in {paragraph!r}"
    assert "1. create web-g0008 at 12, attach to target group web" in section
    assert "3. detach web-g0007, drain up to 300 s, scale to 0; keep it 1h for rollback" in section


def test_lookups_drift_and_outputs() -> None:
    text = render_markdown(review_plan())
    lookups = text.split("### AMI lookups")[1].split("###")[0]
    assert "`data.aws_ami.app`" in lookups and "2026-11-20" in lookups and "2026-11-22" in lookups
    assert r"newest of 3 images named app-\* with Version in \>=1.4,\<2" in lookups
    drift = text.split("### Changed outside reconciler")[1].split("###")[0]
    assert "`desired_capacity`: `4` → `12`" in drift
    assert "`aws_target_group.gone` was **deleted**" in drift
    outputs = text.split("### Outputs")[1].split("###")[0]
    assert '`fleet_ami`: `"app-1.4.2"` → `"app-1.5.0"`' in outputs
    assert "`db_password`: (sensitive value changed)" in outputs


def test_details_fold_each_change_with_its_diff() -> None:
    text = render_markdown(review_plan())
    blocks = re.findall(r"<details><summary><code>(.*?)</code></summary>\n\n(.*?)\n\n</details>", text, re.S)
    summaries = [s for s, _ in blocks]
    assert summaries == [
        "- aws_target_group.old  delete (no longer in the configuration)",
        '-/+ aws_launch_template.worker["batch"]  replace (name forces replacement)',
        "↻ aws_fleet.web  rollout: blue/green",
        "~ aws_launch_template.web  update in-place: new version 8 (default)",
        "+ aws_target_group.api  create",
    ]
    bodies = dict(zip(summaries, (b for _, b in blocks), strict=True))
    web = bodies["~ aws_launch_template.web  update in-place: new version 8 (default)"]
    assert f'- image_id = "{OLD_AMI}"' in web
    assert f'+ image_id = "{NEW_AMI}"  # app-1.4.2 → app-1.5.0' in web
    assert "~ user_data = (sensitive value changed)" in web
    assert '+ name = "worker-batch-v2"  # forces replacement' in bodies[summaries[1]]
    assert "+ arn = (known after apply)" in bodies["+ aws_target_group.api  create"]
    assert "rollback  web-g0007 on launch template version 7 (app-1.4.2)" in bodies[summaries[2]]


def test_no_secret_anywhere() -> None:
    for plan in (review_plan(), many_changes(30)):
        text = render_markdown(plan)
        assert SECRET not in text and DIGEST not in text and "sha256:" not in text


@pytest.mark.parametrize(
    ("plan_file", "ending"),
    [
        ("plan.json", "To apply exactly this plan: `reconciler apply plan.json`"),
        ("out/pr-12.plan", "To apply exactly this plan: `reconciler apply out/pr-12.plan`"),
        (None, "run `reconciler apply plan.json`."),
    ],
)
def test_ends_with_the_apply_command(plan_file: str | None, ending: str) -> None:
    text = render_markdown(review_plan(), plan_file=plan_file)
    assert text.rstrip("\n").splitlines()[-1].endswith(ending)


@pytest.mark.parametrize("n", [500, 2000])
def test_large_plans_stay_under_githubs_limit(n: int) -> None:
    text = render_markdown(many_changes(n), plan_file="plan.json")
    assert len(text) <= GITHUB_LIMIT
    assert_well_formed(text)
    assert text.splitlines()[0].startswith("**Plan: ")
    assert "[!WARNING]" in text
    assert "run `reconciler show plan.json` to see the full plan" in text
    assert text.rstrip().endswith("`reconciler apply plan.json`")


@pytest.mark.parametrize("limit", [1500, 3000, 8000, 20000])
def test_any_limit_is_kept_and_structure_survives(limit: int) -> None:
    for plan in (review_plan(), many_changes(300)):
        text = render_markdown(plan, limit=limit, plan_file="plan.json")
        assert len(text) <= limit
        assert_well_formed(text)
        assert text.splitlines()[0].startswith("**Plan: ")
        if len(render_markdown(plan, plan_file="plan.json")) > limit:
            assert "`reconciler show plan.json`" in text


def test_a_small_plan_is_not_truncated() -> None:
    text = render_markdown(review_plan())
    assert "shortened" not in text and "not shown" not in text
    assert text.count("<details>") == 5


def test_cells_escape_pipes_and_code_spans_survive_backticks() -> None:
    plan = Plan(
        stack="s",
        changes=[
            ResourceChange(
                address=Address("aws_launch_template", "t", "a|b`c"),
                action=Action.DELETE,
                type_name="aws_launch_template",
                reason=ActionReason.DELETE_BECAUSE_NO_INSTANCE,
                before={"name": "```fenced```"},
            )
        ],
    )
    text = render_markdown(plan)
    row = next(line for line in text.splitlines() if line.startswith("| `-`"))
    assert r'``aws_launch_template.t["a\|b`c"]``' in row
    assert "delete (its count/for\\_each key is gone)" in row
    assert_well_formed(text)
    assert '````diff\n- name = "```fenced```"\n````' in text


def test_rolling_rollout_is_in_place_and_resume_is_said() -> None:
    from reconciler.rollout.change import RolloutChange
    from reconciler.rollout.progress import Phase, RolloutProgress
    from tests.rollout.builders import plan_for

    payload = RolloutChange(
        plan_for(4, strategy="rolling", max_surge=1), resume=RolloutProgress(phase=Phase.IN_PROGRESS)
    )
    change = ResourceChange(
        address=Address("aws_fleet", "web"), action=Action.ROLLOUT, type_name="aws_fleet", rollout=payload
    )
    text = render_markdown(Plan(stack="s", changes=[change]))
    section = text.split("### Rollouts")[1].split("###")[0]
    assert "(web-g0007, in place)" in section and "**rolling** rollout" in section
    lines = len(payload.plan.outline())  # counted in the plan's numbered lines, as apply counts
    assert f"Resumes an unfinished rollout (in progress, at step 1 of {lines})." in section
    assert "2. batch 1/4: launch 1 on app-1.5.0" in section
    assert_well_formed(text)
