"""Known deviations, read from expectations.toml and the files in expectations.d/ beside it (one
per environment family: Keras 2, older Keras 3, other backends, independent implementations)."""

from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_PATH = Path(__file__).with_name("expectations.toml")


@dataclass(frozen=True)
class Deviation:
    optimizer: str | tuple[str, ...]
    claim: str | tuple[str, ...]
    reason: str
    keras: str = ""
    backend: str = "*"
    match: str = ""
    link: str = ""

    def applies(self, optimizer: str, claim: str, keras: str, backend: str) -> bool:
        return (
            _any_match(optimizer, self.optimizer)
            and _any_match(claim, self.claim)
            and fnmatch.fnmatchcase(backend, self.backend)
            and Version(keras) in SpecifierSet(self.keras)
        )

    def explains(self, message: str) -> bool:
        return not self.match or re.search(self.match, message) is not None


def _any_match(name: str, patterns: str | tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in ((patterns,) if isinstance(patterns, str) else patterns))


def load(path: Path = DEFAULT_PATH) -> list[Deviation]:
    """The deviations in `path`, then in every `<stem>.d/*.toml` beside it, in name order."""
    extra = sorted(path.with_name(f"{path.stem}.d").glob("*.toml"))
    return [d for p in [path, *extra] for d in _load_one(p)]


def _load_one(path: Path) -> list[Deviation]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    out = []
    for i, entry in enumerate(data.get("deviation", [])):
        missing = {"optimizer", "claim", "reason"} - entry.keys()
        if missing:
            raise ValueError(f"{path}: deviation #{i + 1} lacks {sorted(missing)}")
        entry = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
        out.append(Deviation(**entry))
    return out


def find(deviations: list[Deviation], optimizer: str, claim: str, keras: str, backend: str) -> list[Deviation]:
    return [d for d in deviations if d.applies(optimizer, claim, keras, backend)]
