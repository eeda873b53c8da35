"""Apply progress: a live table of rollouts on a terminal, one plain line per event otherwise."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.render.progress import ApplyProgress
from reconciler.rollout.progress import Phase
from reconciler.rollout.report import RolloutEvent

EVENT = RolloutEvent(
    fleet="web",
    step=2,
    total=7,
    description="wait until web-g0002 4/4 healthy",
    phase=Phase.IN_PROGRESS,
    new=4,
    old=4,
    healthy=6,
    waited_s=12.0,
)


def test_plain_lines_without_a_terminal() -> None:
    buf = io.StringIO()
    with ApplyProgress(Console(file=buf, force_terminal=False, width=200)) as p:
        p.line("aws_launch_template.web", "Modifying...")
        p.rollout(
            "aws_fleet.web", EVENT, "step 2/7: wait until web-g0002 4/4 healthy [new 4, old 4, healthy 6]"
        )
    assert buf.getvalue().splitlines() == [
        "aws_launch_template.web: Modifying...",
        "aws_fleet.web: step 2/7: wait until web-g0002 4/4 healthy [new 4, old 4, healthy 6]",
    ]


def test_live_table_on_a_terminal() -> None:
    buf = io.StringIO()
    with ApplyProgress(Console(file=buf, force_terminal=True, width=160, color_system=None)) as p:
        p.rollout("aws_fleet.web", EVENT, "ignored on a terminal")
    text = buf.getvalue()
    assert "aws_fleet.web" in text and "in progress" in text and "2/7" in text and "12s" in text
    assert "ignored on a terminal" not in text
