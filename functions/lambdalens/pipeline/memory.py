"""Memory management around a batch."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# The collector's thresholds as they were before paused_gc raised the first one (None: not raised)
_saved_thresholds: tuple[int, int, int] | None = None


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch is processed.

    A batch allocates tens of thousands of documents (acyclic dicts); every young-generation
    collection would walk the growing batch again (``make bench`` measured 3-8 % of the
    parser's time). Reference counting still frees everything as usual.

    When the collector resumes, the caller still holds the batch (the documents it indexes,
    counts and alerts on): a collection right then would walk all of it to find nothing
    (``make bench``: 7 ms for 30,000 documents). So until the next batch begins, the young
    generation's threshold is raised by what the batch left: its first collection comes after
    as many allocations as the batch made, by when the batch is usually freed, and it collects
    cycles as usual.
    """
    global _saved_thresholds
    if not gc.isenabled():
        yield
        return
    if _saved_thresholds is not None:
        gc.set_threshold(*_saved_thresholds)
        _saved_thresholds = None
    gc.disable()
    try:
        yield
    finally:
        thresholds = gc.get_threshold()
        young = gc.get_count()[0]
        if young > thresholds[0] > 0:
            _saved_thresholds = thresholds
            gc.set_threshold(young + thresholds[0], thresholds[1], thresholds[2])
        gc.enable()
