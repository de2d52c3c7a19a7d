"""Hypothesis strategies over each optimizer's documented hyperparameters, within valid ranges.

Each optimizer's own strategies live in its record (conformance/optimizers/); the building blocks
they share are here. Ranges come from the Keras docstrings (keras.io/api/optimizers/): betas,
rho and momentum in [0, 1), positive epsilon, Ftrl's learning_rate_power <= 0 and non-negative
regularisation, ... The upper ends stay clear of 1 where the algorithm divides by (1 - beta^t).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.inputs.learning_rates import LearningRate

beta = st.floats(0.0, 0.99)
beta2 = st.floats(0.5, 0.9999)
epsilon = st.sampled_from([1e-7, 1e-8, 1e-6, 1e-4, 1e-3])
momentum = st.one_of(st.just(0.0), st.floats(0.0, 0.99))

# Adam's moments and epsilon, shared by the Adam family's records (conformance/optimizers/).
adam_moments = {"beta_1": beta, "beta_2": beta2, "epsilon": epsilon}


def hyperparameters(name: str) -> st.SearchStrategy[dict]:
    """Draw a subset of the documented hyperparameters (the rest keep their defaults): those of
    the optimizer's record (conformance/optimizers/)."""
    from conformance.inputs import registry

    spec = registry.record(name)
    return st.fixed_dictionaries({}, optional=dict(spec.hyperparameters) if spec is not None else {})


def __getattr__(name: str) -> Any:
    # HYPERPARAMETERS (Keras class name -> hyperparameter -> strategy), a view of the records.
    if name == "HYPERPARAMETERS":
        from conformance.inputs import registry

        return {n: dict(s.hyperparameters) for n, s in registry.with_field("hyperparameters").items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


lr_values = st.floats(1e-4, 0.3)
_constant = st.builds(lambda v: LearningRate("constant", {"value": v}), lr_values)
# The forms that change with the step (a callable is read at every step): a claim about schedules
# draws these alone, without a filter that a fixed example's first alternative (constant) would fail.
_varying = (
    st.builds(lambda v: LearningRate("callable", {"value": v}), lr_values),
    st.builds(
        lambda v, steps, rate, stair: LearningRate(
            "ExponentialDecay",
            {"initial_learning_rate": v, "decay_steps": steps, "decay_rate": rate, "staircase": stair},
        ),
        lr_values,
        st.integers(1, 3),
        st.floats(0.1, 0.99),
        st.booleans(),
    ),
    st.builds(
        lambda v, steps, rate: LearningRate(
            "InverseTimeDecay",
            {"initial_learning_rate": v, "decay_steps": steps, "decay_rate": rate},
        ),
        lr_values,
        st.integers(1, 3),
        st.floats(0.1, 2.0),
    ),
    st.builds(
        lambda b, a, c: LearningRate(
            "PiecewiseConstantDecay", {"boundaries": [b], "values": [a, c]}
        ),
        st.integers(0, 3),
        lr_values,
        lr_values,
    ),
)
learning_rates: st.SearchStrategy[LearningRate] = st.one_of(_constant, *_varying)
varying_learning_rates: st.SearchStrategy[LearningRate] = st.one_of(*_varying)
