"""The adapter interface and its implementations, the Keras 3 adapter, and the pairing of
reference state with Keras state."""

import ast
import importlib.util
import types
from pathlib import Path

import numpy as np
import pytest

from conformance.adapters import IMPLEMENTATIONS, current, interface
from conformance.checks import pairing
from conformance.core.errors import OptimizerRaised
from conformance.inputs.options import Options
from conformance.reference import adafactor, adam, base_options

a = current()


def _defined_names(module: str) -> set[str]:
    """The names a module defines at its top level, read from its source (no import: Keras 2's
    adapter needs tf-keras, which this environment may lack)."""
    tree = ast.parse(Path(importlib.util.find_spec(module).origin).read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(x.asname or x.name).split(".")[0] for x in node.names}
    return names


@pytest.mark.parametrize("generation", sorted(IMPLEMENTATIONS))
def test_every_implementation_defines_the_whole_interface(generation):
    missing = sorted(set(interface.members()) - _defined_names(IMPLEMENTATIONS[generation]))
    assert not missing, f"{IMPLEMENTATIONS[generation]} lacks {missing}"


def test_the_installed_implementation_matches_the_interface():
    assert interface.problems(a) == []


def test_an_incomplete_implementation_is_caught():
    fake = types.ModuleType("fake")
    vars(fake).update({n: getattr(a, n) for n in interface.members()})
    del fake.state
    fake.build = lambda optimizer, variables: None  # other parameter names than the interface's
    assert interface.problems(fake) == [
        "build: parameters (optimizer, variables), the interface's are (opt, vars_)", "state: missing"]


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


@pytest.mark.skipif(a.versions()["backend"] != "tensorflow", reason="tf.train.Checkpoint needs TensorFlow")
def test_a_checkpoint_round_trip_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # a run makes thousands: none may outlive it
    opt = a.keras_module.optimizers.SGD(learning_rate=0.5, momentum=0.5)
    vs = a.variables([np.array([1.0, 2.0])], "float32")
    a.apply(opt, [np.array([1.0, -1.0])], vs)
    blob = a.save_state(opt, "tf_checkpoint")
    new = a.keras_module.optimizers.SGD(learning_rate=0.5, momentum=0.5)
    new.build(vs)
    a.load_state(new, "tf_checkpoint", blob)
    for restored, saved in zip(a.values(new.variables), a.values(opt.variables), strict=True):
        np.testing.assert_array_equal(restored, saved)
    assert list(tmp_path.iterdir()) == []


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
    ref = base_options.init(adafactor, {}, Options(), a.values(vs))
    mapping, missing = pairing.pair(adafactor, ref, state)
    assert not missing
    assert state[mapping[(0, "r")]].shape == (3,) and state[mapping[(0, "c")]].shape == (4,)
    assert state[mapping[(1, "velocity")]].name == "v1_velocity"


def test_pairing_reports_a_slot_keras_lacks():
    opt = a.keras_module.optimizers.SGD()  # no momentum: no state variable
    vs = a.variables([np.ones((2,))], "float32")
    a.build(opt, vs)
    ref = base_options.init(adam, {}, Options(), a.values(vs))
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
