"""Whether the table of conformance/tools/matrix.py, tox.ini and constraints/ agree: each check
returns its problems (tests/test_matrix.py breaks each on purpose). tox.ini is read as tox reads
it, for what the matrix uses: generative names (`keras3-tf{216,217}`) and factor-conditional
settings (`jax: KERAS_BACKEND = jax`, `keras3-!jax: ...`).
"""

from __future__ import annotations

import configparser
import itertools
import re
import sys
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conformance.tools.matrix import COMPANIONS, ENVS, Env, constraints_path, header, pins

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

# A factor-conditional line of a tox setting: `FACTORS: the rest`.
_CONDITIONAL = re.compile(r"^([!\w{},.-]+):\s+(.*)$")


def expand(spec: str) -> list[str]:
    """tox's generative list: `a-{x,y}, b` -> [a-x, a-y, b] (commas and whitespace separate)."""
    out = []
    for item in re.findall(r"(?:[^,\s{}]|\{[^}]*\})+", spec):
        parts = re.split(r"(\{[^}]*\})", item)
        options = [[o.strip() for o in p[1:-1].split(",")] if p.startswith("{") else [p] for p in parts]
        out += ["".join(chosen) for chosen in itertools.product(*options)]
    return out


def applies(condition: str, env: str) -> bool:
    """Whether a tox factor condition (`a-!b,c`: (a and not b) or c) selects `env`."""
    factors = set(env.split("-"))
    return any(
        all((f[1:] not in factors) if f.startswith("!") else (f in factors) for f in alternative.split("-"))
        for alternative in expand(condition)
    )


def setting(tox: configparser.ConfigParser, env: str, key: str) -> list[str]:
    """The lines of a setting as `env` sees it: its own section's, else [testenv]'s, conditions applied."""
    section = f"testenv:{env}" if tox.has_option(f"testenv:{env}", key) else "testenv"
    out = []
    for line in tox.get(section, key, fallback="").strip().splitlines():
        m = _CONDITIONAL.match(line.strip())
        if m is None:
            out.append(line.strip())
        elif applies(m.group(1), env):
            out.append(m.group(2).strip())
    return out


def environ(tox: configparser.ConfigParser, env: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in setting(tox, env, "setenv") if "=" in line)
    return {k.strip(): v.strip().replace("{envname}", env) for k, v in pairs}


def check_envlist(tox: configparser.ConfigParser, envs: tuple[Env, ...] = ENVS) -> list[str]:
    listed = [e for e in expand(tox.get("tox", "envlist")) if e != "report"]
    names = [e.name for e in envs]
    out = [f"tox.ini's envlist has {e}, which the table lacks" for e in listed if e not in names]
    out += [f"the table has {n}, which tox.ini's envlist lacks" for n in names if n not in listed]
    out += [f"tox.ini's envlist has {e} twice" for e in sorted({e for e in listed if listed.count(e) > 1})]
    depends = set(expand(tox.get("testenv:report", "depends", fallback="")))
    return out + [f"report does not depend on {n} (it would merge before {n} ran)" for n in names if n not in depends]


def check_installs(tox: configparser.ConfigParser, envs: tuple[Env, ...] = ENVS) -> list[str]:
    """Each environment installs its constraints file whole and is constrained by it, from the one
    [testenv] (no copied section), with the table's backend."""
    out = []
    for env in envs:
        if tox.has_section(f"testenv:{env.name}"):
            out.append(f"{env.name} has a section of its own: the table's environments share [testenv]")
        want = f"{{toxinidir}}/constraints/{env.name}.txt"
        deps = [d.replace("{envname}", env.name) for d in setting(tox, env.name, "deps")]
        if f"-r {want}" not in deps:
            out.append(f"{env.name} does not install -r {want} ({deps})")
        variables = environ(tox, env.name)
        if variables.get("PIP_CONSTRAINT") != want:
            out.append(f"{env.name}: PIP_CONSTRAINT is {variables.get('PIP_CONSTRAINT')}, not {want}")
        backend = variables.get("KERAS_BACKEND", "tensorflow")
        if env.generation == 3 and backend != env.backend:
            out.append(f"{env.name}: tox sets KERAS_BACKEND={backend}, the table says {env.backend}")
        if (variables.get("TF_USE_LEGACY_KERAS") == "1") != env.tf_keras:
            out.append(f"{env.name}: TF_USE_LEGACY_KERAS is {variables.get('TF_USE_LEGACY_KERAS')!r}, the table"
                       f" says tf-keras {'is' if env.tf_keras else 'is not'} used")
    return out


def check_constraints(root: Path, envs: tuple[Env, ...] = ENVS) -> list[str]:
    """Each environment's file exists, was written from the table as it is now (its header), and pins
    what the table says; pyproject's dev pins and, for the default stack, constraints.txt's agree."""
    out = []
    dev = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    dev_pins = pins("\n".join(dev))
    default_pins = pins((root / "constraints.txt").read_text())
    for env in envs:
        path = constraints_path(env, root)
        if not path.is_file():
            out.append(f"{path.relative_to(root)} is missing: python -m conformance.tools.matrix write {env.name}")
            continue
        text = path.read_text()
        stale = f"{path.relative_to(root)} is stale: python -m conformance.tools.matrix write {env.name}"
        if text.splitlines()[:3] != header(env, root):
            out.append(f"{stale} (its header differs from the table's)")
            continue
        got = pins(text)
        want = {"tensorflow-cpu": env.tensorflow, "tf-keras" if env.tf_keras else "keras": env.keras}
        for name, version in want.items():
            if version and got.get(name) != version:
                out.append(f"{stale} ({name} {got.get(name)}, the table: {version})")
        if not env.tensorflow and "tensorflow-cpu" in got:
            out.append(f"{stale} (tensorflow-cpu pinned where the table has no TensorFlow)")
        needed = set(env.companions) | ({"jax"} if "optax" in env.companions else set())
        out += [f"{stale} ({c} is not pinned)" for c in env.companions if c not in got]
        out += [f"{stale} ({c} is pinned: not in the table)" for c in COMPANIONS if c in got and c not in needed]
        against = {**(default_pins if env.default else {}), **dev_pins}
        for name, version in sorted(against.items()):
            if name in got and not SpecifierSet(f"=={version}").contains(Version(got[name])):
                source = "pyproject.toml's dev extra" if name in dev_pins else "constraints.txt"
                out.append(f"{stale} ({name}=={got[name]}, {source}: {version})")
    known = {constraints_path(e, root).name for e in envs}
    stray = [p.name for p in sorted((root / "constraints").glob("*.txt")) if p.name not in known]
    return out + [f"constraints/{name} belongs to no environment of the table" for name in stray]


def problems(root: Path, envs: tuple[Env, ...] = ENVS) -> list[str]:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read_string((root / "tox.ini").read_text())
    return check_envlist(tox, envs) + check_installs(tox, envs) + check_constraints(root, envs)
