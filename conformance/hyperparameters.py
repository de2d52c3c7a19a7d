"""Hypothesis strategies over each optimizer's documented hyperparameters, within valid ranges.

Ranges come from the Keras docstrings (keras.io/api/optimizers/): betas, rho and momentum in
[0, 1), positive epsilon, Ftrl's learning_rate_power <= 0 and non-negative regularisation, ...
The upper ends stay clear of 1 where the algorithm divides by (1 - beta^t).
"""

from __future__ import annotations

from hypothesis import strategies as st

from .learning_rates import LearningRate

beta = st.floats(0.0, 0.99)
beta2 = st.floats(0.5, 0.9999)
epsilon = st.sampled_from([1e-7, 1e-8, 1e-6, 1e-4, 1e-3])
momentum = st.one_of(st.just(0.0), st.floats(0.0, 0.99))

HYPERPARAMETERS: dict[str, dict[str, st.SearchStrategy]] = {
    "Adadelta": {"rho": beta, "epsilon": epsilon},
    "Adafactor": {
        "beta_2_decay": st.floats(-1.0, -0.5),
        "epsilon_1": st.sampled_from([1e-30, 1e-20]),
        "epsilon_2": st.sampled_from([1e-3, 1e-4, 1e-2]),
        "clip_threshold": st.floats(0.5, 2.0),
        "relative_step": st.booleans(),
    },
    "Adagrad": {"initial_accumulator_value": st.floats(0.01, 1.0), "epsilon": epsilon},
    "Adam": {"beta_1": beta, "beta_2": beta2, "epsilon": epsilon, "amsgrad": st.booleans()},
    "AdamW": {"beta_1": beta, "beta_2": beta2, "epsilon": epsilon, "amsgrad": st.booleans()},
    "Adamax": {"beta_1": beta, "beta_2": beta2, "epsilon": epsilon},
    "Ftrl": {
        "learning_rate_power": st.floats(-1.0, 0.0),
        "initial_accumulator_value": st.floats(0.01, 1.0),
        "l1_regularization_strength": st.one_of(st.just(0.0), st.floats(0.0, 0.1)),
        "l2_regularization_strength": st.one_of(st.just(0.0), st.floats(0.0, 0.1)),
        "l2_shrinkage_regularization_strength": st.one_of(st.just(0.0), st.floats(0.0, 0.1)),
        "beta": st.floats(0.0, 1.0),
    },
    "Lamb": {"beta_1": beta, "beta_2": beta2, "epsilon": epsilon},
    # Keras rejects beta_1 == 0 (its message says "[0, 1]"); the argument-contract claims own that.
    "Lion": {"beta_1": st.floats(0.01, 0.99), "beta_2": beta},
    "Muon": {
        "adam_beta_1": beta,
        "adam_beta_2": beta2,
        "epsilon": epsilon,
        "momentum": beta,
        "nesterov": st.booleans(),
        "ns_steps": st.integers(1, 6),
        "rms_rate": st.floats(0.1, 0.3),
    },
    "Nadam": {"beta_1": beta, "beta_2": beta2, "epsilon": epsilon},
    "RMSprop": {"rho": beta, "momentum": momentum, "epsilon": epsilon, "centered": st.booleans()},
    "SGD": {"momentum": momentum, "nesterov": st.booleans()},
    "ScheduleFreeAdamW": {
        "beta_1": beta,
        "beta_2": beta2,
        "epsilon": epsilon,
        "warmup_steps": st.integers(0, 3),
    },
}


def hyperparameters(name: str) -> st.SearchStrategy[dict]:
    """Draw a subset of the documented hyperparameters (the rest keep their defaults)."""
    fields = HYPERPARAMETERS.get(name, {})
    return st.fixed_dictionaries({}, optional=fields)


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
