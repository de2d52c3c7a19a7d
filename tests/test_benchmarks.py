"""The benchmark suite's own parts: the numpy float32 baselines agree with the float64 references
(and a faulty one is caught), the byte count of the roofline, that `pytest conformance` never
collects the benchmarks, and one real benchmark with its extra_info and machine info."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conformance.benchmarks import baselines, numpy_steps
from conformance.core import tolerance
from conformance.inputs import registry

ROOT = Path(__file__).resolve().parents[1]
STEPS = 3
LR = {"SGD": 0.01}  # the Keras default learning rates (0.001 for the others)


def worst_excess(rule: str, impl: type[numpy_steps.Step], lr: float) -> tuple[float, np.dtype]:
    """max |numpy - reference| / allowed over STEPS steps on two variables, and the weights' dtype."""
    rng = np.random.default_rng(7)
    w0 = [rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(4).astype(np.float32)]
    grads = [[(0.5 * rng.standard_normal(w.shape)).astype(np.float32) for w in w0] for _ in range(STEPS)]
    module = registry.record(rule).reference
    hp = dict(module.DEFAULTS)
    ws = [w.copy() for w in w0]
    fast = impl(ws, lr, hp)
    ref_w, ref_state = [w.astype(np.float64) for w in w0], module.init(w0, hp)
    for t, g in enumerate(grads, 1):
        fast.step(ws, g)
        ref_w, ref_state = module.update(ref_w, [x.astype(np.float64) for x in g], ref_state, hp, lr, t)
    excess = max(float(np.max(np.abs(w - r) / tolerance.bound(r, w0_, "float32", STEPS)))
                 for w, r, w0_ in zip(ws, ref_w, w0))
    return excess, ws[0].dtype


# AdamW's reference is Adam's rule (its decoupled decay is the base weight_decay option):
# test_adamw_decay_is_decoupled checks what it adds.
@pytest.mark.parametrize("rule", sorted(set(registry.with_field("numpy_step")) - {"AdamW"}))
def test_numpy_step_follows_the_reference_in_float32(rule):
    impl = registry.record(rule).numpy_step
    excess, dtype = worst_excess(rule, impl, LR.get(rule, 0.001))
    assert dtype == np.float32, "the baseline was promoted out of float32"
    assert excess <= 1.0, (
        f"{rule}: numpy float32 step differs from the reference by {excess:.3g}x the float32 tolerance"
    )


def test_adamw_decay_is_decoupled():
    w = [np.full(3, 2.0, np.float32)]
    g = [np.zeros(3, np.float32)]
    adamw = numpy_steps.AdamW(w, 0.001, registry.record("AdamW").reference.DEFAULTS)
    adamw.step(w, g)  # zero gradient: only the decay moves the weights
    assert np.allclose(w[0], 2.0 * (1 - 0.001 * 0.004), rtol=1e-7, atol=0)


class WrongBiasCorrection(numpy_steps.Adam):
    """A faulty baseline: forgets the sqrt in Adam's bias correction."""

    def prepare(self):
        b1, b2 = self.f("beta_1"), self.f("beta_2")
        self.alpha = self.lr * (1 - b2**self.t) / (1 - b1**self.t)


def test_a_faulty_numpy_step_is_caught():
    excess, _ = worst_excess("Adam", WrongBiasCorrection, 0.001)
    assert excess > 1.0


def test_step_bytes_count_weights_gradients_and_state():
    w = [np.zeros(10, np.float32)]
    state = [np.zeros(10, np.float32), np.zeros(10, np.float32), np.zeros((), np.int64)]
    assert baselines.step_bytes(w, state) == 3 * 40 + 2 * (40 + 40 + 8)


def test_rounds_fill_the_budget_within_bounds():
    assert baselines.rounds_for(1.0) == baselines.MIN_ROUNDS
    assert baselines.rounds_for(1e-9) == baselines.MAX_ROUNDS
    assert baselines.MIN_ROUNDS < baselines.rounds_for(0.004) < baselines.MAX_ROUNDS


def run_pytest(*args: str) -> subprocess.CompletedProcess:
    # Without this run's xdist variables: pytest-benchmark disables timing inside an xdist worker.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env
    )


def test_the_conformance_run_never_collects_the_benchmarks(tmp_path):
    r = run_pytest("conformance", "--collect-only", "-q", "--results", str(tmp_path / "r.jsonl"), "--no-report")
    assert r.returncode == 0 and "test_step[" not in r.stdout and "tests collected" in r.stdout
    r = run_pytest(
        "conformance/benchmarks", "--collect-only", "-q", "-k", "SGD", "--results", str(tmp_path / "b.jsonl")
    )
    assert r.returncode == 0 and "test_step[SGD-large-eager]" in r.stdout
    assert not (tmp_path / "b.jsonl").exists()  # a benchmarks-only run writes no results file


def test_a_benchmark_records_its_baselines_and_environment(tmp_path):
    out = tmp_path / "not-yet" / "b.json"  # its folder is made at the start, not found missing at the end
    r = run_pytest(
        "conformance/benchmarks",
        "-q",
        "-k",
        "test_step and SGD-large-eager",
        "-p",
        "no:randomly",
        f"--benchmark-json={out}",
    )
    assert r.returncode == 0, r.stdout[-3000:]
    data = json.loads(out.read_text())
    assert data["machine_info"]["conformance"]["keras"] and data["machine_info"]["conformance"]["device"] == "cpu"
    (b,) = data["benchmarks"]
    info = b["extra_info"]
    assert info["optimizer"] == "SGD" and info["regime"] == "large/eager" and info["values"] == 2048 * 2048
    assert (
        info["bytes"] == 3 * 4 * 2048 * 2048 + 2 * 8 + 2 * 4
    )  # weights, gradients; the iteration and learning-rate scalars
    assert info["min_ratios"]["roofline"] == pytest.approx(b["stats"]["min"] / info["roofline_s"])
    assert info["min_ratios"]["numpy"] == pytest.approx(b["stats"]["min"] / info["numpy_s"])
    # measured interleaved, the ratios lie near the minima's (both are of the same two calls)
    for name in ("roofline", "numpy"):
        assert 0.2 < info[f"{name}_ratio"] / info["min_ratios"][name] < 5, info
    assert b["stats"]["rounds"] >= baselines.MIN_ROUNDS


def test_interleaved_ratios_compare_calls_made_in_the_same_round(monkeypatch):
    clock = {"t": 0.0, "rate": 1.0}  # a machine that gets 1 % slower after every call

    def taking(seconds: float):
        def call() -> None:
            clock["t"] += seconds * clock["rate"]
            clock["rate"] *= 1.01

        return call

    monkeypatch.setattr(baselines.time, "perf_counter", lambda: clock["t"])
    ratios = baselines.interleaved_ratios(taking(2e-3), {"half": taking(1e-3)})
    # each round's baseline runs one call after its step: every round's ratio is 2 / 1.01, where
    # minima measured apart (the step's first round, the baseline's last) would say about 2
    assert ratios["half"] == pytest.approx(2 / 1.01, rel=1e-9)


def test_spread_reports_the_differences_of_the_minimum_and_of_each_ratio(tmp_path, capsys):
    from conformance.tools import spread

    def save(name: str, times: dict[str, float], ratio: dict[str, float]) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"benchmarks": [
            {"fullname": k, "stats": {"min": v}, "extra_info": {"numpy_ratio": ratio[k], "min_ratios": {}}}
            for k, v in times.items()
        ]}))
        return path

    a = save("a.json", {"x": 1.0, "y": 2.0, "z": 1.0}, {"x": 2.0, "y": 4.0, "z": 1.0})
    b = save("b.json", {"x": 1.02, "y": 2.5, "w": 1.0}, {"x": 2.02, "y": 4.04, "w": 1.0})
    assert spread.main([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "+25.0%" in out and "x " not in out.split("\n")[0]
    assert (
        "2 benchmarks in both: median |difference of min| 13.5%, largest 25.0%, 1 beyond 5%; only in one file: 2" in out
    )
    assert "2 benchmarks in both: median |difference of numpy_ratio| 1.0%, largest 1.0%, 0 beyond 5%" in out


def test_spread_takes_the_median_over_the_processes_of_each_side(tmp_path, capsys):
    from conformance.tools import spread

    def save(name: str, seconds: float, ratio: float) -> str:
        path = tmp_path / name
        path.write_text(json.dumps({"benchmarks": [
            {"fullname": "x", "stats": {"min": seconds}, "extra_info": {"numpy_ratio": ratio}}]}))
        return str(path)

    # one slow process on each side: the medians (1.0 and 1.01) differ by 1 %, the first files by 50 %
    a = ",".join([save("a1.json", 1.5, 3.0), save("a2.json", 1.0, 2.0), save("a3.json", 0.98, 2.0)])
    b = ",".join([save("b1.json", 1.01, 2.0), save("b2.json", 1.02, 2.02), save("b3.json", 0.7, 1.0)])
    assert spread.main([a, b]) == 0
    out = capsys.readouterr().out
    assert "1 benchmarks in both: median |difference of min| 1.0%" in out
    assert "1 benchmarks in both: median |difference of numpy_ratio| 0.0%" in out


def _benchmark_file(path: Path, entries: dict[str, tuple[float, float]]) -> Path:
    """A pytest-benchmark JSON file: benchmark -> (minimum, numpy_ratio)."""
    path.write_text(json.dumps({"machine_info": {"conformance": {"keras": "3"}}, "benchmarks": [
        {"fullname": k, "stats": {"min": m}, "extra_info": {"numpy_ratio": r, "min_ratios": {"numpy": 2 * r}}}
        for k, (m, r) in entries.items()]}))
    return path


def test_bench_processes_merges_each_ratio_as_the_median_over_processes(tmp_path):
    from conformance.tools import bench_processes

    runs = [json.loads(_benchmark_file(tmp_path / f"{i}.json", e).read_text()) for i, e in enumerate([
        {"x": (1.5, 3.0), "y": (1.0, 1.0)},  # a slow process
        {"x": (1.0, 2.0), "y": (1.1, 1.2)},
        {"x": (0.9, 2.1)},  # y is missing from one process: the others still count
    ])]
    merged = bench_processes.merge(runs)
    x, y = sorted(merged["benchmarks"], key=lambda b: b["fullname"])
    assert x["stats"]["min"] == 1.0 and x["extra_info"]["numpy_ratio"] == 2.1
    assert x["extra_info"]["min_ratios"]["numpy"] == 4.2
    assert x["extra_info"]["per_process"] == {"min": [1.5, 1.0, 0.9], "numpy_ratio": [3.0, 2.0, 2.1],
                                              "min_ratios.numpy": [6.0, 4.0, 4.2]}
    assert x["extra_info"]["processes"] == 3 and y["extra_info"]["processes"] == 2
    assert y["extra_info"]["numpy_ratio"] == pytest.approx(1.1)
    assert merged["machine_info"]["conformance"] == {"keras": "3", "processes": 3}


def test_bench_processes_runs_each_process_and_writes_only_a_whole_file(tmp_path, monkeypatch, capsys):
    from conformance.tools import bench_processes

    calls: list[list[str]] = []

    def fake_run(command, **kwargs):
        calls.append(command)
        out = Path(next(a for a in command if a.startswith("--benchmark-json=")).split("=", 1)[1])
        if len(calls) == 3:  # the third process fails: nothing is written
            return subprocess.CompletedProcess(command, 1, stdout="boom\n")
        _benchmark_file(out, {"x": (float(len(calls)), 1.0)})
        return subprocess.CompletedProcess(command, 0, stdout="1 passed\n")

    monkeypatch.setattr(bench_processes.subprocess, "run", fake_run)
    target = tmp_path / "out" / "merged.json"
    assert bench_processes.main(["--json", str(target), "--processes", "2", "--", "-k", "SGD"]) == 0
    assert len(calls) == 2 and calls[0][-2:] == ["-k", "SGD"]
    assert json.loads(target.read_text())["benchmarks"][0]["extra_info"]["per_process"]["min"] == [1.0, 2.0]
    calls.clear()
    calls.extend([[], []])
    before = target.read_text()
    assert bench_processes.main(["--json", str(target), "--processes", "2"]) == 1
    assert target.read_text() == before and "process 1 failed" in capsys.readouterr().err
