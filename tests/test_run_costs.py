"""What keeps a run's time and memory down: worker processes stopped when their module's tests are
done, and the imports left out of garbage collections."""

from __future__ import annotations

import gc
import sys
import types
from pathlib import Path

from conformance.harness import isolation, memory, plugin


class _Item:
    def __init__(self, path: str):
        self.path = Path(path)


def _fake_hosts(monkeypatch) -> list[int]:
    stopped: list[int] = []
    monkeypatch.setitem(sys.modules, "conformance.distributed.host",
                        types.SimpleNamespace(stop_all=lambda: stopped.append(1)))
    return stopped


def test_worker_processes_stop_when_the_next_test_is_in_another_module(monkeypatch):
    stopped = _fake_hosts(monkeypatch)
    plugin.pytest_runtest_teardown(_Item("scenarios/test_backends.py"), _Item("scenarios/test_backends.py"))
    assert stopped == []
    plugin.pytest_runtest_teardown(_Item("scenarios/test_backends.py"), _Item("scenarios/test_build.py"))
    assert stopped == [1]
    plugin.pytest_runtest_teardown(_Item("scenarios/test_build.py"), None)  # the worker's last test
    assert stopped == [1, 1]


def test_no_worker_module_no_stop(monkeypatch):
    monkeypatch.delitem(sys.modules, "conformance.distributed.host", raising=False)
    plugin.pytest_runtest_teardown(_Item("a.py"), _Item("b.py"))  # nothing imported, nothing to stop
    assert "conformance.distributed.host" not in sys.modules


def test_what_survives_the_first_clear_is_frozen_and_later_garbage_still_collected(monkeypatch):
    cleared: list[int] = []
    fake = types.SimpleNamespace(keras_module=types.SimpleNamespace(
        backend=types.SimpleNamespace(clear_session=lambda: cleared.append(1))))
    monkeypatch.setattr("conformance.adapters.current", lambda: fake)
    monkeypatch.setattr(memory, "_frozen", False)
    try:
        isolation._clear_session()
        frozen = gc.get_freeze_count()
        assert frozen > 0 and cleared == [1]

        class Cycle:
            pass

        a, b = Cycle(), Cycle()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2  # a cycle made after the freeze is still found
        isolation._clear_session()
        assert gc.get_freeze_count() == frozen  # frozen once per process
    finally:
        gc.unfreeze()


def test_suite_wall_loads_each_checkouts_own_plugin(tmp_path, monkeypatch):
    """A checkout whose plugin module differs from the installed entry point's gets its own (by
    -p), and one from before the entry point gets none (its conftest registers it)."""
    import importlib.metadata

    from conformance.tools import suite_wall

    entry = types.SimpleNamespace(name=suite_wall.PLUGIN, value="conformance.harness.pytest_plugin")
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [entry])
    same, moved, old = (tmp_path / n for n in ("same", "moved", "old"))
    for checkout, module in ((same, entry.value), (moved, "conformance.pytest_plugin"), (old, None)):
        checkout.mkdir()
        lines = ["[project.entry-points.pytest11]", f'{suite_wall.PLUGIN} = "{module}"'] if module else []
        (checkout / "pyproject.toml").write_text("\n".join(["[project]", 'name = "x"', *lines]) + "\n")
    assert suite_wall.plugin_args(same) == []
    assert suite_wall.plugin_args(moved) == ["-p", f"no:{suite_wall.PLUGIN}", "-p", "conformance.pytest_plugin"]
    assert suite_wall.plugin_args(old) == ["-p", f"no:{suite_wall.PLUGIN}"]
