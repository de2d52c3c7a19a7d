"""`python -m conformance.report`: rendering from fixture results, several environments, escaping of
hostile text, diff mode, malformed input, the performance section, and the report written after a
run. The real-browser test is in test_report_browser.py."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.report import baseline, details
from conformance.report.__main__ import main

from .results_files import info, rec, write

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = {
    "layout": {
        "optimizer": "Adam",
        "shapes": [[2]],
        "variables": [{"name": "v0_momentum", "shape": [2], "dtype": "float32"}],
    }
}


VOID = {"meta", "br", "input", "img", "hr", "link", "col", "source", "wbr"}


class Page(HTMLParser):
    """Every start tag with its attributes, the matrix rows' cells (and each row's history lines, apart
    from its label), the grids' cells, and the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: dict[str, list[dict[str, str]]] = {"claim": [], "optimizer": []}  # per order
        self.text: list[str] = []
        self._order = ""
        self._cell: dict[str, str] | None = None
        self._row = False  # inside a matrix row (not a group's header row)
        self._hist = False  # inside a row label's history line
        self._in: list[str] = []
        self.scripts: list[str] = []
        # per environment: the grid's optimizers (columns) and its rows {"claim", "label", "cells"}
        self.grids: dict[str, dict] = {}
        self._grid: dict | None = None
        self._gcell: dict[str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag not in VOID:
            self._in.append(tag)
        if tag == "tbody" and "order" in (a.get("class") or ""):
            self._order = a["data-order"]
        elif tag == "tr":
            self._row = a.get("class") == "row" and bool(self._order)
            if self._row:
                self.rows[self._order].append({"attrs": a, "head": "", "cells": [], "history": []})
        elif tag in ("td", "th") and self._row:
            self._cell = {"tag": tag, "class": a.get("class") or "", "text": ""}
        elif tag == "span" and a.get("class") == "hist" and self._cell is not None:
            self._hist = True
            self.rows[self._order][-1]["history"].append("")
        elif tag == "script":
            self.scripts.append("")
        self._grid_start(tag, a)

    def _grid_start(self, tag: str, a: dict[str, str | None]) -> None:
        if tag == "table" and a.get("class") == "grid":
            self._grid = self.grids.setdefault(a["data-e"], {"optimizers": [], "rows": []})
        elif self._grid is None:
            return
        elif tag == "th" and a.get("class") == "o":
            self._grid["optimizers"].append(a["title"])
        elif tag == "th" and a.get("class") == "cl":
            self._grid["rows"].append({"claim": a["title"].split(":")[0], "cells": []})
        elif tag == "td":
            self._gcell = {**{k: v or "" for k, v in a.items()}, "text": ""}
            self._grid["rows"][-1]["cells"].append(self._gcell)

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()
        if tag == "tbody":
            self._order, self._row = "", False
        if tag == "table":
            self._grid = None
        if tag == "td":
            self._gcell = None
        if tag == "span":
            self._hist = False
        if tag in ("td", "th") and self._cell is not None and self._order:
            row = self.rows[self._order][-1]
            if self._cell["tag"] == "th":
                row["head"] = self._cell["text"].strip()
            else:
                row["cells"].append({"class": self._cell["class"], "text": self._cell["text"].strip()})
            self._cell = None

    def handle_data(self, data):
        if self._in and self._in[-1] == "script":
            self.scripts[-1] += data
            return
        self.text.append(data)
        if self._hist:
            self.rows[self._order][-1]["history"][-1] += data
        elif self._cell is not None:
            self._cell["text"] += data
        if self._gcell is not None:
            self._gcell["text"] += data

    def payload(self) -> dict:
        data = next(a for t, a in self.tags if t == "script" and a.get("id") == "details-data")
        assert data["type"] == "application/octet-stream"
        return details.unpack(self.scripts[0])


def grid_cell(page: Page, env: int, optimizer: str, claim: str) -> dict[str, str]:
    """One grid cell's attributes (class, title, data-dv, ...) and text."""
    grid = page.grids[str(env)]
    row = next(r for r in grid["rows"] if r["claim"] == claim)
    return row["cells"][grid["optimizers"].index(optimizer)]


def cells_of(page: Page, optimizer: str, claim: str) -> list[str]:
    """The cell texts of one row, in the optimizer-first order (leaf label = claim)."""
    row = next(r for r in page.rows["optimizer"] if r["attrs"]["data-o"] == optimizer and r["head"] == claim)
    return [c["text"] for c in row["cells"][:-1]]  # the last cell holds the row's counts


def render(tmp_path: Path, *args: str) -> tuple[int, Page]:
    out = tmp_path / "out" / "index.html"
    status = main([*args, "-o", str(out)])
    return status, (Page(out.read_text(encoding="utf-8")) if out.exists() else None)


@pytest.fixture
def three(tmp_path: Path) -> list[Path]:
    """keras3-tf, keras3-jax and keras2 (which lacks Lion and has legacy.Adam)."""
    detail = dict(
        message="step 2 v0: 1.5 vs 1.0",
        counterexample="Draw 1: Case(...)",
        reproducer="import keras\nopt = keras.optimizers.Adam()",
        configuration="keras.optimizers.Adam(learning_rate=0.1)",
        hyperparameters={"learning_rate": 0.1},
        dtype="float32",
        shapes=[[2]],
        duration_s=1.25,
        examples=7,
        nodeid="conformance/scenarios/test_reference.py::test_trajectory[Adam]",
        source="the state-persists question",
    )
    return [
        write(
            tmp_path / "k3tf.jsonl",
            [
                info("3.15.1", "tensorflow", environment="keras3-tf"),
                LAYOUT,
                rec("Adam", "reference.trajectory", "pass", nodeid=detail["nodeid"]),
                rec("Lion", "reference.trajectory", "pass"),
                rec(
                    "Adam",
                    "zero_grad.weights",
                    "deviation",
                    reason="declared: moves",
                    **{**detail, "nodeid": "x/test_zero_grad.py::t"},
                ),
            ],
        ),
        write(
            tmp_path / "k3jax.jsonl",
            [
                info("3.15.1", "jax", environment="keras3-jax"),
                LAYOUT,
                rec("Adam", "reference.trajectory", "fail", **detail),
                rec("Lion", "reference.trajectory", "pass"),
                rec("Adam", "zero_grad.weights", "unsupported", message="no such API", nodeid="x/test_zero_grad.py::t"),
            ],
        ),
        write(
            tmp_path / "k2.jsonl",
            [
                info("2.15.0", "tensorflow", environment="keras2-tf215"),
                {"layout": {"optimizer": "Adam", "variables": []}},
                rec("Adam", "reference.trajectory", "pass"),
                rec("legacy.Adam", "reference.trajectory", "error", message="boom"),
            ],
        ),
    ]


def test_matrix_has_a_column_per_environment_and_a_cell_per_verdict(three, tmp_path, capsys):
    status, page = render(tmp_path, *map(str, three))
    assert status == 0
    assert "report:" in capsys.readouterr().out
    headers = [a.get("title", "") for t, a in page.tags if t == "th" and "env" in (a.get("class") or "")]
    # In version order, not the files' (k3tf, k3jax, k2): Keras 2, then Keras 3.15.1 on jax, then on tensorflow.
    assert [h.split(":")[0] for h in headers] == [
        "Keras 2.15.0, tensorflow 2.21.0, ci profile, devices /device",
        "Keras 3.15.1, jax 2.21.0, ci profile, devices /device",
        "Keras 3.15.1, tensorflow 2.21.0, ci profile, devices /device",
    ]
    assert cells_of(page, "Adam", "reference.trajectory") == ["✓ pass", "✗ fail", "✓ pass"]
    assert cells_of(page, "Lion", "reference.trajectory") == ["— absent", "✓ pass", "✓ pass"]  # keras2 has no Lion
    assert cells_of(page, "Adam", "zero_grad.weights") == ["· not run", "○ unsupported", "◆ deviation"]
    assert cells_of(page, "legacy.Adam", "reference.trajectory") == ["! error", "— absent", "— absent"]
    # Where each claim holds across the columns, per backend (jax's 3.15.1 is not a later tensorflow).
    history = {(r["attrs"]["data-o"], r["head"]): r["history"] for r in page.rows["optimizer"]}
    assert history[("Adam", "reference.trajectory")] == ["tensorflow: holds 2.15.0–3.15.1 · jax: fails 3.15.1"]
    assert history[("Lion", "reference.trajectory")] == []  # the same verdict wherever it ran
    assert history[("Adam", "zero_grad.weights")] == ["tensorflow: fails 3.15.1 · jax: unsupported 3.15.1"]
    # Both orders hold the same rows; grouped by scenario (from the test file), then claim.
    assert len(page.rows["claim"]) == len(page.rows["optimizer"]) == 4
    groups = [a.get("data-gid") for t, a in page.tags if t == "tr" and a.get("class") == "g1"]
    assert groups == ["c0", "c1", "o0", "o1", "o2"]  # reference, zero_grad; then Adam, Lion, legacy.Adam
    text = " ".join(page.text)
    assert "text of reference.trajectory" in text
    # counts: per row (last cell), per environment (the totals row).
    adam = next(
        r for r in page.rows["optimizer"] if r["attrs"]["data-o"] == "Adam" and r["head"] == "reference.trajectory"
    )
    assert adam["cells"][-1]["text"] == "✓2✗1"
    assert adam["attrs"]["data-d"] == "1" and set(adam["attrs"]["data-v"].split()) == {"pass", "fail"}
    lion = next(r for r in page.rows["optimizer"] if r["attrs"]["data-o"] == "Lion")
    assert "data-d" not in lion["attrs"]  # absent from keras2 is not a difference


def test_details_hold_what_a_click_shows(three, tmp_path):
    _, page = render(tmp_path, *map(str, three))
    data = page.payload()
    s = data["strings"]
    r = next(i for i, (o, c, _) in enumerate(data["rows"]) if (s[o], s[c]) == ("Adam", "reference.trajectory"))
    cell = dict(zip(data["fields"], (s[i] for i in data["cells"][f"{r}.1"])))  # keras3-jax's failure
    assert cell["verdict"] == "fail" and cell["message"] == "step 2 v0: 1.5 vs 1.0"
    assert cell["counterexample"] == "Draw 1: Case(...)" and cell["reproducer"].startswith("import keras")
    assert (
        cell["duration_s"] == "1.25" and cell["hyperparameters"] == "learning_rate = 0.1" and cell["shapes"] == "[[2]]"
    )
    assert s[data["claims"]["reference.trajectory"][0]] == "text of reference.trajectory"
    assert data["layouts"][1]["Adam"]["variables"][0]["name"] == "v0_momentum"
    assert [e["label"] for e in data["environments"]] == ["keras2-tf215", "keras3-jax", "keras3-tf"]
    assert f"{r}.2" in data["cells"] and f"{r}.0" in data["cells"]


HOSTILE = '<img src=x onerror="window.__pwned=1">'


def test_hostile_text_renders_inert(tmp_path):
    """Every string a results file carries is text: names, messages, labels, links, verdicts."""
    bad = write(
        tmp_path / "bad.jsonl",
        [
            info("3.15.1", "tensorflow", environment=f"env{HOSTILE}", devices=[HOSTILE]),
            {"layout": {"optimizer": HOSTILE, "variables": [{"name": HOSTILE, "shape": [1], "dtype": "</script>"}]}},
            rec(
                HOSTILE,
                f"claim.{HOSTILE}",
                "deviation",
                message=f"</script><script>window.__pwned=2</script>{HOSTILE}",
                reason=HOSTILE,
                link="javascript:window.__pwned=3",
                reproducer=f"'--></script>{HOSTILE}",
                nodeid=f"x/test_a.py::{HOSTILE}",
            ),
            rec("Adam", "claim.b", f"<b onclick=x>{HOSTILE}</b>"),  # an unknown verdict, from a newer suite
        ],
    )
    status, page = render(tmp_path, str(bad), "--title", HOSTILE)
    assert status == 0
    assert not [t for t, _ in page.tags if t == "img"]
    assert not [(t, k) for t, a in page.tags for k in a if k.startswith("on")]
    assert [a.get("id") for t, a in page.tags if t == "script"] == [
        "details-data",
        None,
    ]  # the data block, the page's script
    html = (tmp_path / "out" / "index.html").read_text()
    assert "&lt;img src=x onerror=" in html and HOSTILE not in html
    cells = cells_of(page, "Adam", "claim.b")
    assert cells == [f"? <b onclick=x>{HOSTILE}</b>"]  # shown as its own text, classed unknown
    data = page.payload()  # the data keeps the strings as they were; the page inserts them as text
    assert HOSTILE in data["strings"] and "javascript:window.__pwned=3" in data["strings"]
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert (
        "default-src 'none'" in csp
        and "script-src 'sha256-" in csp
        and "unsafe-inline" not in csp.split("script-src")[1]
    )


def test_baseline_marks_newly_failing_passing_added_removed(tmp_path):
    old = write(
        tmp_path / "old.jsonl",
        [
            info("3.14.0", "tensorflow", environment="keras3-tf"),
            rec("Adam", "a", "pass"),
            rec("Adam", "b", "fail"),
            rec("Adam", "c", "pass"),
            rec("Adam", "d", "fail"),
            rec("Adam", "gone", "pass"),
            rec("SGD", "a", "unsupported"),
        ],
    )
    new = write(
        tmp_path / "new.jsonl",
        [
            info("3.15.1", "tensorflow", environment="keras3-tf"),
            rec("Adam", "a", "fail", message="now broken"),
            rec("Adam", "b", "pass"),
            rec("Adam", "c", "pass"),
            rec("Adam", "d", "deviation", reason="declared"),
            rec("Adam", "new", "pass"),
            rec("SGD", "a", "error"),
        ],
    )
    status, page = render(tmp_path, str(new), "--baseline", str(old))
    assert status == 0
    changes = {(r["attrs"]["data-o"], r["head"]): r["cells"][0]["class"] for r in page.rows["optimizer"]}
    assert changes == {
        ("Adam", "a"): "c v-fail ch-newly_failing",
        ("Adam", "b"): "c v-pass ch-newly_passing",
        ("Adam", "c"): "c v-pass",
        ("Adam", "d"): "c v-deviation ch-changed",
        ("Adam", "gone"): "c v-notrun ch-removed",
        ("Adam", "new"): "c v-pass ch-added",
        ("SGD", "a"): "c v-error ch-changed",  # it could not be checked before: new coverage, not a regression
    }
    assert cells_of(page, "Adam", "a") == ["✗ fail ▼ was pass"] and cells_of(page, "Adam", "gone") == [
        "· not run − was pass"
    ]
    text = " ".join(page.text)
    assert "Changes against the baseline: 1 newly failing" in text
    regressions = [a for t, a in page.tags if t == "tr" and a.get("class") == "regression"]
    assert len(regressions) == 1
    counts = [a for t, a in page.tags if t == "td" and "num ch-" in (a.get("class") or "")]
    assert len(counts) == len(baseline.CHANGES)
    data = page.payload()
    assert any(
        data["strings"][v[0]] == "pass" for v in data["before"].values()
    )  # the baseline's record, shown on click


@pytest.mark.parametrize(
    "before, after, expected",
    [
        ("pass", "fail", "newly_failing"),
        ("pass", "deviation", "newly_failing"),
        ("unsupported", "fail", "changed"),
        ("error", "pass", "newly_passing"),
        ("fail", "deviation", "changed"),
        ("pass", "unsupported", "changed"),
        (None, "pass", "added"),
        ("pass", None, "removed"),
        ("fail", "fail", ""),
    ],
)
def test_change_categories(before, after, expected):
    assert baseline.change(before, after) == expected


def test_baseline_pairs_environments_by_label(three, tmp_path):
    old = write(
        tmp_path / "old.jsonl",
        [
            info("3.14.0", "jax", environment="keras3-jax"),
            rec("Adam", "reference.trajectory", "pass"),
            rec("Adam", "zero_grad.weights", "unsupported", message="no such API"),
        ],
    )
    other = write(tmp_path / "other.jsonl", [info("3.14.0", "torch", environment="keras3-torch")])
    status, page = render(tmp_path, *map(str, three), "--baseline", str(old), str(other))
    assert status == 0
    text = " ".join(page.text)
    assert "environment 'keras3-tf' has no baseline of the same label: not compared" in text
    assert "baseline environment 'keras3-torch' has no current run of the same label: not compared" in text
    assert cells_of(page, "Adam", "reference.trajectory") == ["✓ pass", "✗ fail ▼ was pass", "✓ pass"]


def test_malformed_files_are_named_with_their_line_and_the_rest_renders(three, tmp_path, capsys):
    crashed = write(
        tmp_path / "crashed.jsonl",
        [info("3.15.1", "torch", environment="keras3-torch"), rec("Adam", "reference.trajectory", "pass")],
        cut='{"optimizer": "SGD", "cla',
    )
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text(
        json.dumps(info("3.15.1", "torch", environment="garbled"))
        + '\nnot json\n[1, 2]\n{"optimizer": 3}\n'
        + json.dumps(rec("SGD", "reference.trajectory", "pass"))
        + "\n"
    )
    newer = write(
        tmp_path / "newer.jsonl",
        [
            {"run_info": {"format_version": 7, "environment": "from-the-future"}},
            rec("Adam", "reference.trajectory", "pass"),
            {"something": "new"},
        ],
    )
    stray = tmp_path / "stray.jsonl"
    stray.write_text('{"hello": 1}\n')
    status, page = render(tmp_path, *map(str, three), str(crashed), str(garbled), str(newer), str(stray))
    assert status == 0
    problems = [p for p in capsys.readouterr().err.splitlines() if p.startswith("warning: ")]
    expected = [
        f"{crashed}: cut off mid-line at line 3",
        f"{garbled}: line 2 is not JSON",
        f"{garbled}: line 3 is not a JSON object",
        f"{garbled}: line 4 is neither run_info",
        f"{newer}: line 1: format_version 7 is not one this suite reads",
        f"{newer}: line 3 is neither run_info",
        f"{stray}: no run_info line",
    ]
    for e in expected:
        assert any(p.startswith(f"warning: {e}") for p in problems), (e, problems)
    text = " ".join(page.text)
    assert "Problems reading the inputs (7)" in text and all(e in text for e in expected)
    # in version order: keras2, keras3 on jax, tensorflow, torch (garbled, keras3-torch), then the run without a version
    assert cells_of(page, "Adam", "reference.trajectory") == [
        "✓ pass",
        "✗ fail",
        "✓ pass",
        "— absent",
        "✓ pass",
        "✓ pass",
    ]
    assert cells_of(page, "SGD", "reference.trajectory") == ["— absent"] * 3 + ["✓ pass"] + ["— absent"] * 2


@pytest.mark.parametrize(
    "args, words",
    [
        ([], "no results files given"),
        (["no/such.jsonl"], "no such file or directory"),
        (["tests/test_report.py"], "none of the results files given is a results file"),
        (["--rows", "sideways", "x.jsonl"], "invalid choice"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, words, tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "conformance.report", *args, "-o", str(tmp_path / "r.html")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and r.stdout == "" and not (tmp_path / "r.html").exists()
    assert words in r.stderr and "usage: python -m conformance.report" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def benchmark_file(path: Path, keras: str, scale: float) -> Path:
    entries = [
        {
            "name": f"test_step[{o}-{regime}]",
            "group": regime,
            "params": {"optimizer": o},
            "stats": {
                "min": t * scale * 0.9,
                "max": t * scale * 2,
                "mean": t * scale,
                "median": t * scale,
                "stddev": 0.0,
                "rounds": 50,
            },
            "extra_info": {
                "optimizer": o,
                "regime": regime,
                "roofline_ratio": 3.0 * t * scale / 1e-3,
                "numpy_ratio": 1.5,
            },
        }
        for o, t in (("Adam", 2e-3), ("SGD", 1e-3))
        for regime in ("large", "many_small")
    ]
    path.write_text(
        json.dumps({"machine_info": {"conformance": {"keras": keras, "backend": "tensorflow"}}, "benchmarks": entries})
    )
    return path


def test_performance_section_plots_benchmarks(three, tmp_path):
    a, b = benchmark_file(tmp_path / "a.json", "3.15.1", 1.0), benchmark_file(tmp_path / "b.json", "3.3.3", 2.0)
    broken = tmp_path / "broken.json"
    broken.write_text('{"benchmarks": [')
    status, page = render(tmp_path, str(three[0]), "--benchmarks", str(a), str(b), str(broken))
    assert status == 0
    svgs = [a_ for t, a_ in page.tags if t == "svg"]
    # per regime: the median time, and one chart per ratio
    captions = [x for x in page.text if ": step time (minimum)" in x or "_ratio (1 = as fast" in x]
    assert len(svgs) == len(captions) == 6
    bars = [a_ for t, a_ in page.tags if t == "rect"]
    assert len(bars) == 6 * 2 * 2 and {b_["class"] for b_ in bars} == {"s0", "s1"}  # 2 optimizers x 2 files per chart
    widths = {float(b_["width"]) for b_ in bars}
    assert max(widths) <= 420 and min(widths) > 0
    text = " ".join(page.text)
    assert "3.15.1 tensorflow" in text and "3.3.3 tensorflow" in text and "2 ms" in text
    assert f"{broken}: line 1, column 17: not JSON" in text


def test_a_conformance_run_writes_its_report(tmp_path):
    """The plugin renders the run's report at the end, and --no-report leaves it out."""
    results = tmp_path / "run.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "conformance",
        "-q",
        "-p",
        "no:randomly",
        "-k",
        "test_iterations_unchanged and SGD",
        "--results",
        str(results),
    ]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    assert f"report: {results.with_suffix('.html')}" in r.stdout
    page = Page(results.with_suffix(".html").read_text())
    assert [row["head"] for row in page.rows["claim"]] == ["SGD"]
    r = subprocess.run(
        [*cmd, "--no-report", "--results", str(tmp_path / "quiet.jsonl")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0 and "report:" not in r.stdout and not (tmp_path / "quiet.html").exists()
