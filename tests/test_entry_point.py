"""The installed plugin: inert in another project's runs, active for `--pyargs conformance` from any
directory; the keras-conformance command; bad option values are one-line usage errors (exit 4)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "momentum_sgd" / "src"
ENV = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
ENV.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=os.pathsep.join([str(EXAMPLE), str(ROOT)]))

OTHER_PROJECT = '''
import sys
from hypothesis import settings

def test_untouched():
    assert settings.default.max_examples == 100  # no profile of the suite loaded
    assert "keras" not in sys.modules and "conformance.harness.plugin" not in sys.modules
'''


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)


def test_installing_it_leaves_other_projects_test_runs_alone(tmp_path):
    (tmp_path / "test_other.py").write_text(OTHER_PROJECT)
    r = run("-m", "pytest", "-q", "-p", "no:randomly", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (tmp_path / "reports").exists()


def test_pyargs_runs_the_suite_from_another_directory_on_a_users_optimizer(tmp_path):
    r = run("-m", "pytest", "--pyargs", "conformance", "--optimizer", "momentum_sgd:MomentumSGD", "-p", "no:randomly",
            "-k", "MomentumSGD and zero_grad.weights_unchanged", "--hypothesis-profile=ci", "--no-report", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "DeprecationWarning" not in r.stdout + r.stderr
    lines = [json.loads(x) for x in (tmp_path / "reports" / "results.jsonl").read_text().splitlines()]
    verdicts = [x for x in lines if "verdict" in x]
    assert [(x["optimizer"], x["claim"]) for x in verdicts] == [
        ("momentum_sgd:MomentumSGD", "zero_grad.weights_unchanged")
    ]
    assert verdicts[0]["conditions"]["defaults"]["verdict"] == "pass" and verdicts[0]["parents"] == ["Optimizer"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hypothesis-profile", "nosuch"], "--hypothesis-profile 'nosuch': no such profile"),
        (["--results", "."], "is a folder"),
        (["--claim-timeout", "-1"], "--claim-timeout -1: must be 0 or more"),
        (["--shrink-budget", "-3"], "--shrink-budget -3: must be 0 or more"),
        (["--optimizer", "m:A", "--optimizer", "m:A"], "--optimizer 'm:A' is given twice"),
        (["--optimizer", "tests.user_optimizers:MissingArgSGD"], "requires momentum_required"),
    ],
)
def test_a_bad_value_is_a_one_line_usage_error(args, message, tmp_path):
    r = run("-m", "pytest", "--pyargs", "conformance", *args, "-q", cwd=tmp_path)
    errors = [x for x in r.stderr.splitlines() if x.startswith("ERROR")]
    assert r.returncode == 4 and len(errors) == 1 and message in errors[0], r.stderr[-2000:]
    assert "Traceback" not in r.stdout + r.stderr


def test_the_command_lists_claims_and_optimizers_with_their_spec_status(tmp_path):
    r = run(
        "-m",
        "conformance",
        "list",
        "--optimizer",
        "momentum_sgd:MomentumSGD",
        "--optimizer-spec",
        "momentum_sgd.spec:SPEC",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    assert "zero_grad.weights_unchanged" in out and "source: Q&A: 'How can I initialize" in out
    lines = {x.split()[0]: x for x in out.splitlines() if x.startswith("  ") and len(x.split()) > 2}
    assert "no spec" in lines["momentum_sgd:MomentumSGD"] and "reference" in lines["MomentumSGD"]
    assert "reference, torch, optax" in lines["Adam"]
    bad = run("-m", "conformance", "nosuch", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown command" in bad.stderr


def test_the_run_command_is_pytest_on_the_installed_package(tmp_path):
    r = run(
        "-m",
        "conformance",
        "run",
        "-p",
        "no:randomly",
        "-k",
        "zero_grad.weights_unchanged-SGD",
        "--hypothesis-profile=ci",
        "--no-report",
        "--results",
        "r.jsonl",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Warning" not in r.stdout + r.stderr  # not even pytest's about modules imported before it
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert sum('"verdict"' in x for x in lines) == 1
