"""--resume: run only the claims a results file lacks, and append their verdicts to it; --reuse:
start a new results file from an earlier run's, where nothing its verdicts follow from has changed.

One rule: a claim counts as done when its last record in the file has a verdict other than
`error`. An `error` (a crash, a timeout, a harness fault) is run again, and its new record, appended
later, supersedes the old one: every reader keeps the last record per (optimizer, claim).

What is resumed (`source`) is `<results>.partial` where there is one (the latest run, which did not
end), else the results file; either way the resumed run writes the `.partial` and makes it the
results file when it ends (results.py), so that the file resumed is never changed in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.records import fingerprint
from conformance.records.results_format import UsageError, condition_verdict, read_run
from conformance.records.writer import complete_lines, partial_path, repair  # noqa: F401 - resume.repair, as before

# What must match for verdicts of two runs to stand in one file.
ENVIRONMENT = ("keras", "backend", "generation", "suite_version")

Key = tuple[str, str]  # (optimizer, claim)


@dataclass
class Previous:
    """What a results file already holds."""

    path: Path
    verdicts: dict[Key, tuple[str, str]]  # the last (defaults verdict, verdict) per claim
    done: set[Key]
    layouts: set[str]  # optimizers with a layout line
    repaired: int  # bytes cut off a last line without its newline
    info: dict[str, Any]  # its run_info


def source(path: Path) -> Path:
    """The file --resume continues for the results file `path`: its `.partial` if that holds a run
    (a run_info line), else `path`."""
    partial = partial_path(path)
    try:
        if partial.is_file() and read_run(partial, warn=False) is not None:
            return partial
    except UsageError:  # cannot be read: the results file is what there is
        pass
    return path


def done(records: dict[Key, dict[str, Any]]) -> set[Key]:
    """The claims not to run again: those whose last record is not an error."""
    return {key for key, record in records.items() if record.get("verdict") != "error"}


def load(path: Path, info: dict[str, Any], flag: str = "--resume") -> Previous:
    """The run to resume, read without changing the file (`repaired`: the bytes of a cut-off last
    line, which the writer removes); UsageError (one line) if it cannot be resumed: no file, not a
    results file (no run_info), or (--resume) another environment than `info` (this run's run_info)."""
    again = "run without --resume to start it" if flag == "--resume" else "give an earlier results file, or no --reuse"
    if path.is_dir():
        raise UsageError(f"{flag}: {path} is a folder, not a results file")
    if not path.is_file():
        raise UsageError(f"{flag}: {path} does not exist ({again})")
    try:
        cut = complete_lines(path.read_bytes())[1]
    except OSError as e:
        raise UsageError(f"{flag}: {path}: cannot read ({e.strerror or type(e).__name__})") from None
    run = read_run(path, warn=False)
    if run is None:
        raise UsageError(f"{flag}: {path} has no run_info line, so it is not a results file to resume "
                         f"(give another --results, or {again})")
    differs = [
        f"{k} {run.info.get(k)!r} there, {info.get(k)!r} here" for k in ENVIRONMENT if run.info.get(k) != info.get(k)
    ]
    if differs and flag == "--resume":  # --reuse compares the whole fingerprint instead
        raise UsageError(
            f"--resume: {path} is from another environment ({'; '.join(differs)}): "
            "give another --results, or run without --resume to start it again"
        )
    return Previous(
        path,
        {k: (condition_verdict(r, "defaults"), r["verdict"]) for k, r in run.records.items()},
        done(run.records),
        set(run.layouts),
        cut,
        run.info,
    )


def deselect(items: list[Any], done: set[Key], key_of: Any) -> tuple[list[Any], list[Any]]:
    """(items to run, items already done), by `key_of(item)`: a Key, or None for a test that is not
    a claim (always run)."""
    keep, drop = [], []
    for item in items:
        (drop if key_of(item) in done else keep).append(item)
    return keep, drop


def reusable(path: Path, info: dict[str, Any], derandomized: bool) -> tuple[Previous | None, str]:
    """--reuse: (the earlier run to start from, what this run takes from it), or (None, why nothing)
    where any part of its fingerprint differs from this run's (`info`). UsageError (one line) where
    the file cannot be read or the profile draws other examples in every run (`derandomized`)."""
    if not derandomized:
        raise UsageError("--reuse: the hypothesis profile draws new examples in every run, so an earlier "
                         "run's verdicts may not be this run's: use a derandomized profile (ci, quick)")
    previous = load(path, info, "--reuse")
    # A run resumed later (--resume, --reuse) appended verdicts of its own code: each must match too.
    differ = sorted({d for theirs in [previous.info.get("fingerprint"), *_resumed_fingerprints(path)]
                     for d in fingerprint.differences(theirs, info["fingerprint"])})
    if differ:
        return None, f"--reuse: nothing reused from {path}: {', '.join(differ)} changed since it ran"
    return previous, (f"--reuse: {len(previous.done)} claims' verdicts taken from {path} "
                      f"(run {previous.info.get('started')}, the same code, libraries, machine and settings)")


def _resumed_fingerprints(path: Path) -> list[Any]:
    """The fingerprint on each {"resumed": ...} line of a results file (None where it has none)."""
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith('{"resumed"'):
            try:
                out.append(json.loads(line)["resumed"].get("fingerprint"))
            except (ValueError, AttributeError):
                out.append(None)
    return out
