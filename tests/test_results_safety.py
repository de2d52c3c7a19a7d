"""A results file is never lost: a run writes `<results>.partial` and makes it the results file only
when it ends normally.

Runs of `pytest conformance` in subprocesses, on zero_grad.weights_unchanged for SGD (and for
tests/misbehaving.py's SleepingSGD, which sleeps until it is interrupted): runs that record no
verdict (--help, --collect-only, an empty selection), a run interrupted with Ctrl-C after its first
verdict, resumes with nothing left to run, and usage errors. The rest is in-process: the writer on
small files. (A native crash and a resume that completes its run: tests/test_crash_proof.py.)
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from conformance.records import resume
from conformance.records.results_format import read_run
from conformance.records.writer import ResultsWriter, complete_lines, partial_path, target_problem

from .results_files import info, rec, write
from .suite_runs import ENV, ROOT, run_suite

ZERO = "conformance/scenarios/test_zero_grad.py"
WEIGHTS = "zero_grad.weights_unchanged"
SLEEPING = "tests.misbehaving:SleepingSGD"
# SGD's claim; with --optimizer SLEEPING, SleepingSGD's too (after SGD's: user optimizers come last).
SLICE = [ZERO, "-k", "weights_unchanged and SGD", "-n", "0"]
SGD_ONLY = [ZERO, "-k", "weights_unchanged and SGD and not misbehaving", "-n", "0"]


def previous(path: Path) -> tuple[bytes, int]:
    """An earlier run's results file at `path`: its bytes and mtime, which a run must keep."""
    write(path, [info("3.15.1", "tensorflow", suite_version="0.0.1"), rec("SGD", WEIGHTS, "pass")])
    return path.read_bytes(), path.stat().st_mtime_ns


def kept(path: Path, before: tuple[bytes, int]) -> bool:
    return path.read_bytes() == before[0] and path.stat().st_mtime_ns == before[1]


def out(r: subprocess.CompletedProcess) -> str:
    return f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}"


@pytest.mark.parametrize("args, status", [
    (["--help"], 0),
    ([ZERO, "--collect-only", "-q"], 0),
    ([ZERO, "-k", "no_test_is_named_this"], 5),
], ids=["help", "collect-only", "empty-selection"])
def test_a_run_without_verdicts_leaves_the_results_file_as_it_was(tmp_path, args, status):
    path = tmp_path / "r.jsonl"
    before = previous(path)
    r = run_suite(*args, "--results", str(path), "-n", "0")
    assert r.returncode == status, out(r)
    assert kept(path, before) and sorted(tmp_path.iterdir()) == [path]  # no .partial either


TAKEN = "! KeyboardInterrupt !"  # pytest's line: it stops the run


def _as_from_a_terminal() -> None:
    """The run's Ctrl-C as at a terminal: a shell starts a background job (`.ci/run &`) with SIGINT
    ignored, every process below inherits that, and Python then installs no handler, so the run
    never took a Ctrl-C. No core file either."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def interrupt_after_the_first_verdict(path: Path) -> SimpleNamespace:
    """SGD's claim, then SleepingSGD's, with Ctrl-C (SIGINT) once SGD's verdict is in the .partial."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *SLICE,
        "--optimizer",
        SLEEPING,
        "--claim-timeout",
        "0",
        "--results",
        str(path),
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "--hypothesis-profile=ci",
        "--no-report",
        # where it hangs, every thread's stack is in the output after 60 s of SleepingSGD's test
        "-o",
        "faulthandler_timeout=60",
    ]
    log = path.with_name("output.txt")
    with open(log, "w") as f:
        p = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=ENV,
            stdout=f,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_as_from_a_terminal,
        )
        try:
            deadline = time.monotonic() + 600
            partial = partial_path(path)
            while not (partial.is_file() and '"verdict"' in partial.read_text()):
                assert p.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
            # Ctrl-C, again until pytest takes it (one that lands where Python ignores exceptions,
            # a finalizer, is lost), then no more: a second one would stop pytest's own ending.
            for _ in range(20):
                time.sleep(2)
                p.send_signal(signal.SIGINT)
                t0 = time.monotonic()
                while p.poll() is None and TAKEN not in log.read_text() and time.monotonic() - t0 < 10:
                    time.sleep(0.2)
                if p.poll() is not None or TAKEN in log.read_text():
                    break
            try:
                p.wait(timeout=300)
            except subprocess.TimeoutExpired:  # say where it hung: seen once, under a full -n 2 run of tests/
                raise AssertionError(f"pytest did not end within 300 s of Ctrl-C:\n{log.read_text()[-3000:]}") from None
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    return SimpleNamespace(returncode=p.returncode, stdout=log.read_text(), stderr="")


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> tuple[SimpleNamespace, Path, tuple[bytes, int]]:
    path = tmp_path_factory.mktemp("interrupted") / "r.jsonl"
    before = previous(path)
    return interrupt_after_the_first_verdict(path), path, before


def test_an_interrupted_run_keeps_the_previous_file_and_its_verdicts_so_far_in_a_partial(interrupted):
    r, path, before = interrupted
    partial = partial_path(path)
    assert r.returncode == 2, out(r)
    assert kept(path, before), "the previous run's file is as it was"
    run = read_run(partial)
    assert run is not None and set(run.records) == {("SGD", WEIGHTS)} and run.notes == [], out(r)
    assert {"SGD", SLEEPING} <= set(run.layouts) and run.info["suite_version"] != "0.0.1"
    assert (
        f"interrupted: the verdicts so far are in {partial}; run again with --resume to continue it "
        f"({path} is as the last complete run left it)"
    ) in r.stdout, out(r)


@pytest.fixture(scope="module")
def resumed_with_nothing_left(interrupted) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess, bytes]:
    """The interrupted run resumed on SGD's claim alone (done): twice."""
    path = interrupted[1]
    partial = partial_path(path).read_bytes()
    first = run_suite(*SGD_ONLY, "--results", str(path), "--resume")
    again = run_suite(*SGD_ONLY, "--results", str(path), "--resume")
    return first, again, partial


def test_a_resume_with_nothing_left_to_run_finishes_the_partial_and_exits_0(interrupted, resumed_with_nothing_left):
    path, partial = interrupted[1], partial_path(interrupted[1])
    r, _, text = resumed_with_nothing_left
    assert r.returncode == 0, out(r)
    assert (
        f"resume: every claim in {partial} already has a verdict; nothing to run ({partial} is now {path})" in r.stdout
    ), out(r)
    assert not partial.exists()
    assert read_run(path) is not None and set(read_run(path).records) == {("SGD", WEIGHTS)}
    assert path.read_bytes() in (text, complete_lines(text)[0])  # the partial as it was (whole lines)


def test_a_resume_of_a_finished_file_with_nothing_left_to_run_exits_0_and_leaves_it_as_it_was(
    interrupted, resumed_with_nothing_left
):
    path = interrupted[1]
    _, r, _ = resumed_with_nothing_left
    before = path.read_bytes(), path.stat().st_mtime_ns
    assert r.returncode == 0, out(r)
    assert f"resume: every claim in {path} already has a verdict; nothing to run" in r.stdout, out(r)
    assert kept(path, before) and not partial_path(path).exists()


@pytest.mark.parametrize(
    "kind, message",
    [
        ("folder", "is a folder"),
        ("parent-is-a-file", "is a file, not a folder"),
        ("resume-not-a-results-file", "has no run_info line"),
    ],
)
def test_a_results_path_that_cannot_be_one_is_a_one_line_usage_error(tmp_path, kind, message):
    (tmp_path / "file").write_text("not results\n")
    path, more = {
        "folder": (tmp_path, []),
        "parent-is-a-file": (tmp_path / "file" / "r.jsonl", []),
        "resume-not-a-results-file": (tmp_path / "file", ["--resume"]),
    }[kind]
    r = run_suite(*SGD_ONLY, "--results", str(path), *more)
    assert r.returncode == 4, out(r)
    (error,) = [x for x in r.stderr.splitlines() if x.startswith("ERROR")]
    assert message in error and "Traceback" not in r.stdout + r.stderr and "INTERNALERROR" not in r.stdout + r.stderr
    assert sorted(tmp_path.iterdir()) == [tmp_path / "file"] and (tmp_path / "file").read_text() == "not results\n"


# In-process: the writer and the resume source on small files.


def test_the_writer_writes_nothing_until_the_first_record_then_its_first_lines(tmp_path):
    path = tmp_path / "r.jsonl.partial"
    w = ResultsWriter(path, {"keras": "3.15.1"}, layouts=[{"optimizer": "SGD", "variables": []}])
    w.close()
    assert not path.exists() and not w.started
    w = ResultsWriter(path, {"keras": "3.15.1"}, layouts=[{"optimizer": "SGD", "variables": []}])
    w.write(rec("SGD", WEIGHTS, "pass"))
    assert [json.loads(x) for x in path.read_text().splitlines()] == [
        {"run_info": {"keras": "3.15.1"}},
        {"layout": {"optimizer": "SGD", "variables": []}},
        rec("SGD", WEIGHTS, "pass"),
    ]
    w.close()


def test_a_resume_of_a_finished_file_copies_it_and_leaves_it_as_it_was(tmp_path):
    path = write(tmp_path / "r.jsonl", [info("3.15.1", "tensorflow"), rec("SGD", "a", "pass")], cut='{"optimizer": "SG')
    before = path.read_bytes()
    assert resume.source(path) == path
    w = ResultsWriter(partial_path(path), {"started": "now"}, resume=True, start_from=path)
    w.write(rec("SGD", "b", "pass"))
    w.close()
    assert path.read_bytes() == before and w.repaired == len('{"optimizer": "SG')
    text = partial_path(path).read_text()
    assert text.startswith(before[: before.rfind(b"\n") + 1].decode())
    assert [json.loads(x) for x in text.splitlines()][-2:] == [
        {"resumed": {"started": "now", "argv": None, "hypothesis_profile": None, "hypothesis_seed": None,
                     "fingerprint": None}},
        rec("SGD", "b", "pass"),
    ]


def test_resume_continues_a_partial_that_holds_a_run_else_the_results_file(tmp_path):
    path = tmp_path / "r.jsonl"
    assert resume.source(path) == path  # neither: resume.load says the file does not exist
    partial_path(path).write_text('{"run_in')  # cut off before its first line was whole: nothing to continue
    assert resume.source(path) == path
    write(partial_path(path), [info("3.15.1", "tensorflow")])
    assert resume.source(path) == partial_path(path)


def test_a_last_line_that_lacks_only_its_newline_is_kept(tmp_path):
    whole = json.dumps(rec("SGD", "a", "pass")).encode()
    assert complete_lines(b"{}\n" + whole) == (b"{}\n" + whole + b"\n", 0)
    assert complete_lines(b"{}\n" + whole[:-3]) == (b"{}\n", len(whole) - 3)
    assert complete_lines(b"{}\n") == (b"{}\n", 0)


def test_target_problems_are_one_line_each(tmp_path):
    (tmp_path / "f").write_text("x")
    assert target_problem(tmp_path / "new" / "dir" / "r.jsonl") is None
    assert "is a folder" in target_problem(tmp_path)
    assert "is a file, not a folder" in target_problem(tmp_path / "f" / "r.jsonl")
    (tmp_path / "r.jsonl.partial").mkdir()
    assert "is a folder" in target_problem(tmp_path / "r.jsonl")
