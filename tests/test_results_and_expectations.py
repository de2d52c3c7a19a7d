"""Results file writing/reading, expectations matching and the terminal matrix."""

import json

import pytest

from conformance.harness.matrix import render
from conformance.harness.plugin import SYMBOL
from conformance.records import expectations
from conformance.records.expectations import Deviation
from conformance.records.results_format import read_run
from conformance.records.writer import ResultsWriter


def test_results_are_flushed_line_by_line(tmp_path):
    path = tmp_path / "r.jsonl"
    w = ResultsWriter(path, {"keras": "3.15.1"})
    w.write({"optimizer": "Adam", "claim": "c", "verdict": "pass"})
    # readable before close: a crash after this line loses nothing already written
    run = read_run(path)
    assert run.info == {"keras": "3.15.1"} and run.records == {
        ("Adam", "c"): {"optimizer": "Adam", "claim": "c", "verdict": "pass"}
    }
    w.close()


def test_a_truncated_line_is_named(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"run_info": {}}) + "\n" + '{"optimizer": "Ad')
    assert read_run(path).notes == ["cut off mid-line at line 2 (a crashed run?): used the 1 complete lines"]


@pytest.mark.parametrize(
    "dev, args, applies",
    [
        (
            Deviation("Ad*", "zero_grad.*", "r", "bug", keras=">=3.0", upstream="none found"),
            ("Adam", "zero_grad.x", "3.15.1", "tensorflow"),
            True,
        ),
        (
            Deviation("Ad*", "zero_grad.*", "r", "bug", keras="<3.10", upstream="none found"),
            ("Adam", "zero_grad.x", "3.15.1", "tensorflow"),
            False,
        ),
        (Deviation("Adam", "*", "r", "environment", backend="jax"), ("Adam", "c", "3.15.1", "tensorflow"), False),
        (Deviation("Adam", "*", "r", "documented"), ("AdamW", "c", "3.15.1", "tensorflow"), False),
    ],
)
def test_deviation_matching(dev, args, applies):
    assert dev.applies(*args) is applies


def test_match_regex_narrows_a_deviation():
    d = Deviation("*", "*", "r", "documented", match="weight_decay=")
    assert d.explains("SGD(learning_rate=0.1, weight_decay=0.5)\n...") and not d.explains("SGD(learning_rate=0.1)")


def test_the_shipped_expectations_file_is_valid():
    devs = expectations.load()
    assert all(d.reason for d in devs)
    for d in devs:
        d.applies("Adam", "x", "3.15.1", "tensorflow")  # version specifiers parse


def test_matrix_shows_the_defaults_verdict_beside_the_claims():
    text = render(
        {("Adam", "a.b"): ("pass", "pass"), ("SGD", "a.b"): ("pass", "deviation"), ("SGD", "c.d"): ("-", "error")},
        SYMBOL,
    )
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.startswith(("Adam", "SGD"))}
    assert rows == {"Adam": ["PP", "-."], "SGD": ["PD", "-E"]}
    assert "D deviation" in text and "the verdict with the defaults" in text
    assert "totals over every condition: pass 1, fail 0, deviation 1, unsupported 0, error 1" in text
    assert "totals with the defaults: pass 2, fail 0" in text


def test_a_record_is_made_of_json_values_before_it_travels():
    """xdist sends records to the controller: a Keras tracked list or a numpy scalar from a config
    would not serialize."""
    import numpy as np

    from conformance.records.writer import plain

    class Tracked(list):
        pass

    out = plain({"hyperparameters": {"exclude_layers": Tracked(["v0"]), "beta_1": np.float32(0.5)}})
    assert out == {"hyperparameters": {"exclude_layers": ["v0"], "beta_1": 0.5}}
    assert type(out["hyperparameters"]["exclude_layers"]) is list and type(out["hyperparameters"]["beta_1"]) is float


def test_the_summary_counts_deviations_per_kind_and_lists_unreported_bugs_by_claim():
    from conformance.harness.matrix import deviation_summary

    lines = deviation_summary(
        {
            ("Adam", "a"): {"defaults": "bug|none found", "clipnorm": "bug|none found"},
            ("SGD", "a"): {"drawn": "documented|"},
            ("SGD", "b"): {"drawn": "bug|https://github.com/keras-team/keras/issues/1"},
        }
    )
    assert lines[0] == "deviations per kind ((optimizer, claim) pairs, in any condition): bug 2, documented 1"
    assert "in 1 (optimizer, claim) pairs" in lines[1] and lines[2] == "  a: Adam (clipnorm, defaults)"
