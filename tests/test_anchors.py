"""Anchors: fixed cases per optimizer that the update-rule claims check on every run."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from conformance.checks import lifecycle, trajectory
from conformance.core.errors import ClaimFailed
from conformance.inputs import anchors, catalogue, user_specs
from conformance.inputs.strategies import FLOAT32, cases
from tests.faulty import sgd


def _builtin(name: str) -> catalogue.Spec:
    return {s.name: s for s in catalogue.builtin_specs()}[name]


def _only_anchors(spec: catalogue.Spec) -> None:
    """reference.trajectory's check on the anchors alone: no corner, no random example."""

    @settings(max_examples=1, phases=[Phase.explicit], database=None)
    @given(data=st.data())
    def check(data):
        trajectory.check(data.draw(cases(spec, FLOAT32), label="case"))

    anchors.with_anchors(check)()


def test_anchors_alone_catch_an_epsilon_fault_and_pass_the_conforming_optimizer():
    with pytest.raises(ClaimFailed, match="Keras departs from the float64 reference"):
        _only_anchors(user_specs.user_spec("tests.faulty_families:HalvedEpsilonAdam"))
    _only_anchors(user_specs.user_spec("tests.faulty_families:DrawnAdam"))


def test_configurations_are_the_ends_of_each_range_and_the_same_every_time():
    names = [name for name, _ in anchors.configurations(_builtin("Adam"))]
    assert names[:2] == ["every hyperparameter at the top of its range", "defaults"]
    assert {"epsilon=0.001 alone", "beta_2=0.9999 alone", "amsgrad=True alone"} <= set(names)
    assert any(n.startswith("beta_1=9.4") for n in names), names  # just above 0
    codes = [s.code for _, s in anchors.configurations(_builtin("Adam"))]
    assert codes == [s.code for _, s in anchors.configurations(_builtin("Adam"))]
    assert len(set(codes)) == len(codes)
    sgd_top = dict(anchors.configurations(_builtin("SGD")))["every hyperparameter at the top of its range"]
    assert sgd_top.hp["momentum"] > 0  # SGD with state to build


def test_a_spec_of_one_configuration_keeps_it():
    spec = sgd(keras.optimizers.SGD, {"momentum": 0.5})
    [(name, setup)] = anchors.configurations(spec)
    assert name == "as configured" and setup.code == "keras.optimizers.SGD(learning_rate=0.5, momentum=0.5)"
    assert [p.pattern for p in anchors.anchors(spec, FLOAT32)] == ["spread", "sparse", "ladder"]


def test_data_patterns():
    weights, grads = anchors._data("sparse", "float32", 3)
    assert [int(np.count_nonzero(g)) for g in grads[0]] == [1, 1] and not any(np.any(g) for g in grads[1] + grads[2])
    assert not any(np.any(w) for w in weights)
    _, grads = anchors._data("ladder", "float16", 3)
    tiny = np.abs(np.concatenate([g.ravel() for g in grads[0]]))
    assert tiny.max() == 1e-2 and 0 < tiny.min() < 6e-8  # down past float16's smallest subnormal
    weights, grads = anchors._data("spread", "float32", 3)
    inner = grads[0][0][:-1, :-1]
    assert len(np.unique(inner)) == inner.size and np.all(inner != 0)  # unequal elements
    assert not np.any(grads[0][0][-1]) and not np.any(grads[0][0][:, -1])  # but a zero last row and column
    assert [float(np.max(np.abs(g[0]))) for g in grads] == [1.0, 1e-6, 1e6]


def test_a_claim_with_fewer_anchors_than_examples_skips_the_rest():
    spec = _builtin("LossScaleOptimizer")
    seen = []

    @settings(max_examples=1, phases=[Phase.explicit], database=None)
    @given(data=st.data())
    def check(data):
        seen.append(data.draw(cases(spec, FLOAT32)).setup.code)

    anchors.with_anchors(check)()
    assert len(seen) == len(anchors.anchors(spec, FLOAT32)) == 3


def test_the_lifecycle_script_takes_every_anchor_through_snapshot_step_restore():
    from tests.faulty_lifecycle import StickyIterationsSGD

    with pytest.raises(ClaimFailed, match="restored snapshot 1") as caught:
        lifecycle.scripted(sgd(StickyIterationsSGD, {"momentum": 0.5}))
    assert "fixed rule sequence: start, step, snapshot, zero_step, step, restore" in "\n".join(caught.value.__notes__)
    lifecycle.scripted(sgd(keras.optimizers.SGD, {"momentum": 0.5}))


def test_the_update_rule_claims_carry_the_anchors_and_the_costly_ones_the_first():
    from conformance.scenarios import test_distributed, test_independent, test_reference, test_zero_grad

    def anchored(test) -> list[int]:
        return sorted(
            e.kwargs["data"].index
            for e in getattr(test, "hypothesis_explicit_examples", [])
            if isinstance(e.kwargs["data"], anchors.AnchorData)
        )

    for test in (
        test_reference.test_trajectory,
        test_reference.test_trajectory_float64,
        test_reference.test_trajectory_low_precision,
        test_independent.test_torch,
        test_independent.test_optax,
    ):
        assert anchored(test) == list(range(anchors.MOST))
    # claims too costly for corners check the first anchor (claims.claim)
    assert anchored(test_distributed.test_mirrored_unbuilt_compiled) == list(range(anchors.COSTLY))
    assert anchored(test_distributed.test_mirrored_plain_compiled) == list(range(anchors.COSTLY))
    assert not anchored(test_zero_grad.test_weights_unchanged)  # it has corners
    # the most anchors any built-in has fit in MOST (the rest of a claim's explicit examples are skipped)
    assert max(len(anchors.anchors(s, ("float16", "bfloat16"))) for s in catalogue.builtin_specs()) <= anchors.MOST


def test_an_anchor_gives_replicas_unequal_gradients_none_negligible():
    a = anchors.AnchorData(0)
    values = a.replica_values((3, 2), "float32", 3, 1)
    assert all(np.all(v != 0) for v in values)
    assert len({v.tobytes() for v in values}) == 3
    assert np.max(np.abs(values[2])) / np.max(np.abs(values[0])) == 3.0
