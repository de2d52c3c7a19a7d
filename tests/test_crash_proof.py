"""Crash-proof runs: --claim-timeout, a results file that survives a native crash, and --resume.

Four runs of `pytest conformance` in subprocesses, on claims of tests/misbehaving.py's optimizers:
one under xdist with a claim that sleeps and one that hangs where no signal reaches it, one that
aborts the process (its verdicts so far stay in the .partial, the previous results file as it was),
the same one resumed under xdist (where it aborts a worker), and a resume refused. The rest is
in-process: the timer inside hypothesis, and the resume rules on small files. (Ctrl-C, and runs
that must leave the results file alone: tests/test_results_safety.py.)
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from conformance.core import running, timeouts
from conformance.core.errors import ClaimTimeout
from conformance.records import resume
from conformance.records.results_format import UsageError, read_run
from conformance.records.writer import ResultsWriter, partial_path
from conformance.report.inputs import read_results

from .results_files import info, rec, write
from .suite_runs import run_suite

ZERO = "conformance/scenarios/test_zero_grad.py"
SLEEPING, HANGING, ABORTING = (f"tests.misbehaving:{c}" for c in ("SleepingSGD", "HangingSGD", "AbortingSGD"))
# The aborting run's claims, in this order: SGD's verdict comes before the abort.
CLAIMS = [
    f"{ZERO}::test_{t}[zero_grad.{t}-{o}]"
    for t in ("weights_unchanged", "iterations_unchanged")
    for o in ("SGD", ABORTING)
]
CUT = '{"optimizer": "SGD", "claim": "zero_gr'  # a line a crash stopped mid-write
WEIGHTS, ITERATIONS = "zero_grad.weights_unchanged", "zero_grad.iterations_unchanged"


def suite(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_suite(*args, env=env)


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def timed_out(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path, float]:
    """Under xdist: SleepingSGD's claim (interruptible) and HangingSGD's (SIGALRM blocked) with a 2 s limit."""
    path = tmp_path_factory.mktemp("timeout") / "r.jsonl"
    t0 = time.perf_counter()
    r = suite(
        f"{ZERO}::test_weights_unchanged[zero_grad.weights_unchanged-{SLEEPING}]",
        f"{ZERO}::test_weights_unchanged[zero_grad.weights_unchanged-{HANGING}]",
        "--optimizer",
        SLEEPING,
        "--optimizer",
        HANGING,
        "--claim-timeout",
        "2",
        "--results",
        str(path),
        "-n",
        "2",
        "--max-worker-restart",
        "0",
    )
    return r, path, time.perf_counter() - t0


def test_a_claim_over_the_limit_is_stopped_and_recorded_with_its_context(timed_out):
    r, path, _ = timed_out
    (record,) = [x for x in lines(path) if x.get("optimizer") == SLEEPING]
    assert record["verdict"] == "error", r.stdout[-3000:]
    message = record["message"]
    assert message.startswith("claim timeout: stopped after 2.") and "(--claim-timeout 2)" in message, message
    assert re.search(r"\b[12] example\(s\) drawn, the last with optimizer SleepingSGD\(", message), (
        message
    )  # a corner may come first
    assert "tests/misbehaving.py" in message and "time.sleep(3600)" in message  # where it was stuck
    assert "conformance/checks/drive.py" in message  # and which step of the claim
    assert record["configuration"].startswith("SleepingSGD(") and record["examples"] in (1, 2)
    assert 2 <= record["duration_s"] < 10


def test_a_claim_stuck_outside_python_ends_its_worker_after_the_grace_with_a_record(timed_out):
    r, path, seconds = timed_out
    records = [x for x in lines(path) if x.get("optimizer") == HANGING]
    assert len(records) == 1, records  # the watchdog's record, not also one for the crashed worker
    (record,) = records
    assert record["verdict"] == "error"
    assert record["message"].startswith(
        f"claim timeout: did not return to Python {timeouts.grace(2):g} s after the limit"
    )
    assert "time.sleep(3600)" in record["message"] and record["configuration"].startswith("HangingSGD(")
    assert "most recent call first" in r.stderr + r.stdout  # faulthandler's dump of every thread
    assert r.returncode == 1 and seconds < 120


PREVIOUS = [info("3.15.1", "tensorflow", suite_version="0.0.1"), rec("SGD", WEIGHTS, "pass")]  # an earlier run's file


@pytest.fixture(scope="module")
def crashed(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """AbortingSGD aborts the process in its first claim; SGD's claim ran before it. The results
    file of an earlier run is there."""
    path = write(tmp_path_factory.mktemp("crash") / "r.jsonl", PREVIOUS)
    r = suite(
        *CLAIMS,
        "--optimizer",
        ABORTING,
        "--results",
        str(path),
        "-n",
        "0",
        env={"MISBEHAVING_ABORT_IN": "test_weights_unchanged"},
    )
    return r, path


def test_a_native_crash_leaves_the_previous_file_and_a_partial_valid_up_to_the_last_verdict(crashed):
    r, path = crashed
    assert r.returncode == -signal.SIGABRT, r.stdout[-3000:]
    assert lines(path) == PREVIOUS, "the earlier run's file is as it was"
    run = read_run(partial_path(path))
    assert run is not None and set(run.records) == {("SGD", WEIGHTS)}
    assert run.notes == [] or (len(run.notes) == 1 and "cut off mid-line" in run.notes[0]), run.notes
    assert ABORTING in run.layouts


@pytest.fixture(scope="module")
def resumed(crashed, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The crashed run's .partial, with a line cut off as by a crash mid-write, resumed under xdist
    (beside the earlier run's file); this time AbortingSGD aborts its worker in the other claim."""
    path = write(tmp_path_factory.mktemp("resume") / "r.jsonl", PREVIOUS)
    partial_path(path).write_text(partial_path(crashed[1]).read_text() + CUT)
    r = suite(
        *CLAIMS,
        "--optimizer",
        ABORTING,
        "--results",
        str(path),
        "--resume",
        "-n",
        "2",
        env={"MISBEHAVING_ABORT_IN": "test_iterations_unchanged"},
    )
    return r, path


def test_resume_runs_only_the_missing_claims_and_appends_them(resumed, crashed):
    r, path = resumed
    before = partial_path(crashed[1]).read_text()
    text = path.read_text()
    assert not partial_path(path).exists(), "the finished .partial became the results file"
    assert text.startswith(before), "the earlier lines are kept as they were"
    added = [json.loads(x) for x in text[len(before) :].splitlines()]
    assert list(added[0]) == ["resumed"] and added[0]["resumed"]["hypothesis_profile"] == "ci"
    assert "--resume" in added[0]["resumed"]["argv"]
    assert not any("layout" in x or "run_info" in x for x in added)  # the file has them already
    assert sorted((x["optimizer"], x["claim"]) for x in added[1:]) == sorted(
        [("SGD", ITERATIONS), (ABORTING, WEIGHTS), (ABORTING, ITERATIONS)]
    )  # not SGD's done claim
    run = read_run(path)
    assert run is not None and run.notes == [], run.notes  # the cut-off line was removed first
    assert run.records[(ABORTING, WEIGHTS)]["verdict"] != "error"
    assert (
        f"resumed: 1 claim(s) already done in {partial_path(path)}, 3 run now "
        f"(a cut-off last line of {len(CUT)} bytes was removed)"
        in r.stdout
    )
    assert f"results: {path}" in r.stdout


def test_a_crashed_xdist_worker_s_claim_is_recorded_as_an_error(resumed):
    r, path = resumed
    record = read_run(path).records[(ABORTING, ITERATIONS)]
    assert record["verdict"] == "error", r.stdout[-3000:]
    assert record["message"].startswith("the worker process crashed while running this claim: worker 'gw")
    assert record["nodeid"] == CLAIMS[3] and record["claim_text"].startswith("A zero-gradient")


def test_resume_refuses_a_file_of_another_environment_in_one_line(tmp_path):
    path = write(
        tmp_path / "r.jsonl", [info("2.15.0", "tensorflow", suite_version="0.1.0"), rec("SGD", WEIGHTS, "pass")]
    )
    before = path.read_text()
    r = suite(CLAIMS[0], "--results", str(path), "--resume", "-n", "0")
    assert r.returncode == 4, r.stdout[-2000:] + r.stderr[-2000:]
    (error,) = [x for x in r.stderr.splitlines() if x.startswith("ERROR")]
    assert "is from another environment (keras '2.15.0' there, '3." in error and "generation 'keras2' there" in error
    assert path.read_text() == before


# In-process: the timer, and the resume rules.


@pytest.fixture
def guard():
    """A 0.5 s timer whose watchdog would wait 10 minutes (it would end this test process)."""
    g = timeouts.Guard(0.5, 2)
    g.grace = 600.0
    previous = running.current()
    running.start("Fake", "claim")
    yield g
    g.stop()
    running._current[0] = previous  # noqa: SLF001 - the test's own running claim, undone


def test_the_timer_stops_hypothesis_at_once_without_replaying_or_shrinking(guard):
    calls = []
    previous = signal.getsignal(signal.SIGALRM)

    @settings(max_examples=50, database=None, derandomize=True, phases=list(Phase), deadline=None)
    @given(st.integers())
    def claim(n):
        calls.append(n)
        running.current().drawn += 1
        running.current().case = SimpleNamespace(setup=SimpleNamespace(code=f"Fake(n={len(calls)})"))
        if len(calls) == 3:
            time.sleep(30)

    t0 = time.perf_counter()
    guard.start(lambda context: None)
    try:
        with pytest.raises(ClaimTimeout) as e:
            claim()
    finally:
        guard.stop()
    # An Exception would have been replayed (and shrunk): a fourth call, and a FlakyFailure.
    assert len(calls) == 3 and time.perf_counter() - t0 < 5
    assert (
        "3 example(s) drawn, the last with optimizer Fake(n=3)" in str(e.value) and e.value.configuration == "Fake(n=3)"
    )
    assert "time.sleep(30)" in str(e.value)
    assert signal.getsignal(signal.SIGALRM) == previous


def test_without_sigalrm_in_this_thread_the_guard_says_so_once_and_does_not_signal(guard):
    caught = []

    def run():
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for _ in range(2):
                guard.start(lambda context: None)
                time.sleep(0.7)  # past the limit, within the grace: nothing happens
                guard.stop()
        caught.extend(str(x.message) for x in w)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert len(caught) == 1 and "cannot interrupt a claim here (the tests do not run in the main thread)" in caught[0]


def test_grace_is_half_the_limit_within_bounds():
    assert (timeouts.grace(2), timeouts.grace(30), timeouts.grace(900)) == (5, 15, 60)


def test_resume_reads_the_last_record_per_claim_and_reruns_errors(tmp_path):
    path = write(
        tmp_path / "r.jsonl",
        [
            info("3.15.1", "tensorflow", suite_version="0.1.0"),
            {"layout": {"optimizer": "SGD", "variables": []}},
            rec("SGD", "a", "pass"),
            rec("SGD", "b", "error"),
            rec("SGD", "c", "pass"),
            rec("SGD", "d", "fail"),
            {"resumed": {"started": "2026-11-23T01:00:00+00:00", "argv": ["--resume"]}},
            rec("SGD", "b", "pass"),
            rec("SGD", "c", "error"),  # a resumed run's: they supersede
        ],
        cut='{"optimizer": "SGD", "cl',
    )
    here = {"keras": "3.15.1", "backend": "tensorflow", "generation": "keras3", "suite_version": "0.1.0"}
    before = path.read_text()
    previous = resume.load(path, here)
    assert previous.done == {("SGD", "a"), ("SGD", "b"), ("SGD", "d")} and previous.layouts == {"SGD"}
    assert previous.verdicts[("SGD", "c")] == ("-", "error") and previous.repaired == len('{"optimizer": "SGD", "cl')
    assert path.read_text() == before, "reading it changes nothing"
    items = [("SGD", "a"), ("SGD", "c"), None, ("Adam", "a")]
    assert resume.deselect(items, previous.done, lambda x: x) == ([("SGD", "c"), None, ("Adam", "a")], [("SGD", "a")])
    # Appending to it (a .partial continued in place) removes the cut-off line first: every reader
    # takes the marker in its stride and the last record.
    w = ResultsWriter(path, {"started": "now", "argv": ["--resume"], "hypothesis_seed": 7, "keras": "x"}, resume=True)
    assert path.read_text() == before, "nothing is written before the first record"
    w.write(rec("SGD", "c", "pass"))
    w.close()
    assert w.repaired == len('{"optimizer": "SGD", "cl') and len(lines(path)) == 11
    assert lines(path)[-2] == {
        "resumed": {"started": "now", "argv": ["--resume"], "hypothesis_profile": None, "hypothesis_seed": 7,
                    "fingerprint": None}
    }
    run = read_run(path)
    assert run.notes == [] and {k: v["verdict"] for k, v in run.records.items()} == {
        ("SGD", "a"): "pass",
        ("SGD", "b"): "pass",
        ("SGD", "c"): "pass",
        ("SGD", "d"): "fail",
    }
    assert read_results([path]).problems == []
    assert [r["verdict"] for r in lines(path) if "verdict" in r] == [
        "pass",
        "error",
        "pass",
        "fail",
        "pass",
        "error",
        "pass",
    ]


@pytest.mark.parametrize(
    "lines_, here, message",
    [
        ([info("3.15.1", "jax", suite_version="0.1.0")], {}, "backend 'jax' there, 'tensorflow' here"),
        ([info("3.15.1", "tensorflow", suite_version="0.0.9")], {}, "suite_version '0.0.9' there, '0.1.0' here"),
        ([rec("SGD", "a", "pass")], {}, "has no run_info line"),
        (None, {}, "does not exist (run without --resume to start it)"),
    ],
)
def test_resume_refuses_what_it_cannot_carry_on(tmp_path, lines_, here, message):
    path = tmp_path / "r.jsonl"
    if lines_ is not None:
        write(path, lines_)
    current = {"keras": "3.15.1", "backend": "tensorflow", "generation": "keras3", "suite_version": "0.1.0", **here}
    with pytest.raises(UsageError, match=r"^--resume: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        resume.load(path, current)
