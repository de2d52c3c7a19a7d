"""What keeps a run's time and memory down: worker processes stopped when their module's tests are
done, and what survives each collection left out of later ones."""

from __future__ import annotations

import gc
import sys
import types
import weakref
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


def test_what_survives_each_clear_is_frozen_and_later_garbage_still_collected(monkeypatch):
    cleared: list[int] = []
    fake = types.SimpleNamespace(keras_module=types.SimpleNamespace(
        backend=types.SimpleNamespace(clear_session=lambda: cleared.append(1))))
    monkeypatch.setattr("conformance.adapters.current", lambda: fake)
    try:
        isolation._clear_session()
        frozen = gc.get_freeze_count()
        assert frozen > 0 and cleared == [1]

        class Cycle:
            pass

        a, b = Cycle(), Cycle()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        kept = [Cycle() for _ in range(100)]  # what a claim leaves behind (a cache)
        isolation._clear_session()
        assert gc.get_freeze_count() >= frozen + 100  # survivors frozen, the cycle not among them
        assert gone() is None  # collected before the freeze, not frozen with the survivors
        c, d = Cycle(), Cycle()
        c.other, d.other = d, c
        del c, d
        assert gc.collect() >= 2  # a cycle made after the freeze is still found
        assert len(kept) == 100
    finally:
        gc.unfreeze()


def test_growth_collects_the_frozen_objects_too(monkeypatch):
    """A frozen object that later becomes a cycle of garbage is kept only until the process has
    grown by TRIM_GROWTH: then the whole heap is collected."""
    size = [0]
    monkeypatch.setattr(memory, "resident", lambda: size[0])
    monkeypatch.setattr(memory, "_trim", lambda: None)
    monkeypatch.setattr(memory, "_trimmed_at", 0)

    class Cycle:
        pass

    try:
        a, b = Cycle(), Cycle()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        memory.release()  # the cycle is alive (a holds it): frozen with the survivors
        del a, b
        memory.release()  # no growth: frozen garbage is not looked at
        assert gone() is not None
        size[0] = memory.TRIM_GROWTH
        memory.release()
        assert gone() is None
        assert memory._trimmed_at == memory.TRIM_GROWTH
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
