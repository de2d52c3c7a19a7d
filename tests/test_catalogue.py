"""Specs: built-in discovery, user optimizers, and usage errors for --optimizer."""

import keras
import numpy as np
import pytest

from conformance.inputs import catalogue
from conformance.inputs.catalogue import builtin_specs
from conformance.inputs.user_specs import UsageError, user_spec
from tests import faulty


def test_every_exported_optimizer_has_a_row():
    base = keras.optimizers.Optimizer
    exported = {
        n for n, o in vars(keras.optimizers).items() if isinstance(o, type) and issubclass(o, base) and o is not base
    }
    names = {s.name for s in builtin_specs()}
    assert exported <= names, f"exported by keras.optimizers without a row: {sorted(exported - names)}"
    assert names <= exported, f"rows for what keras.optimizers does not export: {sorted(names - exported)}"
    assert len(names) >= 16 and {"LossScaleOptimizer", "MultiOptimizer"} <= names


def test_an_unknown_export_is_reported_as_unspecced(monkeypatch):
    class Novel(keras.optimizers.Optimizer):
        pass

    exported = dict(catalogue.adapter().exported_optimizers(), Novel=Novel)
    monkeypatch.setattr(catalogue.adapter(), "exported_optimizers", lambda: exported)
    spec = {s.name: s for s in builtin_specs()}["Novel"]
    assert spec.kind == "unspecced" and "no spec" in spec.note
    assert spec.setups.example().reference is None


def test_a_subclass_is_checked_with_its_parents_spec_and_reference():
    spec = user_spec("tests.faulty:DriftingSGD")
    setup = spec.setups.example()
    assert spec.parent == "SGD" and setup.reference.__name__.endswith(".sgd")
    assert isinstance(setup.build(), faulty.DriftingSGD)
    assert setup.imports == "from tests.faulty import DriftingSGD"


def make_adam():
    return keras.optimizers.Adam(learning_rate=0.25, beta_1=0.5)


def test_a_factory_is_read_back_from_its_config():
    spec = user_spec("tests.test_catalogue:make_adam")
    setup = spec.setups.example()
    assert spec.parent == "Adam" and setup.hp["beta_1"] == 0.5 and setup.lr.value(0) == 0.25


def not_an_optimizer():
    return 3


@pytest.mark.parametrize(
    "path, message",
    [
        ("nomodule", "expected MODULE:ATTR"),
        ("no_such_module_xyz:Opt", "cannot import 'no_such_module_xyz'"),
        ("tests.faulty:Missing", "has no attribute 'Missing'"),
        ("builtins:dict", "is not a subclass"),
        ("tests.test_catalogue:not_an_optimizer", "returned int, not an optimizer"),
    ],
)
def test_bad_optimizer_paths_are_usage_errors(path, message):
    with pytest.raises(UsageError, match=message):
        user_spec(path)


def test_a_numpy_learning_rate_in_a_config_is_read_as_a_number():
    """tf.keras 2's get_config() gives the rate as np.float32(0.01): still the defaults' number, not
    a rate the suite cannot read (which made every fixed condition of its new family unsupported)."""

    class NumpyRateSGD(keras.optimizers.SGD):
        def get_config(self):
            config = super().get_config()
            return {**config, "learning_rate": np.float32(config["learning_rate"])}

    _, _, lr = catalogue.own_defaults(NumpyRateSGD, None)
    assert lr.value(0) == 0.01
