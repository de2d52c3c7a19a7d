"""Known deviations, read from expectations.toml and the files in expectations.d/ beside it (one
per environment family: Keras 2, older Keras 3, other backends, independent implementations), and
the one place that decides whether a failure is one of them (`judge`).

    python -m conformance.expectations [--kind KIND] [--unreported] [PATH]

lists the entries (with `--unreported`: the `bug` entries no upstream issue reports).
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_PATH = Path(__file__).with_name("expectations.toml")
# What a deviation is: against Keras's own docs or an earlier Keras (`bug`), documented behaviour
# that the user's claim gets wrong, intended upstream (`design`), or a property of the backend,
# device or arithmetic (`environment`).
KINDS = ("bug", "documented", "design", "environment")
NONE_FOUND = "none found"
# The condition names an entry may cover (conditions.NAMES, repeated here so that reading the
# expectations needs no Keras).
CONDITIONS = ("defaults", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
              "gradient_accumulation_steps", "learning_rate_schedule", "loss_scale", "float16", "bfloat16", "float64", "drawn")


@dataclass(frozen=True)
class Deviation:
    optimizer: str | tuple[str, ...]
    claim: str | tuple[str, ...]
    reason: str
    kind: str
    keras: str = ""
    backend: str = "*"
    match: str = ""
    link: str = ""
    upstream: str = ""
    conditions: tuple[str, ...] = ()  # the conditions it covers; none: every condition

    def applies(self, optimizer: str, claim: str, keras: str, backend: str, condition: str | None = None) -> bool:
        """Whether it is about this optimizer, claim, environment and condition (None: a record
        without conditions, from a results file of format 1)."""
        return (
            _any_match(optimizer, self.optimizer)
            and _any_match(claim, self.claim)
            and fnmatch.fnmatchcase(backend, self.backend)
            and Version(keras) in SpecifierSet(self.keras)
            and (condition is None or not self.conditions or condition in self.conditions)
        )

    def explains(self, message: str) -> bool:
        return not self.match or re.search(self.match, message) is not None

    def fields(self) -> dict[str, str]:
        """What a verdict record carries of it, so that readers need not load the expectations."""
        return {"reason": self.reason, "link": self.link, "kind": self.kind, "upstream": self.upstream}


def _any_match(name: str, patterns: str | tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in ((patterns,) if isinstance(patterns, str) else patterns))


def load(path: Path = DEFAULT_PATH) -> list[Deviation]:
    """The deviations in `path`, then in every `<stem>.d/*.toml` beside it, in name order;
    ValueError naming the file and entry for any entry that is not well formed."""
    extra = sorted(path.with_name(f"{path.stem}.d").glob("*.toml"))
    return [d for p in [path, *extra] for d in _load_one(p)]


_KEYS = {f.name for f in fields(Deviation)}


def _load_one(path: Path) -> list[Deviation]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    out = []
    for i, entry in enumerate(data.get("deviation", [])):
        where = f"{path}: deviation #{i + 1} ({entry.get('optimizer')!r}, {entry.get('claim')!r})"
        problem = _problem(entry)
        if problem:
            raise ValueError(f"{where}: {problem}")
        entry = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
        out.append(Deviation(**entry))
    return out


def _problem(entry: dict) -> str:
    """What is wrong with one entry, or ""."""
    missing = {"optimizer", "claim", "reason", "kind"} - entry.keys()
    if missing:
        return f"lacks {sorted(missing)}"
    unknown = set(entry) - _KEYS
    if unknown:
        return f"has unknown keys {sorted(unknown)} (known: {sorted(_KEYS)})"
    kind, upstream = entry["kind"], entry.get("upstream", "")
    if kind not in KINDS:
        return f"kind {kind!r} is not one of {', '.join(KINDS)}"
    if kind == "bug" and not (upstream == NONE_FOUND or _is_link(upstream)):
        return f"a bug needs upstream = the link to its upstream issue or pull request, or {NONE_FOUND!r}"
    if kind == "design" and not _is_link(upstream):
        return "a design deviation needs upstream = the link to the thread where maintainers say it is intended"
    if upstream and not (upstream == NONE_FOUND or _is_link(upstream)):
        return f"upstream {upstream!r} is neither an http(s) link nor {NONE_FOUND!r}"
    conditions = entry.get("conditions", [])
    if not isinstance(conditions, list) or not conditions and "conditions" in entry:
        return "conditions must be a non-empty list of condition names"
    bad = [c for c in conditions if c not in CONDITIONS]
    if bad:
        return f"unknown conditions {bad} (known: {', '.join(CONDITIONS)})"
    try:
        SpecifierSet(entry.get("keras", ""))
        re.compile(entry.get("match", ""))
    except (InvalidSpecifier, re.error) as e:
        return f"{type(e).__name__}: {e}"
    return ""


def _is_link(text: str) -> bool:
    return bool(re.match(r"https?://\S+$", text or ""))


def find(deviations: list[Deviation], optimizer: str, claim: str, keras: str, backend: str,
         condition: str | None = None) -> list[Deviation]:
    return [d for d in deviations if d.applies(optimizer, claim, keras, backend, condition)]


def judge(deviations: list[Deviation], optimizer: str, claim: str, keras: str, backend: str,
          condition: str | None, configuration: str | None, message: str) -> Deviation | None:
    """The entry that declares this failure a deviation, or None: one that covers the condition and
    whose `match` (if any) the configuration plus the message contain; an entry naming its cause
    (with `match`) wins over one that does not."""
    context = f"{configuration or ''}\n{message}"
    explained = [d for d in find(deviations, optimizer, claim, keras, backend, condition) if d.explains(context)]
    return max(explained, key=lambda d: bool(d.match)) if explained else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.expectations", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH, help="expectations file (its .d/ files too)")
    parser.add_argument("--kind", choices=KINDS, help="only entries of this kind")
    parser.add_argument("--unreported", action="store_true", help=f"only bugs whose upstream is {NONE_FOUND!r}")
    args = parser.parse_args(argv)
    try:
        entries = load(args.path)
    except (OSError, ValueError) as e:
        print(f"conformance.expectations: {e}", file=sys.stderr)
        return 2
    if args.unreported:
        entries = [d for d in entries if d.kind == "bug" and d.upstream == NONE_FOUND]
    elif args.kind:
        entries = [d for d in entries if d.kind == args.kind]
    for d in entries:
        names = lambda x: ", ".join((x,) if isinstance(x, str) else x)  # noqa: E731
        where = f" [{', '.join(d.conditions)}]" if d.conditions else ""
        print(f"{d.kind:<11} {names(d.claim)}{where} on {names(d.optimizer)} (Keras {d.keras or 'any'}, backend {d.backend})")
        print(f"            upstream: {d.upstream or '-'}")
        print(f"            {d.reason.split('. ')[0][:200]}")
    counts = {k: sum(1 for d in entries if d.kind == k) for k in KINDS}
    print(f"{len(entries)} entries: " + ", ".join(f"{k} {n}" for k, n in counts.items() if n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
