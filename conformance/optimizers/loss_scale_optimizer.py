"""LossScaleOptimizer: wraps another optimizer, scaling the loss and unscaling its gradients."""

from __future__ import annotations

from conformance.inputs.arguments import COUNT, POSITIVE
from conformance.inputs.spec import OptimizerSpec

SPEC = OptimizerSpec(
    name="LossScaleOptimizer",
    hyperparameters="a wrapper: the hyperparameters drawn are its inner optimizer's",
    arguments={"initial_scale": POSITIVE, "dynamic_growth_steps": COUNT},
    reference="a wrapper: its steps are compared with its inner optimizer's reference",
    torch="a wrapper: torch.optim has no counterpart of the wrapper itself",
    optax="a wrapper: optax has no counterpart of the wrapper itself",
    family="wrapper",
    numpy_step="a wrapper: its step is its inner optimizer's",
)
