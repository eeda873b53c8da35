"""Rollout strategies: one module each, behind one interface (strategies.base.Strategy).

`strategy_for(name)` imports `reconciler.rollout.strategies.<name>` and returns its `STRATEGY`.
A new strategy is its module, its member of `StrategyName` (reconciler.sdk.rollout_block) and
its test; nothing else names a strategy. Callers: rollout.plan, progress, report, executor.
"""

from __future__ import annotations

import functools
import importlib

from reconciler.rollout.strategies.base import Census, Expansion, Strategy
from reconciler.sdk.rollout_block import StrategyName

__all__ = ["Census", "Expansion", "Strategy", "strategy_for"]


@functools.cache
def strategy_for(name: StrategyName) -> Strategy:
    module = importlib.import_module(f"{__name__}.{StrategyName(name).value}")
    strategy: Strategy = module.STRATEGY
    return strategy
