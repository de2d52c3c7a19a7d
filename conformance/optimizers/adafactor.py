"""Adafactor (Shazeer & Stern 2018): a factored second moment, relative step sizes, update clipping."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.independent.mapping import Probe, Target, negated
from conformance.inputs.arguments import FLAG, NONNEG, NONPOS, POSITIVE
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import adafactor

SPEC = OptimizerSpec(
    name="Adafactor",
    hyperparameters={
        "beta_2_decay": st.floats(-1.0, -0.5),
        "epsilon_1": st.sampled_from([1e-30, 1e-20]),
        "epsilon_2": st.sampled_from([1e-3, 1e-4, 1e-2]),
        "clip_threshold": st.floats(0.5, 2.0),
        "relative_step": st.booleans(),
    },
    arguments={
        "beta_2_decay": NONPOS,  # Shazeer & Stern 2018: beta_2 = 1 - t ** c with c <= 0
        "epsilon_1": NONNEG,
        "epsilon_2": NONNEG,
        "clip_threshold": POSITIVE,
        "relative_step": FLAG,
    },
    reference=adafactor,
    # torch.optim.Adafactor always takes the relative step min(lr, 1/sqrt(t)) and scales it by
    # max(eps[1], RMS(w)); its weight_decay is decoupled (w *= 1 - lr * weight_decay).
    torch=Target(
        "Adafactor",
        {
            "learning_rate": "lr",
            "beta_2_decay": "beta2_decay",
            "epsilon_1": "eps[0]",
            "epsilon_2": "eps[1]",
            "clip_threshold": "d",
            "weight_decay": "weight_decay",
        },
        adjust={
            "clip_threshold": (
                lambda hp: max(1.0, hp["clip_threshold"]),
                "torch requires d >= 1: smaller thresholds are drawn as 1.0",
            ),
            "relative_step": (
                True,
                "torch always uses the relative step min(lr, 1/sqrt(t)); "
                "Keras's relative_step=False documents lr as given",
            ),
        },
        # Keras adds epsilon_1 to g^2, torch floors the estimate at eps[0]^2: both negligible
        # (and a zero gradient still finite: 0 / sqrt(1e-300), 0 * rsqrt(1e-300)) they coincide.
        # The second probe also leaves out weight decay, which torch applies after measuring
        # RMS(w) for the step size and Keras before.
        probes=(
            Probe({"epsilon_1": 1e-300}, {"eps[0]": 1e-150}),
            Probe({"epsilon_1": 1e-300, "weight_decay": None}, {"eps[0]": 1e-150}),
        ),
    ),
    # Keras factors the second moment of every variable of rank >= 2 over its last two axes;
    # min_dim_size_to_factor=1 asks optax to factor every such variable (over its two largest axes).
    optax=Target(
        "adafactor",
        {
            "learning_rate": "learning_rate",
            "beta_2_decay": negated("decay_rate", "beta_2_decay"),
            "epsilon_1": "eps",
            "clip_threshold": "clipping_threshold",
        },
        adjust={
            "epsilon_2": (1e-3, "optax.adafactor fixes the parameter-scale floor at 1e-3 (scale_by_param_block_rms)"),
            "relative_step": (False, "optax.adafactor uses the learning rate as given (a schedule is the caller's)"),
            "clip_threshold": (
                lambda hp: max(1.0, hp["clip_threshold"]),
                "optax documents clipping_threshold >= 1: smaller ones are drawn as 1.0",
            ),
            "weight_decay": (None, "optax.adafactor's weight_decay_rate is not scaled by the learning rate"),
        },
        library_only={
            "min_dim_size_to_factor": 1,
            "decay_offset": 0,
            "multiply_by_parameter_scale": True,
            "momentum": None,
            "factored": True,
        },
    ),
    family="accumulator",
    numpy_step="no numpy implementation of Adafactor in conformance/benchmarks/numpy_steps.py",
)
