"""Keras optimizers mapped to `optax` (https://optax.readthedocs.io/en/latest/api/optimizers.html).

Each optimizer's mapping is its record's `optax` field (conformance/optimizers/): a `Target`, or
why optax has no counterpart. Here are the pieces those mappings share and the runner. Every optax
argument is named as the optax documentation names it; every Keras hyperparameter is named as
the Keras documentation does. `run` steps the optax transformation eagerly with
64-bit JAX types switched on only inside it (`jax.enable_x64`), so that Keras on the JAX backend,
in the same process, keeps its own configuration.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Sequence

import numpy as np

from conformance.independent.mapping import Probe

LABEL = "optax"
DOCS = "https://optax.readthedocs.io/en/latest/api/optimizers.html"
MODULE = "optax"
# The field of an optimizer's record (conformance/optimizers/) that holds its optax `Target`,
# or says why it has none.
SPEC_FIELD = "optax"

NO_DECAY = "optax.{} has no weight decay argument"
ADAM_BETAS = {"beta_1": "b1", "beta_2": "b2", "epsilon": "eps"}
# Where epsilon sits differs between libraries; with epsilon 0 on both sides that difference vanishes.
# Keras 2's legacy optimizers make epsilon 0 into 1e-7: for them a negligible epsilon does the same
# (torch_optim.NEGLIGIBLE_EPSILON).
NEGLIGIBLE_EPSILON = Probe({"epsilon": 1e-300})
NO_EPSILON = (Probe({"epsilon": 0.0}), NEGLIGIBLE_EPSILON)


def available() -> bool:
    return importlib.util.find_spec(MODULE) is not None and importlib.util.find_spec("jax") is not None


def constructor(name: str) -> Any:
    import optax

    return getattr(optax, name)


def run(
    ctor: str, kwargs: dict[str, Any], weights: Sequence[np.ndarray], grads: Sequence[Sequence[np.ndarray]]
) -> list[list[np.ndarray]]:
    """The weights after each step of `optax.<ctor>(**kwargs)`, in float64."""
    import jax
    import jax.numpy as jnp
    import optax

    with _enable_x64(jax)(True):
        params = [jnp.asarray(np.asarray(w, np.float64)) for w in weights]
        tx = constructor(ctor)(**kwargs)
        state = tx.init(params)
        out = []
        for step in grads:
            updates, state = tx.update([jnp.asarray(np.asarray(g, np.float64)) for g in step], state, params)
            params = optax.apply_updates(params, updates)
            out.append([np.asarray(p, np.float64).copy() for p in params])
    return out


def _enable_x64(jax: Any) -> Any:
    """jax.enable_x64 (JAX 0.6 on), else jax.experimental.enable_x64 (the older JAX of TF 2.15 to 2.17's
    environments; removed from jax.experimental since)."""
    found = getattr(jax, "enable_x64", None)
    if found is None:
        from jax.experimental import enable_x64 as found
    return found


def code(call: str, weights: Sequence[str]) -> str:
    """Reproducer lines: `call` stepped on `gradients`; leaves the weights in `library_weights`."""
    return "\n".join(
        [
            "import jax",
            "import jax.numpy as jnp",
            "import optax",
            "",
            "try:",
            "    from jax import enable_x64  # JAX 0.6 and later",
            "except ImportError:",
            "    from jax.experimental import enable_x64",
            "",
            "with enable_x64(True):",
            f"    params = [{', '.join(f'jnp.asarray({w})' for w in weights)}]",
            f"    independent = {call}",
            "    state = independent.init(params)",
            "    for grads in gradients:",
            "        updates, state = independent.update([jnp.asarray(g) for g in grads], state, params)",
            "        params = optax.apply_updates(params, updates)",
            "    library_weights = [np.asarray(p) for p in params]",
        ]
    )
