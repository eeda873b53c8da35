"""Every strategy name of the `rollout { }` vocabulary has its module behind the one interface:
a new strategy is its module, its StrategyName member and its test."""

from __future__ import annotations

import pytest

from reconciler.rollout.strategies import strategy_for
from reconciler.sdk.rollout_block import StrategyName
from tests.rollout.builders import plan_for


@pytest.mark.parametrize("name", list(StrategyName))
def test_every_strategy_name_has_its_module(name: StrategyName) -> None:
    strategy = strategy_for(name)
    assert strategy.name is name
    assert type(strategy).__module__ == f"reconciler.rollout.strategies.{name.value}"


@pytest.mark.parametrize("name", list(StrategyName))
def test_a_strategy_plans_and_undoes_what_it_keeps(name: StrategyName) -> None:
    plan = plan_for(4, strategy=name.value)
    strategy = strategy_for(name)
    assert plan.strategy is name and plan.steps
    assert (plan.green_group != "") == bool(strategy.cleanup(plan))  # a new group is kept, then deleted
