"""python -m conformance.report RESULTS... [-o FILE] [--baseline OLD... | --diff A B] [--benchmarks JSON...]

RESULTS are results files (JSON lines, one environment each) or directories of them; their columns
come in version order. With --baseline, each environment is compared with the baseline run of the
same label (one file against one file whatever the labels): newly failing, newly passing, added and
removed claims are marked (where the claim's verdict stayed the same, by how its conditions changed)
and the regressions listed at the top. --diff A B does the same for two columns of RESULTS: column B
against column A as its baseline. --benchmarks adds the performance section from pytest-benchmark
JSON files (or directories of them). A file that cannot be read in full is named, with its line, at
the top of the report and on stderr; the rest still renders. Exit status: 0 written, 2 bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conformance.records.results_format import Parser, UsageError
from conformance.report.inputs import read_benchmarks, read_results, two_columns
from conformance.report.render import ORDERS, render_file

USAGE = ("python -m conformance.report RESULTS... [-o FILE] [--baseline OLD... | --diff LABEL_A LABEL_B] "
         "[--benchmarks JSON...] [--rows claim|optimizer] [--title TEXT]")


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m conformance.report", usage=USAGE, description=__doc__.split("\n\n")[1])
    parser.add_argument("results", nargs="*", type=Path, help="results files, or directories of them")
    parser.add_argument(
        "-o", "--out", type=Path, default=Path("reports/index.html"), help="the HTML file (default %(default)s)"
    )
    parser.add_argument("--baseline", nargs="+", type=Path, default=[], metavar="OLD", help="results to compare with")
    parser.add_argument(
        "--diff",
        nargs=2,
        metavar=("LABEL_A", "LABEL_B"),
        help="compare column LABEL_B of RESULTS with column LABEL_A (labels as the columns are labelled)",
    )
    parser.add_argument(
        "--benchmarks",
        nargs="+",
        type=Path,
        default=[],
        metavar="JSON",
        help="pytest-benchmark JSON files or directories",
    )
    parser.add_argument(
        "--rows", choices=ORDERS, default="claim", help="initial grouping of the rows (the page can switch)"
    )
    parser.add_argument("--title", default="Keras optimizer conformance")
    try:
        args = parser.parse_args(argv)
        if not args.results:
            raise UsageError("no results files given")
        if args.diff and args.baseline:
            raise UsageError("--diff compares two columns of RESULTS: give it or --baseline, not both")
        current = read_results(args.results)
        base = read_results(args.baseline, "baseline") if args.baseline else None
        if args.diff:
            current, base = two_columns(current, *args.diff)
        bench = read_benchmarks(args.benchmarks) if args.benchmarks else None
        try:
            rendered = render_file(args.out, current, base, bench, order=args.rows, title=args.title)
        except OSError as e:
            raise UsageError(f"{args.out}: cannot write ({e.strerror})") from None
    except UsageError as e:
        print(f"conformance.report: {e} (usage: {USAGE})", file=sys.stderr)
        return 2
    problems = current.problems + (base.problems if base else []) + (bench[1] if bench else [])
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    size = args.out.stat().st_size
    print(
        f"report: {args.out} ({rendered.environments} environment(s), {rendered.rows} rows, "
        f"{size / 1e6:.2f} MB, rendered in {rendered.seconds:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
