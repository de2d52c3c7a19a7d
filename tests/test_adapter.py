"""The Keras 3 adapter and the pairing of reference state with Keras state."""

import numpy as np
import pytest

from conformance import pairing
from conformance.adapters import current
from conformance.errors import OptimizerRaised
from conformance.reference import adafactor, adam, options
from conformance.options import Options

a = current()


def test_exports_every_optimizer_class():
    names = set(a.exported_optimizers())
    assert {"Adam", "SGD", "LossScaleOptimizer", "MultiOptimizer", "Muon"} <= names
    assert "Optimizer" not in names and "OptimizerMap" not in names


def test_versions_say_where_results_come_from():
    v = a.versions()
    assert v["generation"] == "keras3" and v["backend"] in ("tensorflow", "jax", "torch", "numpy")
    assert v["keras"].startswith("3.") and a.devices()


def test_variables_are_named_and_typed():
    vs = a.variables([np.ones((2, 3)), np.zeros(())], "float16")
    assert [v.name for v in vs] == ["v0", "v1"]
    assert [str(v.dtype) for v in vs] == ["float16", "float16"]


def test_apply_steps_and_reads_state_in_order():
    opt = a.keras_module.optimizers.SGD(learning_rate=0.5, momentum=0.5)
    vs = a.variables([np.array([1.0, 2.0])], "float32")
    a.apply(opt, [np.array([1.0, -1.0])], vs)
    np.testing.assert_array_equal(a.values(vs)[0], [0.5, 2.5])
    names = [sv.name for sv in a.state(opt)]
    assert names == ["iteration", "learning_rate", "v0_momentum"]
    assert a.iterations(opt) == 1


def test_keras_exceptions_become_claim_failures():
    opt = a.keras_module.optimizers.SGD()
    vs = a.variables([np.array([1.0, 2.0])], "float32")
    with pytest.raises(OptimizerRaised, match="apply_gradients"):
        a.apply(opt, [np.ones((3,))], vs)


def test_pairing_by_name_including_unsuffixed_factors():
    opt = a.keras_module.optimizers.Adafactor()
    vs = a.variables([np.ones((3, 4)), np.ones((2,))], "float32")
    a.build(opt, vs)
    state = a.state(opt)
    ref = options.init(adafactor, {}, Options(), a.values(vs))
    mapping, missing = pairing.pair(adafactor, ref, state)
    assert not missing
    assert state[mapping[(0, "r")]].shape == (3,) and state[mapping[(0, "c")]].shape == (4,)
    assert state[mapping[(1, "velocity")]].name == "v1_velocity"


def test_pairing_reports_a_slot_keras_lacks():
    opt = a.keras_module.optimizers.SGD()  # no momentum: no state variable
    vs = a.variables([np.ones((2,))], "float32")
    a.build(opt, vs)
    ref = options.init(adam, {}, Options(), a.values(vs))
    _, missing = pairing.pair(adam, ref, a.state(opt))
    assert missing == ["v0_momentum", "v0_velocity"]


def test_learning_rate_saved_says_whether_the_optimizer_variables_hold_it():
    import keras

    def built(opt):
        opt.build(a.variables([np.ones(2)], "float32"))
        return opt

    assert a.learning_rate_saved(built(keras.optimizers.Adam(0.1)))  # Keras 3: a variable of the optimizer
    assert a.learning_rate_saved(built(keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1))))
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert not a.learning_rate_saved(built(keras.optimizers.SGD(schedule)))  # a schedule is no variable
