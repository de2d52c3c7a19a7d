"""Shards: one environment's claims split over several machines (`--shard K/N`), balanced by the
time each claim took in a stored run, and the shards' results files joined back into one run.

Every shard computes the same partition from the same collected tests and the same durations, so
the N shards together run each test exactly once, whatever -k, --resume or --shuffle do after it.
The partition is the greedy longest-first one: tests in order of stored duration (longest first,
ties by id), each to the shard with the least time so far. A test the durations lack counts as
the median of those known (every test counts 1 where none is known).

The durations are read from `--shard-durations FILE`, a results file or a JSON object
{"claim|optimizer": seconds}; by default from `durations.json` beside this module, written from a
full run of the default environment by

    python -m conformance.records.shards RESULTS.jsonl > conformance/durations.json

Standard library only: `merge` joins shards without Keras.
"""

from __future__ import annotations

import heapq
import json
import re
import statistics
import sys
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

DEFAULT_DURATIONS = Path(__file__).parent.parent / "durations.json"
_SHARD = re.compile(r"^([1-9]\d*)/([1-9]\d*)$")


def parse(text: str) -> tuple[int, int] | None:
    """(K, N) of "K/N" with 1 <= K <= N, else None."""
    m = _SHARD.match(text.strip())
    if not m or int(m[1]) > int(m[2]):
        return None
    return int(m[1]), int(m[2])


def key_text(optimizer: str, claim: str) -> str:
    return f"{claim}|{optimizer}"


def read_durations(path: Path) -> dict[str, float]:
    """Seconds per "claim|optimizer" from a results file (the last record of each pair) or a JSON
    object of them; ValueError (one line, without the path) if the file is neither."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict) and "run_info" not in data:
        if not all(isinstance(v, (int, float)) for v in data.values()):
            raise ValueError("a durations object maps 'claim|optimizer' to seconds")
        return {str(k): float(v) for k, v in data.items()}
    out: dict[str, float] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a crashed run's cut-off last line
        if isinstance(record, dict) and isinstance(record.get("duration_s"), (int, float)) and "claim" in record:
            out[key_text(record["optimizer"], record["claim"])] = float(record["duration_s"])
    if not out:
        raise ValueError("neither a results file with durations nor a durations object")
    return out


def stored(path: str | None) -> dict[str, float]:
    """The durations to balance by: `path`'s, else the suite's own file, else none."""
    if path:
        return read_durations(Path(path))
    return read_durations(DEFAULT_DURATIONS) if DEFAULT_DURATIONS.is_file() else {}


def assign(keys: Sequence[Hashable], seconds: dict[Hashable, float], n: int) -> dict[Hashable, int]:
    """Shard (1..n) of each key: greedy longest-first over `seconds`, unknown keys at the median."""
    known = [seconds[k] for k in keys if k in seconds]
    fill = statistics.median(known) if known else 1.0
    order = sorted(set(keys), key=lambda k: (-seconds.get(k, fill), str(k)))
    heap = [(0.0, shard) for shard in range(1, n + 1)]
    out: dict[Hashable, int] = {}
    for k in order:
        total, shard = heapq.heappop(heap)
        out[k] = shard
        heapq.heappush(heap, (total + seconds.get(k, fill), shard))
    return out


def totals(assignment: dict[Hashable, int], seconds: dict[Hashable, float], n: int) -> list[float]:
    """Stored seconds per shard (unknown keys at the median), for the run's header line."""
    known = [seconds[k] for k in assignment if k in seconds]
    fill = statistics.median(known) if known else 1.0
    out = [0.0] * n
    for k, shard in assignment.items():
        out[shard - 1] += seconds.get(k, fill)
    return out


def join(runs: list[Any]) -> list[Any]:
    """Runs (results_format.Run) with the shards of one environment joined into one: records, optimizers and
    layouts united, run_info["shards"] listing the shards present, and a note naming any shard
    missing or any claim found in two shards. Other runs are returned as they are."""
    groups: dict[tuple[str, int], list[Any]] = {}
    out: list[Any] = []
    for run in runs:
        shard = parse(str(run.info.get("shard") or ""))
        if shard is None:
            out.append(run)
            continue
        group = groups.setdefault((run.label, shard[1]), [])
        if not group:
            out.append(group)  # a placeholder, replaced below, keeps the runs' order
        group.append(run)
    return [_joined(item) if isinstance(item, list) else item for item in out]


def _joined(shards: list[Any]) -> Any:
    shards = sorted(shards, key=lambda r: parse(r.info["shard"]))
    first, n = shards[0], parse(shards[0].info["shard"])[1]
    present = [parse(r.info["shard"])[0] for r in shards]
    first.info = {k: v for k, v in first.info.items() if k != "shard"} | {"shards": [r.info["shard"] for r in shards]}
    missing = [k for k in range(1, n + 1) if k not in present]
    if missing:
        first.notes.append(
            f"shards {', '.join(f'{k}/{n}' for k in missing)} missing: their claims are not in this column"
        )
    for run in shards[1:]:
        both = sorted(set(first.records) & set(run.records))
        if both:
            first.notes.append(
                f"{len(both)} claims in two shards (e.g. {both[0][1]} on {both[0][0]}): {run.path}'s verdict kept"
            )
        first.records.update(run.records)
        first.optimizers |= run.optimizers
        first.layouts.update(run.layouts)
        first.notes += run.notes
    return first


def main(argv: Iterable[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m conformance.records.shards RESULTS.jsonl > durations.json", file=sys.stderr)
        return 2
    try:
        found = read_durations(Path(args[0]))
    except (OSError, ValueError) as e:
        print(f"{args[0]}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
        return 2
    json.dump({k: round(v, 2) for k, v in sorted(found.items())}, sys.stdout, indent=0)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
