"""Keras optimizers mapped to `optax` (https://optax.readthedocs.io/en/latest/api/optimizers.html).

Every argument below is named as the optax documentation names it; every Keras hyperparameter
is named as the Keras documentation does. `run` steps the optax transformation eagerly with
64-bit JAX types switched on only inside it (`jax.enable_x64`), so that Keras on the JAX backend,
in the same process, keeps its own configuration.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Sequence

import numpy as np

from .mapping import Probe, Target, negated

LABEL = "optax"
DOCS = "https://optax.readthedocs.io/en/latest/api/optimizers.html"
MODULE = "optax"

NO_DECAY = "optax.{} has no weight decay argument"
ADAM_BETAS = {"beta_1": "b1", "beta_2": "b2", "epsilon": "eps"}
# Where epsilon sits differs between libraries; with epsilon 0 on both sides that difference vanishes.
NO_EPSILON = (Probe({"epsilon": 0.0}),)

TABLE: dict[str, Target] = {
    "SGD": Target(
        "sgd",
        {"learning_rate": "learning_rate", "momentum": "momentum", "nesterov": "nesterov"},
        adjust={"weight_decay": (None, NO_DECAY.format("sgd"))},
    ),
    # amsgrad=True selects optax.amsgrad, which takes the same arguments.
    "Adam": Target(
        "adam",
        {"learning_rate": "learning_rate", **ADAM_BETAS},
        adjust={"weight_decay": (None, NO_DECAY.format("adam") + " (optax.adamw is AdamW)")},
        library_only={"eps_root": 0.0},
        alternatives={"amsgrad": "amsgrad"},
        # optax.amsgrad keeps the maximum of the bias-corrected second moments; the second probe
        # tells that apart from epsilon's placement.
        probes=(*NO_EPSILON, Probe({"epsilon": 0.0, "amsgrad": False})),
    ),
    "AdamW": Target(
        "adamw",
        {"learning_rate": "learning_rate", **ADAM_BETAS, "weight_decay": "weight_decay"},
        adjust={"amsgrad": (False, "optax.adamw has no amsgrad")},
        library_only={"eps_root": 0.0},
        probes=NO_EPSILON,
    ),
    "Adagrad": Target(
        "adagrad",
        {"learning_rate": "learning_rate", "initial_accumulator_value": "initial_accumulator_value", "epsilon": "eps"},
        adjust={"weight_decay": (None, NO_DECAY.format("adagrad"))},
    ),
    "Adadelta": Target(
        "adadelta",
        {"learning_rate": "learning_rate", "rho": "rho", "epsilon": "eps"},
        adjust={"weight_decay": (None, "optax.adadelta adds weight_decay * w to the gradient before scaling it; Keras's decay is decoupled")},
        library_only={"weight_decay": 0.0},
    ),
    "Adamax": Target(
        "adamax",
        {"learning_rate": "learning_rate", **ADAM_BETAS},
        adjust={"weight_decay": (None, NO_DECAY.format("adamax"))},
        probes=NO_EPSILON,
    ),
    # optax.nadam is Adam with Nesterov momentum (Dozat 2016 without the momentum schedule).
    "Nadam": Target(
        "nadam",
        {"learning_rate": "learning_rate", **ADAM_BETAS},
        adjust={"weight_decay": (None, NO_DECAY.format("nadam"))},
        library_only={"eps_root": 0.0},
        # without momentum (beta_1 = 0) any momentum schedule is gone
        probes=(Probe({"beta_1": 0.0}),),
    ),
    # eps_in_sqrt=True (optax's default) and no bias correction: optax's documented defaults.
    "RMSprop": Target(
        "rmsprop",
        {"learning_rate": "learning_rate", "rho": "decay", "epsilon": "eps", "centered": "centered", "momentum": "momentum"},
        adjust={"weight_decay": (None, NO_DECAY.format("rmsprop"))},
        library_only={"initial_scale": 0.0, "eps_in_sqrt": True, "bias_correction": False, "nesterov": False},
    ),
    # optax.lion's default weight_decay is 1e-3; Keras's None (no decay) maps to 0.0.
    "Lion": Target("lion", {"learning_rate": "learning_rate", "beta_1": "b1", "beta_2": "b2", "weight_decay": "weight_decay"}),
    "Lamb": Target(
        "lamb",
        {"learning_rate": "learning_rate", **ADAM_BETAS},
        adjust={"weight_decay": (None, "optax.lamb adds weight_decay * w to the update inside the trust ratio; Keras's decay is decoupled, before the step")},
        library_only={"eps_root": 0.0, "weight_decay": 0.0},
    ),
    # Keras factors the second moment of every variable of rank >= 2 over its last two axes;
    # min_dim_size_to_factor=1 asks optax to factor every such variable (over its two largest axes).
    "Adafactor": Target(
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
            "clip_threshold": (lambda hp: max(1.0, hp["clip_threshold"]), "optax documents clipping_threshold >= 1: smaller ones are drawn as 1.0"),
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
}

UNMAPPED: dict[str, str] = {
    "Ftrl": "optax has no FTRL optimizer",
    "Muon": "not mapped: optax.contrib.muon orthogonalises 2-D updates with its own scaling and Keras's Muon "
    "applies AdamW to the other variables",
    "ScheduleFreeAdamW": "not mapped: optax.contrib.schedule_free_adamw wraps a base optimizer with its own "
    "warmup and averaging weights",
}


def available() -> bool:
    return importlib.util.find_spec(MODULE) is not None and importlib.util.find_spec("jax") is not None


def constructor(name: str) -> Any:
    import optax

    return getattr(optax, name)


def run(ctor: str, kwargs: dict[str, Any], weights: Sequence[np.ndarray], grads: Sequence[Sequence[np.ndarray]]) -> list[list[np.ndarray]]:
    """The weights after each step of `optax.<ctor>(**kwargs)`, in float64."""
    import jax
    import jax.numpy as jnp
    import optax

    with jax.enable_x64(True):
        params = [jnp.asarray(np.asarray(w, np.float64)) for w in weights]
        tx = constructor(ctor)(**kwargs)
        state = tx.init(params)
        out = []
        for step in grads:
            updates, state = tx.update([jnp.asarray(np.asarray(g, np.float64)) for g in step], state, params)
            params = optax.apply_updates(params, updates)
            out.append([np.asarray(p, np.float64).copy() for p in params])
    return out


def code(call: str, weights: Sequence[str]) -> str:
    """Reproducer lines: `call` stepped on `gradients`; leaves the weights in `library_weights`."""
    return "\n".join([
        "import jax",
        "import jax.numpy as jnp",
        "import optax",
        "",
        "with jax.enable_x64(True):",
        f"    params = [{', '.join(f'jnp.asarray({w})' for w in weights)}]",
        f"    independent = {call}",
        "    state = independent.init(params)",
        "    for grads in gradients:",
        "        updates, state = independent.update([jnp.asarray(g) for g in grads], state, params)",
        "        params = optax.apply_updates(params, updates)",
        "    library_weights = [np.asarray(p) for p in params]",
    ])
