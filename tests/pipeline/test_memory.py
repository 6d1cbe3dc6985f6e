"""The collector is paused during a batch and resumes without walking what the batch left."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from lambdalens.pipeline.memory import malloc_environment, paused_gc, tune_allocator


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def usual_thresholds() -> Iterator[tuple[int, int, int]]:
    """The collector's usual thresholds, with nothing collectable pending.

    An earlier test's batch may have left the first threshold raised (paused_gc keeps it raised
    until the next batch begins); what a batch does first is put the usual ones back.
    """
    gc.collect()
    with paused_gc():  # what the next batch does first: the usual thresholds again
        pass
    thresholds = gc.get_threshold()
    try:
        yield thresholds
    finally:
        with paused_gc():
            pass
        gc.set_threshold(*thresholds)


@pytest.fixture
def collections(usual_thresholds: tuple[int, int, int]) -> Iterator[list[int]]:
    """The generations of the collections that run, as they run."""
    seen: list[int] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(on_gc)
    try:
        yield seen
    finally:
        gc.callbacks.remove(on_gc)


def test_the_collector_is_paused_during_a_batch_and_resumed_after(collections: list[int]) -> None:
    with paused_gc():
        assert not gc.isenabled()
        batch = [{"doc": i} for i in range(5000)]
    assert gc.isenabled()
    assert collections == [], "no collection while the batch was built"
    assert len(batch) == 5000


def test_what_the_batch_left_alive_is_not_walked_when_the_collector_resumes(collections: list[int]) -> None:
    with paused_gc():
        batch = [{"doc": i} for i in range(20_000)]
    after: list[list[int]] = [
        [] for _ in range(500)
    ]  # what the caller allocates while it still holds the batch
    assert collections == []
    del batch, after


def test_once_the_batch_is_freed_the_collector_runs_as_usual_and_frees_cycles(collections: list[int]) -> None:
    with paused_gc():
        batch = [{"doc": i} for i in range(20_000)]
    del batch
    node = _Node()
    alive = weakref.ref(node)
    del node
    churn: list[list[int]] = [[] for _ in range(25_000)]  # as many allocations again as the batch made
    assert collections, "the collector runs again"
    del churn
    gc.collect()
    assert alive() is None


def test_the_next_batch_restores_the_thresholds(usual_thresholds: tuple[int, int, int]) -> None:
    usual = usual_thresholds
    with paused_gc():
        batch = [{"doc": i} for i in range(20_000)]
    assert gc.get_threshold()[0] > usual[0]
    del batch
    with paused_gc():
        assert gc.get_threshold() == usual


def test_a_caller_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_allocator_settings_are_glibc_environment_variables_with_sane_values() -> None:
    env = malloc_environment()
    assert set(env) == {"MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_"}
    assert int(env["MALLOC_MMAP_THRESHOLD_"]) <= 32 * 1024 * 1024  # glibc refuses more on 64-bit
    assert int(env["MALLOC_TRIM_THRESHOLD_"]) >= int(env["MALLOC_MMAP_THRESHOLD_"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_the_allocator_settings_are_applied_in_process_where_glibc_runs() -> None:
    import ctypes

    if not hasattr(ctypes.CDLL(None), "mallopt"):
        pytest.skip("not glibc")
    assert tune_allocator() is True
