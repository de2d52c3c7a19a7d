"""`python -m conformance.records.merge` on small synthetic results files: three environments, one cut off
mid-line by a crash, one labelled by its file name, an optimizer only one of them has."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.records import merge

from .results_files import info, rec, write

ROOT = Path(__file__).resolve().parents[1]
NO_KEYWORD = "{}.apply_gradients(grads_and_vars) in Keras 3.15.1 has no experimental_aggregate_gradients keyword"
CLIP_REASON = "Under a tf.distribute strategy each replica clips its own gradient"


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """keras3-tf (labelled by run_info), keras3-jax (by file stem), keras2 (crashed mid-line)."""
    d = tmp_path / "reports"
    d.mkdir()
    layouts = [{"layout": {"optimizer": o, "variables": []}} for o in ("Adam", "SGD")]
    write(
        d / "a.jsonl",
        [
            info("3.15.1", "tensorflow", environment="keras3-tf"),
            *layouts,
            *(
                rec(o, "mirrored.clipnorm", "deviation", reason=CLIP_REASON, message="step 1 ...")
                for o in ("Adam", "SGD")
            ),
            *(rec(o, "mirrored.manual", "pass") for o in ("Adam", "SGD")),
            rec("Adam", "zero_grad.weights", "pass"),
            rec("SGD", "zero_grad.weights", "pass"),
        ],
    )
    write(
        d / "keras3-jax.jsonl",
        [
            info("3.15.1", "jax"),
            *layouts,
            *(
                rec(o, "mirrored.clipnorm", "unsupported", message="tf.distribute needs TensorFlow")
                for o in ("Adam", "SGD")
            ),
            *(rec(o, "mirrored.manual", "unsupported", message=NO_KEYWORD.format(o)) for o in ("Adam", "SGD")),
            rec("Adam", "zero_grad.weights", "fail", message="weight v0 moved by 1e-07\n\nReproducer:\n..."),
            rec("SGD", "zero_grad.weights", "pass"),
        ],
    )
    write(
        d / "keras2.jsonl",
        [
            info("2.15.0", "tensorflow", environment="keras2-tf215"),
            {"layout": {"optimizer": "legacy.Adam", "variables": []}},
            *layouts,
            rec("legacy.Adam", "zero_grad.weights", "pass"),
            rec("Adam", "mirrored.clipnorm", "deviation", reason=CLIP_REASON, message="step 1 ..."),
            rec("Adam", "zero_grad.weights", "pass", stale="declared, did not occur"),
        ],
        cut='{"optimizer": "SGD", "claim": "mirrored.clip',
    )
    write(d / "merged-old.jsonl", [info("9", "x", environment="must-not-appear")])  # a merged output: left out
    (d / "notes.jsonl").write_text('{"hello": 1}\n')  # no run_info: skipped with a warning
    return d


def run_merge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "conformance.records.merge", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_merged_json_has_every_environment_and_verdict(reports, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert merge.main([str(reports), "--out", str(out)]) == 0
    assert "notes.jsonl: no run_info line" in capsys.readouterr().err
    m = json.loads(out.read_text())
    envs = {e["label"]: e for e in m["environments"]}
    assert sorted(envs) == ["keras2-tf215", "keras3-jax", "keras3-tf"]  # run_info label, else the file stem
    assert envs["keras3-jax"]["run_info"]["versions"] == {"keras": "3.15.1", "jax": "2.21.0"}
    assert envs["keras3-jax"]["counts"] == {"pass": 1, "fail": 1, "unsupported": 4}
    assert envs["keras2-tf215"]["stale"] == 1
    assert "cut off mid-line at line 8" in envs["keras2-tf215"]["notes"][0]
    assert m["only_in"] == {"legacy.Adam": ["keras2-tf215"]}
    assert m["not_run"] == {"keras2-tf215": 4}  # SGD's claims and Adam's mirrored.manual
    row = next(r for r in m["results"] if (r["optimizer"], r["claim"]) == ("Adam", "zero_grad.weights"))
    assert row["verdicts"]["keras3-jax"] == {
        "verdict": "fail",
        "expected": "pass",
        "message": "weight v0 moved by 1e-07",
    }
    assert row["verdicts"]["keras2-tf215"]["stale"] == "declared, did not occur"


def test_differences_are_grouped_with_their_reasons(reports, tmp_path):
    r = run_merge(str(reports), "--out", str(tmp_path / "m.json"), "--markdown", str(tmp_path / "m.md"))
    assert r.returncode == 0, r.stderr
    groups = json.loads((tmp_path / "m.json").read_text())["differences"]
    of = {(c, o): g for g in groups for c, opts in g["claims"].items() for o in opts}
    assert set(of) == {(c, o) for c in ("mirrored.clipnorm", "mirrored.manual") for o in ("Adam", "SGD")} | {
        ("zero_grad.weights", "Adam")
    }
    manual = of["mirrored.manual", "Adam"]  # one cause for both optimizers: one group
    assert manual["claims"] == {"mirrored.manual": ["Adam", "SGD"]} and manual["pairs"] == 2
    assert manual["cells"]["keras3-jax"]["reason"] == NO_KEYWORD.format("<optimizer>")
    assert manual["cells"]["keras2-tf215"] == {"verdict": "not run", "reason": ""}
    clip = of["mirrored.clipnorm", "Adam"]  # SGD's keras2 record was cut off: not run there, a group apart
    assert clip["claims"] == {"mirrored.clipnorm": ["Adam"]} and of["mirrored.clipnorm", "SGD"] is not clip
    assert (
        clip["cells"]["keras3-tf"] == clip["cells"]["keras2-tf215"] == {"verdict": "deviation", "reason": CLIP_REASON}
    )
    assert of["mirrored.clipnorm", "SGD"]["cells"]["keras2-tf215"]["verdict"] == "not run"
    zero = of["zero_grad.weights", "Adam"]
    assert zero["claims"] == {"zero_grad.weights": ["Adam"]}
    assert zero["cells"]["keras3-jax"] == {"verdict": "fail", "reason": "weight v0 moved by 1e-07"}
    assert zero["cells"]["keras2-tf215"] == {"verdict": "pass", "reason": "stale expectation: declared, did not occur"}
    assert "legacy.Adam" not in json.dumps(groups)  # only in one environment: not a difference
    text = r.stdout
    assert "only in keras2-tf215: legacy.Adam" in text and "cut off mid-line" in text
    assert "environments (3, in version order):\n  keras2-tf215" in text
    assert "differences: 5 (optimizer, claim) pairs in 4 groups" in text
    assert "[4] 1 pair(s)\n    across versions: tensorflow: holds 2.15.0–3.15.1 · jax: fails 3.15.1\n" in text
    assert "unsupported  <optimizer>.apply_gradients(grads_and_vars) in Keras 3.15.1" in text
    md = (tmp_path / "m.md").read_text()
    # in version order (Keras 2, then Keras 3.15.1 on jax, then on tensorflow), not the files' (a, keras2, keras3-jax)
    assert "| claims | optimizers | across versions | keras2-tf215 | keras3-jax | keras3-tf |" in md
    assert (
        "| `mirrored.manual` | Adam, SGD | tensorflow: holds 3.15.1 · jax: unsupported 3.15.1 "
        "| not run | unsupported (3) | pass |" in md
    )
    assert "3. &lt;optimizer&gt;.apply_gradients" in md
    assert f". {CLIP_REASON}" in md and "- only in keras2-tf215: `legacy.Adam`" in md


def test_identical_environments_have_no_differences(tmp_path, capsys):
    lines = [info("3.15.1", "tensorflow"), rec("Adam", "c", "pass")]
    files = [str(write(tmp_path / f"{n}.jsonl", lines)) for n in ("one", "two")]
    assert merge.main(files) == 0
    assert "differences: none" in capsys.readouterr().out


def test_same_label_twice_is_told_apart(tmp_path, capsys):
    a = write(tmp_path / "a.jsonl", [info("3.15.1", "jax", environment="e"), rec("Adam", "c", "pass")])
    b = write(tmp_path / "b.jsonl", [info("3.15.1", "jax", environment="e"), rec("Adam", "c", "fail", message="boom")])
    assert merge.main([str(a), str(b), "--out", str(tmp_path / "m.json")]) == 0
    assert [e["label"] for e in json.loads((tmp_path / "m.json").read_text())["environments"]] == ["e", "e#2"]
    assert "e#2  fail         boom" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, words",
    [
        ([], "no results files given"),
        (["no/such/file.jsonl"], "no such file or directory"),
        (["tests"], "no *.jsonl results files"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, words):
    r = run_merge(*args)
    assert r.returncode == 2 and r.stdout == ""
    assert words in r.stderr and "usage: python -m conformance.records.merge" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_rejudge_with_a_file_that_is_not_an_expectations_file_is_a_usage_error(tmp_path, capsys):
    results = tmp_path / "r.jsonl"
    results.write_text(json.dumps(info("3.15.1", "tensorflow")) + "\n")
    assert merge.main([str(results), "--rejudge", str(results)]) == 2
    err = capsys.readouterr().err
    assert "not a readable expectations file" in err and "Traceback" not in err


def test_files_without_run_info_only_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "x.jsonl").write_text('{"optimizer": "Adam"}\n')
    assert merge.main([str(tmp_path)]) == 2
    assert "none of the files given is a results file" in capsys.readouterr().err


def test_rejudge_applies_the_expectations_as_they_are_now(tmp_path):
    """A stored fail that an entry now explains becomes a deviation; a stored deviation that no
    entry explains any more becomes a fail; passes stay."""
    from conformance.records.rejudge import rejudge

    exp = tmp_path / "exp.toml"
    exp.write_text(
        '[[deviation]]\noptimizer = "Adam"\nclaim = "reference.*"\nkeras = ">=3.0"\nmatch = "epsilon"\nreason = "why"\n'
        'kind = "bug"\nupstream = "none found"\n'
    )
    records = {
        ("Adam", "reference.trajectory"): rec(
            "Adam", "reference.trajectory", "fail", message="differs: epsilon placement"
        ),
        ("Adam", "reference.trajectory_float64"): rec(
            "Adam", "reference.trajectory_float64", "fail", message="another cause"
        ),
        ("SGD", "reference.trajectory"): rec(
            "SGD", "reference.trajectory", "deviation", message="old cause", reason="old"
        ),
        ("SGD", "zero_grad.weights_unchanged"): rec("SGD", "zero_grad.weights_unchanged", "pass"),
    }
    changed = rejudge(info("3.15.1", "tensorflow")["run_info"], records, exp)
    verdicts = {k: r["verdict"] for k, r in records.items()}
    assert changed == 2
    assert verdicts == {
        ("Adam", "reference.trajectory"): "deviation",
        ("Adam", "reference.trajectory_float64"): "fail",
        ("SGD", "reference.trajectory"): "fail",
        ("SGD", "zero_grad.weights_unchanged"): "pass",
    }
    assert records[("Adam", "reference.trajectory")]["reason"] == "why"
    assert records[("Adam", "reference.trajectory")]["kind"] == "bug"


def _conditions(**verdicts: str) -> dict:
    return {
        n: {
            "verdict": v,
            "expected": "fail" if v == "deviation" else "pass",
            "message": f"{n}: weights changed",
            "configuration": f"keras.optimizers.SGD({n})",
        }
        for n, v in verdicts.items()
    }


def test_rejudge_judges_each_condition_and_takes_the_worst(tmp_path):
    """Format 2: an entry naming the weight_decay condition turns that condition's failure into a
    deviation and leaves the defaults' failure a failure; the record is then the worst again."""
    from conformance.records.rejudge import rejudge

    exp = tmp_path / "exp.toml"
    exp.write_text(
        '[[deviation]]\noptimizer = "*"\nclaim = "zero_grad.*"\nconditions = ["weight_decay"]\n'
        'reason = "decay on every step"\nkind = "documented"\n'
    )
    records = {
        ("SGD", "zero_grad.weights_unchanged"): rec(
            "SGD",
            "zero_grad.weights_unchanged",
            "fail",
            condition="weight_decay",
            conditions=_conditions(defaults="pass", weight_decay="fail"),
        ),
        ("Adam", "zero_grad.weights_unchanged"): rec(
            "Adam",
            "zero_grad.weights_unchanged",
            "fail",
            condition="defaults",
            conditions=_conditions(defaults="fail", weight_decay="fail"),
        ),
    }
    assert rejudge(info("3.15.1", "tensorflow")["run_info"], records, exp) == 1
    sgd, adam = records[("SGD", "zero_grad.weights_unchanged")], records[("Adam", "zero_grad.weights_unchanged")]
    assert (sgd["verdict"], sgd["condition"], sgd["kind"]) == ("deviation", "weight_decay", "documented")
    assert (adam["verdict"], adam["condition"]) == ("fail", "defaults")
    assert (
        adam["conditions"]["weight_decay"]["verdict"] == "deviation"
        and adam["conditions"]["defaults"]["verdict"] == "fail"
    )


def test_a_changed_condition_is_a_difference_though_the_verdict_is_the_same(tmp_path, capsys):
    a = write(
        tmp_path / "a.jsonl",
        [
            info("3.15.1", "tensorflow", environment="old"),
            rec(
                "SGD",
                "zero_grad.weights_unchanged",
                "deviation",
                conditions=_conditions(defaults="pass", weight_decay="deviation"),
            ),
        ],
    )
    b = write(
        tmp_path / "b.jsonl",
        [
            info("3.15.1", "tensorflow", environment="new"),
            rec(
                "SGD",
                "zero_grad.weights_unchanged",
                "deviation",
                conditions=_conditions(defaults="deviation", weight_decay="deviation"),
            ),
        ],
    )
    assert merge.main([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "differences: 1 (optimizer, claim) pairs" in out
    assert "deviation (defaults pass)" in out and "deviation (defaults deviation)" in out
    assert "with the defaults: pass 1" in out and "with the defaults: deviation 1" in out
    assert "deviations per kind ((optimizer, claim) pairs): unknown 1" in out  # these fixtures declare no kind
