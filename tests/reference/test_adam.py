"""Hand-computed checks of the Adam reference (beta_1 = 0.5, beta_2 = 0.75, epsilon = 0.5, lr = 0.1)."""

import numpy as np

from conformance.reference import adam
from tests.reference import steps

RULE = adam
RTOL = 1e-12
HP = {"beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.5}
W = [np.array([1.0, -1.0])]
G1 = [np.array([2.0, -4.0])]
# alpha_1 = 0.1*sqrt(1 - 0.75)/(1 - 0.5) = 0.1; alpha_2 = 0.1*sqrt(1 - 0.5625)/(1 - 0.25) = 0.1*sqrt(7)/3
ALPHA_2 = 0.08819171036881969


def run(hp, lr, w, grads):
    return steps.run(RULE, hp, lr, w, grads)


def test_defaults_and_slots():
    assert adam.DEFAULTS == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}
    assert set(adam.init(W, {}).slots[0]) == {"momentum", "velocity"}
    assert set(adam.init(W, {"amsgrad": True}).slots[0]) == {"momentum", "velocity", "velocity_hat"}


def test_two_steps_epsilon_hat_form():
    (w1, s1), (w2, s2) = run(HP, 0.1, W, (G1, [np.array([1.0, 2.0])]))
    # m1 = 0.5*[2, -4] = [1, -2]; v1 = 0.25*[4, 16] = [1, 4]
    # w1 = w - 0.1*[1/(1 + 0.5), -2/(2 + 0.5)] = [1 - 0.0666..., -1 + 0.08]
    # (Algorithm 1's epsilon would give 0.1*[2/(2 + 0.5), ...] instead: this pins "epsilon hat")
    np.testing.assert_allclose(s1.slots[0]["momentum"], [1.0, -2.0], rtol=RTOL)
    np.testing.assert_allclose(s1.slots[0]["velocity"], [1.0, 4.0], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [0.9333333333333333, -0.92], rtol=RTOL)
    # m2 = 0.5*[1, -2] + 0.5*[1, 2] = [1, 0]; v2 = 0.75*[1, 4] + 0.25*[1, 4] = [1, 4]
    # w2 = [0.9333... - ALPHA_2*1/1.5, -0.92 - 0] = [0.9333... - 0.0587944..., -0.92]
    np.testing.assert_allclose(s2.slots[0]["momentum"], [1.0, 0.0], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.8745388597541203, -0.92], rtol=RTOL)


def test_amsgrad_uses_running_max_of_velocity():
    hp = {**HP, "amsgrad": True}
    (w1, s1), (w2, s2) = run(hp, 0.1, W, (G1, [np.array([0.0, 2.0])]))
    np.testing.assert_allclose(w1[0], [0.9333333333333333, -0.92], rtol=RTOL)  # as without amsgrad
    # m2 = [0.5, 0]; v2 = [0.75*1 + 0, 3 + 1] = [0.75, 4]; v_hat2 = max([1, 4], [0.75, 4]) = [1, 4]
    # w2 = [0.9333... - ALPHA_2*0.5/(1 + 0.5), -0.92] = [0.9333... - 0.0293972..., -0.92]
    np.testing.assert_allclose(s2.slots[0]["velocity"], [0.75, 4.0], rtol=RTOL)
    np.testing.assert_allclose(s2.slots[0]["velocity_hat"], [1.0, 4.0], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.9039360965437268, -0.92], rtol=RTOL)


def test_without_amsgrad_same_gradients():
    (_, _), (w2, _) = run(HP, 0.1, W, (G1, [np.array([0.0, 2.0])]))
    # w2 = 0.9333... - ALPHA_2*0.5/(sqrt(0.75) + 0.5)
    np.testing.assert_allclose(w2[0], [0.9010529269351458, -0.92], rtol=RTOL)


def test_default_hyperparameters_matrix():
    ((w1, s1),) = run({}, 0.01, [np.zeros((2, 2))], ([np.array([[1.0, -0.5], [0.0, 1.0]])],))
    # m = 0.1*g, v = 0.001*g^2, alpha = 0.01*sqrt(0.001)/0.1
    # g=1: -alpha*0.1/(sqrt(0.001) + 1e-7) = -0.009999968377323398
    # g=-0.5: alpha*0.05/(sqrt(0.00025) + 1e-7) = 0.009999936754846795; g=0: 0
    np.testing.assert_allclose(s1.slots[0]["velocity"], [[0.001, 0.00025], [0.0, 0.001]], rtol=RTOL)
    np.testing.assert_allclose(
        w1[0], [[-0.009999968377323398, 0.009999936754846795], [0.0, -0.009999968377323398]], rtol=RTOL
    )
