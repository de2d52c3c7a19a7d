"""--reuse: an earlier run's verdicts are taken only where nothing they follow from has changed
(its fingerprint), and only in a profile that draws the same examples in every run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conformance.records import fingerprint
from tests.suite_runs import run_suite

SGD = "test_zero_grad and SGD]"


def _verdicts(path: Path) -> dict[tuple[str, str], tuple[str, dict]]:
    out = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if "claim" in r:
            out[(r["optimizer"], r["claim"])] = (r["verdict"], r.get("conditions"))
    return out


def test_a_changed_suite_file_changes_the_suite_part(tmp_path, monkeypatch):
    (tmp_path / "claims.py").write_text("A = 1\n")
    monkeypatch.setattr(fingerprint, "SUITE", tmp_path)
    before = fingerprint.parts([], [], ["cpu"], {"profile": "ci"})
    assert fingerprint.parts([], [], ["cpu"], {"profile": "ci"}) == before  # the same inputs, the same hashes
    (tmp_path / "claims.py").write_text("A = 2\n")
    after = fingerprint.parts([], [], ["cpu"], {"profile": "ci"})
    assert fingerprint.differences(before, after) == ["suite"]
    assert fingerprint.differences(after, fingerprint.parts([], [], ["cpu"], {"profile": "quick"})) == ["settings"]
    moved = tmp_path / "elsewhere"  # the same code in another checkout
    moved.mkdir()
    (moved / "claims.py").write_text("A = 2\n")
    monkeypatch.setattr(fingerprint, "SUITE", moved)
    assert fingerprint.parts([], [], ["cpu"], {"profile": "ci"}) == after
    assert fingerprint.differences(None, after) == ["fingerprint (the file has none)"]


def test_a_user_optimizers_whole_package_counts(tmp_path, monkeypatch):
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("def scale(x):\n    return x\n")
    (package / "optim.py").write_text("from mypkg.helpers import scale\nclass MyOpt:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "mypkg" or m.startswith("mypkg.")]:
        monkeypatch.delitem(sys.modules, name)
    from mypkg.optim import MyOpt

    files = {name for name, _ in fingerprint.source_files([MyOpt])}
    assert {"mypkg/optim.py", "mypkg/helpers.py", "mypkg/__init__.py"} <= files  # a helper's change counts
    import keras

    assert fingerprint.source_files([keras.optimizers.Adam]) == []  # its version stands for its source
    before = fingerprint.parts([], [MyOpt], [], {})
    (package / "helpers.py").write_text("def scale(x):\n    return 2 * x\n")
    assert fingerprint.differences(before, fingerprint.parts([], [MyOpt], [], {})) == ["optimizer sources"]


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reuse") / "earlier.jsonl"
    r = run_suite("conformance", "-k", SGD, "--results", str(path), profile="quick")
    assert r.returncode == 0, r.stdout[-3000:]
    return path


def test_unchanged_verdicts_are_taken_and_only_the_other_claims_run(earlier, tmp_path):
    out = tmp_path / "now.jsonl"
    r = run_suite("conformance", "-k", "test_zero_grad and (SGD] or Adagrad])", "--reuse", str(earlier),
                  "--results", str(out), profile="quick")
    assert r.returncode == 0, r.stdout[-3000:]
    before, now = _verdicts(earlier), _verdicts(out)
    assert len(before) == 4 and "--reuse: 4 claims' verdicts taken from" in r.stdout
    assert ", 4 run now" in r.stdout  # Adagrad's; SGD's did not run again
    assert {k: v for k, v in now.items() if k[0] == "SGD"} == before
    assert {k[0] for k in now} == {"SGD", "Adagrad"} and len(now) == 8


def test_every_verdict_reused_still_writes_the_results_file(earlier, tmp_path):
    out = tmp_path / "again.jsonl"
    r = run_suite("conformance", "-k", SGD, "--reuse", str(earlier), "--results", str(out), profile="quick")
    assert r.returncode == 0, r.stdout[-3000:]
    assert _verdicts(out) == _verdicts(earlier) and ", 0 run now" in r.stdout


def test_a_changed_environment_reuses_nothing_and_says_what_changed(earlier, tmp_path):
    out = tmp_path / "changed.jsonl"
    r = run_suite("conformance", "-k", SGD, "--reuse", str(earlier), "--results", str(out), profile="quick",
                  env={"TF_ENABLE_ONEDNN_OPTS": "0"})
    assert r.returncode == 0, r.stdout[-3000:]
    assert "nothing reused from" in r.stdout and "environment variables changed since it ran" in r.stdout
    assert "run now" not in r.stdout and len(_verdicts(out)) == 4


@pytest.mark.parametrize("extra, profile, says", [
    ((), "dev", "draws new examples in every run"),
    (("--resume",), "quick", "give one of them"),
])
def test_reuse_where_it_cannot_hold_is_a_usage_error(earlier, tmp_path, extra, profile, says):
    r = run_suite("conformance", "-k", SGD, "--reuse", str(earlier), *extra, "--results",
                  str(tmp_path / "r.jsonl"), profile=profile)
    assert r.returncode == 4 and says in r.stderr, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
