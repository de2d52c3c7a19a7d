"""Environments in version order, and what one (optimizer, claim)'s verdicts say across them: the
versions where the claim holds and those where it does not ("holds 3.5.0–3.15.1; fails 3.3.3–3.4.1").

Columns are ordered by Keras generation, then Keras version, then backend (its name, then its
version: versions of different libraries do not compare), then label, so that a reader sees where
a verdict changed. A version is compared by its release numbers, numerically (3.10 after 3.9), a
pre-release (3.6.0rc1, 3.6.0.dev...) just before its release; a run that does not say its version
comes after those that do. Used by `merge` and the report; standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conformance.records.results_format import Run

_RELEASE = re.compile(r"\d+(?:\.\d+)*")
# A verdict -> what it says of the claim: a declared deviation or an error is still a claim that does not hold.
STATUS = {"pass": "holds", "fail": "fails", "deviation": "fails", "error": "fails", "unsupported": "unsupported"}


def version_key(text: Any) -> tuple:
    """A sort key for a version string: (0, release numbers, 0 for a pre-release else 1, the rest);
    (1, text) for a missing or unparsable one, so that it sorts after every version."""
    m = _RELEASE.match(str(text or "").strip().lstrip("v"))
    if not m:
        return (1, str(text or ""))
    rest = str(text).strip().lstrip("v")[m.end():]
    numbers = tuple(int(x) for x in m.group().split("."))
    while len(numbers) > 1 and numbers[-1] == 0:  # 3.5 and 3.5.0 are one version
        numbers = numbers[:-1]
    # 3.6.0rc1, 3.6.0.dev2024 come before 3.6.0; a local version (2.5.1+cpu) after it
    prerelease = bool(re.match(r"[.-]?(a|b|c|rc|alpha|beta|pre|preview|dev)\d*(?![a-z])", rest, re.I))
    return (0, numbers, 0 if prerelease else 1, rest)


def order_key(info: dict[str, Any], label: str) -> tuple:
    """A column's place: generation, Keras version, backend name and version, label."""
    keras = info.get("keras")
    generation = str(info.get("generation") or f"keras{str(keras or '')[:1]}")
    backend = str(info.get("backend") or "")
    return (version_key(generation.removeprefix("keras")), version_key(keras), backend,
            version_key(info.get(backend)) if backend else (1, ""), label)


def in_order(runs: list[Run]) -> list[Run]:
    """The runs in version order (the file order where everything ties: the sort is stable)."""
    return sorted(runs, key=lambda r: order_key(r.info, r.label))


@dataclass(frozen=True)
class Column:
    """One column as a history names it: by its Keras version, with its label where another column of
    its backend has the same version ("3.15.1 (keras3-gpu)"); by its label where it has no version."""

    keras: str
    label: str
    backend: str = ""
    shared: bool = False  # another column of the same backend has the same Keras version

    @property
    def short(self) -> str:
        if not self.keras:
            return self.label
        return f"{self.keras} ({self.label})" if self.shared else self.keras

    @property
    def long(self) -> str:
        return f"Keras {self.keras} ({self.label})" if self.keras else self.label


def columns(triples: Sequence[tuple[Any, Any, str]]) -> list[Column]:
    """The name of each column, from its (Keras version, backend, label)."""
    keys = [(str(k or ""), str(b or "")) for k, b, _ in triples]
    return [Column(keras, label, backend, bool(keras) and keys.count((keras, backend)) > 1)
            for (keras, backend), (_, _, label) in zip(keys, triples)]


def _range(first: Column, last: Column, long: bool) -> str:
    """A range of consecutive columns: "3.3.3–3.4.1", "3.15.1 (keras3-tf–keras3-gpu)" (one version)."""
    if first is last:
        return first.long if long else first.short
    if long:
        return f"{first.long} – {last.long}"
    if first.shared and last.shared and first.keras == last.keras:
        return f"{first.keras} ({first.label}–{last.label})"
    return f"{first.short}–{last.short}"


@dataclass(frozen=True)
class History:
    """A claim's verdicts across the columns that have one: per backend (versions of one backend form
    a sequence; one backend against another is not a change of version), per status (holds first),
    the ranges of consecutive columns with that status."""

    text: str  # compact: "holds 3.5.0–3.15.1; fails 3.3.3–3.4.1"
    long: str  # every end named with its label
    changes: int  # switches of status between neighbouring columns of one backend
    statuses: int  # how many statuses (holds, fails, unsupported, ...) the columns show
    columns: int  # how many columns have a verdict

    @property
    def differs(self) -> bool:
        return self.statuses > 1


def status(verdict: str) -> str:
    """What a verdict says of the claim (an unknown verdict, from a newer suite, says itself)."""
    return STATUS.get(verdict, verdict)


def _segments(seen: list[tuple[Column, str]]) -> list[tuple[str, list[Column]]]:
    """(status, its consecutive columns), in column order."""
    out: list[tuple[str, list[Column]]] = []
    for column, s in seen:
        if out and out[-1][0] == s:
            out[-1][1].append(column)
        else:
            out.append((s, [column]))
    return out


def _text(segments: list[tuple[str, list[Column]]], attr: str) -> str:
    statuses = [s for s, _ in segments]
    parts = []
    for s in sorted(set(statuses), key=lambda s: (s != "holds", statuses.index(s))):
        parts.append(f"{s} " + ", ".join(_range(cols[0], cols[-1], attr == "long") for x, cols in segments if x == s))
    changes = len(segments) - 1
    return (f"changed {changes} times: " if changes > 1 else "") + "; ".join(parts)


def history(names: Sequence[Column], verdicts: Sequence[str | None]) -> History:
    """The history of one row: verdicts[i] is column i's verdict, None where it has none (the
    optimizer absent, the claim not run): those columns are left out, not counted as changes.
    Several backends: one history each, named by the backend, in the columns' order."""
    seen = [(c, status(v)) for c, v in zip(names, verdicts) if v]
    present = {c.backend for c, _ in seen}
    backends = [b for b in dict.fromkeys(c.backend for c in names) if b in present]  # the same order in every row
    tracks = [_segments([(c, s) for c, s in seen if c.backend == b]) for b in backends]

    def text(attr: str) -> str:
        if len(tracks) == 1:
            return _text(tracks[0], attr)
        return " · ".join(f"{b or '?'}" + (", " if len(t) > 2 else ": ") + _text(t, attr)
                          for b, t in zip(backends, tracks))

    return History(text("short"), text("long"), sum(len(t) - 1 for t in tracks), len({s for _, s in seen}), len(seen))


def summary(overall: History, at_defaults: History, attr: str = "text") -> list[str]:
    """The lines for a row whose verdicts differ across the columns: its history, then its history at
    defaults where that differs and says something else (a stable overall verdict can hide a change
    at defaults: "fails 3.3.3–3.15.1", "at defaults: holds 3.5.0–3.15.1; fails 3.3.3–3.4.1");
    [] for a row whose verdicts do not differ."""
    defaults = at_defaults.differs and at_defaults.text != overall.text
    if not overall.differs and not defaults:
        return []
    return [getattr(overall, attr)] + (["at defaults: " + getattr(at_defaults, attr)] if defaults else [])
