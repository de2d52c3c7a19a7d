"""Nadam (Dozat 2016): Adam with Nesterov momentum and a momentum schedule."""

from __future__ import annotations

import math

import numpy as np

from conformance.benchmarks import numpy_steps
from conformance.independent import optax_impl, torch_optim
from conformance.independent.mapping import Probe, Target
from conformance.inputs.arguments import ADAM_MOMENTS
from conformance.inputs.hyperparameters import adam_moments
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import nadam

# 0.004 * log(float32(0.96)) / log(0.96): torch's 0.96 ** (t * this) is float32(0.96) ** (t * 0.004)
LEGACY_MOMENTUM_DECAY = 0.004 * math.log(float(np.float32(0.96))) / math.log(0.96)

SPEC = OptimizerSpec(
    name="Nadam",
    hyperparameters=adam_moments,
    arguments=ADAM_MOMENTS,
    reference=nadam,
    # momentum_decay is Dozat's (2016) momentum-schedule decay psi = 0.004, torch's default; the
    # Keras Nadam docs cite Dozat and document no such argument.
    torch=Target(
        "NAdam",
        {"learning_rate": "lr", **torch_optim.ADAM_BETAS, "weight_decay": "weight_decay"},
        library_only={"momentum_decay": 0.004, "decoupled_weight_decay": True},
        # torch's schedule 0.96 ** (t * momentum_decay) with momentum_decay=1 is 0.96 ** t; with
        # the second, Dozat's 0.96 ** (t * 0.004) with 0.96 rounded to float32 (Keras 2's legacy
        # Nadam: tf.cast(0.96, float64) = 0.9599999785)
        probes=(
            Probe(library={"momentum_decay": 1.0}),
            Probe(library={"momentum_decay": LEGACY_MOMENTUM_DECAY}),
        ),
    ),
    # optax.nadam is Adam with Nesterov momentum (Dozat 2016 without the momentum schedule).
    optax=Target(
        "nadam",
        {"learning_rate": "learning_rate", **optax_impl.ADAM_BETAS},
        adjust={"weight_decay": (None, optax_impl.NO_DECAY.format("nadam"))},
        library_only={"eps_root": 0.0},
        # without momentum (beta_1 = 0) any momentum schedule is gone
        probes=(Probe({"beta_1": 0.0}),),
    ),
    family="adam-like",
    numpy_step=numpy_steps.Nadam,
)
