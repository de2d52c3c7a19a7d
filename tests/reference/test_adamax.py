"""Hand-computed checks of the Adamax reference (beta_1 = 0.5, beta_2 = 0.75, epsilon = 0.5, lr = 0.1)."""

import numpy as np

from conformance.reference import adamax

RULE = adamax
RTOL = 1e-12
HP = {"beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.5}


def run(hp, lr, w, grads):
    """Apply `grads` (one list per step, t = 1, 2, ...); check that no input is mutated."""
    orig_w, w0 = w, [x.copy() for x in w]
    g0 = [[x.copy() for x in g] for g in grads]
    state = RULE.init(w, hp)
    out = []
    for t, g in enumerate(grads, start=1):
        before = state.copy()
        w, new_state = RULE.update(w, g, state, hp, lr, t)
        for a, b in zip(state.slots + [state.shared], before.slots + [before.shared]):
            assert a.keys() == b.keys()
            for k in a:
                np.testing.assert_array_equal(a[k], b[k])
        state = new_state
        out.append((w, state))
    for a, b in zip(orig_w, w0):
        np.testing.assert_array_equal(a, b)
    for g, c in zip(grads, g0):
        for a, b in zip(g, c):
            np.testing.assert_array_equal(a, b)
    return out


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
