"""Hand-computed checks of the Nadam reference (beta_1 = 0.9, beta_2 = 0.75, epsilon = 0.5, lr = 0.1)."""

import numpy as np

from conformance.reference import nadam
from tests.reference import steps

RULE = nadam
RTOL = 1e-12
HP = {"beta_2": 0.75, "epsilon": 0.5}
# mu_t = 0.9*(1 - 0.5*0.96**(0.004*t)): mu_1, mu_2, mu_3
MU = (0.45007347359129607, 0.4501469351862175, 0.45022038478672294)
# running products prod_1 = mu_1, prod_2 = mu_1*mu_2, prod_3 = mu_1*mu_2*mu_3
PROD = (0.45007347359129607, 0.20259919474573693, 0.0912142874159059)


def run(hp, lr, w, grads):
    return steps.run(RULE, hp, lr, w, grads)


def test_defaults_and_names():
    assert nadam.DEFAULTS == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    assert nadam.KERAS_NAMES == {"u_product": "variable"}
    state = nadam.init([np.zeros(2)], {})
    assert set(state.slots[0]) == {"momentum", "velocity"}
    np.testing.assert_array_equal(state.shared["u_product"], 1.0)


def test_two_steps_two_variables():
    w = [np.array([1.0, -1.0]), np.array([[0.5]])]
    grads = ([np.array([2.0, -4.0]), np.array([[-1.0]])], [np.array([1.0, 2.0]), np.array([[3.0]])])
    (w1, s1), (w2, s2) = run(HP, 0.1, w, grads)
    # The product advances once per update, not once per variable.
    np.testing.assert_allclose(s1.shared["u_product"], PROD[0], rtol=RTOL)
    np.testing.assert_allclose(s2.shared["u_product"], PROD[1], rtol=RTOL)
    # t=1, first variable: m1 = 0.1*g = [0.2, -0.4]; v1 = 0.25*g^2 = [1, 4]; sqrt(v1/0.25) = [2, 4]
    #   m_bar = (1 - mu_1)*g/(1 - prod_1) + mu_2*m1/(1 - prod_2)
    #   w1 = w - 0.1*m_bar/([2, 4] + 0.5) = [0.9154838577315689, -0.9060931752572988]
    np.testing.assert_allclose(s1.slots[0]["momentum"], [0.2, -0.4], rtol=RTOL)
    np.testing.assert_allclose(s1.slots[0]["velocity"], [1.0, 4.0], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [0.9154838577315689, -0.9060931752572988], rtol=RTOL)
    # t=2: m2 = 0.9*[0.2, -0.4] + 0.1*[1, 2] = [0.28, -0.16]; v2 = 0.75*v1 + 0.25*[1, 4] = [1, 4]
    #   m_bar = (1 - mu_2)*g/(1 - prod_2) + mu_3*m2/(1 - prod_3)
    #   w2 = w1 - 0.1*m_bar/(sqrt(v2/(1 - 0.5625)) + 0.5) = [0.8743143921014095, -0.9429817347678601]
    np.testing.assert_allclose(s2.slots[0]["momentum"], [0.28, -0.16], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.8743143921014095, -0.9429817347678601], rtol=RTOL)
    # second variable, same arithmetic: m = [-0.1, 0.21], v = [0.25, 0.1875 + 2.25 = 2.4375]
    np.testing.assert_allclose(w1[1], [[0.5704301185570259]], rtol=RTOL)
    np.testing.assert_allclose(s2.slots[1]["velocity"], [[2.4375]], rtol=RTOL)
    np.testing.assert_allclose(w2[1], [[0.4944716682736923]], rtol=RTOL)
