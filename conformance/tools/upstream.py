"""`keras-conformance upstream RESULTS... [-o reports/upstream/]`: a draft bug report, in Markdown, for
each Keras bug the results found that no upstream issue reports yet, ready for a Keras maintainer.
Nothing is posted anywhere.

    keras-conformance upstream reports/keras3-tf.jsonl reports/keras3-jax.jsonl -o reports/upstream/
    keras-conformance upstream reports --bisect reports/bisect/*.json --no-run

A finding is a condition (or a format-1 record) whose verdict is `deviation` of kind `bug` with no
upstream report (`upstream` empty or "none found"). Findings are grouped by the expectations entry
that declared them (its reason identifies it): one draft per entry, titled by the entry's `title`
(else the reason's first sentence), listing every (optimizer, claim, condition) it covers, the
environments where it was found and those of the RESULTS where the same checks passed, what
`--bisect` files (from `keras-conformance bisect`) say of when it began, the shortest reproducer with
its output here (`--no-run`: not run), the claim's source, the entry's link and the docstring
paragraphs of the arguments involved, the failure, and the threads the entry names. OUT/README.md
lists the drafts. Exit status: 0 written, 2 bad usage.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from conformance.records.expectations import NONE_FOUND, ExpectationsError, load_all
from conformance.records.results_format import (
    Parser,
    Run,
    UsageError,
    condition_verdict,
    read_run,
    results_files,
)
from conformance.tools.upstream_draft import (
    LIBRARIES,
    REPRODUCER_TIMEOUT_S,
    Draft,
    Finding,
    documented_arguments,
    keras_in_use,
    markdown,
    run_reproducer,
)

USAGE = "keras-conformance upstream RESULTS... [-o FOLDER] [--bisect FILE...] [--no-run] [--timeout S]"
PASSING = ("pass", "holds")  # a bisect probe's verdict that means the claim held (holds: bisect's word)


def findings(run: Run) -> list[Finding]:
    """The run's unreported Keras bugs: every condition (a format-1 record itself) that is a deviation
    of kind bug whose upstream is empty or "none found"."""
    out = []
    for (optimizer, claim), record in sorted(run.records.items()):
        conditions = record.get("conditions")
        by_condition = conditions.items() if isinstance(conditions, dict) and conditions else [(None, record)]
        for name, fields in by_condition:
            if (
                isinstance(fields, dict)
                and fields.get("verdict") == "deviation"
                and fields.get("kind") == "bug"
                and fields.get("upstream", "") in ("", NONE_FOUND)
            ):
                out.append(Finding(run, optimizer, claim, name, fields, record))
    return out


def entry_reason(fields: dict[str, Any]) -> str:
    """The reason of the expectations entry behind a finding (an inherited entry's without its prefix)."""
    reason = str(fields.get("reason") or "(no reason recorded)")
    return re.sub(r"^inherited from [^:]+: ", "", reason) if fields.get("inherited_from") else reason


def fallback_title(reason: str, limit: int = 100) -> str:
    """The reason's first sentence, cut at a word within `limit` characters."""
    first = re.split(r"(?<=[^.\s]{2})\. ", reason, maxsplit=1)[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def titles() -> dict[str, str]:
    """Each built-in expectations entry's title by its reason (a results file carries no title)."""
    try:
        return {d.reason: d.title for d in load_all() if d.title}
    except ExpectationsError as e:  # the drafts still come, with the reasons' first sentences as titles
        print(f"warning: the expectations files cannot be read, titles from the reasons: {e.problems[0]}",
              file=sys.stderr)
        return {}


def environment(run: Run) -> str:
    """One run's environment, on one line."""
    i = run.info
    versions = [f"{name} {i[k]}" for k, name in LIBRARIES.items() if isinstance(i.get(k), str)]
    devices = ", ".join(map(str, i.get("devices") or [])) or "?"
    return (f"Keras {i.get('keras', '?')}, backend {i.get('backend', '?')}, {', '.join(versions)}; "
            f"{i.get('platform', '?')}, devices {devices} (environment `{run.label}`, `{run.path}`)")


def group(found: list[Finding]) -> list[Draft]:
    """One draft per expectations entry, in title order; entries that share a title are one bug seen
    by several claims, and share a draft."""
    known = titles()
    drafts: dict[str, Draft] = {}
    for f in found:
        reason = entry_reason(f.fields)
        drafts.setdefault(known.get(reason) or fallback_title(reason), Draft("")).findings.append(f)
    for title, d in drafts.items():
        # the entry that covers the most (optimizer, claim) pairs describes the bug first
        count = Counter(r for r, _, _ in {(entry_reason(f.fields), f.optimizer, f.claim) for f in d.findings})
        d.title, d.reasons = title, sorted(count, key=lambda r: -count[r])
    return sorted(drafts.values(), key=lambda d: d.title.lower())


def environments(draft: Draft, runs: list[Run]) -> None:
    """Where the draft's findings were found, and the runs where none was but its checks passed."""
    for run in runs:
        mine = [f for f in draft.findings if f.run is run]
        if mine:
            draft.found_in.append(f"{environment(run)}: {len(mine)} of the checks listed under *Affected*")
            continue
        checks = {(f.optimizer, f.claim, f.condition) for f in draft.findings}
        passed = [c for c in checks if c[:2] in run.records and _verdict(run.records[c[:2]], c[2]) == "pass"]
        if passed:
            draft.passed_in.append(f"{environment(run)}: {len(passed)} of the {len(checks)} checks passed")


def _verdict(record: dict[str, Any], condition: str | None) -> str:
    return str(record.get("verdict")) if condition is None else condition_verdict(record, condition)


def read_bisect(path: Path) -> dict[str, Any]:
    """A `keras-conformance bisect` JSON file; only claim and optimizer are required (the rest is read
    where present)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"--bisect {path}: cannot read ({e.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UsageError(f"--bisect {path}: not JSON (a file `keras-conformance bisect` writes)") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("claim", "optimizer")):
        raise UsageError(f"--bisect {path}: not a bisect result (no claim and optimizer)")
    return data


def bisect_line(b: dict[str, Any]) -> str:
    """What a bisection says of when the behaviour began: 'holds since Keras X (bisected: last pass Y)'."""
    what = f"`{b['claim']}` for `{b['optimizer']}`" + (f" [{b['condition']}]" if b.get("condition") else "")
    where = what + (f" on {b['backend']}" if b.get("backend") else "")
    where += f", Keras {b['range']}" if b.get("range") else ""
    first = b.get("first_differing")
    probes = [p for p in b.get("probes") or [] if isinstance(p, dict) and _version(p.get("keras"))]
    if not first or not _version(first):
        return f"Bisected ({where}): the verdict did not change over the releases probed"
    at_first = next((p.get("verdict") for p in probes if p.get("keras") == first), None)
    before = [p for p in probes if _version(p["keras"]) < _version(first)]
    if at_first in PASSING:  # fixed at `first`: the run's environment is older
        failing = [p["keras"] for p in before if p.get("verdict") not in PASSING]
        return f"Passes from Keras {first} (bisected: last failing {failing[-1] if failing else '?'}; {where})"
    passing = sorted((p["keras"] for p in before if p.get("verdict") in PASSING), key=_version)
    return f"Holds since Keras {first} (bisected: last pass {passing[-1] if passing else 'none probed'}; {where})"


def _version(text: object) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def slug(title: str, taken: set[str]) -> str:
    """A file name for a title, unique among `taken` (which it joins)."""
    words = re.sub(r"[^a-z0-9]+", " ", title.lower()).split() or ["draft"]
    while len(words) > 1 and len("-".join(words)) > 64:  # whole words, short enough to read in a listing
        words.pop()
    base = "-".join(words)
    name, n = f"{base}.md", 1
    while name in taken or name == "README.md":
        n += 1
        name = f"{base}-{n}.md"
    taken.add(name)
    return name


def index(drafts: list[Draft], files: list[Path]) -> str:
    """OUT/README.md: every draft's title and file."""
    lines = ["# Draft upstream bug reports", "",
             f"Written by `keras-conformance upstream` from {', '.join(f'`{p}`' for p in files)}: one draft per "
             "Keras bug the results found that no upstream issue reports yet. Nothing was posted; review each "
             "before filing it.", ""]
    if not drafts:
        return "\n".join([*lines, "No unreported Keras bug in these results.", ""])
    lines += ["| draft | claims |", "| --- | --- |"]
    for d in drafts:
        claims = sorted({f.claim for f in d.findings})
        shown = ", ".join(f"`{c}`" for c in claims[:4]) + (f" and {len(claims) - 4} more" if len(claims) > 4 else "")
        lines.append(f"| [{d.title.replace('|', '/')}]({d.file}) | {shown} |")
    return "\n".join([*lines, ""])


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="keras-conformance upstream", usage=USAGE, description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="*", type=Path, help="results files, or directories of them")
    parser.add_argument("-o", "--out", type=Path, default=Path("reports/upstream"),
                        help="the folder of drafts (default %(default)s)")
    parser.add_argument("--bisect", nargs="+", type=Path, default=[], metavar="FILE",
                        help="JSON files written by keras-conformance bisect")
    parser.add_argument("--no-run", dest="run", action="store_false", help="do not run the reproducers")
    parser.add_argument("--timeout", type=float, default=REPRODUCER_TIMEOUT_S, metavar="S",
                        help="seconds each reproducer may run (default %(default)s)")
    try:
        args = parser.parse_args(argv)
        if not args.results:
            raise UsageError("no results files given")
        if args.out.exists() and not args.out.is_dir():
            raise UsageError(f"{args.out}: is a file, not a folder for the drafts")
        files = results_files(args.results)
        runs = []
        for path in files:
            run = read_run(path, warn=False)
            if run is None:
                raise UsageError(f"{path}: not a results file (no run_info line)")
            runs.append(run)
        bisects = [read_bisect(p) for p in args.bisect]
        drafts = group([f for run in runs for f in findings(run)])
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"{args.out}: cannot create the folder ({e.strerror})") from None
    except UsageError as e:
        print(f"keras-conformance upstream: {e} (usage: {USAGE})", file=sys.stderr)
        return 2
    for run in runs:
        for note in run.notes:
            print(f"warning: {run.path}: {note}", file=sys.stderr)
    try:
        write(drafts, runs, bisects, args.out, args.timeout if args.run else None)
        (args.out / "README.md").write_text(index(drafts, files), encoding="utf-8")
    except OSError as e:
        print(f"keras-conformance upstream: {e.filename}: cannot write ({e.strerror})", file=sys.stderr)
        return 2
    print(f"index: {args.out / 'README.md'}")
    return 0


def write(drafts: list[Draft], runs: list[Run], bisects: list[dict[str, Any]], out: Path,
          timeout: float | None) -> None:
    """Each draft into `out`, its reproducer run first (timeout None: not run), its title printed."""
    keras = keras_in_use() if timeout is not None and drafts else None
    taken: set[str] = set()
    print(f"{len(drafts)} draft(s) in {out}/:", flush=True)
    for d in drafts:
        environments(d, runs)
        d.bisected = [bisect_line(b) for b in bisects
                      if any((f.claim, f.optimizer) == (b["claim"], b["optimizer"]) for f in d.findings)]
        f = d.example()
        code = str(f.fields.get("reproducer") or "")
        ran = run_reproducer(code, timeout) if timeout is not None and code else None
        mentioned = "\n".join([*d.reasons, str(f.fields.get("message", ""))])
        documented = documented_arguments(f.optimizer, str(f.fields.get("configuration") or ""), mentioned)
        d.file = slug(d.title, taken)
        (out / d.file).write_text(markdown(d, ran, keras, documented), encoding="utf-8")
        print(f"  {d.file}: {d.title}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
