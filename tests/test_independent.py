"""The independent-implementation mappings (the records' `torch` and `optax` fields), runners and
failure reports (conformance/independent/)."""

import contextlib
import inspect
import io
import math
import re
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from conformance.adapters import current as adapter
from conformance.core.errors import ClaimFailed, Unsupported
from conformance.independent import check, mapping, optax_impl, torch_optim
from conformance.inputs import registry
from conformance.inputs.catalogue import builtin_specs, fixed_spec
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.options import Options
from conformance.inputs.strategies import Case
from tests.faulty import DriftingSGD

LIBS = [torch_optim, optax_impl]
IDS = [lib.LABEL for lib in LIBS]


def targets(lib) -> dict[str, mapping.Target]:
    """The built-in records' mappings to `lib`, by Keras class name."""
    return {n: getattr(s, lib.SPEC_FIELD) for n, s in registry.with_field(lib.SPEC_FIELD).items()}


def mapped(lib, name: str) -> mapping.Target:
    """The built-in `name`'s mapping to `lib`."""
    return getattr(registry.record(name), lib.SPEC_FIELD)


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_every_exported_optimizer_is_mapped_or_explained(lib):
    a = adapter()
    for name in a.exported_optimizers():
        record = registry.record(a.rule_name(name))
        assert record is not None, f"{name} has no record in conformance/optimizers/"
        target, why = getattr(record, lib.SPEC_FIELD), record.why_missing(lib.SPEC_FIELD)
        assert (target is None) != (why is None), (name, target, why)


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_tables_say_what_every_hyperparameter_maps_to(lib):
    for name, target in targets(lib).items():
        documented = set(registry.record(name).hyperparameters) | {"learning_rate", "weight_decay"}
        assert documented <= target.keras_names(), (name, documented - target.keras_names())
        named = [mapping.argument_of(d)[0] for d in [*target.params.values(), *target.library_only]]
        named += [mapping.argument_of(d)[0] for p in target.probes for d in p.library]
        for ctor in {target.constructor, *target.alternatives.values()}:
            accepted = set(inspect.signature(lib.constructor(ctor)).parameters)
            assert set(named) <= accepted, (name, ctor, set(named) - accepted)


def test_library_kwargs_follow_the_table():
    target = mapped(torch_optim, "Adam")
    hp = {"learning_rate": 0.5, "beta_1": 0.75, "beta_2": 0.875, "epsilon": 0.25, "amsgrad": True, "weight_decay": None}
    ctor, kwargs = mapping.library_kwargs(target, hp)
    assert ctor == "Adam"
    assert kwargs == {
        "lr": 0.5,
        "betas": (0.75, 0.875),
        "eps": 0.25,
        "amsgrad": True,
        "weight_decay": 0.0,
        "decoupled_weight_decay": True,
    }
    ctor, kwargs = mapping.library_kwargs(mapped(optax_impl, "Adam"), hp)
    assert ctor == "amsgrad" and kwargs == {"learning_rate": 0.5, "b1": 0.75, "b2": 0.875, "eps": 0.25, "eps_root": 0.0}
    _, kwargs = mapping.library_kwargs(mapped(optax_impl, "Adafactor"), {"beta_2_decay": -0.75})
    assert kwargs["decay_rate"] == 0.75
    with pytest.raises(ValueError, match="does not say"):
        mapping.library_kwargs(target, {**hp, "centered": True})


def test_adjustments_draw_only_mappable_values():
    target = mapped(torch_optim, "SGD")
    assert mapping.adjusted(target, {"momentum": 0.0, "nesterov": True, "weight_decay": 0.1}) == {
        "momentum": 0.0,
        "nesterov": False,
        "weight_decay": None,
    }
    assert (
        mapping.adjusted(mapped(torch_optim, "Adafactor"), {"clip_threshold": 0.5, "relative_step": False})[
            "clip_threshold"
        ]
        == 1.0
    )


@pytest.mark.parametrize("value", [0.999, 0.9, 1e-7, 0.1, 3.0e-5, 0.3, 1e-30, 123.456])
def test_float32_exact_values(value):
    for rate in (False, True):
        if rate and value >= 1:
            continue
        snapped = mapping.float32_exact(value, rate)
        assert float(np.float32(snapped)) == snapped
        assert abs(snapped - value) <= (mapping.RATE_GRID if rate else value * 2.0**-mapping.SIGNIFICANT_BITS)
        if rate:
            assert float(np.float32(1.0 - snapped)) == 1.0 - snapped and 0 < snapped < 1


def test_default_differences_are_read_from_the_installed_signatures():
    rms = mapping.default_differences(
        keras.optimizers.RMSprop, mapped(torch_optim, "RMSprop"), torch_optim.constructor("RMSprop")
    )
    assert rms["rho"] == (0.9, 0.99) and rms["learning_rate"] == (0.001, 0.01)
    lion = mapping.default_differences(
        keras.optimizers.Lion, mapped(optax_impl, "Lion"), optax_impl.constructor("lion")
    )
    assert lion["weight_decay"] == (None, 0.001)  # Keras's None (no decay) is not optax's 1e-3
    assert "beta_1" not in lion


# Hand-computed trajectories of mapped configurations (learning_rate, then the Keras
# hyperparameters): a wrong mapping (rho to torch's default alpha, swapped betas) changes them.
HAND = [
    # m = -lr * g = -1, w = 0; m = 0.5 * m - 1 = -1.5, w = -1.5 (torch: buf = 2, then 3)
    ("SGD", {"learning_rate": 0.5, "momentum": 0.5, "nesterov": False}, 1.0, [2.0, 2.0], [0.0, -1.5]),
    # Nesterov: w += momentum * m - lr * g: 1 - 0.5 - 1 = -0.5; m = -1.5: -0.5 - 0.75 - 1 = -2.25
    ("SGD", {"learning_rate": 0.5, "momentum": 0.5, "nesterov": True}, 1.0, [2.0, 2.0], [-0.5, -2.25]),
    # v = (1 - rho) g^2 = 1: w = 1 - 0.5 * 2 / 1 = 0 (torch's default alpha 0.99 would give -4)
    (
        "RMSprop",
        {"learning_rate": 0.5, "rho": 0.75, "epsilon": 0.0, "momentum": 0.0, "centered": False},
        1.0,
        [2.0],
        [0.0],
    ),
    # accumulator 5 + 4 = 9: w = 1 - 0.5 * 2 / 3
    (
        "Adagrad",
        {"learning_rate": 0.5, "initial_accumulator_value": 5.0, "epsilon": 0.0},
        1.0,
        [2.0],
        [1.0 - 1.0 / 3.0],
    ),
    # m = 0.5, v = 0.25, corrected 1 and 1: w = -1; m = 1.75, v = 2.4375, corrected / 0.75, / 0.4375
    (
        "Adam",
        {"learning_rate": 1.0, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.0, "amsgrad": False},
        0.0,
        [1.0, 3.0],
        [-1.0, -1.0 - (1.75 / 0.75) / math.sqrt(2.4375 / 0.4375)],
    ),
    # sign((1 - b1) g) = 1: w = -0.5; m = (1 - b2) * 1 = 0.5; sign(0.75 * 0.5 - 0.25) = 1: w = -1
    ("Lion", {"learning_rate": 0.5, "beta_1": 0.75, "beta_2": 0.5}, 0.0, [1.0, -1.0], [-0.5, -1.0]),
]


MAPPED_HAND = [(lib, *h) for lib in LIBS for h in HAND if h[0] in targets(lib)]


@pytest.mark.parametrize(
    "lib, name, hp, w0, grads, expected",
    MAPPED_HAND,
    ids=[f"{m[0].LABEL}-{m[1]}-{i}" for i, m in enumerate(MAPPED_HAND)],
)
def test_mapped_trajectory_matches_hand_computation(lib, name, hp, w0, grads, expected):
    ctor, kwargs = mapping.library_kwargs(mapped(lib, name), {**hp, "weight_decay": None})
    got = lib.run(ctor, kwargs, [np.array([w0])], [[np.array([g])] for g in grads])
    np.testing.assert_allclose([step[0][0] for step in got], expected, rtol=1e-15, atol=1e-15)


def _spec(cls, parent, hp, lr=0.25):
    return fixed_spec(cls.__name__, cls, parent, hp, Options(), LearningRate("constant", {"value": lr}))


def _run_claim(spec, library, weights, grads):
    """check.check on one fixed case (the `data` it draws from returns that case)."""
    setup = check.mappable(spec.parent, check.target_for(spec, library)[1])(None, spec.setups.example())
    case = Case(setup, "float64", weights, grads)
    return check.check(SimpleNamespace(draw=lambda strategy, label=None: case), spec, library)


@pytest.mark.parametrize("library", check.LIBRARIES)
def test_failure_names_both_sides_and_its_reproducer_reruns_it(library):
    spec = _spec(DriftingSGD, "SGD", {"momentum": 0.5})
    with pytest.raises(ClaimFailed) as info:
        _run_claim(spec, library, [np.array([1.0, -2.0])], [[np.array([0.5, 0.25])], [np.array([1.0, 1.0])]])
    message, repro = str(info.value), info.value.reproducer
    lib = check.LIBRARIES[library]
    assert "DriftingSGD(learning_rate=0.25, momentum=0.5, nesterov=False)" in message
    assert f"departs from {lib.LABEL}.{mapped(lib, 'SGD').constructor}(" in message and "at step 1" in message
    # the first step, lr * g = 0.125, is 0.1% too long
    assert f"measured at step 1: max |keras - {lib.LABEL}.{mapped(lib, 'SGD').constructor}| 0.000125," in message
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(repro, "<reproducer>", "exec"), {"DriftingSGD": DriftingSGD})  # noqa: S102 - our own script
    printed = re.findall(r"max \|difference\| (?:np\.float64\()?([-+.e\d]+)", out.getvalue())
    assert len(printed) == 1 and float(printed[0]) == pytest.approx(0.000125, rel=1e-4)


@pytest.mark.parametrize("library", check.LIBRARIES)
def test_an_epsilon_difference_is_probed(library):
    """Keras's Adam puts epsilon before the bias correction: the message measures the difference
    and reports that it vanishes with epsilon 0 on both sides."""
    spec = _spec(keras.optimizers.Adam, "Adam", {"epsilon": 2.0**-20, "amsgrad": False})
    with pytest.raises(ClaimFailed, match="probe: with epsilon=0.0 they agree") as info:
        _run_claim(spec, library, [np.array([1.0])], [[np.array([1e-6])]])
    assert "measured at step 1: max |keras - " in str(info.value)


class EpsilonOrDefaultAdam(keras.optimizers.Adam):
    """Adam that makes epsilon=0.0 into 1e-7, as Keras 2's legacy optimizers do
    (`epsilon or backend.epsilon()`)."""

    def __init__(self, epsilon=1e-7, **kwargs):
        super().__init__(epsilon=epsilon or 1e-7, **kwargs)


@pytest.mark.parametrize("library", check.LIBRARIES)
def test_a_probe_the_optimizer_cannot_take_is_not_run(library):
    """A probe whose value Keras replaces says nothing about the cause: it is reported as not run
    (not as a difference), and the negligible-epsilon probe stands in for it."""
    spec = _spec(EpsilonOrDefaultAdam, "Adam", {"epsilon": 2.0**-20, "amsgrad": False})
    with pytest.raises(ClaimFailed) as info:
        _run_claim(spec, library, [np.array([1.0, 0.0])], [[np.array([1e-6, 0.0])]])
    message = str(info.value)
    assert "probe: with epsilon=0.0: not run, the Keras optimizer holds epsilon=1e-07 instead" in message
    assert "probe: with epsilon=1e-300 they agree" in message


def test_torch_runs_its_scalar_state_in_float64():
    """torch.optim.NAdam keeps mu_product in the default dtype: run in float64 it is Dozat's
    schedule to the last bits (in float32 it is 1.8e-8 relative off at step 1), and the default
    dtype is restored."""
    import torch

    b1, b2, lr, g = 0.899993896484375, 0.998992919921875, 0.0009999275207519531, -0.25
    kwargs = {"lr": lr, "betas": (b1, b2), "eps": 0.0, "momentum_decay": 0.004}
    before = torch.get_default_dtype()
    (step,) = torch_optim.run("NAdam", kwargs, [np.array([0.0])], [[np.array([g])]])
    mu, mu_next = (b1 * (1 - 0.5 * 0.96 ** (t * 0.004)) for t in (1, 2))
    m, v = (1 - b1) * g, (1 - b2) * g * g
    expected = -lr * (mu_next * m / (1 - mu * mu_next) + (1 - mu) * g / (1 - mu)) / math.sqrt(v / (1 - b2))
    assert step[0][0] == pytest.approx(expected, rel=1e-13)
    assert torch.get_default_dtype() == before


def test_unsupported_says_why(monkeypatch):
    specs = {s.name: s for s in builtin_specs()}
    with pytest.raises(Unsupported, match="wraps another optimizer"):
        check.target_for(specs["LossScaleOptimizer"], "torch")
    with pytest.raises(Unsupported, match="no FTRL"):
        check.target_for(specs["Ftrl"], "optax")
    monkeypatch.setattr(torch_optim, "available", lambda: False)
    with pytest.raises(Unsupported, match="torch is not installed"):
        check.target_for(specs["SGD"], "torch")
