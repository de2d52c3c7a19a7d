"""A process's resident memory, read from /proc: what the suite bounds (memory.release trims the
test processes, the host recycles its workers) and what peak_rss samples."""

from __future__ import annotations

import os


def resident(pid: int | str = "self") -> int:
    """A process's resident bytes, this one's by default (0 where /proc is not there)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
