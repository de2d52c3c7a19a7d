"""Cached virtual environments, one per (backend, Keras version), for runs of the suite on a Keras
other than the installed one (the bisector).

Each holds that Keras, the newest backend release the resolver finds compatible with it (pip
backtracks through TensorFlow's `keras>=` requirement; JAX and PyTorch are taken as the suite pins
them where a pin exists), and the suite's test tools pinned as in constraints.txt. The suite itself
is not installed there: it runs from this checkout (or installed package) through PYTHONPATH and
`-p`, so every probe runs the code you have now.

An environment is used only once its install finished (a `ready.json` marker written last, with
what was installed); an interrupted or failed install is removed and redone on the next call.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# The package whose release a backend name means, without a version (the resolver picks it).
BACKEND_PACKAGES = {
    "tensorflow": ["tensorflow-cpu>=2.16"],
    "jax": ["jax[cpu]"],
    "torch": ["torch"],
}
# What the suite needs beside Keras and the backend, pinned from constraints.txt where it is there.
TOOLS = ("pytest", "hypothesis", "pytest-xdist", "packaging", "numpy", "optax", "jax", "jaxlib", "torch")
_READY = "ready.json"
_VERSION = re.compile(r"^\d+(\.\d+)*$")


class InstallFailed(Exception):
    """pip could not build this environment: its last output lines."""


@dataclass(frozen=True)
class Environment:
    path: Path
    python: Path
    installed: dict[str, str]  # package name -> version, as pip reports them
    seconds: float  # what creating it took now (0 when it came from the cache)


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "keras-conformance" / "venvs"


def pins(constraints: Path | None) -> dict[str, str]:
    """name -> '==version' for the TOOLS a constraints file pins (lower-case names)."""
    out: dict[str, str] = {}
    if constraints is None or not constraints.is_file():
        return out
    for line in constraints.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.partition("==")
        if sep and _name(name.strip()) in TOOLS:
            out[_name(name.strip())] = version.strip()
    return out


def requirements(backend: str, keras: str, tool_pins: dict[str, str]) -> list[str]:
    """What one environment installs: Keras `keras`, the backend, the tools. The backend's own pin
    (jax, torch) wins over the bare name; TensorFlow is left to the resolver, bounded by Keras."""
    if backend not in BACKEND_PACKAGES:
        raise ValueError(f"backend {backend!r}: one of {', '.join(BACKEND_PACKAGES)}")
    if not _VERSION.match(keras):
        raise ValueError(f"Keras version {keras!r}: give a release such as 3.5.0")
    reqs = [f"keras=={keras}"]
    for spec in BACKEND_PACKAGES[backend]:
        name = re.split(r"[\[<>=]", spec)[0]
        reqs.append(f"{spec.split('>')[0]}=={tool_pins[name]}" if name in tool_pins else spec)
    for name in ("pytest", "hypothesis", "pytest-xdist", "packaging"):
        reqs.append(f"{name}=={tool_pins[name]}" if name in tool_pins else name)
    return reqs


def ensure(backend: str, keras: str, cache: Path, constraints: Path | None = None,
           log: IO[str] | None = None) -> Environment:
    """The cached environment for (backend, keras), created now if missing; InstallFailed if pip fails."""
    path = cache / f"{backend}-keras{keras}-py{sys.version_info.major}{sys.version_info.minor}"
    python = path / "bin" / "python"
    ready = path / _READY
    if ready.is_file():
        installed = json.loads(ready.read_text(encoding="utf-8"))
        return Environment(path, python, {_name(k): v for k, v in installed.items()}, 0.0)
    shutil.rmtree(path, ignore_errors=True)  # a half-made one from an interrupted install
    start = time.monotonic()
    reqs = requirements(backend, keras, pins(constraints))
    base = getattr(sys, "_base_executable", sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_CONSTRAINT", "UV_CONSTRAINT")}  # pins of its own Keras
    uv = installer()
    if uv:  # uv links packages from its cache: seconds and little disk per environment, where pip takes minutes
        links = [a for d in filter(None, os.environ.get("PIP_FIND_LINKS", "").split()) for a in ("--find-links", d)]
        _call([uv, "venv", "-q", "--python", base, str(path)], log, env)
        _call([uv, "pip", "install", "-q", "--python", str(python), *links, *reqs], log, env)
    else:
        _call([base, "-m", "venv", str(path)], log, env)
        _call([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *reqs], log, env)
    installed = _freeze(python)
    ready.write_text(json.dumps(installed, indent=1, sort_keys=True), encoding="utf-8")
    return Environment(path, python, installed, time.monotonic() - start)


def installer() -> str | None:
    """uv's executable where it is installed (the `dev` extra has it), else None: pip."""
    try:
        from uv import find_uv_bin  # the uv package's own locator
    except ImportError:
        return shutil.which("uv")
    return find_uv_bin()


def _call(command: list[str], log: IO[str] | None, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if log is not None:
        log.write(f"+ {' '.join(command)}\n{done.stdout}{done.stderr}")
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
        raise InstallFailed(f"{' '.join(command[:5])} ... exited {done.returncode}:\n{tail}")


def _freeze(python: Path) -> dict[str, str]:
    """Every distribution in the environment with its version (uv's environments have no pip)."""
    code = "import importlib.metadata as m, json; print(json.dumps({d.name: d.version for d in m.distributions()}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return {_name(k): v for k, v in json.loads(done.stdout).items()}


def _name(name: str) -> str:
    """A distribution's name as PEP 503 compares them (tensorflow_cpu is tensorflow-cpu)."""
    return re.sub(r"[-_.]+", "-", name).lower()
