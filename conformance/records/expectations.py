"""Known deviations, read from expectations.toml and the files in expectations.d/ beside it (one
per environment family: Keras 2, older Keras 3, other backends, independent implementations), plus
any file a user adds, and the one place that decides whether a failure is one of them (`judge`).

Every file is checked completely when it is loaded (`load_all`, `load`): tables, keys, types,
kinds, conditions, version specifiers and regular expressions, so that nothing can go wrong later,
when a failure is judged. All the problems found are raised together as one ExpectationsError, a
line each, every line naming its file and entry.

    python -m conformance.records.expectations [--kind KIND] [--unreported] [--no-builtin-expectations] [FILE ...]

lists the entries of the built-in files plus FILEs (with `--unreported`: the `bug` entries no
upstream issue reports); exit status 2, with the problems, if a file is not valid.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import fnmatch
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_PATH = Path(__file__).parent.parent / "expectations.toml"
# The only table an expectations file may hold: an array of them, [[deviation]].
TABLE = "deviation"
# What a deviation is: against Keras's own docs or an earlier Keras (`bug`), documented behaviour
# that the user's claim gets wrong, intended upstream (`design`), or a property of the backend,
# device or arithmetic (`environment`).
KINDS = ("bug", "documented", "design", "environment")
NONE_FOUND = "none found"
# The condition names an entry may cover (conditions.NAMES, repeated here so that reading the
# expectations needs no Keras).
CONDITIONS = (
    "defaults", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "gradient_accumulation_steps",
    "learning_rate_schedule", "loss_scale", "float16", "bfloat16", "float64", "drawn",
)
# The backends Keras names (keras.config.backend()): an entry's `backend` pattern must match one.
BACKENDS = ("tensorflow", "jax", "torch", "numpy", "openvino")
REQUIRED = ("optimizer", "claim", "reason", "kind")


class ExpectationsError(ValueError):
    """Expectations files that are not valid: `problems` holds one standalone line per problem,
    each naming its file (and entry), and str() is those lines joined by newlines."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


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
    title: str = ""  # a bug report's title for it (`keras-conformance upstream`); not carried by verdicts
    # The Keras releases its behaviour was measured on (the matrix's, and the probes of
    # `keras-conformance bisect`), so that its `keras` range says what it rests on.
    measured_on: tuple[str, ...] = ()
    # Not a key of the files: set by `find` on the copy of an entry that applies to the judged
    # optimizer through one of its parents (the parent's name).
    inherited_from: str = ""

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
        """What a verdict record carries of it, so that readers need not load the expectations
        (`inherited_from` only for an entry inherited from a parent)."""
        out = {"reason": self.reason, "link": self.link, "kind": self.kind, "upstream": self.upstream}
        if self.inherited_from:
            out["inherited_from"] = self.inherited_from
        return out

    def inherited(self, parent: str) -> Deviation:
        """This entry as it applies to a subclass (or factory) of `parent`."""
        return dataclasses.replace(self, reason=f"inherited from {parent}: {self.reason}", inherited_from=parent)


def _any_match(name: str, patterns: str | tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in ((patterns,) if isinstance(patterns, str) else patterns))


def builtin_paths() -> list[Path]:
    """The built-in files: expectations.toml, then expectations.d/*.toml in name order."""
    return [DEFAULT_PATH, *sorted(DEFAULT_PATH.with_name(f"{DEFAULT_PATH.stem}.d").glob("*.toml"))]


def load_all(extra: Sequence[Path] = (), builtin: bool = True) -> list[Deviation]:
    """The deviations of the built-in files (unless `builtin` is False), then of every file in
    `extra`, in that order (a file named twice is read once). ExpectationsError, listing every
    problem of every file, if one cannot be read or is not valid."""
    paths = [*(builtin_paths() if builtin else []), *map(Path, extra)]
    return _load_files(paths)


def load(path: Path = DEFAULT_PATH) -> list[Deviation]:
    """The deviations in `path`, then in every `<stem>.d/*.toml` beside it, in name order;
    ExpectationsError as for `load_all`."""
    path = Path(path)
    return _load_files([path, *sorted(path.with_name(f"{path.stem}.d").glob("*.toml"))])


_KEYS = {f.name for f in fields(Deviation)} - {"inherited_from"}


def _load_files(paths: Sequence[Path]) -> list[Deviation]:
    out: list[Deviation] = []
    problems: list[str] = []
    seen: set[Path] = set()
    for path in paths:
        key = path.resolve() if path.exists() else path
        if key in seen:
            continue
        seen.add(key)
        found, wrong = _load_one(path)
        out += found
        problems += wrong
    if problems:
        raise ExpectationsError(problems)
    return out


def _load_one(path: Path) -> tuple[list[Deviation], list[str]]:
    """The deviations of one file, and its problems (one line each)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        return [], [f"{path}: cannot read the expectations file ({e.strerror or type(e).__name__})"]
    except tomllib.TOMLDecodeError as e:
        return [], [f"{path}: not valid TOML: {_one_line(str(e))}"]
    except UnicodeDecodeError as e:
        return [], [f"{path}: not UTF-8 text ({_one_line(str(e))})"]
    problems = [f"{path}: {p}" for p in _top_level_problems(data)]
    entries = data.get(TABLE, [])
    if not isinstance(entries, list):
        return [], [*problems, f"{path}: [{TABLE}] must be an array of tables: write [[{TABLE}]] before each entry"]
    out = []
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            problems.append(f"{path}: entry {i}: not a table but {_show(entry)}: write [[{TABLE}]] before each entry")
            continue
        where = f"{path}: entry {i} ({_label(entry.get('optimizer'))} / {_label(entry.get('claim'))})"
        wrong = _problems(entry)
        problems += [f"{where}: {p}" for p in wrong]
        if not wrong:
            out.append(Deviation(**{k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}))
    return out, problems


def _top_level_problems(data: dict[str, Any]) -> list[str]:
    out = []
    for key, value in data.items():
        if key == TABLE:
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            what = f"unknown table [[{key}]]"
        elif isinstance(value, dict):
            what = f"unknown table [{key}]"
        else:
            what = f"unknown top-level key {key!r}"
        out.append(f"{what}{_did_you_mean(key, [TABLE])} (an expectations file holds only [[{TABLE}]] entries)")
    return out


def _problems(entry: dict[str, Any]) -> list[str]:
    """What is wrong with one entry, a line each; [] if nothing."""
    out = []
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        out.append(f"lacks {sorted(missing)} (required: {', '.join(REQUIRED)})")
    for key in sorted(set(entry) - _KEYS):
        out.append(f"has unknown key {key!r}{_did_you_mean(key, _KEYS)} (known: {', '.join(sorted(_KEYS))})")
    ok = {k: v for k, v in entry.items() if k in _KEYS}  # the keys whose type is right, below
    for key in ("optimizer", "claim"):
        v = entry.get(key)
        if key in entry and not (_is_pattern(v) or isinstance(v, list) and v and all(map(_is_pattern, v))):
            out.append(f"{key}: must be a non-empty name pattern or a non-empty list of them, not {_show(v)}")
            ok.pop(key)
    for key in ("reason", "kind", "keras", "backend", "match", "link", "upstream", "title"):
        if key in entry and not isinstance(entry[key], str):
            out.append(f"{key}: must be a string, not {_show(entry[key])}")
            ok.pop(key)
    if isinstance(ok.get("reason"), str) and not ok["reason"].strip():
        out.append("reason: must not be empty")
    if "title" in ok and (not ok["title"].strip() or "\n" in ok["title"]):
        out.append(f"title: must be one non-empty line, not {_show(ok['title'])}")
    kind, upstream = ok.get("kind"), ok.get("upstream", "")
    if kind is not None and kind not in KINDS:
        out.append(f"kind {kind!r} is not one of {', '.join(KINDS)}{_did_you_mean(kind, KINDS)}")
    if "upstream" in ok or "upstream" not in entry:
        if kind == "bug" and not (upstream == NONE_FOUND or _is_link(upstream)):
            out.append(
                f"upstream: a bug needs upstream = the link to its upstream issue or pull request, or {NONE_FOUND!r}"
            )
        elif kind == "design" and not _is_link(upstream):
            out.append(
                "upstream: a design deviation needs upstream = the link to the thread "
                "where maintainers say it is intended"
            )
        elif upstream and not (upstream == NONE_FOUND or _is_link(upstream)):
            out.append(f"upstream: {upstream!r} is neither an http(s) link nor {NONE_FOUND!r}")
    if ok.get("link") and not _is_link(ok["link"]):
        out.append(f"link: {ok['link']!r} is not an http(s) link")
    if "conditions" in entry:
        conditions = entry["conditions"]
        if not isinstance(conditions, list) or not conditions or not all(isinstance(c, str) for c in conditions):
            out.append(f"conditions must be a non-empty list of condition names, not {_show(conditions)}")
        else:
            bad = [c for c in conditions if c not in CONDITIONS]
            if bad:
                hint = "".join(_did_you_mean(c, CONDITIONS) for c in bad[:1])
                out.append(f"unknown conditions {bad}{hint} (known: {', '.join(CONDITIONS)})")
    if "measured_on" in entry:
        measured = entry["measured_on"]
        if not isinstance(measured, list) or not measured or not all(isinstance(v, str) for v in measured):
            out.append(f"measured_on must be a non-empty list of Keras releases, not {_show(measured)}")
        else:
            bad = [v for v in measured if not _parses(Version, v)]
            if bad:
                out.append(f"measured_on: {bad} are not Keras releases (e.g. \"3.5.0\")")
            elif "keras" in ok and _parses(SpecifierSet, ok["keras"]):
                outside = [v for v in measured if Version(v) not in SpecifierSet(ok["keras"])]
                if outside:
                    out.append(f"measured_on: {outside} lie outside keras {ok['keras']!r}, the range it was seen in")
    if "keras" in ok:
        try:
            SpecifierSet(ok["keras"])
        except InvalidSpecifier:
            out.append(
                f'keras: bad version specifier {ok["keras"]!r} (PEP 440, e.g. ">=3.0,<3.10"; "" for any version)'
            )
    if "backend" in ok and not any(fnmatch.fnmatchcase(b, ok["backend"]) for b in BACKENDS):
        out.append(
            f"backend: {ok['backend']!r} matches no Keras backend ({', '.join(BACKENDS)})"
            f"{_did_you_mean(ok['backend'], BACKENDS)}"
        )
    if "match" in ok:
        try:
            re.compile(ok["match"])
        except re.error as e:
            out.append(f"match: bad regular expression {ok['match']!r}: {_one_line(str(e))}")
    return out


def _is_pattern(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _label(names: object) -> str:
    """An entry's optimizer or claim, short, for a problem's line."""
    if isinstance(names, str):
        return names
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:2])}, ... ({len(names)} names)"
    return "?"


def _show(value: object) -> str:
    text = f"{type(value).__name__} {value!r}"
    return text if len(text) <= 80 else text[:77] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _did_you_mean(word: str, known: Sequence[str] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _parses(parse: Any, text: str) -> bool:
    """Whether packaging's `parse` (Version, SpecifierSet) takes `text`."""
    try:
        parse(text)
    except (InvalidVersion, InvalidSpecifier):
        return False
    return True


def _is_link(text: str) -> bool:
    return bool(re.match(r"https?://\S+$", text or ""))


def find(
    deviations: Sequence[Deviation],
    optimizer: str,
    claim: str,
    keras: str,
    backend: str,
    condition: str | None = None,
    *,
    parents: Sequence[str] = (),
) -> list[Deviation]:
    """The entries about this optimizer, claim, environment and condition. `parents`: the built-in
    optimizers (or abstract bases) the optimizer inherits from, nearest first; an entry about none
    of the optimizer's own name but about a parent's applies as `inherited` from the nearest such
    parent (its reason says so)."""
    out = []
    for d in deviations:
        if d.applies(optimizer, claim, keras, backend, condition):
            out.append(d)
            continue
        parent = next((p for p in parents if d.applies(p, claim, keras, backend, condition)), None)
        if parent is not None:
            out.append(d.inherited(parent))
    return out


def judge(deviations: Sequence[Deviation], optimizer: str, claim: str, keras: str, backend: str,
          condition: str | None, configuration: str | None, message: str, *,
          parents: Sequence[str] = ()) -> Deviation | None:
    """The entry that declares this failure a deviation, or None: one that covers the condition and
    whose `match` (if any) the configuration plus the message contain. An entry about the
    optimizer's own name wins over one inherited from a parent (`parents`, see `find`), a nearer
    parent's over a farther one's, then an entry naming its cause (with `match`) over one that
    does not, then the first in file order."""
    context = f"{configuration or ''}\n{message}"
    explained = [
        d for d in find(deviations, optimizer, claim, keras, backend, condition, parents=parents) if d.explains(context)
    ]

    def rank(d: Deviation) -> tuple[int, int]:
        return (-(list(parents).index(d.inherited_from) + 1) if d.inherited_from else 0, bool(d.match))

    return max(explained, key=rank) if explained else None


# The fields a deviation adds to a verdict (Deviation.fields), emptied where a verdict is no deviation.
DEVIATION_FIELDS = ("reason", "link", "kind", "upstream")


def decide(deviations: Sequence[Deviation], optimizer: str, claim: str, keras: str, backend: str,
           condition: str | None, configuration: str | None, message: str, *,
           parents: Sequence[str] = ()) -> dict[str, str]:
    """A failed check's verdict fields: `deviation`, expected to fail, with the entry's reason,
    link, kind and upstream where an entry declares it (`judge`), else `fail`, expected to pass.
    The one place that turns a failure into a deviation: the run and `merge --rejudge` both ask it."""
    found = judge(deviations, optimizer, claim, keras, backend, condition, configuration, message, parents=parents)
    if found is None:
        return {"verdict": "fail", "expected": "pass"}
    return {"verdict": "deviation", "expected": "fail", **found.fields()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.records.expectations", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="expectations file to list besides the built-in ones (as the plugin's --expectations)",
    )
    parser.add_argument(
        "--no-builtin-expectations",
        dest="builtin",
        action="store_false",
        help="only the FILEs given, not the built-in files",
    )
    parser.add_argument("--kind", choices=KINDS, help="only entries of this kind")
    parser.add_argument("--unreported", action="store_true", help=f"only bugs whose upstream is {NONE_FOUND!r}")
    args = parser.parse_args(argv)
    try:
        entries = load_all(args.paths, builtin=args.builtin)
    except ExpectationsError as e:
        for line in e.problems:
            print(f"conformance.records.expectations: {line}", file=sys.stderr)
        return 2
    if args.unreported:
        entries = [d for d in entries if d.kind == "bug" and d.upstream == NONE_FOUND]
    elif args.kind:
        entries = [d for d in entries if d.kind == args.kind]
    for d in entries:
        names = lambda x: ", ".join((x,) if isinstance(x, str) else x)  # noqa: E731
        where = f" [{', '.join(d.conditions)}]" if d.conditions else ""
        print(
            f"{d.kind:<11} {names(d.claim)}{where} on {names(d.optimizer)} "
            f"(Keras {d.keras or 'any'}, backend {d.backend})"
        )
        print(f"            upstream: {d.upstream or '-'}")
        print(f"            {d.reason.split('. ')[0][:200]}")
    counts = {k: sum(1 for d in entries if d.kind == k) for k in KINDS}
    print(f"{len(entries)} entries: " + ", ".join(f"{k} {n}" for k, n in counts.items() if n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
