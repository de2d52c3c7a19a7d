"""Small synthetic results files for the tests of `conformance.merge` and `conformance.report`."""

from __future__ import annotations

import json
from pathlib import Path


def info(keras: str, backend: str, **extra) -> dict:
    return {"run_info": {"format_version": 1, "keras": keras, "backend": backend, "generation": f"keras{keras[0]}", backend: "2.21.0",
                         "devices": ["/device:CPU:0"], "hypothesis_profile": "ci", "hypothesis_seed": None,
                         "started": "2026-11-23T00:00:00+00:00", "argv": [], **extra}}


def rec(optimizer: str, claim: str, verdict: str, **extra) -> dict:
    return {"optimizer": optimizer, "claim": claim, "claim_text": f"text of {claim}", "verdict": verdict,
            "expected": "fail" if verdict == "deviation" else "pass", "message": "", "reproducer": "x = 1", **extra}


def write(path: Path, lines: list[dict], cut: str = "") -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) + cut)
    return path
