"""What a run's verdicts follow from, hashed part by part (run_info's `fingerprint`): two runs with
the same fingerprint in a derandomized profile draw the same examples through the same code on the
same libraries, so `--reuse` may take one's verdicts for the other.

The parts: the suite's own files (the claims, references, expectations), the extra expectations
files, the source of every module a user's optimizer class (or factory) and its bases come from
outside Keras and TensorFlow (an editable install changes code without changing a version),
every installed distribution and its version, the interpreter, the machine (platform, CPU model
and flags: they choose the kernels), the devices, the environment variables that configure the
frameworks, and the hypothesis profile, seed and the options that change what a claim does.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import os
import platform
import sys
from pathlib import Path
from typing import Any, Iterable

SUITE = Path(__file__).resolve().parent.parent
# Source a version number already stands for (and too large to read on every run).
_VERSIONED = ("keras", "tensorflow", "tf_keras", "jax", "torch", "builtins", "abc")
# Environment variables that configure what a claim runs on; logging levels and names do not.
_ENV_PREFIXES = ("KERAS_", "TF_", "XLA_", "JAX_", "CUDA_", "TORCH_", "OMP_", "MKL_", "PYTHONHASHSEED")
_ENV_IGNORED = {"TF_CPP_MIN_LOG_LEVEL", "TF_CPP_MAX_VLOG_LEVEL"}


def _digest(chunks: Iterable[str | bytes]) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk.encode() if isinstance(chunk, str) else chunk)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _files(named: Iterable[tuple[str, Path]]) -> str:
    """The hash of files by (name, path): a name relative to its package, so that the same code in
    another checkout or virtual environment hashes alike."""

    def chunks() -> Iterable[str | bytes]:
        for name, p in sorted(set(named)):
            yield name
            try:
                yield p.read_bytes()
            except OSError as e:
                yield f"unreadable: {e.strerror}"

    return _digest(chunks())


def suite_files() -> list[tuple[str, Path]]:
    """The suite's own source and data files, but for the stored durations (only --shard reads them)."""
    return [(p.relative_to(SUITE).as_posix(), p) for p in SUITE.rglob("*")
            if p.suffix in (".py", ".toml", ".json") and "__pycache__" not in p.parts and p.name != "durations.json"]


def source_files(objects: Iterable[Any]) -> list[tuple[str, Path]]:
    """The source of the top-level package (or lone module) of each object, and of every class in
    a class's MRO, outside the packages a version number stands for: a helper module of the user's
    package counts as much as the module that names the optimizer."""
    tops: set[str] = set()
    for obj in objects:
        for o in inspect.getmro(obj) if inspect.isclass(obj) else (obj,):
            name = o.__name__ if inspect.ismodule(o) else getattr(o, "__module__", None) or ""
            tops.add(name.split(".")[0])
    out: list[tuple[str, Path]] = []
    for top in sorted(tops - set(_VERSIONED) - {""}):
        module = sys.modules.get(top)
        if module is None:
            continue
        for folder in getattr(module, "__path__", None) or []:
            out.extend((f"{top}/{p.relative_to(folder).as_posix()}", p)
                       for p in Path(folder).rglob("*.py") if "__pycache__" not in p.parts)
        if getattr(module, "__path__", None) is None and getattr(module, "__file__", None):
            out.append((f"{top}.py", Path(module.__file__)))
    return out


def _packages() -> str:
    return _digest(sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()))


def _cpu() -> str:
    """The CPU's model name and feature flags (Linux), else what platform says."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    keep = [line for line in lines if line.startswith(("model name", "flags"))]
    return "\n".join(sorted(set(keep)))


def _environment() -> str:
    keep = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES) and k not in _ENV_IGNORED)
    return _digest(keep)


def parts(
    extra_files: Iterable[Path], user_objects: Iterable[Any], devices: Any, settings: dict[str, Any]
) -> dict[str, str]:
    """Each part's hash (what `--reuse` compares, and names when it differs)."""
    return {
        "suite": _files(suite_files()),
        "expectations": _files((f"{i}", Path(p)) for i, p in enumerate(extra_files)),
        "optimizer sources": _files(source_files(user_objects)),
        "packages": _packages(),
        "interpreter": _digest([sys.version, sys.executable]),
        "machine": _digest([platform.platform(), _cpu(), repr(devices)]),
        "environment variables": _environment(),
        "settings": _digest([repr(sorted(settings.items()))]),
    }


def differences(theirs: dict[str, str] | None, ours: dict[str, str]) -> list[str]:
    """The parts that differ (all of them where `theirs` is missing or not a fingerprint)."""
    if not isinstance(theirs, dict):
        return ["fingerprint (the file has none)"]
    return [k for k in sorted(set(theirs) | set(ours)) if theirs.get(k) != ours.get(k)]


def of_run(config: Any, specs: list[Any], info: dict[str, Any], profile_settings: str) -> dict[str, str]:
    """The parts for a pytest run (`config`: its options) of `specs`, whose run_info is `info` and
    whose hypothesis settings print as `profile_settings`."""
    named = [p.partition(":")[0] for p in config.getoption("optimizer") + config.getoption("optimizer_spec")]
    users = [s.cls for s in specs if s.kind == "user" and s.cls is not None] + [sys.modules[m] for m in named]
    settings = {
        "profile": info["hypothesis_profile"],
        "hypothesis": profile_settings,
        "seed": info["hypothesis_seed"],
        **{o: config.getoption(o) for o in ("shrink_budget", "claim_timeout", "no_builtin_expectations")},
    }
    return parts(config.getoption("expectations"), users, info["devices"], settings)
