"""Hand-computed checks of the Adafactor reference.

At t = 1, beta2_hat = 1 - 1^-0.8 = 0, so the second moment is just g^2 (+1e-30, invisible next to
these g^2); at t = 2, beta2_hat = 1 - 2^-0.8 = 0.42565082250148256.
"""

import copy

import numpy as np

from conformance.reference import adafactor

B2 = 0.42565082250148256  # 1 - 2**-0.8 = 1 - 0.5743491774985174


def test_defaults_keras_names_and_initial_state():
    assert adafactor.DEFAULTS == {"beta_2_decay": -0.8, "epsilon_1": 1e-30, "epsilon_2": 1e-3,
                                  "clip_threshold": 1.0, "relative_step": True}
    assert adafactor.KERAS_NAMES == {"r": "", "c": ""}
    st = adafactor.init([np.ones((3, 4)), np.ones((2, 3, 4)), np.ones(2), np.ones(())], {})
    assert list(st.slots[0]) == ["r", "c", "velocity"]  # r created before c, as in Keras
    assert [st.slots[0][k].shape for k in ("r", "c", "velocity")] == [(3,), (4,), (3, 4)]
    assert [st.slots[1][k].shape for k in ("r", "c")] == [(2, 3), (2, 4)]
    assert set(st.slots[2]) == set(st.slots[3]) == {"velocity"}
    assert all(not v.any() for s in st.slots for v in s.values())


def test_unfactored_two_steps():
    w0 = np.array([2.0, -2.0])
    st = adafactor.init([w0], {})
    # step 1: v = g^2 = [0.25, 16]; u = g/|g| = [1, -1], RMS(u) = 1 -> no clipping
    #         rho = min(0.1, 1/sqrt(1)) = 0.1; alpha = max(1e-3, RMS(w0) = 2) * 0.1 = 0.2
    w, st = adafactor.update([w0], [np.array([0.5, -4.0])], st, {}, 0.1, 1)
    np.testing.assert_allclose(w[0], [1.8, -1.8], rtol=1e-12)
    np.testing.assert_allclose(st.slots[0]["velocity"], [0.25, 16.0], rtol=1e-12)
    # step 2, g = [1, 2]: v = B2*[0.25, 16] + (1 - B2)*[1, 4]
    #                       = [0.6807618831238881, 9.10780987001779]
    #   u = [1/sqrt(v0), 2/sqrt(v1)] = [1.2119993433125504, 0.6627092274874906]
    #   RMS(u) = 0.9767614673980337 < 1 -> no clipping; alpha = RMS([1.8, -1.8]) * min(0.1, 1/sqrt2)
    #   = 0.18; w = [1.8 - 0.18*u0, -1.8 - 0.18*u1]
    w, st = adafactor.update(w, [np.array([1.0, 2.0])], st, {}, 0.1, 2)
    np.testing.assert_allclose(st.slots[0]["velocity"], [0.6807618831238881, 9.10780987001779],
                               rtol=1e-12)
    np.testing.assert_allclose(w[0], [1.581840118203741, -1.9192876609477483], rtol=1e-12)


def test_factored_two_steps_and_rank3():
    w0 = np.array([[1.0, -1.0], [1.0, -1.0]])  # RMS 1
    g1 = np.array([[1.0, 2.0], [3.0, 4.0]])
    st = adafactor.init([w0], {})
    # step 1: g^2 = [[1, 4], [9, 16]]; r = row means = [2.5, 12.5]; c = column means = [5, 10]
    #   V = (r / mean(r))[:, None] * c = [[1/3*5, 1/3*10], [5/3*5, 5/3*10]]
    #   u = g / sqrt(V) = [[sqrt(3/5), 2 sqrt(3/10)], [3 sqrt(3)/5, 4 sqrt(3/50)]]
    #     = [[0.7745966692414834, 1.0954451150103321], [1.0392304845413265, 0.9797958971132712]]
    #   RMS(u)^2 = (0.6 + 1.2 + 1.08 + 0.96)/4 = 0.96 -> no clipping; alpha = 1 * 0.1
    w, st = adafactor.update([w0], [g1], st, {}, 0.1, 1)
    s = st.slots[0]
    np.testing.assert_allclose(s["r"], [2.5, 12.5], rtol=1e-12)
    np.testing.assert_allclose(s["c"], [5.0, 10.0], rtol=1e-12)
    np.testing.assert_allclose(s["velocity"], [[5 / 3, 10 / 3], [25 / 3, 50 / 3]], rtol=1e-12)
    w1 = [[0.9225403330758517, -1.1095445115010332], [0.8960769515458673, -1.0979795897113271]]
    np.testing.assert_allclose(w[0], w1, rtol=1e-12)
    # step 2, g = [[2, 0], [0, 2]]: row and column means of g^2 are [2, 2]
    #   r = B2*[2.5, 12.5] + (1-B2)*[2, 2] = [2.2128254112507415, 6.469333636265567]
    #   c = B2*[5, 10] + (1-B2)*[2, 2] = [3.2769524675044477, 5.4052065800118605]
    #   V00 = r0/mean(r)*c0 = 1.6703964191093774, V11 = r1/mean(r)*c1 = 8.055158756631617
    #   u = [[2/sqrt(V00), 0], [0, 2/sqrt(V11)]]
    #     = [[1.5474628101494132, 0], [0, 0.7046816191636066]]
    #   RMS(u) = 0.8501790007378683 -> no clipping; alpha = RMS(w1) * 0.1 = 0.10112718195010872
    w, st = adafactor.update(w, [np.array([[2.0, 0.0], [0.0, 2.0]])], st, {}, 0.1, 2)
    np.testing.assert_allclose(st.slots[0]["r"], [2.2128254112507415, 6.469333636265567],
                               rtol=1e-12)
    np.testing.assert_allclose(st.slots[0]["c"], [3.2769524675044477, 5.4052065800118605],
                               rtol=1e-12)
    np.testing.assert_allclose(w[0], [[0.7660497799128454, -1.1095445115010332],
                                      [0.8960769515458673, -1.1692420560293824]], rtol=1e-12)
    # rank 3: the last two dims are factored per leading index. Slice 0 repeats step 1 above;
    # slice 1 has a rank-1 g^2 = [[1, 4], [4, 16]], rebuilt exactly (V = g^2), so u = 1 there.
    # RMS(u)^2 = (3.84 + 4)/8 = 0.98 -> no clipping; RMS(w) = 1 -> alpha = 0.1
    w3 = np.stack([w0, w0])
    g3 = np.stack([g1, [[1.0, 2.0], [2.0, 4.0]]])
    w, st = adafactor.update([w3], [g3], adafactor.init([w3], {}), {}, 0.1, 1)
    np.testing.assert_allclose(w[0], [w1, [[0.9, -1.1], [0.9, -1.1]]], rtol=1e-12)
    np.testing.assert_allclose(st.slots[0]["r"], [[2.5, 12.5], [2.5, 10.0]], rtol=1e-12)


def test_clip_threshold_epsilon_2_and_relative_step():
    # clip_threshold 0.5: at t = 1, u = sign(g) has RMS 1 -> divided by max(1, 1/0.5) = 2
    # w0 = 0 -> RMS 0 -> alpha = epsilon_2 * rho = 0.5 * 0.1 with epsilon_2 = 0.5
    hp = {"clip_threshold": 0.5, "epsilon_2": 0.5}
    w, _ = adafactor.update([np.zeros(3)], [np.array([3.0, -1.0, 2.0])],
                            adafactor.init([np.zeros(3)], hp), hp, 0.1, 1)
    np.testing.assert_allclose(w[0], [-0.025, 0.025, -0.025], rtol=1e-12)
    # relative step: lr = 1 at t = 4 -> rho = min(1, 1/sqrt(4)) = 0.5 (fresh state, beta_2_decay 0
    # makes beta2_hat = 1 - 4^0 = 0 so u = sign(g)); RMS(w0 = [1, -1]) = 1 -> w = w0 - rho*sign(g)
    w0 = np.array([1.0, -1.0])
    for hp, rho in [({"beta_2_decay": 0.0}, 0.5),
                    ({"beta_2_decay": 0.0, "relative_step": False}, 1.0),
                    ({"beta_2_decay": 0.0, "_lr_schedule": True}, 1.0)]:
        w, _ = adafactor.update([w0], [np.array([2.0, 2.0])], adafactor.init([w0], hp), hp, 1.0, 4)
        np.testing.assert_allclose(w[0], [1.0 - rho, -1.0 - rho], rtol=1e-12)


def test_inputs_not_mutated():
    ws, gs = [np.ones((2, 3)), np.ones(2)], [np.full((2, 3), 0.5), np.array([1.0, -1.0])]
    st = adafactor.init(ws, {})
    st.slots[0]["r"] = np.array([1.0, 2.0])
    before = copy.deepcopy((ws, gs, st.slots))
    adafactor.update(ws, gs, st, {}, 0.01, 2)
    for a, b in zip(before[0] + before[1], ws + gs):
        np.testing.assert_array_equal(a, b)
    for s0, s1 in zip(before[2], st.slots):
        for k in s0:
            np.testing.assert_array_equal(s0[k], s1[k])
