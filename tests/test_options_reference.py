"""The base-option reference (clipping, decay, accumulation, EMA, schedules) against hand values."""

import numpy as np
import pytest

from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.options import Options
from conformance.reference import base_options as ref
from conformance.reference import sgd

LR = LearningRate("constant", {"value": 0.5})


def step(opts, w, g, state=None, it=0, lr=LR):
    state = state or ref.init(sgd, {}, opts, w)
    return ref.step(sgd, {}, opts, lr, w, g, state, it)


def test_clipnorm_is_per_variable():
    # |g0| = 5 -> scaled to norm 1: [0.6, 0.8]; |g1| = 0.5 < 1 unchanged
    out = ref.clip([np.array([3.0, 4.0]), np.array([0.5])], Options(clipnorm=1.0))
    np.testing.assert_allclose(out[0], [0.6, 0.8], rtol=1e-15)
    np.testing.assert_array_equal(out[1], [0.5])


def test_global_clipnorm_spans_variables():
    # global norm sqrt(9 + 16) = 5 -> everything scaled by 1/5
    out = ref.clip([np.array([3.0]), np.array([4.0])], Options(global_clipnorm=1.0))
    assert np.allclose(out[0], [0.6]) and np.allclose(out[1], [0.8])


def test_clipvalue_is_elementwise():
    out = ref.clip([np.array([-3.0, 0.25, 2.0])], Options(clipvalue=1.0))
    np.testing.assert_array_equal(out[0], [-1.0, 0.25, 1.0])


def test_weight_decay_is_decoupled_and_before_the_update():
    # w = 2 - 0.5*0.1*2 = 1.9, then SGD: 1.9 - 0.5*1 = 1.4
    w, _ = step(Options(weight_decay=0.1), [np.array([2.0])], [np.array([1.0])])
    np.testing.assert_allclose(w[0], [1.4], rtol=1e-15)


def test_gradient_accumulation_applies_the_mean_every_k_steps():
    opts = Options(gradient_accumulation_steps=2)
    w0 = [np.array([1.0])]
    w1, s1 = step(opts, w0, [np.array([1.0])])
    np.testing.assert_array_equal(w1[0], [1.0])  # no update on the first micro-step
    np.testing.assert_array_equal(s1.slots[0]["gradient_accumulator"], [1.0])
    w2, s2 = step(opts, w1, [np.array([3.0])], s1, it=1)
    # mean gradient (1 + 3) / 2 = 2: w = 1 - 0.5 * 2 = 0
    np.testing.assert_allclose(w2[0], [0.0], atol=1e-15)
    np.testing.assert_array_equal(s2.slots[0]["gradient_accumulator"], [0.0])


def test_ema_starts_at_the_first_value_then_averages_and_overwrites():
    opts = Options(use_ema=True, ema_momentum=0.75, ema_overwrite_frequency=2)
    w1, s1 = step(opts, [np.array([1.0])], [np.array([1.0])])
    # w = 1 - 0.5 = 0.5; first average = 0.5
    np.testing.assert_allclose(s1.slots[0]["average"], [0.5])
    w2, s2 = step(opts, w1, [np.array([1.0])], s1, it=1)
    # w = 0.5 - 0.5 = 0; average = 0.75*0.5 + 0.25*0 = 0.375; step 2 overwrites w with it
    np.testing.assert_allclose(s2.slots[0]["average"], [0.375])
    np.testing.assert_allclose(w2[0], [0.375])


@pytest.mark.parametrize(
    "lr, iteration, expected",
    [
        # 0.1 * 0.5 ** (3 / 2)
        (
            LearningRate("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}),
            3,
            0.1 * 0.5**1.5,
        ),
        # staircase: exponent floor(3 / 2) = 1
        (
            LearningRate(
                "ExponentialDecay",
                {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5, "staircase": True},
            ),
            3,
            0.05,
        ),
        # 0.1 / (1 + 0.5 * 4 / 2) = 0.05
        (
            LearningRate("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}),
            4,
            0.05,
        ),
        (LearningRate("PiecewiseConstantDecay", {"boundaries": [1], "values": [0.1, 0.2]}), 1, 0.1),
        (LearningRate("PiecewiseConstantDecay", {"boundaries": [1], "values": [0.1, 0.2]}), 2, 0.2),
        (LearningRate("callable", {"value": 0.3}), 7, 0.3),
    ],
)
def test_learning_rate_values(lr, iteration, expected):
    assert lr.value(iteration) == pytest.approx(expected, rel=1e-15)


def test_schedule_is_read_at_the_real_iteration():
    lr = LearningRate("PiecewiseConstantDecay", {"boundaries": [0], "values": [1.0, 0.5]})
    w, _ = step(Options(), [np.array([0.0])], [np.array([1.0])], it=1, lr=lr)
    np.testing.assert_allclose(w[0], [-0.5])
