"""Memory given back between claims, in the processes that run the tests.

What survives a collection (the imports: TensorFlow, Keras, hypothesis, ~360,000 objects; then
the caches claims fill: traced functions, autograph's modules, hypothesis's strategies) would be
walked again by every later collection, twice per test (Keras's clear_session collects too):
0.3 s each at first, growing over a run. So every release freezes what survived, leaving it out
of later collections (it is still freed by reference counting), and a collection walks only what
the last claim made: a test's teardown went from 0.37 s to 0.04 s on average (79 tests, one
process), and a whole default run (ci profile) from 2,649 s to 1,385 s, with the same verdicts.
Frozen objects that later become cycles of garbage are kept until the next whole collection.
Then, once the resident size has grown by TRIM_GROWTH since the last time, everything is collected, frozen
objects included, and the C allocator is asked to hand freed pages back to the system, so that a
process's resident size follows what it holds, not the most it ever held (a trim takes 20 to 60
ms). Worker processes (conformance/distributed) collect only after a job that raised (a
collection after each of their jobs made the mirrored claims half as slow again), freeze their
imports once started, and never trim; they are stopped when their module's tests end, and after a
job that left one above RECYCLE_BYTES (conformance/distributed/host.py): the next job starts a
fresh one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

from conformance.core.resident import resident

TRIM_GROWTH = 256 * 2**20
_trimmed_at = 0  # resident bytes after the last trim


def _trim() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)  # glibc only
    except (OSError, AttributeError):
        pass


def release() -> None:
    """Collect garbage; where the process has grown by TRIM_GROWTH since the last trim, collect
    the frozen objects too and trim; then freeze what survived out of later collections."""
    global _trimmed_at
    gc.collect()
    size = resident()
    if size and size - _trimmed_at >= TRIM_GROWTH:
        # Frozen objects that have since become cycles of garbage are found only unfrozen: one
        # whole collection per TRIM_GROWTH of growth bounds what freezing can keep.
        gc.unfreeze()
        gc.collect()
        _trim()
        _trimmed_at = resident()
    gc.freeze()
