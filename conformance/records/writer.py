"""The results file: JSON lines, flushed after every verdict so that a crash loses nothing finished.

Line 1: {"run_info": {...}}; then one object per (optimizer, claim). A resumed run (--resume) appends
a {"resumed": {...}} line and its verdicts; the last record per (optimizer, claim) counts. See
README.md for the format.

A run writes `<results>.partial` (`partial_path`), from its first record on, and makes it the
results file (`publish`) only when it ends normally: a run that records nothing, crashes or is
interrupted leaves the previous results file as it was.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import sys
import threading
from pathlib import Path
from typing import IO, Any

from conformance import __version__
from conformance.records.results_format import FORMAT_VERSION


def _default(o: Any) -> Any:
    # numpy's scalars and arrays, by what they offer (this module reads and writes without numpy)
    if hasattr(o, "tolist") and hasattr(o, "dtype"):
        return o.tolist()
    return repr(o)


def plain(record: dict[str, Any]) -> dict[str, Any]:
    """`record` made of JSON's types only (what the results file will hold)."""
    return json.loads(json.dumps(record, default=_default, allow_nan=False))


def run_info(adapter: Any, profile: str, seed: Any) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "suite_version": __version__,
        # The matrix environment's name (tox sets TOX_ENV_NAME; CONFORMANCE_ENV overrides it).
        "environment": os.environ.get("CONFORMANCE_ENV") or os.environ.get("TOX_ENV_NAME") or "local",
        "python": platform.python_version(),
        "platform": platform.platform(),
        **adapter.versions(),
        "hypothesis": __import__("hypothesis").__version__,
        "numpy": importlib.metadata.version("numpy"),
        "devices": adapter.devices(),
        "hypothesis_profile": profile,
        "hypothesis_seed": seed,
        "argv": sys.argv[1:],
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


RESUMED_KEYS = ("started", "argv", "hypothesis_profile", "hypothesis_seed", "fingerprint")


def partial_path(path: Path) -> Path:
    """Where a run writes the results file `path` until it ends normally: `<path>.partial`."""
    return path.with_name(path.name + ".partial")


def target_problem(path: Path) -> str | None:
    """Why `path` cannot be a results file (one line), or None: a folder, a parent that is a file or
    cannot be written to, a `.partial` beside it that is a folder."""
    if path.is_dir():
        return f"--results {str(path)!r} is a folder: name a file (e.g. {path / 'results.jsonl'})"
    if partial_path(path).is_dir():
        return f"--results {str(path)!r}: {partial_path(path)} (where a run writes it until it ends) is a folder"
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"--results {str(path)!r}: cannot create its folder ({parent} is a file, not a folder)"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"--results {str(path)!r}: cannot write in {parent} (permission denied)"
    return None


def complete_lines(data: bytes) -> tuple[bytes, int]:
    """`data` up to its last whole line, and how many bytes were cut off after it (a writer stopped
    mid-line). A last line that lacks only its newline (a whole JSON object) is kept, with one."""
    keep = data.rfind(b"\n") + 1
    tail = data[keep:]
    if not tail:
        return data, 0
    try:
        whole = isinstance(json.loads(tail), dict)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        whole = False
    return (data + b"\n", 0) if whole else (data[:keep], len(tail))


def repair(path: Path) -> int:
    """Cut a last line that has no newline (a writer stopped mid-line) so that appending starts on
    a line of its own (a whole JSON object that lacks only its newline gets one); the bytes cut."""
    with open(path, "rb+") as f:
        data = f.read()
        kept, cut = complete_lines(data)
        if kept != data:
            f.seek(0)
            f.write(kept)
            f.truncate(len(kept))
            f.flush()
            os.fsync(f.fileno())
        return cut


def publish(partial: Path, path: Path) -> None:
    """Make the finished `partial` the results file `path` (in one step: a reader sees the old file
    or the new one, never a mix)."""
    os.replace(partial, path)
    try:  # the rename itself on disk (POSIX; elsewhere a folder cannot be opened)
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ResultsWriter:
    """Writes the results file `path`, one whole line per record, flushed and synced.

    Nothing is written until the first record comes (a run that records nothing leaves `path` as it
    was); then the run's first lines go before it: its run_info (`resume`: a {"resumed": ...} line
    instead) and the `layouts` records. `start_from` (with `resume`): the results file this run
    continues. Its whole lines are copied first; when it is `path` itself (the default with
    `resume`), only a cut-off last line is removed (`repaired`: the bytes cut)."""

    def __init__(self, path: Path, info: dict[str, Any], resume: bool = False, layouts: Any = (),
                 start_from: Path | None = None) -> None:
        self.path = path
        self.start_from = (start_from or path) if resume else None
        first = {"resumed": {k: info.get(k) for k in RESUMED_KEYS}} if resume else {"run_info": info}
        self._head = [first, *({"layout": record} for record in layouts)]
        self.repaired = 0
        # The --claim-timeout watchdog may write from its own thread while the main one is stuck.
        self._lock = threading.Lock()
        self._f: IO[bytes] | None = None

    @property
    def started(self) -> bool:
        """Whether this run has written to `path`."""
        return self._f is not None

    def write(self, record: dict[str, Any]) -> None:
        line = _line(record)
        with self._lock:
            if self._f is None:
                self._f = self._open()
            self._f.write(line)
            self._f.flush()
            os.fsync(self._f.fileno())

    def begin(self) -> None:
        """Write the run's first lines (and the file it continues) though no record came: a run whose
        every verdict was reused still writes its results file."""
        with self._lock:
            if self._f is None:
                self._f = self._open()

    def repair(self) -> None:
        """Before nothing is written: remove a cut-off last line of the file this run continues in
        place (a run that ends with nothing to add still leaves whole lines only)."""
        with self._lock:
            if self._f is None and self.start_from == self.path and self.path.is_file():
                self.repaired = repair(self.path)

    def _open(self) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.start_from is None:
            f = open(self.path, "wb")
        elif self.start_from == self.path:
            self.repaired = repair(self.path)
            f = open(self.path, "ab")
        else:
            kept, self.repaired = complete_lines(self.start_from.read_bytes())
            f = open(self.path, "wb")
            f.write(kept)
        f.write(b"".join(_line(r) for r in self._head))
        return f

    def close(self) -> None:
        with self._lock:
            if self._f is not None:
                self._f.close()


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, default=_default, allow_nan=False, sort_keys=False) + "\n").encode("utf-8")
