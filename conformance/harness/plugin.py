"""The pytest plugin of the suite: options, verdicts, results file and the terminal matrix.

Registered by the entry point (pytest_plugin.py) for a run of the suite only. Verdicts are
computed where a test runs and travel on the report (`user_properties`), so they are written by
the process that owns the results file, with or without pytest-xdist. A claim over --claim-timeout
is stopped (timeouts.py); a crashed xdist worker's claim is recorded by the controller; --resume
runs only what a results file lacks (resume.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import hypothesis
import pytest

from conformance.core import profiles, running, timeouts, verdicts
from conformance.core.errors import ClaimTimeout
from conformance.harness import isolation
from conformance.records import expectations, fingerprint, resume, shards, writer
from conformance.records.results_format import condition_verdict
from conformance.records.writer import ResultsWriter, run_info

SYMBOL = {"pass": "P", "fail": "F", "deviation": "D", "unsupported": "U", "error": "E"}
_KEY = pytest.StashKey["_State"]()
_RUNNING = pytest.StashKey[running.RunningClaim]()  # the claim test's running claim, on its item
_PROP = "conformance_verdict"
# Under xdist, a worker's setup report carries its claim, so that the controller can record a
# claim whose worker then crashed (xdist's crash report names only the test).
_CLAIM = "conformance_claim"
_DONE = "conformance_resume_done"  # workerinput: the claims a resumed run does not run again
_NOTHING_LEFT = "conformance_resume_nothing_left"  # workeroutput: --resume left the worker no test


BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def _benchmarks_asked(config: pytest.Config) -> list[bool]:
    """For each command-line path: is it (inside) conformance/benchmarks?"""
    paths = [Path(str(a).split("::")[0]).resolve() for a in config.args]
    return [p == BENCHMARKS or BENCHMARKS in p.parents for p in paths]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The benchmarks run only when named (`pytest conformance/benchmarks`), never with the claims."""
    if collection_path == BENCHMARKS and not any(_benchmarks_asked(config)):
        return True
    return None


class _State:
    def __init__(self, config: pytest.Config) -> None:
        from conformance.adapters import current
        from conformance.inputs import catalogue, user_specs

        self.adapter = current()
        try:
            self.specs = catalogue.builtin_specs() + user_specs.user_specs(config.getoption("optimizer"),
                                                                          config.getoption("optimizer_spec"))
            self.deviations = expectations.load_all([Path(p) for p in config.getoption("expectations")],
                                                    builtin=not config.getoption("no_builtin_expectations"))
        except (user_specs.UsageError, ValueError, OSError) as e:
            raise pytest.UsageError(str(e)) from None
        versions = self.adapter.versions()
        self.keras, self.backend = versions["keras"], versions["backend"]
        self.writer: ResultsWriter | None = None
        self.worker = hasattr(config, "workerinput")
        asked = _benchmarks_asked(config)
        self.previous: resume.Previous | None = None  # the run resumed (--resume) or reused (--reuse)
        self.reuse_note = ""  # what --reuse took, or why nothing
        # The claims not to run: a worker is told by the controller, which has read the file.
        self.done: set[resume.Key] = {tuple(k) for k in config.workerinput.get(_DONE, [])} if self.worker else set()
        self.results: Path | None = None  # the results file, which the writer's .partial becomes at the end
        self.nothing_left = False  # --resume deselected every test that was left to run
        self.interrupted = ""  # how the run stopped before its end (the .partial is kept): "interrupted (...)"
        self.published = False  # the .partial became the results file
        # The xdist controller or a plain run owns the file; a benchmarks-only run writes none.
        if not self.worker and not (asked and all(asked)):
            info = run_info(self.adapter, profiles.current(), config.getoption("hypothesis_seed", None))
            info["fingerprint"] = fingerprint.of_run(config, self.specs, info, repr(hypothesis.settings.default))
            if config.getoption("shard"):
                info["shard"] = config.getoption("shard")
            self.results = Path(config.getoption("results"))
            problem = writer.target_problem(self.results)
            if problem:
                raise pytest.UsageError(problem)
            reuse = config.getoption("reuse")
            if reuse and config.getoption("resume"):
                raise pytest.UsageError(
                    "--reuse FILE starts a new results file, --resume continues one: give one of them"
                )
            try:
                if config.getoption("resume"):
                    self.previous = resume.load(resume.source(self.results), info)
                elif reuse:
                    settings = hypothesis.settings.default
                    derandomized = settings.derandomize and settings.database is None
                    self.previous, self.reuse_note = resume.reusable(Path(reuse), info, derandomized)
            except resume.UsageError as e:
                raise pytest.UsageError(str(e)) from None
            self.done = self.previous.done if self.previous else set()
            # Nothing is written before the first verdict: --help, --collect-only or an empty
            # selection leave every file as it was.
            layouts = [
                r
                for r in catalogue.layouts(self.specs)
                if self.previous is None or r["optimizer"] not in self.previous.layouts
            ]
            self.writer = ResultsWriter(
                writer.partial_path(self.results),
                info,
                resume=self.previous is not None,
                layouts=layouts,
                start_from=self.previous.path if self.previous else None,
            )
        # The terminal matrix: a resumed run's shows the whole file, this run's verdicts over the earlier ones.
        # (defaults verdict, verdict) per (optimizer, claim)
        self.verdicts: dict[tuple[str, str], tuple[str, str]] = dict(self.previous.verdicts) if self.previous else {}
        self.deviated: dict[tuple[str, str], dict[str, str]] = {}  # per condition: "kind|upstream" of a deviation
        self.stale: list[str] = []
        self.started: dict[str, tuple[float, int]] = {}
        self.pending: dict[str, dict[str, Any]] = {}  # nodeid -> claim fields, of claims set up (controller)
        self.recorded: set[str] = set()  # nodeids with a verdict written in this run
        self.report = ""  # the HTML report's path and size, or why it was not written
        limit = config.getoption("claim_timeout")
        limit = timeouts.default_limit(profiles.current()) if limit is None else limit
        # stderr as it is now, before pytest captures it during tests: the watchdog's last words go there.
        self.stderr_fd = os.dup((sys.__stderr__ or sys.stderr).fileno())
        self.guard = timeouts.Guard(limit, self.stderr_fd) if limit > 0 else None


@pytest.hookimpl(trylast=True)  # after hypothesis has loaded --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    # NaN and Inf are values the suite compares, not accidents; Keras's own warning about
    # serialising a callable learning rate is what the reset claims record as a finding.
    config.addinivalue_line("filterwarnings", "ignore::RuntimeWarning:conformance.*")
    config.addinivalue_line("filterwarnings", "ignore:The object being serialized includes a `lambda`:UserWarning")
    config.addinivalue_line("filterwarnings", "ignore:Skipping variable loading:UserWarning")
    profiles.limit_shrinking(profiles.current(), config.getoption("shrink_budget"))
    profiles.without_local_constants()
    config.stash[_KEY] = _State(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "spec" in metafunc.fixturenames:
        specs = metafunc.config.stash[_KEY].specs
        marker = metafunc.definition.get_closest_marker("claim")
        # the claim id in the test id, so that `-k zero_grad.weights_unchanged` selects a claim
        prefix = f"{marker.args[0].id}-" if marker else ""
        metafunc.parametrize("spec", specs, ids=[prefix + s.name for s in specs])


def _claim_of(item: pytest.Item) -> tuple[Any, Any] | None:
    """(spec, claim) of a claim test, None for any other test."""
    marker = item.get_closest_marker("claim")
    params = getattr(getattr(item, "callspec", None), "params", {})
    return None if marker is None or "spec" not in params else (params["spec"], marker.args[0])


def _claim_fields(spec: Any, claim: Any, nodeid: str) -> dict[str, Any]:
    return {
        "optimizer": spec.name,
        "optimizer_kind": spec.kind,
        "claim": claim.id,
        "claim_text": claim.text,
        "source": claim.source,
        "nodeid": nodeid,
        **({"parents": list(spec.parents)} if spec.parents else {}),
    }


# trylast: after -k, -m and --deselect, so that "nothing left" means the selection is all done
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--resume: deselect the claims the results file already has (on each xdist worker too);
    --shuffle: reorder the rest (the same way on every worker, as xdist requires)."""
    st: _State = config.stash[_KEY]
    if config.getoption("shard"):
        _keep_shard(config, items)
    if config.getoption("shuffle") is not None:
        isolation.shuffle(items, config.getoption("shuffle"))
    if not st.done:
        return

    def key(item: pytest.Item) -> resume.Key | None:
        found = _claim_of(item)
        return (found[0].name, found[1].id) if found else None

    items[:], drop = resume.deselect(items, st.done, key)
    if drop:
        config.hook.pytest_deselected(items=drop)
        if not items:  # the controller of xdist workers hears of it in pytest_testnodedown
            st.nothing_left = True
            if st.worker:
                config.workeroutput[_NOTHING_LEFT] = True


def _keep_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--shard K/N: deselect the tests of the other shards (the same partition on every process)."""
    k, n = shards.parse(config.getoption("shard"))
    found = [_claim_of(i) for i in items]
    keys = [shards.key_text(f[0].name, f[1].id) if f else i.nodeid for i, f in zip(items, found)]
    shard_of = shards.assign(keys, shards.stored(config.getoption("shard_durations")), n)
    drop = [i for i, key in zip(items, keys) if shard_of[key] != k]
    items[:] = [i for i, key in zip(items, keys) if shard_of[key] == k]
    if drop:
        config.hook.pytest_deselected(items=drop)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: a worker whose --resume deselection left nothing to run."""
    if getattr(node, "workeroutput", {}).get(_NOTHING_LEFT):
        node.config.stash[_KEY].nothing_left = True


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: tell each worker (a replacement for a crashed one too) which claims the
    resumed file has, so that every worker deselects the same tests as the others."""
    node.workerinput[_DONE] = sorted(node.config.stash[_KEY].done)


# trylast: the innermost wrapper, so that the timer runs around the test and no other plugin's code
@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item):
    st: _State = item.config.stash[_KEY]
    found = _claim_of(item)
    rc = running.start(*(found[0].name, found[1].id) if found else ("", ""))
    item.stash[_RUNNING] = rc
    st.started[item.nodeid] = (time.perf_counter(), rc.drawn)
    if st.guard is None or found is None:
        yield
        return
    st.guard.start(lambda context: _stuck(item, *found, context))
    try:
        yield
    finally:
        st.guard.stop()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Worker processes serve the tests of one module (distributed, backends): stopped when the
    next test is in another, so that one process does not keep every kind alive at once (each
    holds a framework: 0.5 to 1 GB)."""
    workers = sys.modules.get("conformance.distributed.host")
    if workers is not None and (nextitem is None or nextitem.path != item.path):
        workers.stop_all()


def _stuck(item: pytest.Item, spec: Any, claim: Any, context: dict[str, Any]) -> None:
    """The watchdog's record of a claim stuck past --claim-timeout (from its thread; the process
    ends next): written here, or sent to the xdist controller as the test's report."""
    st: _State = item.config.stash[_KEY]
    rc = item.stash.get(_RUNNING, None)
    done = (
        verdicts.record(rc.outcomes, spec.name, claim.id, st.deviations, st.keras, st.backend, parents=spec.parents)[
            "conditions"
        ]
        if rc and rc.outcomes
        else {}
    )
    record = {
        **_claim_fields(spec, claim, item.nodeid),
        **verdicts.error(context["message"], context["configuration"], done),
        "duration_s": context["duration_s"],
        "examples": context["examples"],
    }
    if st.writer is not None:
        st.writer.write(record)
    elif st.worker:
        report = pytest.TestReport(
            item.nodeid, item.location, {}, "failed", context["message"], "call", user_properties=[(_PROP, record)]
        )
        item.ihook.pytest_runtest_logreport(report=report)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = (yield).get_result()
    found = _claim_of(item)
    if found is None or call.when == "teardown":
        return
    st: _State = item.config.stash[_KEY]
    spec, claim = found
    if call.when == "setup" and report.passed:
        if st.worker:
            report.user_properties.append((_CLAIM, _claim_fields(spec, claim, item.nodeid)))
        return
    rc = item.stash.get(_RUNNING, None) or running.RunningClaim(spec.name, claim.id)
    t0, drawn0 = st.started.get(item.nodeid, (time.perf_counter(), rc.drawn))
    exc = call.excinfo.value if call.excinfo else None
    outcomes = list(rc.outcomes)
    if exc is not None and not any(o.exc is exc for o in outcomes):  # raised outside a condition (setup, harness)
        outcomes.append(running.Outcome(rc.condition if outcomes else "drawn", exc, rc.case))
    record = {
        **_claim_fields(spec, claim, item.nodeid),
        **verdicts.record(outcomes, spec.name, claim.id, st.deviations, st.keras, st.backend, parents=spec.parents),
        "duration_s": round(time.perf_counter() - t0, 3),
        "examples": rc.drawn - drawn0,
        **({"ran_on": dict(rc.ran_on)} if rc.ran_on else {}),
    }
    if record["verdict"] in ("fail", "error"):
        report.outcome = "failed"
    if record["verdict"] == "fail" or record["verdict"] == "error" and exc is None:
        report.longrepr = _failure_text(record)
    if isinstance(exc, ClaimTimeout):
        report.longrepr = record["message"]  # where it was, not hypothesis's and pytest's frames
    if record["verdict"] == "unsupported":
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"unsupported: {record['message']}")
    elif record["verdict"] == "deviation":
        report.outcome = "skipped"
        report.wasxfail = f"deviation: {record['reason']}"
    # plain JSON types only: xdist sends the record to the controller (a value read from a Keras
    # config may be one of Keras's tracked lists)
    report.user_properties.append((_PROP, writer.plain(record)))


def _failure_text(r: dict[str, Any]) -> str:
    """What a maintainer needs to file a bug, instead of the harness's traceback."""
    conditions = " · ".join(f"{n} {c['verdict']}" for n, c in (r.get("conditions") or {}).items())
    lines = [
        f"claim     {r['claim']}: {r['claim_text']}",
        f"source    {r['source']}",
        f"condition {r.get('condition')} (of: {conditions})",
        f"optimizer {r['optimizer']}: {r['configuration']}",
        f"inputs    dtype {r['dtype']}, weight shapes {r['shapes']}",
        "",
        r["message"],
        "",
        "minimal counterexample (hypothesis)" if r.get("condition") == "drawn" else "the fixed case checked",
        *("    " + x for x in (r["counterexample"] or "").splitlines() if x.strip()),
    ]
    if r["reproducer"]:
        lines += ["", "standalone reproducer (keras + numpy):", *("    " + x for x in r["reproducer"].splitlines())]
    return "\n".join(lines)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """A hypothesis release the suite's hooks do not expect is named at the top of the run."""
    from conformance.core import hypothesis_hooks

    problem = hypothesis_hooks.version_problem()
    return [f"warning: {problem}"] if problem else []


def pytest_sessionstart(session: pytest.Session) -> None:
    st: _State = session.config.stash[_KEY]

    class Recorder:
        @staticmethod
        def pytest_runtest_logreport(report: pytest.TestReport) -> None:
            if st.writer is None:
                return
            for name, record in report.user_properties:
                if name == _CLAIM:
                    st.pending[report.nodeid] = record
                elif name == _PROP:
                    _record(st, record)
            # xdist's report of a test whose worker died (when "???"): a native abort, a segfault,
            # or a claim stuck past --claim-timeout whose record did not get through.
            if (
                getattr(report, "when", None) == "???"
                and report.nodeid not in st.recorded
                and report.nodeid in st.pending
            ):
                _record(
                    st,
                    {
                        **st.pending[report.nodeid],
                        **verdicts.error(
                            f"the worker process crashed while running this claim: {report.longrepr} (a native abort "
                            "or segfault, or a claim stuck past --claim-timeout: the worker's stack is on stderr)"
                        ),
                        "duration_s": None,
                        "examples": None,
                    },
                )

    session.config.pluginmanager.register(Recorder(), "conformance-recorder")


def _record(st: _State, record: dict[str, Any]) -> None:
    assert st.writer is not None
    st.writer.write(record)
    st.recorded.add(record["nodeid"])
    st.pending.pop(record["nodeid"], None)
    key = (record["optimizer"], record["claim"])
    st.verdicts[key] = (condition_verdict(record, "defaults"), record["verdict"])
    found = {n: c for n, c in (record.get("conditions") or {}).items() if c.get("verdict") == "deviation"}
    if found:
        st.deviated[key] = {n: f"{c.get('kind', '?')}|{c.get('upstream', '')}" for n, c in found.items()}
    else:
        st.deviated.pop(key, None)
    if record["stale"]:
        why = record["stale"].split(": ")[0].split(". ")[0][:90]
        st.stale.append(f"{record['optimizer']} / {record['claim']}: declared deviation did not occur ({why}...)")


def _stopped(session: pytest.Session, exitstatus: int) -> str:
    """Why the run stopped before its end ("" if it did not): Ctrl-C or pytest.exit(), -x or
    --maxfail (xdist stops its workers for them too), an internal error."""
    if session.shouldstop or session.shouldfail:
        return f"interrupted ({session.shouldstop or session.shouldfail})"
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return "interrupted"
    if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        return "interrupted by an internal error"
    return ""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that ended normally (failures or not) makes its .partial the results file, then
    renders its HTML report (a failure to render is said, not raised); a run that stopped before
    its end keeps the .partial for --resume and leaves the results file as it was."""
    config = session.config
    st = config.stash.get(_KEY, None)
    if st is None or st.writer is None or st.results is None:
        return
    if st.nothing_left and not st.writer.started and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK  # resumed, all done: success, not "no tests collected"
    st.interrupted = _stopped(session, exitstatus)
    st.writer.close()
    if st.interrupted:
        if exitstatus not in _SUMMARY_STATUSES:  # no terminal summary comes: say it now
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            for line in _results_lines(st):
                (reporter.write_line(line) if reporter else print(line, file=sys.stderr))
        return
    # A resume that continues a .partial and finds nothing left to run finishes it as it is; a run
    # that reused every verdict it selected writes them.
    reused = bool(config.getoption("reuse"))
    finishing = st.nothing_left and st.previous is not None and (st.previous.path == st.writer.path or reused)
    if config.getoption("collectonly") or not (st.writer.started or finishing):
        return
    if not st.writer.started and not reused:
        st.writer.repair()
    elif not st.writer.started:
        st.writer.begin()
        st.writer.close()
    writer.publish(st.writer.path, st.results)
    st.published = True
    if config.getoption("no_report"):
        return
    from conformance.report.inputs import read_results
    from conformance.report.render import render_file

    out = Path(config.getoption("report") or st.results.with_suffix(".html"))
    try:
        rendered = render_file(out, read_results([st.results]))
        st.report = f"{out} ({rendered.rows} rows, rendered in {rendered.seconds:.1f} s)"
    except Exception as e:  # noqa: BLE001 - the verdicts are written; the report is a view of them
        st.report = f"not written: {type(e).__name__}: {e} (python -m conformance.report {st.results} renders it)"


# The exit statuses after which pytest writes the terminal summary.
_SUMMARY_STATUSES = (
    pytest.ExitCode.OK,
    pytest.ExitCode.TESTS_FAILED,
    pytest.ExitCode.INTERRUPTED,
    pytest.ExitCode.NO_TESTS_COLLECTED,
)


def _results_lines(st: _State) -> list[str]:
    """What became of the results file: written, left as it was, or a .partial to resume."""
    assert st.writer is not None and st.results is not None
    partial, path = st.writer.path, st.results
    kept = f"{path} is as the last complete run left it" if path.exists() else f"{path} is not written yet"
    out = []
    if st.interrupted and (
        st.writer.started or partial.exists() and st.previous is not None and st.previous.path == partial
    ):
        out.append(
            f"{st.interrupted}: the verdicts so far are in {partial}; run again with --resume to continue it ({kept})"
        )
    elif st.interrupted:
        out.append(f"{st.interrupted} before any verdict: {path} is as it was")
    elif st.published or st.nothing_left:
        out.append(f"results: {path}")
    else:
        out.append(f"results: no verdict in this run, so {path} is as it was")
    if st.reuse_note:  # --reuse: what it took (the claims run now are counted above)
        out.insert(0, st.reuse_note + (f", {len(st.recorded)} run now" if st.previous is not None else ""))
    elif st.nothing_left and st.previous is not None:
        out.append(
            f"resume: every claim in {st.previous.path} already has a verdict; nothing to run"
            + (f" ({partial} is now {path})" if st.published else "")
        )
    elif st.previous is not None:
        out.append(
            f"resumed: {len(st.previous.done)} claim(s) already done in {st.previous.path}, {len(st.recorded)} run now"
            + (f" (a cut-off last line of {st.previous.repaired} bytes was removed)" if st.previous.repaired else "")
        )
    return out


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    st = config.stash.get(_KEY, None)
    if st is None:
        return
    if st.verdicts:
        from conformance.harness.matrix import deviation_summary, render

        terminalreporter.write_sep("=", "conformance verdicts")
        terminalreporter.write_line(render(st.verdicts, SYMBOL))
        for line in deviation_summary(st.deviated):
            terminalreporter.write_line(line)
        for line in st.stale:
            terminalreporter.write_line(f"STALE: {line}")
    if st.writer is not None and st.results is not None:
        for line in _results_lines(st):
            terminalreporter.write_line(line)
    if st.report:
        terminalreporter.write_line(f"report: {st.report}")


def pytest_unconfigure(config: pytest.Config) -> None:
    st = config.stash.get(_KEY, None)
    if st is not None and st.writer is not None:
        st.writer.close()  # not made the results file: only pytest_sessionfinish does that
    if st is not None:
        os.close(st.stderr_fd)
