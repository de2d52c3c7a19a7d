"""Hand-computed checks of the Adadelta reference (rho = 0.5, epsilon = 0.25 unless stated)."""

import numpy as np

from conformance.reference import adadelta
from tests.reference import steps

RULE = adadelta
RTOL = 1e-12
HP = {"rho": 0.5, "epsilon": 0.25}
W = [np.array([1.0, -1.0])]
GRADS = ([np.array([2.0, 0.0])], [np.array([2.0, 1.0])])


def run(hp, lr, w, grads):
    return steps.run(RULE, hp, lr, w, grads)


def test_defaults():
    assert adadelta.DEFAULTS == {"rho": 0.95, "epsilon": 1e-7}


def test_two_steps_paper_form_lr_1():
    (w1, s1), (w2, s2) = run(HP, 1.0, W, GRADS)
    # t=1: Eg2 = 0.5*[4, 0] = [2, 0]; RMS[g] = sqrt([2.25, 0.25]) = [1.5, 0.5]; RMS[dx]_0 = sqrt(0.25)
    #   dx = -[0.5/1.5*2, 0.5/0.5*0] = [-2/3, 0]; Edx2 = 0.5*[4/9, 0] = [2/9, 0]; w1 = [1/3, -1]
    np.testing.assert_allclose(s1.slots[0]["accumulated_grad"], [2.0, 0.0], rtol=RTOL)
    np.testing.assert_allclose(s1.slots[0]["accumulated_delta_var"], [2 / 9, 0.0], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [1 / 3, -1.0], rtol=RTOL)
    # t=2: Eg2 = [1 + 2, 0 + 0.5] = [3, 0.5]; RMS[g] = [sqrt(3.25), sqrt(0.75)]
    #   RMS[dx]_1 = [sqrt(2/9 + 1/4), 0.5] = [sqrt(17)/6, 0.5]
    #   dx = [-(sqrt(17)/6)/sqrt(13/4)*2, -0.5/sqrt(0.75)] = [-(2/3)*sqrt(17/13), -1/sqrt(3)]
    #      = [-0.7623624998624875, -0.5773502691896258]
    #   Edx2 = [1/9 + 0.5*(4/9)*(17/13), 0 + 0.5*(1/3)] = [47/117, 1/6]
    #   w2 = [1/3 - 0.7623624998624875, -1 - 0.5773502691896258]
    np.testing.assert_allclose(s2.slots[0]["accumulated_grad"], [3.0, 0.5], rtol=RTOL)
    np.testing.assert_allclose(
        s2.slots[0]["accumulated_delta_var"], [0.4017094017094017, 0.16666666666666666], rtol=RTOL
    )
    np.testing.assert_allclose(w2[0], [-0.4290291665291542, -1.5773502691896257], rtol=RTOL)


def test_learning_rate_scales_only_the_step():
    (w1, s1), (w2, s2) = run(HP, 0.5, W, GRADS)
    # Same accumulators as with lr = 1 (dx is the paper's, unscaled); steps are halved:
    # w1 = [1 - 0.5*2/3, -1] = [2/3, -1]; w2 = [2/3 - (1/3)*sqrt(17/13), -1 - 0.5/sqrt(3)]
    np.testing.assert_allclose(w1[0], [2 / 3, -1.0], rtol=RTOL)
    np.testing.assert_allclose(s2.slots[0]["accumulated_delta_var"], [47 / 117, 1 / 6], rtol=RTOL)
    np.testing.assert_allclose(w2[0], [0.2854854167354229, -1.2886751345948129], rtol=RTOL)


def test_default_hyperparameters_one_step():
    ((w1, s1),) = run({}, 0.001, [np.zeros((1, 2))], ([np.array([[1.0, -1.0]])],))
    # Eg2 = 0.05*1 = 0.05; dx = -sqrt(1e-7)/sqrt(0.05 + 1e-7)*g = -/+0.001414212148161654
    # Edx2 = 0.05*dx^2 = 9.99998000004e-08; w = 0.001*dx
    np.testing.assert_allclose(s1.slots[0]["accumulated_grad"], [[0.05, 0.05]], rtol=RTOL)
    np.testing.assert_allclose(s1.slots[0]["accumulated_delta_var"], [[9.99998000004e-08] * 2], rtol=RTOL)
    np.testing.assert_allclose(w1[0], [[-1.4142121481616539e-06, 1.4142121481616539e-06]], rtol=RTOL)
