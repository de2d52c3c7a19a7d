"""Shared driver for the hand-computed reference tests."""

import numpy as np


def run(rule, hp, lr, w, grads):
    """Apply `grads` (one list per step, t = 1, 2, ...); check that no input is mutated."""
    orig_w, w0 = w, [x.copy() for x in w]
    g0 = [[x.copy() for x in g] for g in grads]
    state = rule.init(w, hp)
    out = []
    for t, g in enumerate(grads, start=1):
        before = state.copy()
        w, new_state = rule.update(w, g, state, hp, lr, t)
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
