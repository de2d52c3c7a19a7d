"""Hand-computed checks of the SGD reference (lr = 0.1 unless stated)."""

import numpy as np

from conformance.reference import sgd
from tests.reference import steps

RULE = sgd

RTOL = 1e-12
W = [np.array([1.0, -2.0])]
G1, G2 = [np.array([0.5, -1.0])], [np.array([1.0, 2.0])]


def run(hp, lr, w, grads):
    return steps.run(RULE, hp, lr, w, grads)


def test_defaults():
    assert sgd.DEFAULTS == {"momentum": 0.0, "nesterov": False}


def test_plain_sgd_two_steps():
    (w1, s1), (w2, s2) = run({}, 0.1, W, (G1, G2))
    # w1 = [1 - 0.1*0.5, -2 + 0.1*1] = [0.95, -1.9]; w2 = [0.95 - 0.1*1, -1.9 - 0.1*2] = [0.85, -2.1]
    np.testing.assert_allclose(w1[0], [0.95, -1.9], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.85, -2.1], rtol=RTOL)
    assert s2.slots == [{}]  # no momentum slot when momentum == 0


def test_momentum_two_steps():
    (w1, s1), (w2, s2) = run({"momentum": 0.9}, 0.1, W, (G1, G2))
    # v1 = 0.9*0 - 0.1*[0.5, -1] = [-0.05, 0.1]; w1 = [1 - 0.05, -2 + 0.1] = [0.95, -1.9]
    np.testing.assert_allclose(s1.slots[0]["momentum"], [-0.05, 0.1], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [0.95, -1.9], rtol=RTOL)
    # v2 = 0.9*[-0.05, 0.1] - 0.1*[1, 2] = [-0.145, -0.11]; w2 = [0.95 - 0.145, -1.9 - 0.11]
    np.testing.assert_allclose(s2.slots[0]["momentum"], [-0.145, -0.11], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.805, -2.01], rtol=RTOL)


def test_nesterov_two_steps():
    (w1, s1), (w2, s2) = run({"momentum": 0.9, "nesterov": True}, 0.1, W, (G1, G2))
    # v1 = [-0.05, 0.1]; w1 = w + 0.9*v1 - 0.1*g1 = [1 - 0.045 - 0.05, -2 + 0.09 + 0.1]
    np.testing.assert_allclose(s1.slots[0]["momentum"], [-0.05, 0.1], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [0.905, -1.81], rtol=RTOL)
    # v2 = [-0.145, -0.11]; w2 = [0.905 - 0.1305 - 0.1, -1.81 - 0.099 - 0.2] = [0.6745, -2.109]
    np.testing.assert_allclose(s2.slots[0]["momentum"], [-0.145, -0.11], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.6745, -2.109], rtol=RTOL)


def test_two_variables_matrix():
    w = [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([10.0])]
    grads = ([np.array([[1.0, 0.0], [-2.0, 4.0]]), np.array([2.0])],
             [np.ones((2, 2)), np.array([-2.0])])
    (w1, _), (w2, s2) = run({"momentum": 0.5}, 0.5, w, grads)
    # matrix: v1 = -0.5*g1 = [[-0.5, 0], [1, -2]]; w1 = [[0.5, 2], [4, 2]]
    #         v2 = 0.5*v1 - 0.5*1 = [[-0.75, -0.5], [0, -1.5]]; w2 = [[-0.25, 1.5], [4, 0.5]]
    np.testing.assert_allclose(w1[0], [[0.5, 2.0], [4.0, 2.0]], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [[-0.25, 1.5], [4.0, 0.5]], rtol=RTOL)
    np.testing.assert_allclose(s2.slots[0]["momentum"], [[-0.75, -0.5], [0.0, -1.5]], rtol=RTOL)
    # vector: v1 = -0.5*2 = -1, w1 = 9; v2 = 0.5*(-1) - 0.5*(-2) = 0.5, w2 = 9.5
    np.testing.assert_allclose(w2[1], [9.5], rtol=RTOL)
    np.testing.assert_allclose(s2.slots[1]["momentum"], [0.5], rtol=RTOL)
