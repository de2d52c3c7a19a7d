"""One self-test per hook into hypothesis's internals (conformance/core/hypothesis_hooks.py): each
checks the hook's effect, so that a hypothesis release that changes one fails here, by name."""

from __future__ import annotations

import importlib.util

import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from conformance.core import hypothesis_hooks as hooks


class Sevens(hooks.PrimitiveProvider):
    """Draws 7 for every integer (the shape of the suite's corner and anchor providers)."""

    lifetime = "test_case"

    def draw_integer(self, min_value=None, max_value=None, **kwargs):
        return 7

    def draw_boolean(self, p=0.5, **kwargs):
        return False

    def draw_float(self, **kwargs):
        return 0.0

    def draw_string(self, intervals, **kwargs):
        return ""

    def draw_bytes(self, min_size=0, max_size=None, **kwargs):
        return b"\0" * min_size


def test_the_installed_hypothesis_is_one_the_hooks_expect():
    assert hooks.version_problem() is None
    assert "outside the releases" in hooks.version_problem("5.49.0")
    assert "outside the releases" in hooks.version_problem("7.0.0")


def test_new_data_draws_through_a_provider_in_a_build_context():
    data = hooks.new_data(Sevens)
    with hooks.build_context(data, is_final=False, wrapped_test=None):
        assert data.draw(st.integers(0, 10)) == 7
        assert hooks.current_build_context().data is data


def test_the_default_provider_draws_the_same_with_the_fixed_random():
    def draw() -> int:
        data = hooks.new_data()
        with hooks.build_context(data, is_final=False, wrapped_test=None):
            return data.draw(st.integers(0, 10**6))

    assert draw() == draw()


def test_a_filter_that_refuses_everything_stops_the_case():
    data = hooks.new_data(Sevens)
    with hooks.build_context(data, is_final=False, wrapped_test=None):
        with pytest.raises((hooks.StopTest, hooks.UnsatisfiedAssumption)):
            data.draw(st.integers(0, 10).filter(lambda x: x != 7))


def test_notes_reach_the_reporter():
    seen: list[str] = []
    data = hooks.new_data()
    with hooks.with_reporter(seen.append), hooks.build_context(data, is_final=True, wrapped_test=None):
        note("the case")
    assert seen == ["the case"]


def test_settings_of_a_test_can_be_read_and_replaced():
    calls: list[int] = []

    @settings(max_examples=9, database=None)
    @given(st.integers(0, 10**9))
    def test(x):
        calls.append(x)

    assert hooks.settings_of(test).max_examples == 9
    hooks.set_settings(test, settings(hooks.settings_of(test), max_examples=3, phases=[Phase.generate]))
    test()
    assert len(calls) == 3


def test_the_arguments_given_draws_are_named():
    @given(data=st.data())
    def test(data):
        pass

    assert hooks.given_arguments(test) == {"data"}
    assert hooks.given_arguments(lambda: None) == set()


def test_shrinking_limits_are_set():
    before = hooks.shrink_limits()
    try:
        hooks.limit_shrinking(17, 3.0)
        assert hooks.shrink_limits() == (17, 3.0)
    finally:
        hooks.limit_shrinking(*before)


def test_the_rules_of_a_state_machine_are_listed():
    class Machine(RuleBasedStateMachine):
        @rule()
        def first(self):
            pass

        @rule(n=st.integers())
        def second(self, n):
            pass

    found = {r.function.__name__: r for r in hooks.rules(Machine())}
    assert set(found) == {"first", "second"}
    assert set(found["second"].arguments) == {"n"} and list(found["first"].preconditions) == []


def test_an_unexpected_release_is_named_in_the_run_header(monkeypatch):
    from conformance.harness import plugin

    assert plugin.pytest_report_header(None) == []
    monkeypatch.setattr(hooks, "version_problem", lambda: "hypothesis 7.0.0 is outside")
    assert plugin.pytest_report_header(None) == ["warning: hypothesis 7.0.0 is outside"]



def _drawn_by(tmp_path, body: str, identity: str | None, derandomize: bool = True) -> list[int]:
    """The integers a @given test draws, its function's source text being `body` (a module of its
    own: hypothesis digests the source it finds on disk)."""
    path = tmp_path / f"drawn_{abs(hash((body, identity, derandomize)))}.py"
    path.write_text(
        "from hypothesis import Phase, given, settings, strategies as st\n"
        "seen = []\n"
        f"@settings(max_examples=5, derandomize={derandomize}, database=None, phases=[Phase.generate])\n"
        "@given(x=st.integers(0, 10**9))\n"
        "def test(x):\n"
        f"    {body}\n"
    )
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if identity is not None:
        hooks.seed_from_identity(module.test, identity)
    module.test()
    return module.seen


def test_a_derandomized_test_draws_from_its_identity_not_its_source_text(tmp_path):
    # hypothesis alone seeds from the source text: an edit to the function's layout draws others
    assert _drawn_by(tmp_path, "seen.append(x)", None) != _drawn_by(tmp_path, "seen.append( x )", None)
    assert _drawn_by(tmp_path, "seen.append(x)", "a.claim") == _drawn_by(tmp_path, "seen.append( x )", "a.claim")
    assert _drawn_by(tmp_path, "seen.append(x)", "a.claim") != _drawn_by(tmp_path, "seen.append(x)", "b.claim")


def test_a_test_that_is_not_derandomized_keeps_hypothesis_s_seed(tmp_path):
    drawn = [_drawn_by(tmp_path, "seen.append(x)", "a.claim", derandomize=False) for _ in range(2)]
    assert drawn[0] != drawn[1]
