"""MultiOptimizer: wraps several optimizers, each updating the variables an OptimizerMap gives it."""

from __future__ import annotations

from conformance.inputs.arguments import POSITIVE
from conformance.inputs.spec import OptimizerSpec

SPEC = OptimizerSpec(
    name="MultiOptimizer",
    hyperparameters="a wrapper: the hyperparameters drawn are its inner optimizers'",
    arguments={"loss_scale_factor": POSITIVE},
    reference="a wrapper: its steps are compared with its inner optimizers' references",
    torch="a wrapper: torch.optim has no counterpart of the wrapper itself",
    optax="a wrapper: optax has no counterpart of the wrapper itself",
    family="wrapper",
    numpy_step="a wrapper: its steps are its inner optimizers'",
)
