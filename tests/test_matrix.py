"""The environment table (conformance/tools/matrix.py), tox.ini and constraints/ agree, and each
check catches the breakage it is for: a table edited without writing the files again, a file
edited by hand, an environment tox does not list, a copied section, a drifted pin."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.tools import matrix
from conformance.tools.matrix import ENVS, by_name
from conformance.tools.matrix_check import applies, expand, problems

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of what the checks read, to break."""
    for name in ("tox.ini", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "constraints", tmp_path / "constraints")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_the_table_tox_ini_and_constraints_agree():
    assert problems(ROOT) == []


def test_every_tensorflow_minor_is_in_the_table():
    minors = {".".join(e.tensorflow.split(".")[:2]) for e in ENVS if e.tensorflow}
    assert minors == {f"2.{m}" for m in range(15, 22)}
    assert {"3.5.0", "3.9.0"} <= {e.keras for e in ENVS}
    assert [e.name for e in ENVS if e.pr] and not all(e.pr for e in ENVS)


def test_expand_is_toxs_generative_list():
    assert expand("keras3-{tf,jax}, b\n  c{1, 2}-{x}") == ["keras3-tf", "keras3-jax", "b", "c1-x", "c2-x"]
    assert expand("") == []


@pytest.mark.parametrize(
    "condition, env, selected",
    [
        ("jax", "keras3-jax", True),
        ("jax", "keras3-tf", False),
        ("keras3-!jax-!torch,keras35", "keras3-tf216", True),
        ("keras3-!jax-!torch,keras35", "keras3-torch", False),
        ("keras3-!jax-!torch,keras35", "keras35-tf217", True),
        ("keras3-!jax-!torch,keras35", "keras2-tf215", False),
        ("tf{215,216}", "keras2-tf215", True),
    ],
)
def test_factor_conditions(condition, env, selected):
    assert applies(condition, env) is selected


def test_torch_is_its_cpu_build_and_its_sources_reach_uv(monkeypatch):
    assert "torch==2.13.0+cpu" in matrix.requirements(by_name("keras3-tf216"))
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://download.pytorch.org/whl/cpu file:///opt/pypi/simple")
    assert matrix.uv_sources() == ["--find-links", "/opt/wheels", "--extra-index-url",
                                   "https://download.pytorch.org/whl/cpu", "--index-strategy", "unsafe-best-match"]
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL")
    assert matrix.uv_sources() == ["--find-links", "/opt/wheels"]


def test_a_cuda_torch_is_refused(monkeypatch):
    def compiled(cmd, **kwargs):
        Path(cmd[cmd.index("-o") + 1]).write_text("keras==3.15.1\nnvidia-cublas==13.1.1.3\ntorch==2.13.0\n")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(matrix.subprocess, "run", compiled)
    with pytest.raises(RuntimeError, match="CUDA build"):
        matrix.resolve(by_name("keras3-torch"))


def test_a_resolution_is_written_under_its_header(monkeypatch):
    env = by_name("keras3-tf218")

    def compiled(cmd, **kwargs):
        assert "--python-version" in cmd and "-c" not in cmd  # only the default stack is held to constraints.txt
        Path(cmd[cmd.index("-o") + 1]).write_text("# a comment uv wrote\nkeras==3.15.1\ntensorflow-cpu==2.18.1\n")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(matrix.subprocess, "run", compiled)
    assert matrix.resolve(env).splitlines() == [*matrix.header(env), "keras==3.15.1", "tensorflow-cpu==2.18.1"]


def _env(name: str, **changes) -> tuple[matrix.Env, ...]:
    return tuple(dataclasses.replace(e, **changes) if e.name == name else e for e in ENVS)


BREAKAGES = {  # name: (breaks the copy of the root, the table to check with, expected words)
    "table edited, files not written": (lambda r: None, _env("keras3-tf218", keras="3.14.0"), "stale"),
    "environment added to the table only": (
        lambda r: None,
        (*ENVS, dataclasses.replace(by_name("keras3-tf218"), name="keras3-tf218b")),
        "tox.ini's envlist lacks",
    ),
    "environment left out of envlist": (
        lambda r: edit(r / "tox.ini", "keras35-tf217, keras39-tf219,\n    report", "keras39-tf219,\n    report"),
        ENVS,
        "keras35-tf217, which tox.ini's envlist lacks",
    ),
    "report runs before an environment": (
        lambda r: edit(r / "tox.ini", "keras3-old, keras35-tf217, keras39-tf219\ncommands", "keras3-old\ncommands"),
        ENVS,
        "report does not depend on keras35-tf217",
    ),
    "a pin edited by hand": (
        lambda r: edit(r / "constraints/keras3-old.txt", "\nkeras==3.3.3\n", "\nkeras==3.3.2\n"),
        ENVS,
        "keras 3.3.2",
    ),
    "a companion missing": (
        lambda r: edit(r / "constraints/keras3-tf219.txt", "\ntorch==2.13.0+cpu\n", "\n"),
        ENVS,
        "torch is not pinned",
    ),
    "a file of no environment": (
        lambda r: (r / "constraints/keras3-tf214.txt").write_text("keras==3.0.0\n"),
        ENVS,
        "keras3-tf214.txt belongs to no",
    ),
    "a file missing": (lambda r: (r / "constraints/keras3-tf220.txt").unlink(), ENVS, "keras3-tf220.txt is missing"),
    "a copied section": (
        lambda r: edit(r / "tox.ini", "[testenv:report]", "[testenv:keras3-old]\ndeps = keras\n\n[testenv:report]"),
        ENVS,
        "keras3-old has a section of its own",
    ),
    "a backend not set": (lambda r: edit(r / "tox.ini", "    jax: KERAS_BACKEND = jax\n", ""), ENVS, "KERAS_BACKEND"),
    "tf-keras not selected": (
        lambda r: edit(r / "tox.ini", "    tfkeras: TF_USE_LEGACY_KERAS = 1\n", ""),
        ENVS,
        "TF_USE_LEGACY_KERAS",
    ),
    "a dev tool bumped, files not written": (
        lambda r: edit(r / "pyproject.toml", '"pytest==9.2.0"', '"pytest==9.1.0"'),
        ENVS,
        "pyproject.toml's dev extra",
    ),
    "the default stack moved, files not written": (
        lambda r: edit(r / "constraints.txt", "\nnumpy==2.4.6\n", "\nnumpy==2.4.5\n"),
        ENVS,
        "constraints.txt",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_each_check_catches_its_breakage(breakage, root):
    breaks, envs, words = BREAKAGES[breakage]
    assert problems(root) == []
    breaks(root)
    found = problems(root, envs)
    assert any(words in p for p in found), found


def test_the_docs_show_the_table_as_the_files_pin_it():
    text = (ROOT / "docs" / "running.md").read_text()
    shown = re.search(r"<!-- matrix table: [^>]*-->\n(.*?)<!-- end of the matrix table -->", text, re.S)
    assert shown, "docs/running.md has no matrix table between its markers"
    assert shown.group(1) == matrix.markdown(), "docs/running.md: paste `matrix list --markdown` between the markers"


def test_the_docs_table_follows_the_files(root):
    edit(root / "constraints/keras3-tf217.txt", "\njax==0.5.3\n", "\njax==0.5.2\n")
    assert "| 0.5.2 |" in matrix.markdown(root) and matrix.markdown(root) != matrix.markdown()


def test_check_and_list_from_the_command_line(capsys):
    assert matrix.main(["check"]) == 0
    assert matrix.main(["list", "--pr"]) == 0
    assert capsys.readouterr().out.split()[-len([e for e in ENVS if e.pr]) :] == [e.name for e in ENVS if e.pr]
    with pytest.raises(SystemExit):
        matrix.main(["write", "keras9-nothing"])
