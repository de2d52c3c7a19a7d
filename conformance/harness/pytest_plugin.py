"""The entry point pytest loads from the installed package (`pytest11`): options, usage checks, and
the suite's plugin (plugin.py) switched on only for a run of the suite itself.

Installing the package must not change another project's test runs: this module imports neither
Keras nor hypothesis, and does nothing unless a path pytest was given lies inside the installed
`conformance` package (`pytest conformance`, `pytest --pyargs conformance`,
`keras-conformance run`).
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent
_ACTIVE = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    from conformance.core import timeouts

    group = parser.getgroup("conformance", "keras optimizer conformance (active for `pytest --pyargs conformance`)")
    group.addoption("--results", default="reports/results.jsonl", help="JSON-lines results file (default: %(default)s)")
    group.addoption("--optimizer", action="append", default=[], metavar="MODULE:ATTR",
                    help="add a user optimizer class or factory (repeatable)")
    group.addoption("--optimizer-spec", action="append", default=[], metavar="MODULE:ATTR",
                    help="add a user optimizer by its OptimizerSpec, whose `construct` builds it (repeatable; "
                         "see docs/your-optimizer.md)")
    group.addoption("--shrink-budget", type=int, default=None, help="successful shrinks per failing claim")
    group.addoption("--expectations", action="append", default=[], metavar="FILE",
                    help="a file of declared deviations, added to the built-in ones (repeatable)")
    group.addoption("--no-builtin-expectations", action="store_true",
                    help="judge with the --expectations files only, not with the suite's own")
    group.addoption("--report", default=None, metavar="PATH",
                    help="HTML report of this run, written at the end (default: the results file with .html)")
    group.addoption("--no-report", action="store_true", help="do not write the HTML report")
    group.addoption("--claim-timeout", type=float, default=None, metavar="SECONDS",
                    help=f"stop a claim after this long: verdict error (default {timeouts.DEFAULT_S:g}, "
                         f"thorough profile {timeouts.PROFILE_DEFAULT_S['thorough']:g}; 0: no limit)")
    group.addoption("--shuffle", type=int, default=None, metavar="SEED",
                    help="run the tests in an order shuffled by SEED (verdicts must not depend on the order)")
    group.addoption("--shard", default=None, metavar="K/N",
                    help="run the K-th of N parts of the selected claims, balanced by stored durations "
                         "(merge joins the N results files into one column)")
    group.addoption("--shard-durations", default=None, metavar="FILE",
                    help="the durations --shard balances: a results file or a JSON object "
                         "(default: the suite's durations.json)")
    group.addoption("--resume", action="store_true",
                    help="append to the --results file, running only its claims without a verdict other than error")
    group.addoption("--reuse", default=None, metavar="FILE",
                    help="start --results from FILE's verdicts (not its errors) and run only the other claims, where "
                         "FILE's run had this run's fingerprint: the same suite code, expectations, optimizer sources, "
                         "installed packages, machine, settings and a derandomized profile (ci, quick); else run all")


def _arg_path(arg: str, config: pytest.Config) -> Path | None:
    """Where a command-line argument points: a path, or with --pyargs a module or package."""
    arg = arg.split("::")[0]
    if config.getoption("pyargs", False) and not os.path.exists(arg):
        try:
            found = importlib.util.find_spec(arg)
        except (ImportError, ValueError):
            return None
        if found is None:
            return None
        if found.submodule_search_locations:
            return Path(list(found.submodule_search_locations)[0]).resolve()
        return Path(found.origin).resolve() if found.origin else None
    return (Path(config.invocation_params.dir) / arg).resolve()


def active(config: pytest.Config) -> bool:
    """Is this a run of the suite: does a path pytest was given lie inside the package?"""
    for arg in config.args:
        p = _arg_path(str(arg), config)
        if p is not None and (p == PACKAGE or PACKAGE in p.parents):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Bad option values are usage errors (exit 4) before anything runs, not tracebacks later."""
    config.stash[_ACTIVE] = active(config)
    if config.stash[_ACTIVE]:
        # TensorFlow's C++ start-up notices on stderr are not the suite's output (set before it is imported)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from conformance.harness.usage import check_options

        check_options(config)


@pytest.hookimpl(trylast=True)  # after hypothesis has loaded --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    # an xdist worker has no cmdline_main: it decides from the same arguments
    on = config.stash.get(_ACTIVE, None)
    if on is None:
        on = config.stash[_ACTIVE] = active(config)
    if not on:
        return
    # The suite's own settings, wherever it runs from (another project's pytest.ini aside).
    config.addinivalue_line("markers", "claim(claim): the claim a conformance scenario test checks")
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore::hypothesis.errors.NonInteractiveExampleWarning")
    # pytest applied the ini's filters to this hook before the lines above were added; the plugin's
    # own set-up (building every optimizer for its layout) runs now, under the same filters
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from conformance.harness import plugin

    config.pluginmanager.register(plugin, "conformance-suite")
