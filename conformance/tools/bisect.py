"""`keras-conformance bisect CLAIM OPTIMIZER --keras FIRST..LAST`: the first Keras release whose
verdict for one claim differs from FIRST's, per condition.

    keras-conformance bisect variables.subset_after_build Adam --keras 3.3.3..3.15.1
    keras-conformance bisect zero_grad.weights_unchanged Lion --keras 3.5.0..3.15.1 --condition weight_decay

Each probed release runs in a cached virtual environment (tools/venvs.py: that Keras, the newest
backend release compatible with it, the suite's test tools) the one test `[CLAIM-OPTIMIZER]` with
the `ci` profile (derandomized: the same examples in every release). A verdict is read as an
outcome: `holds` (pass), `fails` (fail or deviation: whether a failure is declared is the
expectations' business, not the behaviour's), `unsupported`, `error`, `absent` (no such test in
that release: the optimizer or the claim's API is not there) or `uninstallable`.

The two ends are probed first; each condition whose outcome differs between them (and the
record's overall verdict) is bisected, the probes shared between conditions. A release that cannot
be installed is skipped for its neighbour. Bisection finds one change: a change and its revert
between two probes are not seen (`--all` probes every release).

Writes OUT (default reports/bisect/CLAIM--OPTIMIZER.json) and each probe's results file beside it
(OUT without .json / keras-VERSION.jsonl, a column for `merge` and the report), and prints each
probe with its time and the bisection's total.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from packaging.version import InvalidVersion, Version

from conformance.records.results_format import Parser, UsageError, read_run
from conformance.tools import venvs

OVERALL = "verdict"  # the record's own verdict (its conditions' worst), bisected beside each condition
PROBE_TIMEOUT_S = 3600
_OUTCOMES = {"pass": "holds", "fail": "fails", "deviation": "fails", "unsupported": "unsupported", "error": "error"}
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent  # the folder that holds `conformance`


@dataclass
class Probe:
    keras: str
    outcomes: dict[str, str]  # condition (and OVERALL) -> outcome
    seconds: float  # install (when not cached) and run
    environment: dict[str, str] = field(default_factory=dict)
    message: str = ""

    def outcome(self, condition: str) -> str:
        if "uninstallable" in self.outcomes.values() or "absent" in self.outcomes.values():
            return next(iter(self.outcomes.values()))
        return self.outcomes.get(condition, "not checked")


def parse_range(text: str) -> tuple[Version, Version]:
    first, sep, last = text.partition("..")
    try:
        lo, hi = Version(first), Version(last)
    except InvalidVersion:
        raise UsageError(f"--keras {text!r}: give FIRST..LAST, two releases such as 3.3.3..3.15.1") from None
    if not sep or lo >= hi:
        raise UsageError(f"--keras {text!r}: give FIRST..LAST with FIRST before LAST")
    if lo.major < 3:
        raise UsageError(f"--keras {text!r}: Keras 2 comes with TensorFlow; bisect Keras 3 releases (3.0.0 on)")
    return lo, hi


def available(python: str = sys.executable) -> list[Version]:
    """Every final Keras release the package index offers (pip index versions keras)."""
    done = subprocess.run([python, "-m", "pip", "index", "versions", "keras", "--disable-pip-version-check"],
                          capture_output=True, text=True)
    found = re.search(r"Available versions:\s*(.+)", done.stdout)
    if not found:
        raise UsageError(f"could not list Keras releases (pip index versions keras): {done.stderr.strip()[-300:]}")
    out = []
    for v in found[1].split(","):
        try:
            version = Version(v.strip())
        except InvalidVersion:
            continue
        if not (version.is_prerelease or version.is_devrelease):
            out.append(version)
    return sorted(set(out))


def in_range(versions: list[Version], lo: Version, hi: Version) -> list[str]:
    chosen = [str(v) for v in versions if lo <= v <= hi]
    for end in (lo, hi):
        if str(end) not in chosen:
            raise UsageError(f"Keras {end} is not among the releases: {', '.join(str(v) for v in versions[-12:])} ...")
    return chosen


def outcomes_of(record: dict[str, Any] | None) -> dict[str, str]:
    """Outcome per condition, and OVERALL, of one verdict record (None: the test was not collected)."""
    if record is None:
        return {OVERALL: "absent"}
    out = {OVERALL: _OUTCOMES.get(record["verdict"], record["verdict"])}
    for name, cell in (record.get("conditions") or {}).items():
        if isinstance(cell, dict) and "verdict" in cell:
            out[name] = _OUTCOMES.get(cell["verdict"], cell["verdict"])
    return out


def run_probe(claim: str, optimizer: str, keras: str, backend: str, cache: Path, folder: Path,
              constraints: Path | None) -> Probe:
    """Install (or reuse) Keras `keras` and run the one test there."""
    start = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"keras-{keras}.log", "w", encoding="utf-8") as log:
        try:
            env = venvs.ensure(backend, keras, cache, constraints, log)
        except venvs.InstallFailed as e:
            return Probe(keras, {OVERALL: "uninstallable"}, time.monotonic() - start, message=str(e))
        results = folder / f"keras-{keras}.jsonl"
        results.unlink(missing_ok=True)
        # Only the plugins named: an environment that has the suite installed too would register it twice.
        command = [str(env.python), "-m", "pytest", "-p", "_hypothesis_pytestplugin",
                   "-p", "conformance.harness.pytest_plugin", "--pyargs", "conformance",
                   "-q", "-p", "no:cacheprovider", "--hypothesis-profile=ci", "-k", f"[{claim}-{optimizer}]",
                   "--results", str(results.resolve()), "--no-report"]
        environ = dict(os.environ, PYTHONPATH=str(_PACKAGE_ROOT), KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
                       PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        environ["CONFORMANCE_ENV"] = f"{backend}-keras{keras}"  # the column's label in merge and the report
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=environ, cwd=folder,
                                  timeout=PROBE_TIMEOUT_S)
            output, code = done.stdout + done.stderr, done.returncode
        except subprocess.TimeoutExpired as e:
            output, code = f"{e.stdout or ''}{e.stderr or ''}\n(timed out after {PROBE_TIMEOUT_S} s)", -1
        log.write(f"+ {' '.join(command)}\n{output}")
    run = read_run(results, warn=False) if results.is_file() else None
    record = run.records.get((optimizer, claim)) if run else None
    if run is None and code == 5:  # pytest selected nothing: this release has no such optimizer or claim
        outcomes, message = {OVERALL: "absent"}, f"no test [{claim}-{optimizer}] in this release"
    elif run is None:  # the run never started writing: a harness or environment error, with its output
        outcomes, message = {OVERALL: "error"}, "\n".join(output.strip().splitlines()[-8:])
    else:
        outcomes, message = outcomes_of(record), (record or {}).get("message", "")
    keep = ("keras", "tensorflow-cpu", "tensorflow", "jax", "jaxlib", "torch", "numpy")
    environment = {k: v for k, v in env.installed.items() if k in keep}
    if code not in (0, 1) and run is not None and record is None:  # pytest itself failed: say how
        message = "\n".join(output.strip().splitlines()[-8:])
    return Probe(keras, outcomes, time.monotonic() - start, environment, message[:2000])


def bisect(versions: list[str], probe: Callable[[str], Probe], every: bool = False) -> dict[str, Any]:
    """Probe the ends (or `every` release), then bisect each condition whose outcome differs."""
    done: dict[str, Probe] = {}

    def get(i: int) -> Probe:
        if versions[i] not in done:
            done[versions[i]] = probe(versions[i])
        return done[versions[i]]

    indices = range(len(versions)) if every else (0, len(versions) - 1)
    for i in indices:
        get(i)
    first, last = get(0), get(len(versions) - 1)
    names = sorted(set(first.outcomes) | set(last.outcomes), key=lambda n: (n != OVERALL, n))
    changes: dict[str, dict[str, Any]] = {}
    for name in names:
        changes[name] = _change(versions, get, name, done if every else None)
    return {"probes": [done[v] for v in versions if v in done], "changes": changes}


def _change(versions: list[str], get: Callable[[int], Probe], name: str,
            every: dict[str, Probe] | None) -> dict[str, Any]:
    start = get(0).outcome(name)
    if every is not None:  # the first release whose outcome differs from the first's, all probed
        for i, v in enumerate(versions):
            if every[v].outcome(name) not in (start, "uninstallable"):
                return {"from": start, "to": every[v].outcome(name), "last_same": _last_same(versions, every, i),
                        "first_differing": v}
        return {"from": start, "to": start, "last_same": None, "first_differing": None}
    end = get(len(versions) - 1).outcome(name)
    if end == start:
        return {"from": start, "to": end, "last_same": None, "first_differing": None}
    lo, hi = 0, len(versions) - 1
    while hi - lo > 1:
        mid = _installable_between(versions, get, lo, hi)
        if mid is None:
            break  # every release between lo and hi was skipped: the change lies somewhere in there
        if get(mid).outcome(name) == start:
            lo = mid
        else:
            hi = mid
    return {"from": start, "to": get(hi).outcome(name), "last_same": versions[lo], "first_differing": versions[hi]}


def _last_same(versions: list[str], probes: dict[str, Probe], i: int) -> str | None:
    for v in reversed(versions[:i]):
        if probes[v].outcome(OVERALL) != "uninstallable":
            return v
    return None


def _installable_between(versions: list[str], get: Callable[[int], Probe], lo: int, hi: int) -> int | None:
    """The middle release between lo and hi, or its nearest neighbour that installs."""
    mid = (lo + hi) // 2
    for offset in range(hi - lo):
        for i in (mid + offset, mid - offset):
            if lo < i < hi and get(i).outcome(OVERALL) != "uninstallable":
                return i
    return None


def _line(probe: Probe, names: list[str]) -> str:
    backend = ", ".join(f"{k} {v}" for k, v in probe.environment.items() if k != "keras")
    cells = "  ".join(f"{n} {probe.outcome(n)}" for n in names)
    return f"keras {probe.keras:8s} {cells}   ({probe.seconds:.0f} s{'; ' + backend if backend else ''})"


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="keras-conformance bisect", description=__doc__.split("\n\n")[0])
    parser.add_argument("claim")
    parser.add_argument("optimizer")
    parser.add_argument("--keras", required=True, metavar="FIRST..LAST")
    parser.add_argument("--backend", default="tensorflow", choices=sorted(venvs.BACKEND_PACKAGES))
    parser.add_argument("--condition", default=None, help="report this condition's change first (all are bisected)")
    parser.add_argument("--versions", default=None, help="comma-separated releases instead of the package index's")
    parser.add_argument("--all", action="store_true", help="probe every release in the range")
    parser.add_argument("--cache", type=Path, default=None, help=f"environments (default {venvs.default_cache()})")
    parser.add_argument("-o", "--out", type=Path, default=None)
    try:
        args = parser.parse_args(argv)
        lo, hi = parse_range(args.keras)
        releases = [Version(v) for v in args.versions.split(",")] if args.versions else available()
        versions = in_range(sorted(set(releases)), lo, hi)
        out = args.out or Path("reports/bisect") / f"{args.claim}--{args.optimizer}.json"
        if out.is_dir():
            raise UsageError(f"-o {out}: is a directory; give the JSON file to write")
    except (UsageError, InvalidVersion) as e:
        print(f"keras-conformance bisect: {e}", file=sys.stderr)
        return 2
    cache = args.cache or venvs.default_cache()
    folder = out.with_suffix("")
    constraints = _PACKAGE_ROOT / "constraints.txt"
    print(f"bisecting {args.claim} for {args.optimizer} over {len(versions)} Keras releases "
          f"{versions[0]}..{versions[-1]} "
          f"on {args.backend} (environments in {cache})", flush=True)
    start = time.monotonic()

    def probe(version: str) -> Probe:
        p = run_probe(args.claim, args.optimizer, version, args.backend, cache, folder,
                      constraints if constraints.is_file() else None)
        print(_line(p, sorted(p.outcomes, key=lambda n: (n != OVERALL, n))), flush=True)
        if p.message and p.outcome(OVERALL) in ("error", "uninstallable", "absent"):
            print("    " + p.message.replace("\n", "\n    ")[:800], flush=True)
        return p

    found = bisect(versions, probe, args.all)
    seconds = time.monotonic() - start
    focus = args.condition or OVERALL
    result = {
        "claim": args.claim, "optimizer": args.optimizer, "backend": args.backend,
        "range": f"{versions[0]}..{versions[-1]}",
        "condition": args.condition, "first_differing": found["changes"].get(focus, {}).get("first_differing"),
        "changes": found["changes"], "seconds": round(seconds, 1),
        "probes": [{"keras": p.keras, "verdict": p.outcome(OVERALL), "outcomes": p.outcomes,
                    "seconds": round(p.seconds, 1),
                    "environment": p.environment, "message": p.message} for p in found["probes"]],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.partial")
    tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    for name, change in found["changes"].items():
        if change["first_differing"]:
            print(f"{name}: {change['from']} through {change['last_same']}, "
                  f"{change['to']} from {change['first_differing']}")
        else:
            print(f"{name}: {change['from']} at both ends" + ("" if args.all else " (not bisected)"))
    if args.condition and args.condition not in found["changes"]:
        print(f"note: condition {args.condition!r} was not checked by this claim in these releases", file=sys.stderr)
    print(f"{len(found['probes'])} probes in {seconds:.0f} s; written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
