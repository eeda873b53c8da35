"""The cyclic garbage collector is paused while a command plans and is back on for the apply."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reconciler.cli.collector import CollectorPaused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_and_on_again_after(collector_on: None) -> None:
    with CollectorPaused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resume_turns_it_on_before_the_block_ends(collector_on: None) -> None:
    with CollectorPaused() as collector:
        collector.resume()
        assert gc.isenabled()
        collector.resume()  # twice is harmless
    assert gc.isenabled()


def test_on_again_after_an_error(collector_on: None) -> None:
    with pytest.raises(RuntimeError), CollectorPaused():
        raise RuntimeError("planning failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on: None) -> None:
    gc.disable()
    with CollectorPaused() as collector:
        collector.resume()
        assert not gc.isenabled()
    assert not gc.isenabled()
