"""Hand-computed checks of the FTRL reference (exact binary numbers or simple fractions)."""

import copy

import numpy as np

from conformance.reference import ftrl

W0 = np.array([1.0, -2.0])
G1 = np.array([3.0, 4.0])
G2 = np.array([4.0, 3.0])
LR = 0.5


def _two_steps(hp):
    hp = {"initial_accumulator_value": 0.0, **hp}
    state = ftrl.init([W0], hp)
    w, state = ftrl.update([W0], [G1], state, hp, LR, 1)
    w1, s1 = w[0], state.slots[0]
    w, state = ftrl.update(w, [G2], state, hp, LR, 2)
    return w1, s1, w[0], state.slots[0]


def test_defaults_and_initial_state():
    assert ftrl.DEFAULTS == {
        "learning_rate_power": -0.5, "initial_accumulator_value": 0.1,
        "l1_regularization_strength": 0.0, "l2_regularization_strength": 0.0,
        "l2_shrinkage_regularization_strength": 0.0, "beta": 0.0,
    }
    state = ftrl.init([np.zeros((3, 4)), np.zeros(())], {})
    assert set(state.slots[0]) == {"accumulator", "linear"}
    np.testing.assert_allclose(state.slots[0]["accumulator"], np.full((3, 4), 0.1), rtol=1e-12)
    np.testing.assert_allclose(state.slots[1]["linear"], 0.0, atol=0)


def test_plain_two_steps():
    w1, s1, w2, s2 = _two_steps({})
    # step 1: n = [9, 16], sqrt(n) = [3, 4], sigma = [3, 4] / 0.5 = [6, 8]
    #         z = g - sigma*w = [3 - 6*1, 4 - 8*(-2)] = [-3, 20]
    #         w = -z / (sqrt(n)/lr) = [3/6, -20/8]
    np.testing.assert_allclose(s1["accumulator"], [9.0, 16.0], rtol=1e-12)
    np.testing.assert_allclose(s1["linear"], [-3.0, 20.0], rtol=1e-12)
    np.testing.assert_allclose(w1, [0.5, -2.5], rtol=1e-12)
    # step 2: n = [25, 25], sigma = ([5, 5] - [3, 4]) / 0.5 = [4, 2]
    #         z = [-3 + 4 - 4*0.5, 20 + 3 - 2*(-2.5)] = [-1, 28]; w = -z / (5/0.5) = [0.1, -2.8]
    np.testing.assert_allclose(s2["accumulator"], [25.0, 25.0], rtol=1e-12)
    np.testing.assert_allclose(s2["linear"], [-1.0, 28.0], rtol=1e-12)
    np.testing.assert_allclose(w2, [0.1, -2.8], rtol=1e-12)


def test_l1_zeroes_small_z():
    w1, _, w2, s2 = _two_steps({"l1_regularization_strength": 2.5})
    # step 1: z = [-3, 20]; w = (sgn(z)*2.5 - z) / [6, 8] = [(-2.5 + 3)/6, (2.5 - 20)/8]
    np.testing.assert_allclose(w1, [1.0 / 12.0, -2.1875], rtol=1e-12)
    # step 2: z = [-3 + 4 - 4/12, 20 + 3 - 2*(-2.1875)] = [2/3, 27.375]
    #         |2/3| <= 2.5 -> 0; (2.5 - 27.375) / 10 = -2.4875
    np.testing.assert_allclose(s2["linear"], [2.0 / 3.0, 27.375], rtol=1e-12)
    np.testing.assert_allclose(w2, [0.0, -2.4875], rtol=1e-12, atol=0)


def test_l2_adds_lambda2_to_denominator():
    w1, _, w2, _ = _two_steps({"l2_regularization_strength": 2.0})
    # documented denominator (beta + sqrt(n))/lr + l2: step 1 -z / ([6, 8] + 2) = [3/8, -20/10]
    np.testing.assert_allclose(w1, [0.375, -2.0], rtol=1e-12)
    # step 2: z = [-3 + 4 - 4*0.375, 23 - 2*(-2)] = [-0.5, 27]; w = -z / (10 + 2)
    np.testing.assert_allclose(w2, [0.5 / 12.0, -2.25], rtol=1e-12)


def test_l2_shrinkage_enters_z_only():
    w1, s1, w2, s2 = _two_steps({"l2_shrinkage_regularization_strength": 0.25})
    # step 1: g' = g + 2*0.25*w = [3.5, 3]; n = [9, 16] from the raw g
    #         z = [3.5 - 6*1, 3 - 8*(-2)] = [-2.5, 19]; w = -z / [6, 8] = [5/12, -2.375]
    np.testing.assert_allclose(s1["accumulator"], [9.0, 16.0], rtol=1e-12)
    np.testing.assert_allclose(w1, [5.0 / 12.0, -2.375], rtol=1e-12)
    # step 2: g' = [4 + 0.5*5/12, 3 + 0.5*(-2.375)] = [4 + 5/24, 1.8125]; sigma = [4, 2]
    #         z = [-2.5 + 4 + 5/24 - 4*5/12, 19 + 1.8125 + 2*2.375] = [1/24, 25.5625]; w = -z/10
    np.testing.assert_allclose(s2["linear"], [1.0 / 24.0, 25.5625], rtol=1e-12)
    np.testing.assert_allclose(w2, [-1.0 / 240.0, -2.55625], rtol=1e-12)


def test_beta():
    w1, _, w2, _ = _two_steps({"beta": 0.5})
    # step 1: denominator (0.5 + [3, 4]) / 0.5 = [7, 9]; w = [3/7, -20/9]
    np.testing.assert_allclose(w1, [3.0 / 7.0, -20.0 / 9.0], rtol=1e-12)
    # step 2: z = [-3 + 4 - 4*3/7, 23 + 2*20/9] = [-5/7, 247/9]; denominator (0.5 + 5)/0.5 = 11
    np.testing.assert_allclose(w2, [5.0 / 77.0, -247.0 / 99.0], rtol=1e-12)


def test_learning_rate_power():
    # power -1: n^1. step 1: n = [9, 16], sigma = n/0.5 = [18, 32], z = [3 - 18, 4 + 64] = [-15, 68]
    #           w = -z / (n/0.5) = [15/18, -68/32]
    w1, _, _, _ = _two_steps({"learning_rate_power": -1.0})
    np.testing.assert_allclose(w1, [5.0 / 6.0, -2.125], rtol=1e-12)
    # power 0 (fixed rate): n^0 = 1, sigma = 0, z = sum g, w = -lr*z: [-1.5, -2], then [-3.5, -3.5]
    w1, _, w2, _ = _two_steps({"learning_rate_power": 0.0})
    np.testing.assert_allclose(w1, [-1.5, -2.0], rtol=1e-12)
    np.testing.assert_allclose(w2, [-3.5, -3.5], rtol=1e-12)


def test_default_accumulator_and_matrix():
    # 2x2, defaults (n0 = 0.1), lr = 0.5, w0 = 0, g = [[0.3, 0], [0, -0.3]]
    # n = [[0.19, 0.1], [0.1, 0.19]]; z = g (w0 = 0); w = -z / (sqrt(n)/0.5) = -0.5*g/sqrt(n)
    # -> -+0.15/sqrt(0.19) = -+0.3441236008058426, and 0 where g = 0
    g = np.array([[0.3, 0.0], [0.0, -0.3]])
    w, state = ftrl.update([np.zeros((2, 2))], [g], ftrl.init([np.zeros((2, 2))], {}), {}, 0.5, 1)
    np.testing.assert_allclose(w[0], [[-0.3441236008058426, 0.0], [0.0, 0.3441236008058426]],
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(state.slots[0]["accumulator"], [[0.19, 0.1], [0.1, 0.19]],
                               rtol=1e-12)


def test_inputs_not_mutated():
    hp = {"l1_regularization_strength": 0.1, "l2_shrinkage_regularization_strength": 0.1}
    ws, gs = [W0.copy()], [G1.copy()]
    state = ftrl.init(ws, hp)
    before = copy.deepcopy((ws, gs, state.slots, hp))
    ftrl.update(ws, gs, state, hp, LR, 1)
    for a, b in zip(before[0] + before[1], ws + gs):
        np.testing.assert_array_equal(a, b)
    for k in state.slots[0]:
        np.testing.assert_array_equal(before[2][0][k], state.slots[0][k])
    assert before[3] == hp
