"""The package's layers: every import goes to the importer's own subpackage or to one below it,
the results format needs nothing beyond the standard library, and no two modules import each
other in a cycle. Read from the source (ast), so that it needs no framework."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"

# Bottom to top: a subpackage may import from its own room and the rooms before it.
LAYERS = ("records", "core", "adapters", "inputs", "reference", "checks", "independent", "distributed", "benchmarks",
          "optimizers",
          "scenarios", "report", "harness", "tools")
TOP = ("cli", "__main__", "conftest")  # the command line and pytest's rootdir hook: above every layer


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of the imports under `if TYPE_CHECKING:` (annotations only, never run)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            lines.update(
                n.lineno for b in node.body for n in ast.walk(b) if isinstance(n, (ast.Import, ast.ImportFrom))
            )
    return lines


def imports(name: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import `name` runs, module-level or inside a function."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    skip = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.append((sub if sub in MODULES else base, node.lineno))
    return found


def room(name: str) -> str:
    """The layer a module of the package lives in (its subpackage, or its own name at the top)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_module_lives_in_a_layer():
    loose = sorted(n for n in MODULES if room(n) not in LAYERS + TOP + ("",))
    assert not loose, f"modules outside the layers {LAYERS}: {loose} (put each in the room it belongs to)"


def test_imports_go_down_or_sideways():
    wrong = []
    for name in MODULES:
        here = room(name)
        if here in TOP or here == "":
            continue
        for target, line in imports(name):
            if not target.startswith("conformance") or target == "conformance":
                continue
            there = room(target)
            if there in TOP or LAYERS.index(there) > LAYERS.index(here):
                wrong.append(f"{name}:{line}: {here} imports {target} ({there})")
    assert not wrong, "imports that run up the layers:\n" + "\n".join(wrong)


# The project's light dependencies the expectations file needs (version specifiers, TOML before 3.11).
RECORDS_MAY_USE = frozenset({"packaging", "tomli"})


def test_the_records_need_only_the_standard_library():
    """merge, the report and --resume read results where no framework is installed; the format
    module itself needs nothing but the standard library."""
    outside = []
    for name in MODULES:
        if room(name) != "records":
            continue
        allowed = frozenset() if name == "conformance.records.results_format" else RECORDS_MAY_USE
        for target, line in imports(name):
            top = target.split(".")[0]
            if top == "conformance" and (target == "conformance" or room(target) == "records"):
                continue
            if top != "__future__" and top not in sys.stdlib_module_names and top not in allowed:
                outside.append(f"{name}:{line}: {target}")
    assert not outside, "the results format must read without Keras or numpy:\n" + "\n".join(outside)


def test_no_module_level_import_cycles():
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        top_level = {n.lineno for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
        graph[name] = {t for t, line in imports(name) if line in top_level and t in MODULES and t != name}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(n: str, stack: list[str]) -> bool:
        state[n] = 1
        for m in sorted(graph[n]):
            if state.get(m) == 1 and not m.startswith(n + "."):  # a package importing its own module is no cycle
                cycle.extend(stack[stack.index(m) :] + [m] if m in stack else [n, m])
                return True
            if m not in state and visit(m, stack + [m]):
                return True
        state[n] = 2
        return False

    for n in sorted(graph):
        if n not in state and visit(n, [n]):
            break
    assert not cycle, f"import cycle: {' -> '.join(cycle)}"


@pytest.mark.parametrize("fault", ["up", "third_party"])
def test_the_checks_catch_a_wrong_import(tmp_path, monkeypatch, fault):
    """The layer and standard-library checks fail on a module that breaks them."""
    if fault == "up":
        bad, check = "from conformance.scenarios import test_state\n", test_imports_go_down_or_sideways
    else:
        bad, check = "import numpy\n", test_the_records_need_only_the_standard_library
    fake = tmp_path / "conformance" / "records" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(bad)
    monkeypatch.setitem(MODULES, "conformance.records.bad", fake)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "conformance")
    with pytest.raises(AssertionError):
        check()
