"""`keras-conformance upstream`: one draft per unreported Keras bug, with its title, environments, the
reproducer's real output, the docs it contradicts and the related threads; usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main as cli
from conformance.records.expectations import NONE_FOUND, ExpectationsError, load_all
from conformance.tools import upstream
from conformance.tools.upstream_draft import (
    argument_paragraph,
    documented_arguments,
    excerpt,
    related_threads,
    run_reproducer,
)
from tests.results_files import cond, conds, info, rec2, write

CLAIM = "variables.subset_after_build"
# A reason of a real entry with a title, so that the draft is titled from the expectations files.
ENTRY = next(
    d for d in load_all() if d.claim == CLAIM and d.kind == "bug" and "gradient_accumulation_steps" in d.conditions
)
# Prints what only running it shows (the code alone does not contain it), then fails.
REPRODUCER = "import sys\nprint('KNOWN-' + 'OUTPUT')\nsys.exit(1)\n"
SOURCE = "Keras docs: Optimizer.apply (see github.com/someone/project/issues/7)"


def bug(reason: str = ENTRY.reason, upstream: str = NONE_FOUND, kind: str = "bug", **extra) -> dict:
    return cond("deviation", **{
        "reason": reason,
        "kind": kind,
        "upstream": upstream,
        "link": "https://keras.io/api/optimizers/",
        "configuration": "keras.optimizers.SGD(learning_rate=0.1, gradient_accumulation_steps=2)",
        "message": "v0_gradient_accumulator (not of a variable given): expected 1.0, got 0.0",
        "counterexample": "Draw (case): Case(SGD(gradient_accumulation_steps=2))",
        "reproducer": REPRODUCER,
        **extra,
    })


def results(tmp_path: Path) -> Path:
    """A run with one unreported bug (two optimizers, one of them in two conditions), a bug with an
    upstream issue and a documented deviation."""
    return write(tmp_path / "keras3-tf.jsonl", [
        info("3.15.1", "tensorflow", format_version=2, environment="keras3-tf", python="3.11.7"),
        rec2("SGD", CLAIM, conds(defaults="pass", gradient_accumulation_steps=bug(), drawn=bug(
            reproducer="print('DRAWN-' + 'ONE')",  # shorter, but of a longer configuration: not the one shown
            configuration="keras.optimizers.SGD(learning_rate=0.1, gradient_accumulation_steps=2, clipnorm=1.0)"))),
        rec2("Adam", CLAIM, conds(defaults="pass", gradient_accumulation_steps=bug()), source=SOURCE),
        rec2("Adam", "state.bad_input.set_weights.too_few", conds(defaults=bug(
            reason="Reported already.", upstream="https://github.com/keras-team/keras/pull/9435"))),
        rec2("Adam", "zero_grad.weights_unchanged", conds(weight_decay=bug(reason="Documented.", kind="documented",
                                                                             upstream=""))),
    ])


def passing(tmp_path: Path) -> Path:
    """Another environment, where the bug's checks pass."""
    return write(tmp_path / "keras3-old.jsonl", [
        info("3.3.3", "tensorflow", format_version=2, environment="keras3-old"),
        rec2("SGD", CLAIM, conds(defaults="pass", gradient_accumulation_steps="pass")),
    ])


def drafts(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.name != "README.md")


def test_one_draft_per_unreported_bug_with_everything_a_maintainer_needs(tmp_path, capsys):
    bisect = tmp_path / "bisect.json"
    bisect.write_text(json.dumps({
        "claim": CLAIM, "optimizer": "SGD", "condition": None, "backend": "tensorflow", "range": "3.3.3..3.15.1",
        "first_differing": "3.6.0", "seconds": 1.0,
        "probes": [{"keras": "3.3.3", "verdict": "pass"}, {"keras": "3.5.0", "verdict": "holds"},
                   {"keras": "3.6.0", "verdict": "fails"}, {"keras": "3.15.1", "verdict": "fails"}],
    }))
    out = tmp_path / "drafts"
    assert upstream.main([str(results(tmp_path)), str(passing(tmp_path)), "-o", str(out),
                          "--bisect", str(bisect)]) == 0
    [draft] = drafts(out)
    text = draft.read_text()
    assert text.startswith(f"# {ENTRY.title}\n")
    assert draft.name == upstream.slug(ENTRY.title, set())
    # the environments: where it was found, where it passed, and when it began
    assert "Keras 3.15.1, backend tensorflow, TensorFlow 2.21.0, Python 3.11.7" in text
    assert "Passed in:\n\n- Keras 3.3.3" in text and "`keras3-old`" in text
    assert "Holds since Keras 3.6.0 (bisected: last pass 3.5.0" in text
    # the shortest reproducer of the simplest configuration, run: its real output and exit status, on which Keras
    assert REPRODUCER.strip() in text and "DRAWN-" not in text
    assert "KNOWN-OUTPUT" in text and "exit status 1" in text
    assert "Output (Python 3." in text and "Keras 3." in text.split("Output (Python")[1].split("\n")[0]
    # what the docs say: the claim's source, the entry's link, the argument's docstring paragraph
    assert SOURCE in text and "https://keras.io/api/optimizers/" in text
    assert "From the docstring of `keras.optimizers.SGD`:\n\n> gradient_accumulation_steps: Int or" in text
    assert "> learning_rate:" not in text  # the reason names gradient_accumulation_steps only
    # what happens instead, and what it covers
    assert "expected 1.0, got 0.0" in text and "Draw (case): Case(SGD(gradient_accumulation_steps=2))" in text
    assert f"| `{CLAIM}` | gradient_accumulation_steps | Adam |" in text
    assert f"| `{CLAIM}` | gradient_accumulation_steps, drawn | SGD |" in text
    # related threads: the entry's reason and the claim's source
    assert "https://github.com/keras-team/keras/issues/19998" in text
    assert "https://github.com/someone/project/issues/7" in text
    assert "Reported already." not in text and "Documented." not in text
    index = (out / "README.md").read_text()
    assert f"[{ENTRY.title}]({draft.name})" in index
    assert f"{draft.name}: {ENTRY.title}" in capsys.readouterr().out


def test_no_run_leaves_the_reproducer_alone(tmp_path):
    out = tmp_path / "drafts"
    assert upstream.main([str(results(tmp_path)), "-o", str(out), "--no-run"]) == 0
    [draft] = drafts(out)
    text = draft.read_text()
    assert "Not run here (`--no-run`)" in text
    assert "KNOWN-OUTPUT" not in text and REPRODUCER.strip() in text


def test_a_bug_found_only_on_keras_2_is_filed_at_tf_keras(tmp_path):
    """Keras 2 is maintained in keras-team/tf-keras: a draft whose findings are all from Keras 2 runs
    points there; one also found on Keras 3 points at keras-team/keras."""
    keras2 = write(tmp_path / "keras2-tfkeras.jsonl", [
        info("2.21.0", "tensorflow", format_version=2, environment="keras2-tfkeras", generation="keras2"),
        rec2("SGD", CLAIM, conds(defaults="pass", gradient_accumulation_steps=bug())),
    ])
    out = tmp_path / "drafts"
    assert upstream.main([str(keras2), "-o", str(out), "--no-run"]) == 0
    [draft] = drafts(out)
    assert "file it at https://github.com/keras-team/tf-keras/issues/new" in draft.read_text()
    both = tmp_path / "both"
    assert upstream.main([str(keras2), str(results(tmp_path)), "-o", str(both), "--no-run"]) == 0
    [draft] = drafts(both)
    assert "file it at https://github.com/keras-team/keras/issues/new" in draft.read_text()


def test_entries_that_share_a_title_share_a_draft_and_an_untitled_one_takes_its_first_sentence(tmp_path, monkeypatch):
    first = "First cause. More."
    monkeypatch.setattr(upstream, "titles", lambda: {first: "One bug", "Second view. More.": "One bug"})
    path = write(tmp_path / "r.jsonl", [
        info("3.15.1", "tensorflow", format_version=2),
        rec2("SGD", "a.claim", conds(defaults=bug(reason=first), drawn=bug(reason=first))),
        rec2("Nadam", "a.claim", conds(defaults=bug(reason=first))),  # 2 pairs: it describes the bug first
        rec2("Adam", "b.claim", conds(defaults=bug(reason="Second view. More."))),
        rec2("Lion", "c.claim", conds(defaults=bug(reason="Untitled entry, with e.g. this. And more."))),
    ])
    assert upstream.main([str(path), "-o", str(tmp_path / "out"), "--no-run"]) == 0
    texts = [p.read_text() for p in drafts(tmp_path / "out")]
    assert sorted(t.split("\n")[0] for t in texts) == ["# One bug", "# Untitled entry, with e.g. this"]
    one = next(t for t in texts if t.startswith("# One bug"))
    assert "First cause." in one and "- Second view." in one


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: [], "no results files given"),
        (lambda tmp: [str(tmp / "missing.jsonl")], "no such file or directory"),
        (lambda tmp: [str(write(tmp / "x.jsonl", [{"optimizer": "SGD"}]))], "not a results file"),
        (lambda tmp: [str(results(tmp)), "-o", str(write(tmp / "file", []))], "is a file, not a folder"),
        (lambda tmp: [str(results(tmp)), "--bisect", str(write(tmp / "b.json", [])) + "x"], "--bisect"),
        (lambda tmp: [str(results(tmp)), "--bisect", str(write(tmp / "b.json", [{"claim": 1}]))], "not a bisect"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(make, message, tmp_path, capsys):
    assert cli(["upstream", *make(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("keras-conformance upstream: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_argument_s_docstring_paragraph():
    doc = """Optimizer.

Args:
    learning_rate: A float. The learning rate.
        Defaults to `0.01`.
    clipnorm: Float. If set, the gradient of each weight is individually
        clipped so that its norm is no higher than this value.

    name: String.
"""
    assert argument_paragraph(doc, "learning_rate") == "learning_rate: A float. The learning rate. Defaults to `0.01`."
    assert argument_paragraph(doc, "clipnorm").endswith("no higher than this value.")
    assert argument_paragraph(doc, "clip") is None and argument_paragraph(doc, "global_clipnorm") is None


def test_the_documented_arguments_come_from_the_keras_docstrings():
    pytest.importorskip("keras")
    [(where, paragraph)] = documented_arguments("SGD", "keras.optimizers.SGD(momentum=0.5, clipnorm='1.0')", "clipnorm")
    assert where == "keras.optimizers.SGD" and paragraph.startswith("clipnorm: Float.")
    # an argument the wrapper does not document comes from the class that takes it
    found = documented_arguments("LossScaleOptimizer", "keras.optimizers.LossScaleOptimizer(keras.optimizers.Nadam("
                                 "beta_1=0.5))", "beta_1")
    assert found and found[0][0] == "keras.optimizers.Nadam" and found[0][1].startswith("beta_1:")
    assert documented_arguments("SGD", "keras.optimizers.SGD()", "") == []


def test_related_threads_are_urls_and_references_each_once():
    found = related_threads(
        "see keras-team/keras#19998 and https://github.com/keras-team/keras/issues/19998.",
        "(github.com/Esri/arcgis-python-api/issues/1849, https://arxiv.org/abs/2405.15682)",
    )
    assert found == [
        "keras-team/keras#19998: https://github.com/keras-team/keras/issues/19998",
        "Esri/arcgis-python-api#1849: https://github.com/Esri/arcgis-python-api/issues/1849",
        "https://arxiv.org/abs/2405.15682",
    ]


def test_a_bisection_says_when_it_began_or_that_it_did_not_change():
    probes = [{"keras": "3.3.3", "verdict": "pass"}, {"keras": "3.9.0", "verdict": "deviation"}]
    line = upstream.bisect_line({"claim": CLAIM, "optimizer": "SGD", "first_differing": "3.9.0", "probes": probes})
    assert line.startswith("Holds since Keras 3.9.0 (bisected: last pass 3.3.3")
    assert "did not change" in upstream.bisect_line({"claim": CLAIM, "optimizer": "SGD", "first_differing": None})


def test_a_reproducer_that_runs_too_long_is_stopped_with_what_it_printed():
    ran = run_reproducer("import time\nprint('begun', flush=True)\ntime.sleep(60)\n", timeout=2)
    assert ran.returncode is None and ran.output == "begun\n" and ran.seconds < 30


def test_a_long_output_keeps_its_start_and_end():
    text = "\n".join(f"line {i}" for i in range(200))
    kept = excerpt(text, head=3, tail=10).split("\n")
    assert kept[:3] == ["line 0", "line 1", "line 2"] and kept[-1] == "line 199" and len(kept) == 14
    assert kept[3] == "[... 187 line(s) left out ...]"
    assert excerpt("a\nb\n") == "a\nb"
    wide = excerpt("\n".join("x" * 100 for _ in range(60)), chars=350)
    assert len(wide) < 1000 and "line(s) left out" in wide


def test_every_unreported_bug_has_a_title():
    untitled = [d.reason[:80] for d in load_all() if d.kind == "bug" and d.upstream == NONE_FOUND and not d.title]
    assert not untitled, f"bug entries with upstream = {NONE_FOUND!r} and no title: {untitled}"


@pytest.mark.parametrize("title", ['""', '"two\\nlines"', "3"])
def test_a_bad_title_is_an_expectations_error(title, tmp_path):
    path = tmp_path / "e.toml"
    entry = 'optimizer = "SGD"\nclaim = "x"\nreason = "r"\nkind = "documented"'
    path.write_text(f"[[deviation]]\n{entry}\ntitle = {title}\n")
    with pytest.raises(ExpectationsError, match="title"):
        load_all([path], builtin=False)
