"""Hand-computed checks of the Adagrad reference."""

import numpy as np

from conformance.reference import adagrad
from tests.reference import steps

RULE = adagrad
RTOL = 1e-12


def run(hp, lr, w, grads):
    return steps.run(RULE, hp, lr, w, grads)


def test_defaults_and_initial_accumulator():
    assert adagrad.DEFAULTS == {"initial_accumulator_value": 0.1, "epsilon": 1e-7}
    state = adagrad.init([np.zeros((2, 2))], {})
    np.testing.assert_array_equal(state.slots[0]["accumulator"], np.full((2, 2), 0.1))


def test_two_steps_epsilon_outside_sqrt():
    hp = {"initial_accumulator_value": 0.0, "epsilon": 0.5}
    w = [np.array([1.0, 2.0])]
    (w1, s1), (w2, s2) = run(hp, 0.1, w, ([np.array([1.0, 2.0])], [np.array([0.75, -1.5])]))
    # acc1 = [0 + 1, 0 + 4] = [1, 4]; w1 = [1 - 0.1*1/(1 + 0.5), 2 - 0.1*2/(2 + 0.5)]
    #      = [1 - 0.0666..., 2 - 0.08] = [0.9333..., 1.92]
    np.testing.assert_allclose(s1.slots[0]["accumulator"], [1.0, 4.0], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [0.9333333333333333, 1.92], rtol=RTOL)
    # acc2 = [1 + 0.5625, 4 + 2.25] = [1.5625, 6.25] (sqrt = [1.25, 2.5])
    # w2 = [0.9333... - 0.1*0.75/1.75, 1.92 + 0.1*1.5/3.0] = [0.9333... - 0.0428571..., 1.97]
    np.testing.assert_allclose(s2.slots[0]["accumulator"], [1.5625, 6.25], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.8904761904761905, 1.97], rtol=RTOL)


def test_default_hyperparameters_matrix():
    w = [np.zeros((2, 2))]
    g = np.array([[0.3, -0.3], [0.0, 0.3]])
    ((w1, s1),) = run({}, 0.01, w, ([g],))
    # acc = 0.1 + 0.09 = 0.19; sqrt(0.19) = 0.43588989435406733
    # w = -0.01*0.3/(0.43588989435406733 + 1e-7) = -0.006882470437169847 (0 where g = 0)
    np.testing.assert_allclose(s1.slots[0]["accumulator"], [[0.19, 0.19], [0.1, 0.19]], rtol=RTOL)
    d = 0.006882470437169847
    np.testing.assert_allclose(w1[0], [[-d, d], [0.0, -d]], rtol=RTOL)
