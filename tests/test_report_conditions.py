"""The report of format-2 results: the grid with the verdict at defaults beside the overall one,
the defaults view, each condition in the details, deviation kinds, hostile text in conditions,
the diff per condition, and a full-size run."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.report import baseline, details

from .results_files import cond, conds, info, rec, rec2, synthetic, write
from .test_report import HOSTILE, LAYOUT, Page, cells_of, grid_cell, render, three  # noqa: F401 - the fixture


# Format 2: a verdict per condition, the defaults first.
@pytest.fixture
def v2(tmp_path: Path) -> Path:
    """Two optimizers x three claims, with conditions: a deviation under one option only, a claim
    that only draws, a failure at defaults, a deviation of each kind, and an error with no conditions."""
    bug = cond(
        "deviation",
        kind="bug",
        upstream="none found",
        reason="weight decay applied twice",
        message="step 1: 0.9 vs 0.8\n\nmore",
        reproducer="opt = keras.optimizers.Adam(weight_decay=0.1)",
        counterexample="condition weight_decay",
        configuration="keras.optimizers.Adam(weight_decay=0.1)",
    )
    return write(
        tmp_path / "v2.jsonl",
        [
            info("3.15.1", "tensorflow", environment="keras3-tf", format_version=2),
            rec2(
                "Adam",
                "reference.trajectory",
                conds(defaults="pass", weight_decay=bug, float16="pass", drawn="pass"),
                nodeid="conformance/scenarios/test_reference.py::test_trajectory[Adam]",
            ),
            rec2(
                "SGD",
                "reference.trajectory",
                conds(
                    defaults={
                        "verdict": "deviation",
                        "kind": "design",
                        "upstream": "https://github.com/keras-team/keras/issues/1",
                    },
                    drawn={"verdict": "deviation", "kind": "environment"},
                ),
            ),
            rec2("Adam", "zero_grad.weights_unchanged", conds(drawn="pass")),
            rec2(
                "SGD",
                "zero_grad.weights_unchanged",
                conds(defaults="fail", clipnorm={"verdict": "deviation", "kind": "documented"}, drawn="fail"),
            ),
            rec2(
                "Adam",
                "options.clipnorm",
                conds(defaults="pass", drawn={"verdict": "deviation", "kind": "no such kind"}),
            ),
            rec("SGD", "options.clipnorm", "error", message="the worker crashed", condition=None, conditions={}),
        ],
    )


def test_grid_has_a_cell_per_claim_and_optimizer_with_defaults_then_overall(v2, tmp_path):
    status, page = render(tmp_path, str(v2))
    assert status == 0
    grid = page.grids["0"]
    assert grid["optimizers"] == ["Adam", "SGD"]
    assert [r["claim"] for r in grid["rows"]] == [
        "options.clipnorm",
        "reference.trajectory",
        "zero_grad.weights_unchanged",
    ]
    assert all(len(r["cells"]) == 2 for r in grid["rows"])
    cell = grid_cell(page, 0, "Adam", "reference.trajectory")
    assert cell["text"] == "✓◆B"  # defaults pass, then the worst condition's deviation, a bug
    assert cell["class"] == "g v-deviation k-bug" and cell["data-dv"] == "pass" and "data-dk" not in cell
    assert cell["title"] == "Adam · reference.trajectory: defaults: pass · overall: deviation (weight_decay, bug)"
    drawn_only = grid_cell(page, 0, "Adam", "zero_grad.weights_unchanged")
    assert drawn_only["text"] == "✓" and "data-dv" not in drawn_only  # no defaults condition: the overall only
    assert drawn_only["title"].endswith("defaults: no defaults condition · overall: pass")
    sgd = grid_cell(page, 0, "SGD", "reference.trajectory")
    assert sgd["text"] == "◆◆I" and sgd["data-dv"] == "deviation" and sgd["data-dk"] == "design"
    assert grid_cell(page, 0, "SGD", "zero_grad.weights_unchanged")["text"] == "✗✗"
    error = grid_cell(page, 0, "SGD", "options.clipnorm")
    assert error["text"] == "!" and error["title"].endswith(": error") and error["tabindex"] == "0"
    unknown_kind = grid_cell(page, 0, "Adam", "options.clipnorm")
    assert (
        unknown_kind["class"] == "g v-deviation" and unknown_kind["text"] == "✓◆"
    )  # a kind this report does not know: no style
    # Grouped by scenario, the scenario's prefix left off the claim's label; the list view is there too.
    labels = [a.get("title") for t, a in page.tags if t == "th" and a.get("class") == "cl"]
    assert labels[1] == "reference.trajectory: text of reference.trajectory"
    assert [t for t, a in page.tags if t == "input" and a.get("name") == "view"] == ["input", "input"]
    assert len(page.rows["claim"]) == 6


def test_defaults_view_has_the_verdict_at_defaults_of_every_cell(v2, tmp_path):
    """The switch swaps in what the cells and rows carry: data-dv (none: no defaults condition)."""
    _, page = render(tmp_path, str(v2))
    switch = [a for t, a in page.tags if t == "input" and a.get("id") == "f-defaults"]
    assert len(switch) == 1
    rows = {(r["attrs"]["data-o"], r["head"]): r["attrs"] for r in page.rows["optimizer"]}
    assert (
        rows[("Adam", "reference.trajectory")]["data-vd"] == "pass"
        and rows[("Adam", "reference.trajectory")]["data-v"] == "deviation"
    )
    assert rows[("Adam", "zero_grad.weights_unchanged")]["data-vd"] == "absent"  # shown as "— no defaults condition"
    assert (
        rows[("SGD", "reference.trajectory")]["data-kd"] == "design"
        and rows[("SGD", "reference.trajectory")]["data-k"] == "design"
    )
    assert cells_of(page, "Adam", "reference.trajectory") == ["◆ deviation B bug"]
    assert "at defaults ✓2✗1◆1" in "".join(page.text)  # the grid heading's tally at defaults
    data = page.payload()
    assert data["shown"]["pass"] == ["✓", "pass"] and data["kinds"]["bug"][0] == "B"  # what the script swaps in


def test_details_hold_each_condition(v2, tmp_path):
    _, page = render(tmp_path, str(v2))
    data = page.payload()
    s = data["strings"]
    r = next(i for i, (o, c, _) in enumerate(data["rows"]) if (s[o], s[c]) == ("Adam", "reference.trajectory"))
    top = details.record_of(data, f"{r}.0")
    assert (top["verdict"], top["condition"], top["kind"], top["upstream"]) == (
        "deviation",
        "weight_decay",
        "bug",
        "none found",
    )
    found = details.conditions_of(data, f"{r}.0")
    assert list(found) == ["defaults", "weight_decay", "float16", "drawn"]  # the record's order
    wd = found["weight_decay"]
    assert wd["verdict"] == "deviation" and wd["kind"] == "bug" and wd["reason"] == "weight decay applied twice"
    assert (
        wd["reproducer"] == "opt = keras.optimizers.Adam(weight_decay=0.1)"
        and wd["counterexample"] == "condition weight_decay"
    )
    assert wd["message"].startswith("step 1: 0.9 vs 0.8") and wd["examples"] == "1" and wd["duration_s"] == "0.1"
    assert found["defaults"]["verdict"] == "pass" and found["defaults"]["reproducer"] == ""
    error = next(i for i, (o, c, _) in enumerate(data["rows"]) if (s[o], s[c]) == ("SGD", "options.clipnorm"))
    assert details.conditions_of(data, f"{error}.0") == {} and details.record_of(data, f"{error}.0")["condition"] == ""


def test_deviation_kinds_are_marked_listed_and_filterable(v2, tmp_path):
    _, page = render(tmp_path, str(v2))
    classes = {
        grid_cell(page, 0, o, c)["class"]
        for o in ("Adam", "SGD")
        for c in ("reference.trajectory", "zero_grad.weights_unchanged", "options.clipnorm")
    }
    assert {"g v-deviation k-bug", "g v-deviation k-design"} <= classes
    start = next(i for i, (t, a) in enumerate(page.tags) if a.get("id") == "f-kind")
    kinds = [a["value"] for t, a in page.tags[start + 1 : start + 6] if t == "option"]
    assert kinds == ["", "bug", "documented", "design", "environment"]  # the kind filter: any verdict, then each kind
    legend = [a["class"] for t, a in page.tags if t == "span" and (a.get("class") or "").startswith("kind k-")]
    assert {"kind k-bug", "kind k-documented", "kind k-design", "kind k-environment"} <= set(legend)
    text = " ".join(page.text)
    assert "B bug: Keras contradicts its docs" in text.replace("  ", " ")
    # a kind under one option shows in the details, not as the cell's (its verdict is the defaults' failure)
    assert grid_cell(page, 0, "SGD", "zero_grad.weights_unchanged")["class"] == "g v-fail"


def test_format_1_has_no_defaults_view_and_no_kinds(three, tmp_path):  # noqa: F811
    _, page = render(tmp_path, *map(str, three))
    assert not [a for t, a in page.tags if a.get("id") in ("f-defaults", "f-kind")]
    assert not [
        a
        for t, a in page.tags
        if "data-dv" in a or "data-vd" in a or "title" in a and t == "td" and "c" == a.get("class", "")[:1]
    ]
    assert grid_cell(page, 1, "Adam", "reference.trajectory")["text"] == "✗"  # the overall verdict only
    assert grid_cell(page, 0, "Lion", "reference.trajectory")["text"] == "—"  # keras2 (first: oldest) has no Lion
    assert "tabindex" not in grid_cell(page, 0, "Lion", "reference.trajectory")
    assert "bug: Keras contradicts its docs" not in " ".join(page.text)  # no kinds legend


def test_hostile_text_in_conditions_renders_inert(tmp_path):
    hostile = write(
        tmp_path / "hostile.jsonl",
        [
            info("3.15.1", "tensorflow", environment="keras3-tf", format_version=2),
            rec2(
                "Adam",
                "a.b",
                {
                    HOSTILE: cond(
                        "deviation",
                        message=f"</script>{HOSTILE}",
                        configuration=HOSTILE,
                        kind=HOSTILE,
                        upstream="javascript:window.__pwned=4",
                        reason=HOSTILE,
                    ),
                    "defaults": cond(f"<b>{HOSTILE}</b>"),
                },
            ),
        ],
    )
    status, page = render(tmp_path, str(hostile))
    assert status == 0
    assert not [t for t, _ in page.tags if t in ("img", "b")]
    assert not [(t, k) for t, a in page.tags for k in a if k.startswith("on")]
    html = (tmp_path / "out" / "index.html").read_text()
    assert HOSTILE not in html and "&lt;img src=x onerror=" in html
    cell = grid_cell(page, 0, "Adam", "a.b")
    assert (
        HOSTILE in cell["title"] and cell["class"] == "g v-deviation"
    )  # the title is text; an unknown kind has no class
    assert cell["data-dv"] == "unknown"  # an unknown verdict at defaults
    data = page.payload()
    found = details.conditions_of(data, "0.0")
    assert (
        found[HOSTILE]["upstream"] == "javascript:window.__pwned=4"
        and found["defaults"]["verdict"] == f"<b>{HOSTILE}</b>"
    )


def diff_pair(tmp_path: Path, old: list[dict], new: list[dict]) -> Page:
    a = write(tmp_path / "old.jsonl", [info("3.14.0", "tensorflow", environment="keras3-tf", format_version=2), *old])
    b = write(tmp_path / "new.jsonl", [info("3.15.1", "tensorflow", environment="keras3-tf", format_version=2), *new])
    status, page = render(tmp_path, str(b), "--baseline", str(a))
    assert status == 0
    return page


def test_diff_compares_each_condition(tmp_path):
    fp16 = {"verdict": "deviation", "kind": "environment"}
    page = diff_pair(
        tmp_path,
        [
            rec2("Adam", "a", conds(defaults="pass", weight_decay="pass", float16=fp16)),
            rec2("Adam", "b", conds(defaults="fail", weight_decay="pass", drawn="fail")),
            rec2("Adam", "c", conds(defaults="fail", weight_decay="deviation", drawn="pass")),
            rec2("Adam", "d", conds(defaults="pass", drawn="pass")),
            rec("Adam", "v1", "pass"),  # format 1 against format 2: the claim's verdict only
        ],
        [
            rec2("Adam", "a", conds(defaults="pass", weight_decay="fail", float16=fp16)),  # deviation -> fail overall
            rec2("Adam", "b", conds(defaults="fail", weight_decay="fail", drawn="pass")),
            rec2("Adam", "c", conds(defaults="fail", weight_decay="fail", drawn="pass")),
            rec2("Adam", "d", conds(defaults="pass", weight_decay="fail", drawn="pass")),  # a new condition, failing
            rec2("Adam", "v1", conds(defaults="pass", weight_decay="pass")),
        ],
    )
    changes = {r["head"]: r["cells"][0]["class"] for r in page.rows["optimizer"]}
    assert (
        changes["a"] == "c v-fail ch-newly_failing"
    )  # deviation -> fail, and weight_decay stopped holding: a regression
    assert (
        changes["b"] == "c v-fail ch-newly_failing"
    )  # fail -> fail, but weight_decay pass -> fail (drawn fail -> pass too)
    assert changes["c"] == "c v-fail ch-changed"  # weight_decay deviation -> fail: now undeclared
    assert changes["d"] == "c v-fail ch-newly_failing" and changes["v1"] == "c v-pass"
    assert cells_of(page, "Adam", "b") == ["✗ fail ▼ 2 conditions changed"]
    assert cells_of(page, "Adam", "c") == ["✗ fail ~ weight_decay was deviation"]
    regressions = [a["data-r"] for t, a in page.tags if t == "tr" and a.get("class") == "regression"]
    data = page.payload()
    s = data["strings"]
    names = {i: s[c] for i, (o, c, _) in enumerate(data["rows"])}
    assert sorted(names[int(r)] for r in regressions) == ["a", "b", "d"]
    b = next(i for i, n in names.items() if n == "b")
    assert [[s[x] for x in change] for change in data["changes"][f"{b}.0"]] == [
        ["weight_decay", "pass", "fail"],
        ["drawn", "fail", "pass"],
    ]
    assert (
        grid_cell(page, 0, "Adam", "b")["class"] == "g v-fail ch-newly_failing"
        and "▼" in grid_cell(page, 0, "Adam", "b")["text"]
    )
    assert "weight_decay: pass → fail" in " ".join(page.text)  # the regressions list says which condition


def test_diff_where_only_weight_decay_changed(tmp_path):
    """The claim's verdict is the same (float16 fails on both sides); weight_decay went pass -> fail."""
    page = diff_pair(
        tmp_path,
        [rec2("Adam", "reference.trajectory", conds(defaults="pass", weight_decay="pass", float16="fail"))],
        [rec2("Adam", "reference.trajectory", conds(defaults="pass", weight_decay="fail", float16="fail"))],
    )
    assert cells_of(page, "Adam", "reference.trajectory") == ["✗ fail ▼ weight_decay was pass"]
    assert "Changes against the baseline: 1 newly failing" in " ".join(page.text)
    counts = [a for t, a in page.tags if t == "td" and (a.get("class") or "") == "num ch-newly_failing"]
    assert len(counts) == 1


@pytest.mark.parametrize(
    "changes, expected",
    [
        ([("weight_decay", "pass", "fail")], "newly_failing"),
        ([("drawn", "fail", "pass"), ("clipnorm", "pass", "error")], "newly_failing"),
        ([("float16", "deviation", "pass")], "newly_passing"),
        ([("float16", "fail", "deviation")], "changed"),
        ([("defaults", "pass", "unsupported")], "changed"),
        ([], ""),
    ],
)
def test_condition_change_categories(changes, expected):
    assert baseline.by_conditions(changes) == expected


def test_a_full_run_renders_compactly(tmp_path):
    """99 claims x 16 optimizers with conditions, in two environments: every cell in each grid."""
    files = [synthetic(tmp_path / "tf.jsonl"), synthetic(tmp_path / "jax.jsonl", environment="keras3-jax", seed=1)]
    status, page = render(tmp_path, *map(str, files))
    assert status == 0
    for e in ("0", "1"):
        assert len(page.grids[e]["optimizers"]) == 16 and len(page.grids[e]["rows"]) == 99
        assert sum(len(r["cells"]) for r in page.grids[e]["rows"]) == 1584
    size = (tmp_path / "out" / "index.html").stat().st_size
    assert size < 4_000_000, size
