"""The garbage collector pause around batches of new objects."""

from __future__ import annotations

import gc

import pytest

from minorm.gcpause import paused


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    assert gc.isenabled()
    with paused(10_000):
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_small_batch_runs_as_it_is() -> None:
    before = gc.get_stats()[0]["collections"]
    with paused(10):
        assert gc.isenabled()
    assert gc.isenabled()
    assert gc.get_stats()[0]["collections"] - before <= 1  # no collection of its own


def test_an_error_inside_restores_the_collector() -> None:
    with pytest.raises(ZeroDivisionError), paused(10_000):
        _ = 1 / 0
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with paused(100_000):
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_large_batch_runs_its_young_collection_on_the_way_out() -> None:
    gc.collect()
    before = gc.get_stats()[0]["collections"]
    with paused(100_000):
        kept = [[i] for i in range(100_000)]  # more than one young generation
        assert gc.get_stats()[0]["collections"] == before
    assert gc.get_stats()[0]["collections"] == before + 1
    assert gc.get_count()[0] < 100  # the new objects were moved out of the young generation
    assert len(kept) == 100_000
