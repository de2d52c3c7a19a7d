"""Memory given back between claims, in the processes that run the tests.

What survives the first release is the imports (TensorFlow, Keras, hypothesis: ~360,000 objects),
which every later garbage collection would walk again: 0.3 s each, twice per test (Keras's
clear_session collects too), more than many claims take. They are frozen, left out of later
collections; what a claim makes is still collected. Then, once the resident size has grown by
TRIM_GROWTH since the last time, the C allocator is asked to hand freed pages back to the system, so
that a process's resident size follows what it holds, not the most it ever held (a trim takes 20
to 60 ms). Worker processes (conformance/distributed) do neither: a collection after each of their
jobs made the mirrored claims half as slow again; they are stopped when their module's tests end.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

TRIM_GROWTH = 256 * 2**20
_frozen = False
_trimmed_at = 0  # resident bytes after the last trim


def resident() -> int:
    """This process's resident bytes (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _trim() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)  # glibc only
    except (OSError, AttributeError):
        pass


def release() -> None:
    """Collect garbage (the imports frozen out of collections, once per process), then trim if
    the process has grown by TRIM_GROWTH since the last trim."""
    global _frozen, _trimmed_at
    gc.collect()
    if not _frozen:
        gc.freeze()
        _frozen = True
    size = resident()
    if size and size - _trimmed_at >= TRIM_GROWTH:
        _trim()
        _trimmed_at = resident()
