"""The built-in records (conformance/optimizers/): each is complete, every optimizer the installed
Keras exports has one, and what they name exists in Keras."""

import inspect

import pytest

from conformance.adapters import current as adapter
from conformance.inputs import registry
from conformance.inputs.spec import OptimizerSpec

BUILTIN = registry.builtin()


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_record_gives_every_field_or_says_why_not(name):
    spec = BUILTIN[name]
    assert spec.name == name
    assert not spec.gaps(), f"{name}'s record neither gives nor explains {spec.gaps()} (conformance/optimizers/)"
    given_and_explained = [f for f in spec.missing if getattr(spec, f)]
    assert not given_and_explained, f"{name}'s record both gives and explains the absence of {given_and_explained}"
    assert spec.family in registry.FAMILIES, f"{name}: unknown family {spec.family!r}"


def test_every_exported_optimizer_has_a_record():
    a = adapter()
    missing = sorted(n for n in a.exported_optimizers() if registry.record(a.rule_name(n)) is None)
    assert not missing, f"no record in conformance/optimizers/ for {missing}"


def test_every_record_module_is_listed():
    assert len(registry.MODULES) == len(BUILTIN), "two record modules define the same optimizer"


def _keras_classes():
    """(record name, exported class) for every exported optimizer with a record."""
    a = adapter()
    return [(a.rule_name(n), c) for n, c in a.exported_optimizers().items() if a.rule_name(n) in BUILTIN]


@pytest.mark.parametrize("name, cls", _keras_classes(), ids=[n for n, _ in _keras_classes()])
def test_hyperparameters_and_arguments_are_constructor_arguments(name, cls):
    spec = BUILTIN[name]
    accepted = set(inspect.signature(cls.__init__).parameters)
    for field in ("hyperparameters", "arguments"):
        unknown = sorted(set(getattr(spec, field)) - accepted)
        assert not unknown, f"{name}'s {field} name {unknown}, which {cls.__name__}() does not take"


def test_a_sentence_in_place_of_a_value_says_why_there_is_none():
    spec = OptimizerSpec("X", hyperparameters="none of its own", torch="no counterpart", family="sgd")
    assert spec.hyperparameters == {} and spec.torch is None
    assert spec.why_missing("torch") == "no counterpart" and spec.why_missing("optax") is None
    assert spec.gaps() == ["arguments", "reference", "optax", "numpy_step"]
