"""Size and render time of the HTML report for the results files given, and (with --browser) the
time headless Chromium takes to open it and unpack the cell details.

Run from the repository root: `python conformance/tools/report_render.py reports/*.jsonl [--browser]`.
Prints one table: inputs, rows, cells, file size and its parts, render time (best of --repeat).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from conformance.report.inputs import read_results
from conformance.report.render import build

ROOT = Path(__file__).resolve().parents[2]


def browser_load(path: Path, repeat: int) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from tests import webdriver  # the tests' standard-library WebDriver client

    found = webdriver.find()
    if found is None:
        raise SystemExit("--browser: no chromium + chromedriver installed")
    b = webdriver.Browser(*found)
    try:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            b.open(path)  # returns when the document has loaded
            b.wait("return document.body.dataset.ready")
            times.append(time.perf_counter() - t0)
        return times
    finally:
        b.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="also time opening it in headless Chromium")
    args = parser.parse_args()
    t0 = time.perf_counter()
    inputs = read_results(args.results)
    read_s = time.perf_counter() - t0
    renders = [build(inputs) for _ in range(args.repeat)]
    html = renders[0].html
    start = html.index('id="details-data">')
    payload = html.index("</script>", start) - start
    size = len(html.encode("utf-8"))
    rows = renders[0].rows
    print(
        f"inputs         {len(inputs.runs)} results files, "
        f"{sum(f.stat().st_size for f in map(Path, (r.path for r in inputs.runs))) / 1e6:.1f} MB, "
        f"{sum(len(r.records) for r in inputs.runs)} verdicts (read in {read_s:.2f} s)"
    )
    print(f"matrix         {rows} rows x {len(inputs.runs)} environments = {rows * len(inputs.runs)} cells")
    print(
        f"report size    {size / 1e6:.2f} MB (details, gzip + base64: {payload / 1e6:.2f} MB; "
        f"matrix and page: {(size - payload) / 1e6:.2f} MB)"
    )
    print(
        f"render time    best {min(r.seconds for r in renders):.2f} s, "
        f"median {statistics.median(r.seconds for r in renders):.2f} s "
        f"of {args.repeat} (from parsed inputs to HTML text)"
    )
    if args.browser:
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "index.html"
            out.write_text(html, encoding="utf-8")
            loads = browser_load(out, args.repeat)
        print(
            f"browser open   best {min(loads):.2f} s, median {statistics.median(loads):.2f} s "
            "(headless Chromium: load the file and unpack the details)"
        )


if __name__ == "__main__":
    main()
