"""Lion (Chen et al. 2023): steps by the sign of an interpolated momentum."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.benchmarks import numpy_steps
from conformance.independent.mapping import Target
from conformance.inputs.arguments import DECAY, Domain
from conformance.inputs.hyperparameters import beta
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import lion

SPEC = OptimizerSpec(
    name="Lion",
    # Keras rejects beta_1 == 0 (its message says "[0, 1]"); the argument-contract claims own that.
    hyperparameters={"beta_1": st.floats(0.01, 0.99), "beta_2": beta},
    # Chen et al. 2023: beta_1 = 0 degenerates Lion to signSGD (the Keras docstring says so).
    arguments={"beta_1": Domain(0.0, 1.0, lo_open=True), "beta_2": DECAY},
    reference=lion,
    torch="torch.optim has no Lion optimizer",
    # optax.lion's default weight_decay is 1e-3; Keras's None (no decay) maps to 0.0.
    optax=Target(
        "lion", {"learning_rate": "learning_rate", "beta_1": "b1", "beta_2": "b2", "weight_decay": "weight_decay"}
    ),
    family="sign",
    numpy_step=numpy_steps.Lion,
)
