"""Deliberately faulty LossScaleOptimizers (and one inner optimizer) for the claims about how the
wrapper hands gradients to the optimizer it wraps: the inner loss_scale_factor, variables that are
overwritten with their gradient, and apply() without variables."""

from __future__ import annotations

import keras

from conformance.inputs.catalogue import wrapper_spec
from tests.faulty import Fault, loss_scaled, sgd


class DoubleUnscaleLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """Leaves the inner optimizer's loss_scale_factor in place: gradients are unscaled by the dynamic
    scale and again by the inner factor, which its scale_loss never multiplied the loss by."""

    def __init__(self, inner_optimizer, *args, **kwargs):
        factor = inner_optimizer.loss_scale_factor
        super().__init__(inner_optimizer, *args, **kwargs)
        self.inner_optimizer.loss_scale_factor = factor


class OrdinaryOverwriteLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """Unscales every gradient, an overwrite_with_gradient variable's too: such a variable takes its
    gradient divided by the loss scale."""

    def _overwrite_variable_with_gradient(self, variable):
        return False


class StallingSGD(keras.optimizers.SGD):
    """Counts a step only when some variable takes an update: a step that only overwrites variables
    with their gradients leaves iterations where it was (Keras before keras-team/keras#21262)."""

    def apply(self, grads, trainable_variables=None):
        variables = self._trainable_variables if trainable_variables is None else list(trainable_variables)
        overwrites_only = all(self._overwrite_variable_with_gradient(v) for v in variables)
        super().apply(grads, trainable_variables)
        if overwrites_only:
            self._iterations.assign_sub(1)


class AllOrNothingOverwriteSGD(keras.optimizers.SGD):
    """Overwrites a flagged variable with its gradient only when every variable is flagged: beside
    ordinary variables (a float8 layer's kernel beside its scales) it takes an ordinary update."""

    def _overwrite_variable_with_gradient(self, variable):
        flagged = keras.optimizers.SGD._overwrite_variable_with_gradient
        return flagged(self, variable) and all(flagged(self, v) for v in self._trainable_variables)


class IdleApplyLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """apply(grads) without variables does nothing: no step, no loss-scale update."""

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            return
        super().apply(grads, trainable_variables)


def loss_scale_faults() -> list[Fault]:
    plain = loss_scaled(keras.optimizers.LossScaleOptimizer)
    stalling = wrapper_spec(keras.optimizers.LossScaleOptimizer, [sgd(StallingSGD)], name="StallingLossScaleOptimizer")
    all_or_nothing = wrapper_spec(
        keras.optimizers.LossScaleOptimizer, [sgd(AllOrNothingOverwriteSGD)], name="AllOrNothingLossScaleOptimizer"
    )
    return [
        Fault("loss_scale.inner_scale_factor_once", loss_scaled(DoubleUnscaleLossScaleOptimizer), plain),
        Fault("loss_scale.overwrite_with_gradient", loss_scaled(OrdinaryOverwriteLossScaleOptimizer), plain),
        Fault("loss_scale.overwrite_with_gradient", stalling, plain),
        Fault("loss_scale.overwrite_with_gradient", all_or_nothing, plain),
        Fault("loss_scale.apply_without_variables", loss_scaled(IdleApplyLossScaleOptimizer), plain),
    ]
