"""The pytest plugin of the suite: options, verdicts, results file and the terminal matrix.

Loaded by conformance/conftest.py, so it is active for `pytest conformance` only. Verdicts are
computed where a test runs and travel on the report (`user_properties`), so they are written by
the process that owns the results file, with or without pytest-xdist.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from . import expectations, profiles, results, strategies
from .results import ResultsWriter, run_info
from .verdicts import classify

SYMBOL = {"pass": "P", "fail": "F", "deviation": "D", "unsupported": "U", "error": "E"}
_KEY = pytest.StashKey["_State"]()
_PROP = "conformance_verdict"


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
        asked = _benchmarks_asked(config)
        # The xdist controller or a plain run owns the file; a benchmarks-only run writes none.
        if not hasattr(config, "workerinput") and not (asked and all(asked)):
            info = run_info(self.adapter, profiles.current(), config.getoption("hypothesis_seed", None))
            self.writer = ResultsWriter(Path(config.getoption("results")), info)
            for record in catalogue.layouts(self.specs):
                self.writer.write({"layout": record})
        self.verdicts: dict[tuple[str, str], str] = {}
        self.stale: list[str] = []
        self.started: dict[str, tuple[float, int]] = {}
        self.report = ""  # the HTML report's path and size, or why it was not written


@pytest.hookimpl(trylast=True)  # after hypothesis has loaded --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(claim): the claim a scenario test checks")
    # NaN and Inf are values the suite compares, not accidents; Keras's own warning about
    # serialising a callable learning rate is what the reset claims record as a finding.
    config.addinivalue_line("filterwarnings", "ignore::RuntimeWarning:conformance.*")
    config.addinivalue_line("filterwarnings", "ignore:The object being serialized includes a `lambda`:UserWarning")
    config.addinivalue_line("filterwarnings", "ignore:Skipping variable loading:UserWarning")
    profiles.limit_shrinking(profiles.current(), config.getoption("shrink_budget"))
    config.stash[_KEY] = _State(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "spec" in metafunc.fixturenames:
        specs = metafunc.config.stash[_KEY].specs
        metafunc.parametrize("spec", specs, ids=[s.name for s in specs])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    item.config.stash[_KEY].started[item.nodeid] = (time.perf_counter(), strategies.DRAWN[0])
    results.RAN_ON.clear()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = (yield).get_result()
    marker = item.get_closest_marker("claim")
    params = getattr(getattr(item, "callspec", None), "params", {})
    if marker is None or "spec" not in params or call.when == "teardown" or (call.when == "setup" and report.passed):
        return
    st: _State = item.config.stash[_KEY]
    spec, claim = params["spec"], marker.args[0]
    t0, drawn0 = st.started.get(item.nodeid, (time.perf_counter(), strategies.DRAWN[0]))
    exc = call.excinfo.value if call.excinfo else None
    record = {
        "optimizer": spec.name,
        "optimizer_kind": spec.kind,
        "claim": claim.id,
        "claim_text": claim.text,
        "source": claim.source,
        **classify(exc, spec.name, claim.id, st.deviations, st.keras, st.backend),
        "duration_s": round(time.perf_counter() - t0, 3),
        "examples": strategies.DRAWN[0] - drawn0,
        "nodeid": item.nodeid,
        **({"ran_on": dict(results.RAN_ON)} if results.RAN_ON else {}),
    }
    if record["verdict"] == "fail":
        report.longrepr = _failure_text(record)
    if record["verdict"] == "unsupported":
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"unsupported: {record['message']}")
    elif record["verdict"] == "deviation":
        report.outcome = "skipped"
        report.wasxfail = f"deviation: {record['reason']}"
    report.user_properties.append((_PROP, record))


def _failure_text(r: dict[str, Any]) -> str:
    """What a maintainer needs to file a bug, instead of the harness's traceback."""
    lines = [
        f"claim     {r['claim']}: {r['claim_text']}",
        f"source    {r['source']}",
        f"optimizer {r['optimizer']}: {r['configuration']}",
        f"inputs    dtype {r['dtype']}, weight shapes {r['shapes']}",
        "",
        r["message"],
        "",
        "minimal counterexample (hypothesis):",
        *("    " + x for x in r["counterexample"].splitlines() if x.strip()),
    ]
    if r["reproducer"]:
        lines += ["", "standalone reproducer (keras + numpy):", *("    " + x for x in r["reproducer"].splitlines())]
    return "\n".join(lines)


def pytest_sessionstart(session: pytest.Session) -> None:
    st: _State = session.config.stash[_KEY]

    class Recorder:
        @staticmethod
        def pytest_runtest_logreport(report: pytest.TestReport) -> None:
            for name, record in report.user_properties:
                if name == _PROP and st.writer is not None:
                    st.writer.write(record)
                    st.verdicts[(record["optimizer"], record["claim"])] = record["verdict"]
                    if record["stale"]:
                        why = record["stale"].split(": ")[0].split(". ")[0][:90]
                        st.stale.append(f"{record['optimizer']} / {record['claim']}: declared deviation did not occur ({why}...)")

    session.config.pluginmanager.register(Recorder(), "conformance-recorder")


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
    from .matrix import render

    terminalreporter.write_sep("=", "conformance verdicts")
    terminalreporter.write_line(render(st.verdicts, SYMBOL))
    for line in st.stale:
        terminalreporter.write_line(f"STALE: {line}")
    terminalreporter.write_line(f"results: {st.writer.path if st.writer else '?'}")
    if st.report:
        terminalreporter.write_line(f"report: {st.report}")


def pytest_unconfigure(config: pytest.Config) -> None:
    st = config.stash.get(_KEY, None)
    if st is not None and st.writer is not None:
        st.writer.close()
