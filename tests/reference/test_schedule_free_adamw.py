"""Hand-computed checks of the Schedule-Free AdamW reference.

With beta_2 = 0.5 and a gradient of constant magnitude, v_hat = v / (1 - 0.5^t) = g^2 exactly,
so with epsilon = 0 every z step is -gamma * sign(g).
"""

import copy

import numpy as np

from conformance.reference import schedule_free_adamw as sf

HP = {"beta_1": 0.5, "beta_2": 0.5, "epsilon": 0.0}
W0 = np.array([0.0, 1.0])
G = np.array([1.0, -2.0])


def _run(hp, steps, lr=1.0):
    st = sf.init([W0], hp)
    w, out = [W0], []
    for t in range(1, steps + 1):
        w, st = sf.update(w, [G], st, hp, lr, t)
        out.append((w[0], st.slots[0]["momentum"], sf.average(w, st, hp)[0]))
    return out, st


def test_defaults_and_initial_state():
    assert sf.DEFAULTS == {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "warmup_steps": 0}
    w0 = np.arange(12.0).reshape(3, 4)
    st = sf.init([w0], {})
    assert set(st.slots[0]) == {"momentum", "velocity"}
    np.testing.assert_array_equal(st.slots[0]["momentum"], w0)  # z_1 = x_1
    np.testing.assert_array_equal(st.slots[0]["velocity"], np.zeros((3, 4)))


def test_three_steps_no_warmup():
    (s1, s2, s3), st = _run(HP, 3)
    # y = model variable, z = momentum slot, x = average; c_{t+1} = 1/t for a constant lr
    # t=1: z = [0, 1] - [1, -1] = [-1, 2]; c = 1: x = z; y = 0.5 z + 0.5 x = [-1, 2]
    np.testing.assert_allclose(s1[0], [-1.0, 2.0], rtol=1e-12)
    # t=2: z = [-2, 3]; x = 0.5*[-1, 2] + 0.5*[-2, 3] = [-1.5, 2.5]; y = 0.5 z + 0.5 x
    np.testing.assert_allclose(s2[1], [-2.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(s2[2], [-1.5, 2.5], rtol=1e-12)
    np.testing.assert_allclose(s2[0], [-1.75, 2.75], rtol=1e-12)
    # t=3: z = [-3, 4]; x = 2/3*[-1.5, 2.5] + 1/3*[-3, 4] = [-2, 3]; y = [-2.5, 3.5]
    np.testing.assert_allclose(s3[2], [-2.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(s3[0], [-2.5, 3.5], rtol=1e-12)
    # v: 0.5*g^2 = [0.5, 2] -> [0.75, 3] -> [0.875, 3.5]; sum of gamma^2 = 3
    np.testing.assert_allclose(st.slots[0]["velocity"], [0.875, 3.5], rtol=1e-12)
    np.testing.assert_allclose(st.shared["lr_sq_sum"], 3.0, rtol=1e-12)


def test_three_steps_warmup():
    (s1, s2, s3), _ = _run({**HP, "warmup_steps": 2}, 3)
    # gamma = 1 * min(1, t/2) = 0.5, 1, 1; c = gamma_t^2 / sum gamma^2 = 1, 1/1.25, 1/2.25
    # t=1: z = [0, 1] - 0.5*[1, -1] = [-0.5, 1.5] = x = y
    np.testing.assert_allclose(s1[0], [-0.5, 1.5], rtol=1e-12)
    # t=2: z = [-1.5, 2.5]; x = 0.2*[-0.5, 1.5] + 0.8*[-1.5, 2.5] = [-1.3, 2.3]; y = [-1.4, 2.4]
    np.testing.assert_allclose(s2[2], [-1.3, 2.3], rtol=1e-12)
    np.testing.assert_allclose(s2[0], [-1.4, 2.4], rtol=1e-12)
    # t=3: z = [-2.5, 3.5]; x = 5/9*[-1.3, 2.3] + 4/9*[-2.5, 3.5] = [-16.5/9, 25.5/9]
    #      y = 0.5*[-2.5, 3.5] + 0.5*x = [-26/12, 38/12]
    np.testing.assert_allclose(s3[2], [-16.5 / 9, 25.5 / 9], rtol=1e-12)
    np.testing.assert_allclose(s3[0], [-26.0 / 12, 38.0 / 12], rtol=1e-12)


def test_defaults_two_steps_epsilon_outside_sqrt():
    lr = 0.0025
    st = sf.init([W0], {})
    # t=1: v = 0.001 g^2, v_hat = g^2; z = [0 - lr/(1 + 1e-8), 1 + 2 lr/(2 + 1e-8)]; c = 1 -> y = z
    w, st = sf.update([W0], [G], st, {}, lr, 1)
    np.testing.assert_allclose(w[0], [-0.0025 / 1.00000001, 1 + 0.005 / 2.00000001], rtol=1e-12)
    # t=2, g = [2, 0]: v = [0.999*0.001 + 0.001*4, 0.999*0.004] = [0.004999, 0.003996]
    #   v_hat0 = 0.004999/(1 - 0.999^2) = 0.004999/0.001999; z0 = z1_0 - 0.005/(sqrt(v_hat0) + 1e-8)
    #   = -0.005661803143042829; z1 unchanged (g = 0)
    #   x = 0.5 x1 + 0.5 z (x1 = z1 = y1); y = 0.1 z + 0.9 x
    w, st = sf.update(w, [np.array([2.0, 0.0])], st, {}, lr, 2)
    np.testing.assert_allclose(st.slots[0]["velocity"], [0.004999, 0.003996], rtol=1e-12)
    np.testing.assert_allclose(st.slots[0]["momentum"], [-0.005661803143042829, 1.0024999999875],
                               rtol=1e-12)
    np.testing.assert_allclose(w[0], [-0.0042389917174235564, 1.0024999999875], rtol=1e-12)


def test_inputs_not_mutated():
    ws, gs = [W0.copy(), np.ones((2, 2))], [G.copy(), np.full((2, 2), 0.5)]
    st = sf.init(ws, HP)
    before = copy.deepcopy((ws, gs, st.slots, st.shared))
    sf.update(ws, gs, st, HP, 0.1, 1)
    sf.average(ws, st, HP)
    for a, b in zip(before[0] + before[1], ws + gs):
        np.testing.assert_array_equal(a, b)
    for s0, s1 in zip(before[2], st.slots):
        for k in s0:
            np.testing.assert_array_equal(s0[k], s1[k])
    assert before[3] == st.shared
