"""Corner examples: fixed inputs that every run tries first, whatever --hypothesis-seed says."""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from conformance.checks.claims import _draws_data
from conformance.inputs import catalogue, corners, strategies

# A fault that shows only for one branch of a five-way choice together with a float at the top of
# its range: the shape of "a callable learning rate" or "the largest weight decay".
RARE = st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), st.floats(0.0, 1.0))


def _rare_fault(data) -> None:
    branch, x = data.draw(RARE, label="rare")
    assert not (branch == "b" and x > 0.99), f"fault reached: {branch}, {x}"


def draw_corner(strategy, corner: int):
    return corners.fixed_draw(strategy, corner=corner)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corners_find_the_rare_fault_whatever_the_seed(seed):
    def make():
        @hypothesis.seed(seed)
        @settings(max_examples=1, phases=[Phase.explicit, Phase.generate], database=None, derandomize=False)
        @given(data=st.data())
        def test(data):
            _rare_fault(data)

        return test

    make()()  # one random example does not reach it (hypothesis's first is the simplest)
    with pytest.raises(AssertionError, match="fault reached: b"):
        corners.with_corners(make(), corners.CORNERS)()


def test_a_corner_draws_the_same_values_every_time_and_corners_differ():
    spec = {s.name: s for s in catalogue.builtin_specs()}["Adam"]
    drawn = [repr(draw_corner(strategies.cases(spec), i)) for i in range(corners.CORNERS)]
    assert drawn == [repr(draw_corner(strategies.cases(spec), i)) for i in range(corners.CORNERS)]
    assert len(set(drawn)) == corners.CORNERS


def test_corners_take_ends_of_ranges_and_several_branches_of_a_choice():
    floats = {draw_corner(st.floats(0.0, 0.99), i) for i in range(corners.CORNERS)}
    assert {0.0, 0.99} <= floats
    assert any(0.0 < x < 1e-5 for x in floats), floats  # just above the lower end: beta_1 = 9e-7
    assert len({draw_corner(st.sampled_from("abcde"), i) for i in range(corners.CORNERS)}) >= 3


def test_every_builtin_optimizer_has_a_corner_with_a_callable_learning_rate():
    # The case that config and save/load claims fail on in some runs and not others without corners.
    for spec in catalogue.builtin_specs():
        kinds = {draw_corner(strategies.cases(spec), i).setup.lr.kind for i in range(corners.CORNERS)}
        assert "callable" in kinds, (spec.name, kinds)


def test_scenarios_get_corners_and_the_state_machine_does_not():
    from conformance.scenarios import test_lifecycle, test_zero_grad

    examples = test_zero_grad.test_weights_unchanged.hypothesis_explicit_examples
    assert sorted(e.kwargs["data"].corner for e in examples) == list(range(corners.CORNERS))
    assert not hasattr(test_lifecycle.test_lifecycle, "hypothesis_explicit_examples")
    assert not _draws_data(test_lifecycle.test_lifecycle)


def test_each_test_case_draws_its_corner_afresh_even_where_a_finished_case_had_the_same_address(monkeypatch):
    # A filter that refuses corner 0's value (the upper end, 6.0) ends that case with its data
    # frozen. A later case must not draw from it, even where its context took the freed one's
    # address (simulated: every object given one id), as a claim's next spec once did on CI.
    from hypothesis.errors import UnsatisfiedAssumption

    from conformance.core import hypothesis_hooks as hooks

    monkeypatch.setattr(corners, "id", lambda obj: 0, raising=False)
    monkeypatch.setattr(hooks, "id", lambda obj: 0, raising=False)
    refused = st.floats(1.25, 6.0).filter(lambda x: not x.is_integer())
    shared = corners.CornerData(0)
    drawn = []
    for strategy in (refused, st.integers(0, 3), st.integers(0, 3)):
        with hooks.build_context(hooks.new_data(), is_final=False, wrapped_test=None):
            try:
                drawn.append(shared.draw(strategy))
            except UnsatisfiedAssumption:
                drawn.append("refused")
    assert drawn[0] == "refused"
    assert drawn[1] == drawn[2] == draw_corner(st.integers(0, 3), 0), drawn
