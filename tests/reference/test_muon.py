"""Hand-computed checks of the Muon reference.

For a matrix whose singular values are s_i, every Newton-Schulz step maps each s_i through
p(s) = a s + b s^3 + c s^5 and keeps the singular vectors, so for a 1xn row or a diagonal matrix the
iteration reduces to the scalar recurrence below (a, b, c = 3.4445, -4.775, 2.0315).
"""

import copy

import numpy as np

from conformance.reference import muon

PLAIN = {"adam_weight_decay": None}


def test_defaults_paths_and_initial_state():
    assert muon.DEFAULTS["momentum"] == 0.95 and muon.DEFAULTS["ns_steps"] == 5
    assert muon.DEFAULTS["rms_rate"] == 0.2 and muon.DEFAULTS["adam_weight_decay"] == 0.004
    ws = [np.ones((3, 4)), np.ones(2), np.ones(()), np.ones((2, 2, 2)), np.ones((4, 3)),
          np.ones((4, 3)), np.ones((2, 2))]
    names = ["dense_kernel", "bias", "s", "conv", "tok_Embedding", "output_dense", "other"]
    hp = {"_names": names, "exclude_layers": ["^out"]}
    assert muon.adamw_path(ws, hp) == [False, True, True, True, True, True, False]
    # without names only the ndim rule applies
    assert muon.adamw_path(ws, {}) == [False, True, True, True, False, False, False]
    assert muon.adamw_path(ws, {**hp, "exclude_embeddings": False})[4] is False
    st = muon.init(ws, hp)
    assert [set(s) for s in st.slots[:2]] == [{"momentum"}, {"momentum", "velocity"}]
    assert all(not v.any() for s in st.slots for v in s.values())


def test_muon_path_two_steps_defaults():
    w0 = np.array([[1.0, 2.0]])
    st = muon.init([w0], PLAIN)
    # step 1, g = [[3, 4]]: m = g; nesterov u = g + 0.95 m = 1.95 g, ||u|| = 9.75
    #   s0 = 9.75/(9.75 + 1e-7) = 0.99999998974359; p: 0.7010000074153848, 1.1136202080128137,
    #   0.7207059389168613, 1.0899742153476697, s5 = 0.6964364200222537
    #   update = s5 * [0.6, 0.8] * sqrt(max(1, 2)) * 0.2; w = w0 - 0.1 * update
    w, st = muon.update([w0], [np.array([[3.0, 4.0]])], st, PLAIN, 0.1, 1)
    np.testing.assert_allclose(st.slots[0]["momentum"], [[3.0, 4.0]], rtol=1e-12)
    np.testing.assert_allclose(w[0], [[0.9881810820336876, 1.9842414427115833]], rtol=1e-12)
    # step 2, g = [[4, -3]]: m = 0.95*[3, 4] + [4, -3] = [6.85, 0.8]
    #   u = g + 0.95 m = [10.5075, -2.24], ||u|| = sqrt(115.42515625) = 10.74361001944877
    #   s0 = 0.9999999906921418 -> s5 = 0.6964364190463157
    #   w = w1 - 0.1 * sqrt(2) * 0.2 * s5 * u/||u||
    w, st = muon.update(w, [np.array([[4.0, -3.0]])], st, PLAIN, 0.1, 2)
    np.testing.assert_allclose(st.slots[0]["momentum"], [[6.85, 0.8]], rtol=1e-12)
    np.testing.assert_allclose(w[0], [[0.9689157885038299, 1.9883484384295829]], rtol=1e-12)


def test_newton_schulz_acts_per_singular_value_and_transposes_tall():
    hp = {**PLAIN, "nesterov": False, "rms_rate": None}
    # diag(3, 4): s = [3, 4] / (5 + 1e-7) = [0.599999988, 0.799999984]
    #   3/5:  1.1932694447530552, 0.9119177239224241, 0.801137669230729, 0.9747023984794213,
    #         0.7228761296269464
    #   4/5:  0.9764819450078069, 0.7211175676076385, 1.0894568662894915, 0.6960447715058544,
    #         1.1192039041778885
    w0 = np.eye(2)
    w, _ = muon.update([w0], [np.diag([3.0, 4.0])], muon.init([w0], hp), hp, 0.1, 1)
    np.testing.assert_allclose(w[0], [[0.9277123870373054, 0.0], [0.0, 0.8880796095822111]],
                               rtol=1e-12, atol=1e-15)
    # tall 2x1 column [3, 4] with rms_rate 0.2: s0 = 5/(5 + 1e-7) -> s5 = 0.6964364300471311
    #   w = -0.1 * sqrt(2) * 0.2 * s5 * [0.6, 0.8]
    hp = {**PLAIN, "nesterov": False}
    w0 = np.zeros((2, 1))
    w, _ = muon.update([w0], [np.array([[3.0], [4.0]])], muon.init([w0], hp), hp, 0.1, 1)
    np.testing.assert_allclose(w[0], [[-0.011818918136440251], [-0.01575855751525367]], rtol=1e-12)
    # custom cubic (a, b, c) = (1.5, -0.5, 0), one step: s1 = 1.5 s0 - 0.5 s0^3 with
    # s0 = 0.99999998 -> s1 = 1 - 3.0e-16 (= 0.9999999999999996); w = -s1 * [0.6, 0.8]
    hp = {**PLAIN, "nesterov": False, "rms_rate": None, "muon_a": 1.5, "muon_b": -0.5,
          "muon_c": 0.0, "ns_steps": 1}
    w0 = np.zeros((1, 2))
    w, _ = muon.update([w0], [np.array([[3.0, 4.0]])], muon.init([w0], hp), hp, 1.0, 1)
    np.testing.assert_allclose(w[0], [[-0.5999999999999998, -0.7999999999999997]], rtol=1e-12)


def test_adamw_path_two_steps():
    hp = {"adam_beta_1": 0.5, "adam_beta_2": 0.75, "epsilon": 0.0, "adam_weight_decay": 0.5,
          "adam_lr_ratio": 0.5}
    w0 = np.array([1.0, -2.0])
    st = muon.init([w0], hp)
    # lr_adam = 0.1 * 0.5 = 0.05; decay w *= 1 - 0.05*0.5 = 0.975 -> [0.975, -1.95]
    # step 1, g = [2, -1]: m = [1, -0.5], v = [1, 0.25]; alpha = 0.05*sqrt(0.25)/0.5 = 0.05
    #   w = [0.975, -1.95] - 0.05 * [1/1, -0.5/0.5] = [0.925, -1.9]
    w, st = muon.update([w0], [np.array([2.0, -1.0])], st, hp, 0.1, 1)
    np.testing.assert_allclose(w[0], [0.925, -1.9], rtol=1e-12)
    np.testing.assert_allclose(st.slots[0]["velocity"], [1.0, 0.25], rtol=1e-12)
    # step 2, g = [0, 4]: decay -> [0.901875, -1.8525]; m = [0.5, 1.75]; v = [0.75, 4.1875]
    #   alpha = 0.05*sqrt(1 - 0.5625)/(1 - 0.25) = 0.044095855184409845
    #   w = [0.901875 - alpha*0.5/sqrt(0.75), -1.8525 - alpha*1.75/sqrt(4.1875)]
    w, st = muon.update(w, [np.array([0.0, 4.0])], st, hp, 0.1, 2)
    np.testing.assert_allclose(st.slots[0]["momentum"], [0.5, 1.75], rtol=1e-12)
    np.testing.assert_allclose(st.slots[0]["velocity"], [0.75, 4.1875], rtol=1e-12)
    np.testing.assert_allclose(w[0], [0.8764162461391342, -1.8902101628840682], rtol=1e-12)


def test_name_excluded_matrix_takes_adamw_and_defaults():
    # 1x2 matrix excluded by name, default hp: decay 1 - 0.1*0.004 -> w0 * 0.9996
    # step 1: m = 0.1 g, v = 0.001 g^2; step = 0.1*sqrt(0.001)/0.1 * m/(sqrt(v) + 1e-7)
    #   = 0.1 * sqrt(0.001)*g / (sqrt(0.001)|g| + 1e-7); g = [1, -1]:
    #   0.1 * 0.0316227766016838 / 0.0316228766016838 = 0.09999968377323398
    w0 = np.array([[1.0, 1.0]])
    hp = {"_names": ["my_embedding"]}
    w, st = muon.update([w0], [np.array([[1.0, -1.0]])], muon.init([w0], hp), hp, 0.1, 1)
    assert set(st.slots[0]) == {"momentum", "velocity"}
    step = 0.09999968377323398
    np.testing.assert_allclose(w[0], [[0.9996 - step, 0.9996 + step]], rtol=1e-12)


def test_inputs_not_mutated():
    ws = [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0])]
    gs = [np.array([[0.5, 0.1], [0.2, 0.3]]), np.array([0.3, 0.2])]
    hp = {"_names": ["a", "b"]}
    st = muon.init(ws, hp)
    st.slots[0]["momentum"] = np.ones((2, 2))
    before = copy.deepcopy((ws, gs, st.slots, hp))
    muon.update(ws, gs, st, hp, 0.1, 1)
    for a, b in zip(before[0] + before[1], ws + gs):
        np.testing.assert_array_equal(a, b)
    for s0, s1 in zip(before[2], st.slots):
        for k in s0:
            np.testing.assert_array_equal(s0[k], s1[k])
    assert before[3] == hp
