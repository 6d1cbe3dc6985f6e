"""Memory management around a batch: the cyclic collector and the C allocator."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_MiB = 1024 * 1024
#: glibc malloc settings for the parser: keep memory a batch freed for the next batch instead of
#: returning it to the kernel and faulting it in again. A batch builds tens of megabytes of
#: documents and bulk bodies and frees them; by default glibc gives large blocks back (mmap
#: above a moving threshold, heap trimming above 128 KB) and the next batch pays a page fault
#: per 4 KB to take them again (``make bench``: about 5 % of the parser's time). A Lambda
#: function's memory is reserved whether the process holds it or not, so holding it costs
#: nothing. The parser function gets these as its environment (``infra/``: glibc reads them at
#: process start); ``make bench`` applies the same values with ``mallopt`` (tune_allocator).
MALLOC_SETTINGS: dict[str, int] = {
    "MALLOC_TRIM_THRESHOLD_": 256 * _MiB,  # free heap kept before trimming it back to the kernel
    "MALLOC_TOP_PAD_": 64 * _MiB,  # extra heap taken at each growth
    "MALLOC_MMAP_THRESHOLD_": 32
    * _MiB,  # blocks from the heap (reused) below this, mmap above (glibc's maximum)
}
_MALLOPT_PARAMETER = {"MALLOC_TRIM_THRESHOLD_": -1, "MALLOC_TOP_PAD_": -2, "MALLOC_MMAP_THRESHOLD_": -3}


def malloc_environment() -> dict[str, str]:
    """:data:`MALLOC_SETTINGS` as environment variables (for the parser function)."""
    return {name: str(value) for name, value in MALLOC_SETTINGS.items()}


def tune_allocator() -> bool:
    """Apply :data:`MALLOC_SETTINGS` to this process with glibc's ``mallopt`` (what the parser
    function gets from its environment at start). False where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # only here: the parser Lambda takes the settings from its environment

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return all(mallopt(_MALLOPT_PARAMETER[name], value) == 1 for name, value in MALLOC_SETTINGS.items())


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
