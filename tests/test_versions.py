"""Many versions side by side: `merge` and the report put the environments in version order (not the
files' order), say where each claim holds across them ("holds 3.5.0–3.15.1; fails 3.3.3–3.4.1"), and
the report compares any two columns (`--diff A B`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.records import merge, versions
from conformance.report.__main__ import main as report

from .results_files import conds, info, rec, rec2, write
from .test_report import Page, grid_cell

ROOT = Path(__file__).resolve().parents[1]


def keras_run(path: Path, keras: str, verdicts: dict[str, str], tf: str = "2.19.1", **extra) -> Path:
    """One bisector-style run: Keras `keras` on TensorFlow `tf`, labelled tf-keras<version>, a verdict
    per claim of SGD."""
    return write(
        path,
        [
            info(keras, "tensorflow", environment=f"tf-keras{keras}", tensorflow=tf, **extra),
            *(rec("SGD", claim, v, message=f"{v} in {keras}") for claim, v in verdicts.items()),
        ],
    )


@pytest.fixture
def releases(tmp_path: Path) -> list[Path]:
    """Four Keras releases whose files' names sort otherwise (z, a, m, b): `once` changes once (fails up
    to 3.4.1, holds from 3.5.0), `twice` changes twice, `steady` never."""
    return [
        keras_run(tmp_path / "z-oldest.jsonl", "3.3.3", {"once": "fail", "twice": "pass", "steady": "pass"}, "2.17.1"),
        keras_run(tmp_path / "a-newest.jsonl", "3.15.1", {"once": "pass", "twice": "pass", "steady": "pass"}, "2.21.0"),
        keras_run(tmp_path / "m.jsonl", "3.5.0", {"once": "pass", "twice": "fail", "steady": "pass"}),
        keras_run(tmp_path / "b.jsonl", "3.4.1", {"once": "deviation", "twice": "error", "steady": "pass"}, "2.17.1"),
    ]


ORDER = ["tf-keras3.3.3", "tf-keras3.4.1", "tf-keras3.5.0", "tf-keras3.15.1"]


@pytest.mark.parametrize(
    "older, newer",
    [
        ("3.9.1", "3.10.0"),  # numerically, not as text
        ("3.6.0rc1", "3.6.0"),  # a pre-release before its release
        ("3.6.0.dev2024", "3.6.0rc1"),
        ("2.21.0", "3.0.0"),
        ("2.5.1", "2.5.1+cpu"),  # a local version: not a pre-release
        ("3.0.0b2", "3.0.0"),
        ("3.15.1", None),  # a run that does not say its version: last
        ("3.15.1", "not a version"),
    ],
)
def test_versions_compare_as_versions(older, newer):
    assert versions.version_key(older) < versions.version_key(newer)
    assert versions.version_key("3.5") == versions.version_key("3.5.0")


def test_columns_order_by_generation_keras_backend_version_then_label():
    infos = {
        "keras3-tf": info("3.15.1", "tensorflow")["run_info"],
        "keras2-tf215": info("2.15.0", "tensorflow", tensorflow="2.15.1")["run_info"],
        "keras3-torch": info("3.15.1", "torch")["run_info"],
        "keras3-jax": info("3.15.1", "jax")["run_info"],
        "keras3-old": info("3.3.3", "tensorflow", tensorflow="2.16.2")["run_info"],
        "b-tf-older": info("3.15.1", "tensorflow", tensorflow="2.20.0")["run_info"],
    }
    ordered = sorted(infos, key=lambda label: versions.order_key(infos[label], label))
    assert ordered == ["keras2-tf215", "keras3-old", "keras3-jax", "b-tf-older", "keras3-tf", "keras3-torch"]


def test_merge_orders_columns_by_version_and_says_where_each_claim_holds(releases, tmp_path, capsys):
    md = tmp_path / "m.md"
    assert merge.main([*map(str, releases), "--markdown", str(md), "--out", str(tmp_path / "m.json")]) == 0
    out = capsys.readouterr().out
    labels = [line.split()[0] for line in out.splitlines()[1:] if line.startswith("  tf-keras")]
    assert labels == ORDER
    text = md.read_text()
    assert "| claims | optimizers | across versions | " + " | ".join(ORDER) + " |" in text
    # one change: the first and last version where it holds, and where it does not (a deviation does not hold)
    assert "| `once` | SGD | holds 3.5.0–3.15.1; fails 3.3.3–3.4.1 | fail (1) | deviation (2) | pass | pass |" in text
    # two changes: said, each status's versions listed
    assert "| `twice` | SGD | changed 2 times: holds 3.3.3, 3.15.1; fails 3.4.1–3.5.0 |" in text
    assert "`steady`" not in text  # the same verdict everywhere: not a difference
    assert "    across versions: holds 3.5.0–3.15.1; fails 3.3.3–3.4.1" in out


def test_a_change_at_defaults_is_said_where_the_overall_verdict_hides_it(tmp_path, capsys):
    """The bisector's finding: gradient accumulation's deviation stays (use_ema), but at defaults it
    holds from 3.5.0 on."""
    files = [
        write(
            tmp_path / f"{keras}.jsonl",
            [
                info(keras, "tensorflow", environment=f"tf-keras{keras}", format_version=2),
                rec2("SGD", "options.gradient_accumulation", conds(defaults=at_defaults, use_ema="deviation")),
            ],
        )
        for keras, at_defaults in (("3.4.1", "deviation"), ("3.3.3", "deviation"), ("3.5.0", "pass"))
    ]
    assert merge.main([*map(str, files), "--markdown", str(tmp_path / "m.md")]) == 0
    assert "| fails 3.3.3–3.5.0<br>at defaults: holds 3.5.0; fails 3.3.3–3.4.1 |" in (tmp_path / "m.md").read_text()
    out = capsys.readouterr().out
    assert (
        "    across versions: fails 3.3.3–3.5.0\n                     at defaults: holds 3.5.0; fails 3.3.3–3.4.1\n"
        in out
    )


def test_columns_of_one_version_are_told_apart_by_label():
    names = versions.columns(
        [
            ("3.15.1", "tensorflow", "keras3-tf"),
            ("3.15.1", "tensorflow", "keras3-gpu"),
            ("3.3.3", "tensorflow", "keras3-old"),
        ]
    )
    assert versions.history(names, ["pass", "pass", "fail"]).text == "holds 3.15.1 (keras3-tf–keras3-gpu); fails 3.3.3"
    assert (
        versions.history(names, ["pass", None, "fail"]).long
        == "holds Keras 3.15.1 (keras3-tf); fails Keras 3.3.3 (keras3-old)"
    )
    assert versions.history(names, [None, None, None]).columns == 0


def render(tmp_path: Path, *args: str) -> tuple[int, Page | None]:
    out = tmp_path / "out.html"
    status = report([*args, "-o", str(out)])
    return status, (Page(out.read_text(encoding="utf-8")) if status == 0 else None)


def test_report_orders_columns_by_version_and_shows_each_rows_history(releases, tmp_path):
    status, page = render(tmp_path, *map(str, releases))
    assert status == 0
    heads = [a["title"] for t, a in page.tags if t == "th" and "env" in (a.get("class") or "")]
    assert [h.split(",")[0] for h in heads] == ["Keras 3.3.3", "Keras 3.4.1", "Keras 3.5.0", "Keras 3.15.1"]
    grids = [h for h in page.text if h.startswith("Keras ") and " · tensorflow " in h]
    assert grids[0] == "Keras 3.3.3 · tensorflow 2.17.1"  # each column says which versions it is
    rows = {r["head"]: r for r in page.rows["optimizer"]}
    assert [c["text"] for c in rows["once"]["cells"][:-1]] == ["✗ fail", "◆ deviation", "✓ pass", "✓ pass"]
    assert rows["once"]["history"] == ["holds 3.5.0–3.15.1; fails 3.3.3–3.4.1"]
    assert rows["twice"]["history"] == ["changed 2 times: holds 3.3.3, 3.15.1; fails 3.4.1–3.5.0"]
    assert rows["steady"]["history"] == []
    assert grid_cell(page, 0, "SGD", "once")["title"].endswith(
        " · across versions: holds 3.5.0–3.15.1; fails 3.3.3–3.4.1"
    )
    data = page.payload()  # the details name each end with its column's label, for every row
    s = data["strings"]
    by_claim = {s[c]: [s[i] for i in data["history"][str(n)]] for n, (_, c, _) in enumerate(data["rows"])}
    assert by_claim["once"] == [
        "holds Keras 3.5.0 (tf-keras3.5.0) – Keras 3.15.1 (tf-keras3.15.1); "
        "fails Keras 3.3.3 (tf-keras3.3.3) – Keras 3.4.1 (tf-keras3.4.1)"
    ]
    assert by_claim["steady"] == ["holds Keras 3.3.3 (tf-keras3.3.3) – Keras 3.15.1 (tf-keras3.15.1)"]


def test_diff_compares_any_two_columns(releases, tmp_path):
    status, page = render(tmp_path, *map(str, releases), "--diff", "tf-keras3.4.1", "tf-keras3.5.0")
    assert status == 0
    changes = {r["head"]: r["cells"][0] for r in page.rows["optimizer"]}  # one column: 3.5.0, against 3.4.1
    assert (
        changes["once"]["class"] == "c v-pass ch-newly_passing" and changes["once"]["text"] == "✓ pass ▲ was deviation"
    )
    assert changes["twice"]["class"] == "c v-fail ch-changed"  # error -> fail
    assert changes["steady"]["class"] == "c v-pass"
    text = " ".join(page.text)
    assert "Changes against the baseline: 0 newly failing" in text
    summary = [t.strip() for t in page.text[page.text.index("baseline") :] if "tf-keras3." in t]
    assert summary[:2] == ["tf-keras3.5.0", "tf-keras3.4.1"]  # the summary's environment, then its baseline
    # the other way round, 3.5.0 is the baseline: `once` is newly failing
    status, page = render(tmp_path, *map(str, releases), "--diff", "tf-keras3.5.0", "tf-keras3.4.1")
    assert {r["head"]: r["cells"][0]["class"] for r in page.rows["optimizer"]}[
        "once"
    ] == "c v-deviation ch-newly_failing"


@pytest.mark.parametrize(
    "args, words",
    [
        (
            ["--diff", "tf-keras3.4.1", "tf-keras9"],
            "--diff: no column labelled 'tf-keras9'; the columns are " + ", ".join(ORDER),
        ),
        (["--diff", "tf-keras3.4.1", "tf-keras3.4.1"], "--diff: 'tf-keras3.4.1' twice"),
        (["--diff", "tf-keras3.4.1"], "expected 2 arguments"),
        (["--diff", "a", "b", "--baseline", "x.jsonl"], "give it or --baseline, not both"),
    ],
)
def test_bad_diff_is_a_one_line_usage_error(releases, tmp_path, args, words):
    r = subprocess.run(
        [sys.executable, "-m", "conformance.report", *map(str, releases), *args, "-o", str(tmp_path / "r.html")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and r.stdout == "" and not (tmp_path / "r.html").exists()
    assert words in r.stderr and "usage: python -m conformance.report" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
