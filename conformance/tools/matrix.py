"""The environment matrix, one table: each tox environment's TensorFlow, Keras, backend and the
packages beside them; and the writer of each one's pinned constraints file, constraints/<env>.txt.

    python -m conformance.tools.matrix write [ENV...]   resolve and write the constraints files (uv)
    python -m conformance.tools.matrix check            the table, tox.ini and the files agree
    python -m conformance.tools.matrix list [--pr]      the environments (--pr: those pull requests run)
    python -m conformance.tools.matrix list --markdown  their table, versions from their files (docs/running.md)

tox installs each environment from its file (`deps = -r` and PIP_CONSTRAINT), so what it installs
is exactly what was resolved here; tests/test_matrix.py runs `check`, so a table edited without
writing the files again fails. Resolving reads package metadata only (`uv pip compile`): no wheel
is installed. torch must resolve to its CPU build: give uv a source of it (PIP_FIND_LINKS or
PIP_EXTRA_INDEX_URL, passed on), else the CUDA build from PyPI would pull gigabytes of nvidia-*
wheels, which `write` refuses.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "3.11"  # what CI's setup-python installs
PLATFORM = "x86_64-manylinux_2_28"  # CI's hosted runners, whatever machine resolves
COMPANIONS = ("jax", "optax", "torch")  # what the suite uses beside Keras, where one installs


@dataclass(frozen=True)
class Env:
    name: str
    tensorflow: str | None  # tensorflow-cpu's version; None: no TensorFlow
    keras: str  # the Keras the suite runs: keras's version, or tf-keras's where `tf_keras`
    backend: str  # KERAS_BACKEND; Keras 2 runs on TensorFlow whatever it says
    companions: tuple[str, ...]  # of COMPANIONS; the others cannot install here (see `note`)
    note: str  # why this environment, and why a companion is left out
    default: bool = False  # the README's stack: every version as constraints.txt pins it
    pr: bool = False  # pull requests run it; the nightly run covers every environment
    tf_keras: bool = False  # Keras 2 through the tf-keras package (TF_USE_LEGACY_KERAS=1)
    jax: str = ""  # a bound on jax where that Keras needs an older one ("<0.6"), else the newest that installs

    @property
    def generation(self) -> int:
        return int(self.keras.split(".")[0])


ALL = COMPANIONS
ENVS: tuple[Env, ...] = (
    Env("keras3-tf", "2.21.0", "3.15.1", "tensorflow", ALL, "the README's environment", default=True, pr=True),
    Env("keras3-jax", None, "3.15.1", "jax", ("jax", "optax"), "JAX alone: the TensorFlow-only claims say unsupported",
        default=True, pr=True),
    Env("keras3-torch", None, "3.15.1", "torch", ("torch",), "PyTorch alone (CPU build)", default=True, pr=True),
    Env("keras2-tfkeras", "2.21.0", "2.21.0", "tensorflow", ("optax", "torch"),
        "Keras 2 through tf-keras, both optimizer families; jax only as optax's", default=True, pr=True, tf_keras=True),
    Env("keras2-tf215", "2.15.1", "2.15.0", "tensorflow", ("optax", "torch"),
        "the last TensorFlow with Keras 2 bundled; jax only as optax's (the cross-backend and DataParallel "
        "workers drive Keras 3)", pr=True),
    # Every TensorFlow minor since Keras 3 with the newest Keras it resolves with (TF declares
    # keras>=3.x); TF 2.21 is keras3-tf. jax is the newest beside that TF's numpy and ml-dtypes.
    Env("keras3-tf216", "2.16.2", "3.15.1", "tensorflow", ALL, "TensorFlow 2.16, the first with Keras 3"),
    Env("keras3-tf217", "2.17.1", "3.15.1", "tensorflow", ALL, "TensorFlow 2.17"),
    Env("keras3-tf218", "2.18.1", "3.15.1", "tensorflow", ALL, "TensorFlow 2.18"),
    Env("keras3-tf219", "2.19.1", "3.15.1", "tensorflow", ALL, "TensorFlow 2.19"),
    Env("keras3-tf220", "2.20.0", "3.15.1", "tensorflow", ALL, "TensorFlow 2.20"),
    # Keras releases where optimizer behaviour changed, each on the TensorFlow of its time.
    Env("keras3-old", "2.16.2", "3.3.3", "tensorflow", ALL,
        "before 3.5: distributed gradients not summed, gradient accumulation (expectations.d/keras3-old.toml)"),
    Env("keras35-tf217", "2.17.1", "3.5.0", "tensorflow", ALL,
        "the first Keras with distributed gradients summed and gradient accumulation fixed"),
    Env("keras39-tf219", "2.19.1", "3.9.0", "tensorflow", ALL,
        "the first Keras with LossScaleOptimizer.iterations as measured now; jax before 0.6, as Keras 3.9's JAX "
        "trainer calls jax.spmd_mode, which JAX 0.10 no longer has", jax="<0.6"),
)


def by_name(name: str) -> Env:
    for env in ENVS:
        if env.name == name:
            return env
    raise KeyError(f"no environment {name!r} in the table: {', '.join(e.name for e in ENVS)}")


def constraints_path(env: Env, root: Path = ROOT) -> Path:
    return root / "constraints" / f"{env.name}.txt"


def pins(text: str) -> dict[str, str]:
    """normalized name -> version of each `name==version` line of a requirements text."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)", line.strip())
        if m:
            out[normalize(m.group(1))] = m.group(2)
    return out


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(env: Env, root: Path = ROOT) -> list[str]:
    """The top-level requirements resolved for `env`, besides pyproject.toml's own and its dev
    extra. torch is constraints.txt's release everywhere, its CPU build (`+cpu`) named: a plain pin
    would let the resolver take PyPI's CUDA build."""
    out = [f"tensorflow-cpu=={env.tensorflow}"] if env.tensorflow else []
    out.append(f"tf-keras=={env.keras}" if env.tf_keras else f"keras=={env.keras}")
    torch = pins((root / "constraints.txt").read_text())["torch"]
    spelled = {"jax": f"jax[cpu]{env.jax}", "optax": "optax", "torch": f"torch=={torch.split('+')[0]}+cpu"}
    return out + [spelled[c] for c in env.companions]


def header(env: Env, root: Path = ROOT) -> list[str]:
    beside = ", ".join(env.companions) or "nothing else"
    tf = f"TensorFlow {env.tensorflow}" if env.tensorflow else "no TensorFlow"
    keras = f"tf-keras {env.keras}" if env.tf_keras else f"Keras {env.keras}"
    pinned = "; every version as ../constraints.txt pins it" if env.default else ""
    return [
        f"# {env.name}: {keras} on {tf} (backend {env.backend}), beside it {beside}: {env.note}{pinned}.",
        f"# Written by `python -m conformance.tools.matrix write {env.name}` (uv pip compile, Python {PYTHON},"
        f" {PLATFORM}); do not edit.",
        "# inputs: " + " ".join([*requirements(env, root), "pyproject.toml[dev]"]),
    ]


def uv_sources() -> list[str]:
    """pip's sources of the torch CPU build, for uv (which reads no PIP_* variable)."""
    out = []
    for link in os.environ.get("PIP_FIND_LINKS", "").split():
        out += ["--find-links", link]
    urls = [u for u in os.environ.get("PIP_EXTRA_INDEX_URL", "").split() if not u.startswith("file:")]
    for url in urls:
        out += ["--extra-index-url", url]
    # uv takes a package from the first index that has it; PyTorch's index holds older numpy and
    # others too, so every index is searched for the best match, as pip does.
    return out + (["--index-strategy", "unsafe-best-match"] if urls else [])


def resolve(env: Env, root: Path = ROOT, uv: str = "uv") -> str:
    """The constraints file of `env`: its header, then every package the resolver pinned."""
    with tempfile.TemporaryDirectory(prefix=f"matrix-{env.name}-") as tmp:
        inputs, out = Path(tmp) / "requirements.in", Path(tmp) / "out.txt"
        inputs.write_text("\n".join(requirements(env, root)) + "\n")
        # An existing output file is uv's preferences: constraints.txt's versions wherever they
        # fit, so that the environments differ only where their TensorFlow needs it.
        out.write_text("\n".join(line for line in (root / "constraints.txt").read_text().splitlines()
                                  if not line.startswith("torch==")))
        cmd = [uv, "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--python-version", PYTHON,
               "--python-platform", PLATFORM, *uv_sources(), str(root / "pyproject.toml"), "--extra", "dev",
               str(inputs), "-o", str(out)]
        if env.default:
            cmd += ["-c", str(root / "constraints.txt")]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{env.name}: uv pip compile failed:\n{done.stderr.strip()}")
        body = [line for line in out.read_text().splitlines() if line and not line.startswith("#")]
    cuda = [line for line in body if line.startswith(("nvidia-", "triton"))]
    if cuda:
        raise RuntimeError(f"{env.name}: torch resolved to its CUDA build ({cuda[0]}, ...): set PIP_FIND_LINKS or"
                           " PIP_EXTRA_INDEX_URL to a source of the CPU build")
    return "\n".join([*header(env, root), *body]) + "\n"


def markdown(root: Path = ROOT) -> str:
    """The table with the versions each constraints file pins (docs/running.md shows it)."""
    rows = ["| env | TensorFlow | Keras | backend | jax | optax | torch | pull requests | why |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for env in ENVS:
        path = constraints_path(env, root)
        got = pins(path.read_text()) if path.is_file() else {}
        keras = f"tf-keras {env.keras}" if env.tf_keras else env.keras
        beside = [got.get(c, "-") for c in COMPANIONS]
        cells = [f"`{env.name}`", env.tensorflow or "-", keras, env.backend, *beside, "yes" if env.pr else "", env.note]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.matrix", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="resolve and write constraints/<env>.txt")
    write.add_argument("envs", nargs="*", help="the environments (default: every one)")
    write.add_argument("--uv", default=shutil.which("uv") or str(Path(sys.executable).with_name("uv")))
    sub.add_parser("check", help="the table, tox.ini and constraints/ agree")
    listing = sub.add_parser("list", help="the environments' names")
    listing.add_argument("--pr", action="store_true", help="only those pull requests run")
    listing.add_argument("--markdown", action="store_true", help="the table, with the versions each file pins")
    args = parser.parse_args(argv)
    if args.command == "list" and args.markdown:
        print(markdown(), end="")
        return 0
    if args.command == "list":
        print("\n".join(e.name for e in ENVS if e.pr or not args.pr))
        return 0
    if args.command == "check":
        from conformance.tools.matrix_check import problems

        found = problems(ROOT)
        print("\n".join(found) or "the table, tox.ini and constraints/ agree")
        return 1 if found else 0
    try:
        envs = [by_name(n) for n in args.envs] if args.envs else list(ENVS)
    except KeyError as e:
        parser.error(str(e.args[0]))
    for env in envs:
        constraints_path(env).write_text(resolve(env, uv=args.uv))
        print(f"wrote {constraints_path(env).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
