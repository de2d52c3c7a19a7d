"""`pytest conformance` end to end, in subprocesses: usage errors, results file, verdicts,
expectations (deviation and stale), and a reproducer that runs on its own."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
FAULTY = "tests.faulty:DriftingSGD"
TRAJECTORY = f"conformance/scenarios/test_reference.py::test_trajectory[reference.trajectory-{FAULTY}]"
BUILD = f"conformance/scenarios/test_build.py::test_build_equals_lazy[build.equals_lazy-{FAULTY}]"


def suite(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", *args, "-p", "no:randomly", "--hypothesis-profile=ci"]
    return subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)


def records(path: Path) -> tuple[dict, list[dict]]:
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    return lines[0]["run_info"], [x for x in lines[1:] if "layout" not in x]


def layouts(path: Path) -> dict[str, dict]:
    return {
        x["layout"]["optimizer"]: x["layout"] for x in map(json.loads, path.read_text().splitlines()) if "layout" in x
    }


@pytest.mark.parametrize(
    "value, message",
    [
        ("no_such_module_xyz:Opt", "cannot import"),
        ("builtins:dict", "is not a subclass"),
        ("Adam", "expected MODULE:ATTR"),
    ],
)
def test_bad_optimizer_is_a_one_line_usage_error(value, message, tmp_path):
    r = suite("conformance", "--optimizer", value, "--results", str(tmp_path / "r.jsonl"), tmp_path=tmp_path)
    assert r.returncode == 4, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr + r.stdout
    assert len([x for x in r.stderr.splitlines() if x.startswith("ERROR")]) == 1


def test_a_failing_claim_is_recorded_with_a_runnable_reproducer(tmp_path):
    results = tmp_path / "r.jsonl"
    r = suite(TRAJECTORY, "--optimizer", FAULTY, "--results", str(results), tmp_path=tmp_path)
    assert r.returncode == 1, r.stdout[-3000:]
    info, recs = records(results)
    for key in (
        "python",
        "keras",
        "backend",
        "tensorflow",
        "devices",
        "suite_version",
        "hypothesis_profile",
        "started",
    ):
        assert key in info, key
    assert info["hypothesis_profile"] == "ci"
    layout = layouts(results)
    assert {"Adam", "LossScaleOptimizer", FAULTY} <= layout.keys()
    assert [v["name"] for v in layout["Adam"]["variables"]][:2] == ["iteration", "learning_rate"]
    assert {"name": "v0_momentum", "shape": [3, 4], "dtype": "float32"} in layout["Adam"]["variables"]
    (rec,) = recs
    assert rec["optimizer"] == FAULTY and rec["claim"] == "reference.trajectory" and rec["verdict"] == "fail"
    for key in ("message", "hyperparameters", "duration_s", "counterexample", "source", "claim_text"):
        assert key in rec, key
    # the first failing example: a anchor (explicit, "Draw (case)") or a random one ("Draw 1 (case)")
    assert "reference" in rec["message"] and re.search(r"Draw 1? ?\(case\): Case\(", rec["counterexample"])
    assert "conformance verdicts" in r.stdout and "reference.trajectory" in r.stdout
    repro = subprocess.run(
        [sys.executable, "-c", rec["reproducer"]], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert repro.returncode == 0, repro.stderr[-2000:]
    assert "weights:" in repro.stdout and "iterations: " in repro.stdout


def test_declared_deviations_pass_and_stale_ones_are_reported(tmp_path):
    expectations = tmp_path / "expectations.toml"
    expectations.write_text(
        f"""
[[deviation]]
optimizer = "{FAULTY}"
claim = "reference.trajectory"
keras = ">=3"
match = "departs from the float64 reference"
reason = "seeded fault: steps 0.1% too long"
kind = "bug"
upstream = "none found"

[[deviation]]
optimizer = "tests.faulty:*"
claim = "build.equals_lazy"
reason = "declared but not true"
kind = "documented"
"""
    )
    results = tmp_path / "r.jsonl"
    r = suite(
        TRAJECTORY,
        BUILD,
        "--optimizer",
        FAULTY,
        "--results",
        str(results),
        "--expectations",
        str(expectations),
        tmp_path=tmp_path,
    )
    assert r.returncode == 0, r.stdout[-3000:]
    verdicts = {rec["claim"]: rec for rec in records(results)[1]}
    assert verdicts["reference.trajectory"]["verdict"] == "deviation"
    assert (verdicts["reference.trajectory"]["kind"], verdicts["reference.trajectory"]["upstream"]) == (
        "bug",
        "none found",
    )
    assert "deviations per kind ((optimizer, claim) pairs, in any condition): bug 1" in r.stdout
    assert verdicts["build.equals_lazy"]["verdict"] == "pass" and verdicts["build.equals_lazy"]["expected"] == "fail"
    assert "STALE" in r.stdout and "declared but not true" in r.stdout


def test_a_malformed_expectations_file_is_a_usage_error(tmp_path):
    bad = tmp_path / "e.toml"
    bad.write_text("[[deviation]]\noptimizer = 'Adam'\n")
    r = suite(
        BUILD,
        "--optimizer",
        FAULTY,
        "--expectations",
        str(bad),
        "--results",
        str(tmp_path / "r.jsonl"),
        tmp_path=tmp_path,
    )
    assert r.returncode == 4 and "lacks ['claim', 'kind', 'reason']" in r.stderr
