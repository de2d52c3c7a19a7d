"""AdamW's reference is Adam's update with AdamW's own defaults (decay is a base option)."""

import numpy as np

from conformance.reference import adamw
from tests.reference import steps

RULE = adamw
RTOL = 1e-12


def run(hp, lr, w, grads):
    return steps.run(RULE, hp, lr, w, grads)


def test_defaults_exclude_weight_decay():
    assert adamw.DEFAULTS == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}


def test_two_steps_with_amsgrad():
    hp = {"beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.5, "amsgrad": True}
    grads = ([np.array([2.0, -4.0])], [np.array([0.0, 2.0])])
    (w1, s1), (w2, s2) = run(hp, 0.1, [np.array([1.0, -1.0])], grads)
    # m1 = [1, -2]; v1 = [1, 4]; alpha_1 = 0.1; w1 = [1 - 0.1/1.5, -1 + 0.2/2.5] = [0.9333..., -0.92]
    np.testing.assert_allclose(w1[0], [0.9333333333333333, -0.92], rtol=RTOL)
    # m2 = [0.5, 0]; v2 = [0.75, 4]; v_hat2 = [1, 4]; alpha_2 = 0.1*sqrt(7)/3
    # w2 = 0.9333... - alpha_2*0.5/1.5 = 0.9039360965437268; no decay term here
    np.testing.assert_allclose(s2.slots[0]["velocity_hat"], [1.0, 4.0], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.9039360965437268, -0.92], rtol=RTOL)
