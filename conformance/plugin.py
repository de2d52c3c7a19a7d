"""The pytest plugin of the suite: options, verdicts, results file and the terminal matrix.

Loaded by conformance/conftest.py, so it is active for `pytest conformance` only. Verdicts are
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

import pytest

from . import expectations, isolation, profiles, results, resume, running, timeouts, verdicts
from .errors import ClaimTimeout
from .record_format import condition_verdict
from .results import ResultsWriter, run_info

SYMBOL = {"pass": "P", "fail": "F", "deviation": "D", "unsupported": "U", "error": "E"}
_KEY = pytest.StashKey["_State"]()
_RUNNING = pytest.StashKey[running.RunningClaim]()  # the claim test's running claim, on its item
_PROP = "conformance_verdict"
# Under xdist, a worker's setup report carries its claim, so that the controller can record a
# claim whose worker then crashed (xdist's crash report names only the test).
_CLAIM = "conformance_claim"
_DONE = "conformance_resume_done"  # workerinput: the claims a resumed run does not run again


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "keras optimizer conformance")
    group.addoption("--results", default="reports/results.jsonl", help="JSON-lines results file (default: %(default)s)")
    group.addoption(
        "--optimizer",
        action="append",
        default=[],
        metavar="MODULE:CLASS",
        help="add a user optimizer class or zero-argument factory (repeatable)",
    )
    group.addoption("--shrink-budget", type=int, default=None, help="successful shrinks per failing claim")
    group.addoption("--expectations", default=str(expectations.DEFAULT_PATH), help="known-deviations file")
    group.addoption("--report", default=None, metavar="PATH",
                    help="HTML report of this run, written at the end (default: the results file with .html)")
    group.addoption("--no-report", action="store_true", help="do not write the HTML report")
    group.addoption("--claim-timeout", type=float, default=None, metavar="SECONDS",
                    help=f"stop a claim after this long: verdict error (default {timeouts.DEFAULT_S:g}, "
                         f"thorough profile {timeouts.PROFILE_DEFAULT_S['thorough']:g}; 0: no limit)")
    group.addoption("--shuffle", type=int, default=None, metavar="SEED",
                    help="run the tests in an order shuffled by SEED (verdicts must not depend on the order)")
    group.addoption("--resume", action="store_true",
                    help="append to the --results file, running only its claims without a verdict other than error")


BENCHMARKS = Path(__file__).parent / "benchmarks"


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
        from . import catalogue
        from .adapters import current

        self.adapter = current()
        try:
            self.specs = catalogue.builtin_specs() + [catalogue.user_spec(p) for p in config.getoption("optimizer")]
            self.deviations = expectations.load(Path(config.getoption("expectations")))
        except (catalogue.UsageError, ValueError, OSError) as e:
            raise pytest.UsageError(str(e)) from None
        versions = self.adapter.versions()
        self.keras, self.backend = versions["keras"], versions["backend"]
        self.writer: ResultsWriter | None = None
        self.worker = hasattr(config, "workerinput")
        asked = _benchmarks_asked(config)
        self.previous: resume.Previous | None = None
        # The claims not to run: a worker is told by the controller, which has read the file.
        self.done: set[resume.Key] = {tuple(k) for k in config.workerinput.get(_DONE, [])} if self.worker else set()
        # The xdist controller or a plain run owns the file; a benchmarks-only run writes none.
        if not self.worker and not (asked and all(asked)):
            info = run_info(self.adapter, profiles.current(), config.getoption("hypothesis_seed", None))
            path = Path(config.getoption("results"))
            if config.getoption("resume"):
                try:
                    self.previous = resume.load(path, info)
                except resume.UsageError as e:
                    raise pytest.UsageError(str(e)) from None
                self.done = self.previous.done
            self.writer = ResultsWriter(path, info, resume=self.previous is not None)
            for record in catalogue.layouts(self.specs):
                if self.previous is None or record["optimizer"] not in self.previous.layouts:
                    self.writer.write({"layout": record})
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
    config.addinivalue_line("markers", "claim(claim): the claim a scenario test checks")
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
        metafunc.parametrize("spec", specs, ids=[s.name for s in specs])


def _claim_of(item: pytest.Item) -> tuple[Any, Any] | None:
    """(spec, claim) of a claim test, None for any other test."""
    marker = item.get_closest_marker("claim")
    params = getattr(getattr(item, "callspec", None), "params", {})
    return None if marker is None or "spec" not in params else (params["spec"], marker.args[0])


def _claim_fields(spec: Any, claim: Any, nodeid: str) -> dict[str, Any]:
    return {"optimizer": spec.name, "optimizer_kind": spec.kind, "claim": claim.id, "claim_text": claim.text,
            "source": claim.source, "nodeid": nodeid}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--resume: deselect the claims the results file already has (on each xdist worker too);
    --shuffle: reorder the rest (the same way on every worker, as xdist requires)."""
    st: _State = config.stash[_KEY]
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


def _stuck(item: pytest.Item, spec: Any, claim: Any, context: dict[str, Any]) -> None:
    """The watchdog's record of a claim stuck past --claim-timeout (from its thread; the process
    ends next): written here, or sent to the xdist controller as the test's report."""
    st: _State = item.config.stash[_KEY]
    rc = item.stash.get(_RUNNING, None)
    done = verdicts.record(rc.outcomes, spec.name, claim.id, st.deviations, st.keras, st.backend)["conditions"] if rc and rc.outcomes else {}
    record = {**_claim_fields(spec, claim, item.nodeid),
              **verdicts.error(context["message"], context["configuration"], done),
              "duration_s": context["duration_s"], "examples": context["examples"]}
    if st.writer is not None:
        st.writer.write(record)
    elif st.worker:
        report = pytest.TestReport(item.nodeid, item.location, {}, "failed", context["message"], "call",
                                   user_properties=[(_PROP, record)])
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
        **verdicts.record(outcomes, spec.name, claim.id, st.deviations, st.keras, st.backend),
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
    report.user_properties.append((_PROP, results.plain(record)))


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
            if getattr(report, "when", None) == "???" and report.nodeid not in st.recorded and report.nodeid in st.pending:
                _record(st, {**st.pending[report.nodeid], **verdicts.error(
                    f"the worker process crashed while running this claim: {report.longrepr} (a native abort or "
                    "segfault, or a claim stuck past --claim-timeout: the worker's stack is on stderr)"),
                    "duration_s": None, "examples": None})

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


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Render this run's HTML report from its results file (a failure to render is said, not raised)."""
    st = session.config.stash.get(_KEY, None)
    if st is None or st.writer is None or session.config.getoption("no_report"):
        return
    from .report.inputs import read_results
    from .report.render import render_file

    out = Path(session.config.getoption("report") or st.writer.path.with_suffix(".html"))
    try:
        rendered = render_file(out, read_results([st.writer.path]))
        st.report = f"{out} ({rendered.rows} rows, rendered in {rendered.seconds:.1f} s)"
    except Exception as e:  # noqa: BLE001 - the verdicts are written; the report is a view of them
        st.report = f"not written: {type(e).__name__}: {e} (python -m conformance.report {st.writer.path} renders it)"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    st = config.stash.get(_KEY, None)
    if st is None or not st.verdicts:
        return
    from .matrix import deviation_summary, render

    terminalreporter.write_sep("=", "conformance verdicts")
    terminalreporter.write_line(render(st.verdicts, SYMBOL))
    for line in deviation_summary(st.deviated):
        terminalreporter.write_line(line)
    for line in st.stale:
        terminalreporter.write_line(f"STALE: {line}")
    terminalreporter.write_line(f"results: {st.writer.path if st.writer else '?'}")
    if st.previous is not None:
        terminalreporter.write_line(f"resumed: {len(st.previous.done)} claim(s) already done in {st.previous.path}, "
                                    f"{len(st.recorded)} run now"
                                    + (f" (a cut-off last line of {st.previous.repaired} bytes was removed)" if st.previous.repaired else ""))
    if st.report:
        terminalreporter.write_line(f"report: {st.report}")


def pytest_unconfigure(config: pytest.Config) -> None:
    st = config.stash.get(_KEY, None)
    if st is not None and st.writer is not None:
        st.writer.close()
    if st is not None:
        os.close(st.stderr_fd)
