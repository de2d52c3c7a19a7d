"""The benchmark suite: `pytest conformance/benchmarks` (never collected by `pytest conformance`).

pytest-benchmark's machine info gains the environment the numbers come from: suite environment
name, Keras, backend and library versions, and the devices.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from conformance.adapters import current


def pytest_configure(config: Any) -> None:
    """pytest-benchmark writes --benchmark-json only after the run: make its folder now, so a run
    is not lost at the end for a missing reports/benchmarks/."""
    path = config.getoption("benchmark_json", None)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    adapter = current()
    machine_info["conformance"] = {
        "environment": os.environ.get("CONFORMANCE_ENV") or os.environ.get("TOX_ENV_NAME") or "local",
        **adapter.versions(),
        "devices": adapter.devices(),
        "device": adapter.accelerator() or "cpu",
    }
