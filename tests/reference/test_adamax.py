"""Hand-computed checks of the Adamax reference (beta_1 = 0.5, beta_2 = 0.75, epsilon = 0.5, lr = 0.1)."""

import numpy as np

from conformance.reference import adamax
from tests.reference import steps

RULE = adamax
RTOL = 1e-12
HP = {"beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.5}


def run(hp, lr, w, grads):
    return steps.run(RULE, hp, lr, w, grads)


def test_defaults():
    assert adamax.DEFAULTS == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


def test_two_steps():
    grads = ([np.array([2.0, -4.0])], [np.array([1.0, -5.0])])
    (w1, s1), (w2, s2) = run(HP, 0.1, [np.array([1.0, -1.0])], grads)
    # m1 = 0.5*[2, -4] = [1, -2]; u1 = max(0, |g|) = [2, 4]; lr/(1 - 0.5) = 0.2
    # w1 = [1 - 0.2*1/(2 + 0.5), -1 + 0.2*2/(4 + 0.5)] = [0.92, -0.9111...]
    np.testing.assert_allclose(s1.slots[0]["momentum"], [1.0, -2.0], rtol=RTOL)
    np.testing.assert_allclose(s1.slots[0]["norm"], [2.0, 4.0], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [0.92, -0.9111111111111111], rtol=RTOL)
    # m2 = [0.5 + 0.5, -1 - 2.5] = [1, -3.5]; u2 = [max(1.5, 1), max(3, 5)] = [1.5, 5]
    # lr/(1 - 0.25) = 0.1333...; w2 = [0.92 - 0.1333.../2, -0.9111... + 0.1333...*3.5/5.5]
    np.testing.assert_allclose(s2.slots[0]["momentum"], [1.0, -3.5], rtol=RTOL)
    np.testing.assert_allclose(s2.slots[0]["norm"], [1.5, 5.0], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.8533333333333334, -0.8262626262626263], rtol=RTOL)


def test_default_hyperparameters_matrix():
    ((w1, s1),) = run({}, 0.002, [np.zeros((2, 2))], ([np.array([[2.0, -2.0], [0.0, 2.0]])],))
    # m = 0.1*g; u = |g|; w = -0.002/(1 - 0.9)*0.2/(2 + 1e-7) = -0.0019999999000000056
    d = 0.0019999999000000056
    np.testing.assert_allclose(s1.slots[0]["norm"], [[2.0, 2.0], [0.0, 2.0]], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [[-d, d], [0.0, -d]], rtol=RTOL)
