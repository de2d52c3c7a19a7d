"""Wall time and cases exercised: `pytest conformance` beside Keras's own optimizer unit tests.

Run from the repository root: `python conformance/tools/suite_vs_keras_tests.py [--profile ci]`.
Prints one table; both runs happen in this script, one after the other, on the same machine.

Cases: for the suite, the inputs hypothesis drew (each a distinct optimizer configuration, dtype,
shapes, weights and gradient sequence; shrinking included), summed from the results file. For
Keras's tests, the test cases pytest ran (each a fixed input, parametrized cases counted
separately); a test may check a few inputs, most check one.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.records.results_format import read_run

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run(cmd: list[str]) -> tuple[float, str, int]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True)
    return time.perf_counter() - t0, r.stdout + r.stderr, r.returncode


def passed_count(output: str) -> int:
    counts = re.findall(
        r"(\d+) (passed|failed|skipped|xfailed|xpassed|error)", output.splitlines()[-1] if output else ""
    )
    return sum(int(n) for n, _ in counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ci")
    parser.add_argument(
        "--workers", default="auto", help="pytest-xdist workers for the suite (Keras's tests run as they ship)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.jsonl"
        suite_s, suite_out, suite_rc = run(
            [
                sys.executable,
                "-m",
                "pytest",
                "conformance",
                "-q",
                "-n",
                args.workers,
                f"--hypothesis-profile={args.profile}",
                "--results",
                str(results),
            ]
        )
        stored = read_run(results)
        records = list(stored.records.values()) if stored else []
    keras_s, keras_out, keras_rc = run(
        [sys.executable, "-m", "pytest", "--pyargs", "keras.src.optimizers", "-q", "-p", "no:cacheprovider"]
    )
    suite_cases = sum(r["examples"] for r in records)
    keras_cases = passed_count(keras_out.strip())
    print(f"{'run':<34}{'wall s':>9}{'tests':>8}{'cases':>9}  exit")
    print(
        f"{'pytest conformance (' + args.profile + ', -n ' + args.workers + ')':<34}"
        f"{suite_s:>9.1f}{len(records):>8}{suite_cases:>9}  {suite_rc}"
    )
    print(f"{'pytest --pyargs keras.src.optimizers':<34}{keras_s:>9.1f}{keras_cases:>8}{keras_cases:>9}  {keras_rc}")
    print(
        f"time ratio {suite_s / keras_s:.2f}x (target <= 3x); "
        f"case ratio {suite_cases / max(keras_cases, 1):.1f}x (target >= 20x)"
    )
    print("last line of Keras's run:", keras_out.strip().splitlines()[-1] if keras_out.strip() else "(none)")


if __name__ == "__main__":
    main()
