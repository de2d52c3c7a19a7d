"""Results file writing/reading, expectations matching and the terminal matrix."""

import json

import pytest

from conformance import expectations
from conformance.expectations import Deviation
from conformance.matrix import render
from conformance.plugin import SYMBOL
from conformance.results import ResultsWriter, read


def test_results_are_flushed_line_by_line(tmp_path):
    path = tmp_path / "r.jsonl"
    w = ResultsWriter(path, {"keras": "3.15.1"})
    w.write({"optimizer": "Adam", "claim": "c", "verdict": "pass"})
    # readable before close: a crash after this line loses nothing already written
    info, records = read(path)
    assert info == {"keras": "3.15.1"} and records == [{"optimizer": "Adam", "claim": "c", "verdict": "pass"}]
    w.close()


def test_a_truncated_line_is_named(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"run_info": {}}) + "\n" + '{"optimizer": "Ad')
    with pytest.raises(ValueError, match=r"r.jsonl:2: not a JSON object"):
        read(path)


@pytest.mark.parametrize(
    "dev, args, applies",
    [
        (Deviation("Ad*", "zero_grad.*", "r", keras=">=3.0"), ("Adam", "zero_grad.x", "3.15.1", "tensorflow"), True),
        (Deviation("Ad*", "zero_grad.*", "r", keras="<3.10"), ("Adam", "zero_grad.x", "3.15.1", "tensorflow"), False),
        (Deviation("Adam", "*", "r", backend="jax"), ("Adam", "c", "3.15.1", "tensorflow"), False),
        (Deviation("Adam", "*", "r"), ("AdamW", "c", "3.15.1", "tensorflow"), False),
    ],
)
def test_deviation_matching(dev, args, applies):
    assert dev.applies(*args) is applies


def test_match_regex_narrows_a_deviation():
    d = Deviation("*", "*", "r", match="weight_decay=")
    assert d.explains("SGD(learning_rate=0.1, weight_decay=0.5)\n...") and not d.explains("SGD(learning_rate=0.1)")


def test_the_shipped_expectations_file_is_valid():
    devs = expectations.load()
    assert all(d.reason for d in devs)
    for d in devs:
        d.applies("Adam", "x", "3.15.1", "tensorflow")  # version specifiers parse


def test_matrix_has_a_row_per_optimizer_and_a_legend():
    text = render({("Adam", "a.b"): "pass", ("SGD", "a.b"): "deviation", ("SGD", "c.d"): "error"}, SYMBOL)
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.startswith(("Adam", "SGD"))}
    assert rows == {"Adam": ["P", "."], "SGD": ["D", "E"]}
    assert "D deviation" in text and "pass 1, fail 0, deviation 1, unsupported 0, error 1" in text


def test_only_unconditional_deviations_go_stale():
    from conformance.verdicts import classify

    conditional = Deviation("Adam", "c", "only if it fails this way", match="weight_decay=")
    unconditional = Deviation("Adam", "d", "always fails")
    assert classify(None, "Adam", "c", [conditional], "3.15.1", "tensorflow")["stale"] == ""
    assert classify(None, "Adam", "d", [unconditional], "3.15.1", "tensorflow")["stale"] == "always fails"


def test_a_failure_outside_the_declared_cause_stays_a_failure():
    from conformance import strategies
    from conformance.errors import ClaimFailed
    from conformance.verdicts import classify

    strategies.LAST[0] = None  # no drawn case: the message alone must carry the cause
    dev = Deviation("Adam", "c", "weight decay", match="weight_decay=")
    out = classify(ClaimFailed("weights changed"), "Adam", "c", [dev], "3.15.1", "tensorflow")
    assert out["verdict"] == "fail"
