"""Wall time of the whole suite (README command 1) for one or more checkouts, one after another on
this machine, with the verdicts each run gave and what changed between them.

    python -m conformance.tools.suite_wall BEFORE_CHECKOUT AFTER_CHECKOUT [--out DIR] [-- PYTEST ARGS]

Each checkout runs `python -m pytest conformance -n auto` with its own directory first on
PYTHONPATH and its results in DIR/<n>.jsonl; then the table (wall seconds, verdicts, examples, the
verdicts at defaults, peak memory per kind of process) and `conformance.records.merge` of the results files are printed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from conformance.tools.peak_rss import Sampler

PLUGIN = "keras-optimizer-conformance"  # the name of the suite's pytest11 entry point


def plugin_args(checkout: Path) -> list[str]:
    """pytest arguments that load `checkout`'s own plugin. The installed entry point names a module
    of the checkout it was installed from, which another checkout may hold elsewhere or lack (one
    from before the entry point registers its plugin in its conftest)."""
    installed = next((e.value for e in importlib.metadata.entry_points(group="pytest11") if e.name == PLUGIN), None)
    pyproject = checkout / "pyproject.toml"
    found = re.search(rf'^{PLUGIN} = "([\w.]+)"', pyproject.read_text(), re.M) if pyproject.exists() else None
    own = found.group(1) if found else None
    if installed == own:
        return []
    return ["-p", f"no:{PLUGIN}"] + (["-p", own] if own else [])


def run(checkout: Path, results: Path, extra: list[str]) -> tuple[float, str]:
    """Wall seconds of one checkout's run, and its peak memory per kind of process."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "TF_CPP_MIN_LOG_LEVEL": "3", "CONFORMANCE_ENV": checkout.name}
    cmd = [sys.executable, "-m", "pytest", "conformance", "-n", "auto", "-q", "-p", "no:randomly",
           "--results", str(results), "--no-report", *extra]
    cmd[3:3] = plugin_args(checkout)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = Sampler(proc.pid)
    sampler.start()
    proc.wait()
    sampler.stop()
    return time.perf_counter() - t0, sampler.summary()


def summary(results: Path) -> dict[str, object]:
    records = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if "verdict" in r:
            records[(r["optimizer"], r["claim"])] = r
    at_defaults = Counter(
        ((r.get("conditions") or {}).get("defaults") or {}).get("verdict", "-") for r in records.values()
    )
    return {
        "verdicts": len(records),
        "counts": dict(Counter(r["verdict"] for r in records.values())),
        "examples": sum(r.get("examples") or 0 for r in records.values()),
        "defaults": dict(at_defaults),
        "claims_s": round(sum(r.get("duration_s") or 0 for r in records.values()), 1),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    parser = argparse.ArgumentParser(
        prog="python -m conformance.tools.suite_wall", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("reports/suite_wall"))
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = []
    for n, checkout in enumerate(args.checkouts):
        results = (args.out / f"{n}-{checkout.resolve().name}.jsonl").resolve()
        seconds, memory = run(checkout.resolve(), results, extra)
        files.append(results)
        print(f"{checkout}: {seconds:.0f} s wall, {json.dumps(summary(results))}; {memory}", flush=True)
    if len(files) > 1:
        subprocess.run([sys.executable, "-m", "conformance.records.merge", *map(str, files)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
