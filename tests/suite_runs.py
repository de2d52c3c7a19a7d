"""`pytest conformance` in a subprocess: its own session, not a worker of the tests' one."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
for _var in [v for v in ENV if v.startswith("PYTEST_XDIST") or v == "PYTEST_CURRENT_TEST"]:
    del ENV[_var]


def run_suite(*args: str, profile: str = "ci", env: dict | None = None) -> subprocess.CompletedProcess:
    """The suite with `args`, in hypothesis profile `profile`, without its HTML report."""
    cmd = [sys.executable, "-m", "pytest", *args, "-p", "no:randomly", "-p", "no:cacheprovider",
           f"--hypothesis-profile={profile}", "--no-report"]
    no_core = lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # noqa: E731 - an os.abort() dumps none
    return subprocess.run(cmd, cwd=ROOT, env={**ENV, **(env or {})}, capture_output=True, text=True, timeout=900,
                          preexec_fn=no_core)
