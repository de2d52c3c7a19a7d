"""Command-line values checked before a run starts: each bad one is a one-line usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.records import shards


def problems(config: pytest.Config) -> list[str]:
    """What is wrong with the suite's options (and the hypothesis profile asked for)."""
    out = []
    profile = config.getoption("hypothesis_profile", None)
    if profile is not None:
        from hypothesis import settings

        from conformance.core import profiles  # noqa: F401 - registers the suite's profiles

        known = sorted(settings._profiles)  # noqa: SLF001 - hypothesis keeps no public list
        if profile not in known:
            out.append(f"--hypothesis-profile {profile!r}: no such profile (known: {', '.join(known)})")
    results = Path(config.getoption("results"))
    if results.is_dir():
        out.append(f"--results {str(results)!r} is a folder: name a file (e.g. {results / 'results.jsonl'})")
    elif any(p.exists() and not p.is_dir() for p in results.parents):
        out.append(f"--results {str(results)!r}: a parent of it is a file, not a folder")
    for name, flag in (("claim_timeout", "--claim-timeout"), ("shrink_budget", "--shrink-budget")):
        value = config.getoption(name)
        if value is not None and value < 0:
            out.append(f"{flag} {value:g}: must be 0 or more")
    for name, flag in (("optimizer", "--optimizer"), ("optimizer_spec", "--optimizer-spec")):
        seen: set[str] = set()
        for value in config.getoption(name):
            if value in seen:
                out.append(f"{flag} {value!r} is given twice")
            seen.add(value)
    shard, durations = config.getoption("shard"), config.getoption("shard_durations")
    if shard is not None and shards.parse(shard) is None:
        out.append(f"--shard {shard!r}: give K/N, two whole numbers with 1 <= K <= N (e.g. 2/4)")
    if durations is not None:
        if shard is None:
            out.append("--shard-durations is given without --shard")
        try:
            shards.read_durations(Path(durations))
        except (OSError, ValueError) as e:
            out.append(f"--shard-durations {durations!r}: {getattr(e, 'strerror', None) or e}")
    for path in config.getoption("expectations"):
        if not Path(path).is_file():
            out.append(f"--expectations {path!r}: no such file")
    return out


def check_options(config: pytest.Config) -> None:
    found = problems(config)
    if found:
        raise pytest.UsageError(*found)
