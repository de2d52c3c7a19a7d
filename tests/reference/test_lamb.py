"""Hand-computed checks of the LAMB reference."""

import copy

import numpy as np

from conformance.reference import lamb

HP = {"beta_1": 0.5, "beta_2": 0.5, "epsilon": 0.0}


def test_defaults_and_initial_state():
    assert lamb.DEFAULTS == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    s = lamb.init([np.ones((3, 4))], {}).slots[0]
    assert set(s) == {"momentum", "velocity"}
    np.testing.assert_array_equal(s["momentum"], np.zeros((3, 4)))
    np.testing.assert_array_equal(s["velocity"], np.zeros((3, 4)))


def test_two_steps_nondefault():
    w0, lr = np.array([1.0, 1.0]), 0.1
    state = lamb.init([w0], HP)
    # step 1, g = [1, -1]: m = [0.5, -0.5], v = [0.5, 0.5]; m_hat = m/0.5 = [1, -1], v_hat = [1, 1]
    # r = [1, -1]; ||w|| = sqrt(2) = ||r|| -> ratio 1; w = [1 - 0.1, 1 + 0.1]
    w, state = lamb.update([w0], [np.array([1.0, -1.0])], state, HP, lr, 1)
    np.testing.assert_allclose(w[0], [0.9, 1.1], rtol=1e-12)
    np.testing.assert_allclose(state.slots[0]["momentum"], [0.5, -0.5], rtol=1e-12)
    # step 2, g = [3, 1]: m = 0.5*[0.5, -0.5] + 0.5*[3, 1] = [1.75, 0.25]
    #   v = 0.5*[0.5, 0.5] + 0.5*[9, 1] = [4.75, 0.75]
    #   m_hat = m/0.75 = [7/3, 1/3]; v_hat = v/0.75 = [19/3, 1]
    #   r = [(7/3)/sqrt(19/3), 1/3] = [0.9271726499455307, 0.3333333333333333]
    #   ratio = sqrt(0.81 + 1.21) / ||r|| = 1.4212670403551895 / 0.98527389...
    #         = 1.4425128677048173
    #   w = [0.9, 1.1] - 0.1 * 1.4425128677048173 * r
    w, state = lamb.update(w, [np.array([3.0, 1.0])], state, HP, lr, 2)
    np.testing.assert_allclose(state.slots[0]["momentum"], [1.75, 0.25], rtol=1e-12)
    np.testing.assert_allclose(state.slots[0]["velocity"], [4.75, 0.75], rtol=1e-12)
    np.testing.assert_allclose(w[0], [0.7662541521869598, 1.0519162377431728], rtol=1e-12)


def test_defaults_epsilon_cancels_in_trust_ratio():
    # defaults, step 1, w0 = [[3], [4]] (norm 5), g = [[1], [-1]]: m_hat = g, v_hat = g^2
    # r = g / (1 + 1e-7); ratio = 5 / ||r|| = 5 (1 + 1e-7) / sqrt(2)
    # step = lr * ratio * r = lr * 5/sqrt(2) * [1, -1]
    # lr = 0.1: 0.5/sqrt(2) = 0.35355339059327373
    w0 = np.array([[3.0], [4.0]])
    w, _ = lamb.update([w0], [np.array([[1.0], [-1.0]])], lamb.init([w0], {}), {}, 0.1, 1)
    np.testing.assert_allclose(w[0], [[2.6464466094067263], [4.353553390593274]], rtol=1e-12)


def test_trust_ratio_is_per_variable_and_one_for_zero_weights():
    # variable a = [1, 1] (ratio 1 as above); variable b = [0, 0]: ||w|| = 0 -> ratio 1
    wa, wb = np.array([1.0, 1.0]), np.zeros(2)
    g = np.array([1.0, -1.0])
    w, _ = lamb.update([wa, wb], [g, 2 * g], lamb.init([wa, wb], HP), HP, 0.1, 1)
    np.testing.assert_allclose(w[0], [0.9, 1.1], rtol=1e-12)
    np.testing.assert_allclose(w[1], [-0.1, 0.1], rtol=1e-12)  # r = sign(g), unscaled


def test_inputs_not_mutated():
    ws, gs = [np.array([1.0, 2.0])], [np.array([0.5, -0.5])]
    state = lamb.init(ws, {})
    state.slots[0]["momentum"] = np.array([0.1, 0.2])
    before = copy.deepcopy((ws, gs, state.slots))
    lamb.update(ws, gs, state, {}, 0.1, 3)
    np.testing.assert_array_equal(before[0][0], ws[0])
    np.testing.assert_array_equal(before[1][0], gs[0])
    for k in state.slots[0]:
        np.testing.assert_array_equal(before[2][0][k], state.slots[0][k])
