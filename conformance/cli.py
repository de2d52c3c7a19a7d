"""`keras-conformance` (and `python -m conformance`): run the suite, list what it checks, render and
merge results.

    keras-conformance run [PYTEST ARGS...]       the suite: pytest --pyargs conformance ...
    keras-conformance list [claims|optimizers] [--optimizer M:A] [--optimizer-spec M:A]
    keras-conformance report RESULTS... [-o FILE] ...   (python -m conformance.report)
    keras-conformance merge RESULTS... [--out FILE] ... (python -m conformance.records.merge)
    keras-conformance upstream RESULTS... [-o FOLDER]   a draft bug report per unreported Keras bug found
    keras-conformance bisect CLAIM OPTIMIZER --keras FIRST..LAST   the first Keras release whose verdict differs
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

USAGE = "keras-conformance {run,list,report,merge,upstream} ... (keras-conformance SUBCOMMAND --help for each)"


def run(argv: list[str]) -> int:
    """The suite with the given pytest arguments, wherever it is installed: exactly
    `python -m pytest --pyargs conformance ARGS`, in a process of its own (this one has imported
    the package already, and pytest rewrites the asserts of the plugin's modules as it imports them)."""
    command = [sys.executable, "-m", "pytest", "--pyargs", "conformance", *argv]
    if os.name == "posix":
        os.execv(sys.executable, command)
    import subprocess

    return subprocess.call(command)


def list_(argv: list[str]) -> int:
    from conformance.inputs.user_specs import UsageError

    parser = argparse.ArgumentParser(
        prog="keras-conformance list", description="the claims and the optimizers, without running them"
    )
    parser.add_argument("what", nargs="?", choices=("claims", "optimizers", "all"), default="all")
    parser.add_argument("--optimizer", action="append", default=[], metavar="MODULE:ATTR")
    parser.add_argument("--optimizer-spec", action="append", default=[], metavar="MODULE:ATTR")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())  # MODULE:ATTR from the current directory, as `python -m pytest` finds it
    from conformance.tools import listing

    try:
        lines = listing.lines(args.what, args.optimizer, args.optimizer_spec)
    except UsageError as e:
        print(f"keras-conformance list: {e}", file=sys.stderr)
        return 4
    print("\n".join(lines))
    return 0


def _module_main(name: str) -> Callable[[list[str]], int]:
    def call(argv: list[str]) -> int:
        import importlib

        return int(importlib.import_module(name).main(argv))

    return call


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "run": run,
    "list": list_,
    "report": _module_main("conformance.report.__main__"),
    "merge": _module_main("conformance.records.merge"),
    "upstream": _module_main("conformance.tools.upstream"),
    "bisect": _module_main("conformance.tools.bisect"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up notices are not the suite's output
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() if argv else f"usage: {USAGE}", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"keras-conformance: unknown command {argv[0]!r} (usage: {USAGE})", file=sys.stderr)
        return 2
    return command(argv[1:])
