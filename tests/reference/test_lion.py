"""Hand-computed checks of the Lion reference."""

import copy

import numpy as np

from conformance.reference import lion

W0 = np.array([1.0, -1.0, 0.5])
G1 = np.array([0.5, -2.0, 0.0])
G2 = np.array([-0.01, 0.1, -3.0])


def test_defaults_and_initial_state():
    assert lion.DEFAULTS == {"beta_1": 0.9, "beta_2": 0.99}
    s = lion.init([np.ones((3, 4))], {}).slots[0]
    assert set(s) == {"momentum"}
    np.testing.assert_array_equal(s["momentum"], np.zeros((3, 4)))


def test_two_steps_defaults():
    state = lion.init([W0], {})
    # step 1: c = 0.1*g = [0.05, -0.2, 0] -> sign [1, -1, 0]; w = W0 - 0.1*sign
    #         m = 0.01*g = [0.005, -0.02, 0]
    w, state = lion.update([W0], [G1], state, {}, 0.1, 1)
    np.testing.assert_allclose(w[0], [0.9, -0.9, 0.5], rtol=1e-12)
    np.testing.assert_allclose(state.slots[0]["momentum"], [0.005, -0.02, 0.0], rtol=1e-12)
    # step 2: c = 0.9*m + 0.1*g = [0.0045 - 0.001, -0.018 + 0.01, -0.3] -> sign [1, -1, -1]
    #         (first entry moves against its gradient: beta_1 interpolation keeps the old sign)
    #         m = 0.99*m + 0.01*g = [0.00495 - 0.0001, -0.0198 + 0.001, -0.03]
    w, state = lion.update(w, [G2], state, {}, 0.1, 2)
    np.testing.assert_allclose(w[0], [0.8, -0.8, 0.6], rtol=1e-12)
    np.testing.assert_allclose(state.slots[0]["momentum"], [0.00485, -0.0188, -0.03], rtol=1e-12)


def test_two_steps_nondefault_betas_matrix():
    hp = {"beta_1": 0.2, "beta_2": 0.5}
    w0 = W0.reshape(1, 3)
    state = lion.init([w0], hp)
    # step 1: sign(0.8*g) = [1, -1, 0]; m = 0.5*g = [0.25, -1, 0]
    w, state = lion.update([w0], [G1.reshape(1, 3)], state, hp, 0.25, 1)
    np.testing.assert_allclose(w[0], [[0.75, -0.75, 0.5]], rtol=1e-12)
    # step 2: c = 0.2*[0.25, -1, 0] + 0.8*[-0.01, 0.1, -3] = [0.042, -0.12, -2.4] -> [1, -1, -1]
    #         m = 0.5*[0.25, -1, 0] + 0.5*[-0.01, 0.1, -3] = [0.12, -0.45, -1.5]
    w, state = lion.update(w, [G2.reshape(1, 3)], state, hp, 0.25, 2)
    np.testing.assert_allclose(w[0], [[0.5, -0.5, 0.75]], rtol=1e-12)
    np.testing.assert_allclose(state.slots[0]["momentum"], [[0.12, -0.45, -1.5]], rtol=1e-12)


def test_inputs_not_mutated():
    ws, gs = [W0.copy()], [G1.copy()]
    state = lion.init(ws, {})
    state.slots[0]["momentum"] = np.array([1.0, 2.0, 3.0])
    before = copy.deepcopy((ws, gs, state.slots))
    lion.update(ws, gs, state, {}, 0.1, 1)
    np.testing.assert_array_equal(before[0][0], ws[0])
    np.testing.assert_array_equal(before[1][0], gs[0])
    np.testing.assert_array_equal(before[2][0]["momentum"], state.slots[0]["momentum"])
