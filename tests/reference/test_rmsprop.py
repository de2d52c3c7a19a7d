"""Hand-computed checks of the RMSprop reference (lr = 0.1, epsilon = 0.5 unless stated)."""

import numpy as np

from conformance.reference import rmsprop
from tests.reference import steps

RULE = rmsprop
RTOL = 1e-12
W = [np.array([1.0, -1.0])]


def run(hp, lr, w, grads):
    return steps.run(RULE, hp, lr, w, grads)


def test_defaults_and_slots():
    assert rmsprop.DEFAULTS == {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}
    assert set(rmsprop.init(W, {}).slots[0]) == {"velocity"}
    assert set(rmsprop.init(W, {"momentum": 0.5}).slots[0]) == {"velocity", "momentum"}
    assert set(rmsprop.init(W, {"centered": True}).slots[0]) == {"velocity", "average_gradient"}


def test_docstring_example():
    # Keras docstring: lr=0.1, var=10, grad=10 -> 9.683772. v = 0.1*100 = 10;
    # w = 10 - 0.1*10/(sqrt(10) + 1e-7) = 9.683772243983162
    ((w1, _),) = run({}, 0.1, [np.array([10.0, 10.0])], ([np.array([10.0, 10.0])],))
    np.testing.assert_allclose(w1[0], [9.683772243983162] * 2, rtol=RTOL)


def test_plain_two_steps_epsilon_outside_sqrt():
    hp = {"rho": 0.75, "epsilon": 0.5}
    (w1, s1), (w2, s2) = run(hp, 0.1, W, ([np.array([2.0, -4.0])], [np.array([1.0, 2.0])]))
    # v1 = 0.25*[4, 16] = [1, 4]; w1 = [1 - 0.1*2/(1 + 0.5), -1 + 0.1*4/(2 + 0.5)] = [0.8666..., -0.84]
    np.testing.assert_allclose(s1.slots[0]["velocity"], [1.0, 4.0], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [0.8666666666666667, -0.84], rtol=RTOL)
    # v2 = 0.75*[1, 4] + 0.25*[1, 4] = [1, 4]; w2 = [0.8666... - 0.1*1/1.5, -0.84 - 0.1*2/2.5]
    np.testing.assert_allclose(s2.slots[0]["velocity"], [1.0, 4.0], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.8, -0.92], rtol=RTOL)


def test_momentum_two_steps():
    hp = {"rho": 0.75, "epsilon": 0.5, "momentum": 0.5}
    (w1, s1), (w2, s2) = run(hp, 0.1, W, ([np.array([2.0, -4.0])], [np.array([1.0, 2.0])]))
    # steps as in the plain test: s1 = [0.1333..., -0.16], s2 = [0.0666..., 0.08]
    # mom1 = s1; w1 = [0.8666..., -0.84]; mom2 = 0.5*mom1 + s2 = [0.1333..., 0]; w2 = w1 - mom2
    np.testing.assert_allclose(s1.slots[0]["momentum"], [0.13333333333333333, -0.16], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [0.8666666666666667, -0.84], rtol=RTOL)
    np.testing.assert_allclose(s2.slots[0]["momentum"], [0.13333333333333333, 0.0], atol=1e-17)
    np.testing.assert_allclose(w2[0], [0.7333333333333334, -0.84], rtol=RTOL)


def test_centered_two_steps():
    hp = {"rho": 0.5, "epsilon": 0.5, "centered": True}
    (w1, s1), (w2, s2) = run(hp, 0.1, W, ([np.array([2.0, -4.0])], [np.array([1.5, -1.0])]))
    # v1 = 0.5*[4, 16] = [2, 8]; a1 = 0.5*[2, -4] = [1, -2]; v1 - a1^2 = [1, 4]
    # w1 = [1 - 0.1*2/(1 + 0.5), -1 + 0.1*4/(2 + 0.5)] = [0.8666..., -0.84]
    np.testing.assert_allclose(s1.slots[0]["average_gradient"], [1.0, -2.0], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [0.8666666666666667, -0.84], rtol=RTOL)
    # v2 = [1 + 1.125, 4 + 0.5] = [2.125, 4.5]; a2 = [0.5 + 0.75, -1 - 0.5] = [1.25, -1.5]
    # v2 - a2^2 = [0.5625, 2.25] (sqrt = [0.75, 1.5]); step = 0.1*[1.5/1.25, -1/2] = [0.12, -0.05]
    np.testing.assert_allclose(s2.slots[0]["velocity"], [2.125, 4.5], rtol=RTOL)
    np.testing.assert_allclose(s2.slots[0]["average_gradient"], [1.25, -1.5], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.7466666666666667, -0.79], rtol=RTOL)


def test_centered_with_momentum_two_variables():
    hp = {"rho": 0.5, "epsilon": 0.5, "centered": True, "momentum": 0.5}
    w = [np.array([1.0, -1.0]), np.array([[0.0]])]
    grads = ([np.array([2.0, -4.0]), np.array([[0.0]])], [np.array([1.5, -1.0]), np.array([[0.0]])])
    (w1, s1), (w2, s2) = run(hp, 0.1, w, grads)
    # steps as in the centered test: [0.1333..., -0.16] then [0.12, -0.05]
    # mom2 = 0.5*[0.1333..., -0.16] + [0.12, -0.05] = [0.18666..., -0.13]; w2 = w1 - mom2 = [0.68, -0.71]
    np.testing.assert_allclose(s2.slots[0]["momentum"], [0.18666666666666665, -0.13], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.68, -0.71], rtol=RTOL)
    # zero gradient: zero variance, step 0/(0 + eps) = 0
    np.testing.assert_array_equal(w2[1], [[0.0]])
