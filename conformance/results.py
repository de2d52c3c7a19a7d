"""The results file: JSON lines, flushed after every verdict so that a crash loses nothing finished.

Line 1: {"run_info": {...}}; then one object per (optimizer, claim). A resumed run (--resume) appends
a {"resumed": {...}} line and its verdicts; the last record per (optimizer, claim) counts. See
README.md for the format.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import threading
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import __version__

from .record_format import FORMAT_VERSION


def _default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
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
        "numpy": np.__version__,
        "devices": adapter.devices(),
        "hypothesis_profile": profile,
        "hypothesis_seed": seed,
        "argv": sys.argv[1:],
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


RESUMED_KEYS = ("started", "argv", "hypothesis_profile", "hypothesis_seed")


class ResultsWriter:
    """Writes a new results file, or appends to one (`resume`: a file the caller has checked and
    repaired), one whole line per record."""

    def __init__(self, path: Path, info: dict[str, Any], resume: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # The --claim-timeout watchdog may write from its own thread while the main one is stuck.
        self._lock = threading.Lock()
        self._f: IO[str] = open(path, "a" if resume else "w", encoding="utf-8")
        self.write({"resumed": {k: info.get(k) for k in RESUMED_KEYS}} if resume else {"run_info": info})

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, default=_default, allow_nan=False, sort_keys=False) + "\n"
        with self._lock:
            self._f.write(line)
            self._f.flush()
            os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()


def read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """run_info and verdict records of a results file (raises ValueError naming a bad line).

    Layout lines ({"layout": ...}) are collected under info["layouts"]; the lines a resumed run
    starts with ({"resumed": ...}) are skipped; records are in file order (the last per key counts).
    """
    info: dict[str, Any] = {}
    layouts = []
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not a JSON object ({e.msg})") from None
            if "run_info" in obj:
                info = obj["run_info"]
            elif "layout" in obj:
                layouts.append(obj["layout"])
            elif "resumed" in obj:
                continue
            else:
                records.append(obj)
    return {**info, "layouts": layouts} if layouts else info, records
