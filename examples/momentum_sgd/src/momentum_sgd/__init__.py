"""SGD with heavy-ball momentum, written from scratch on `keras.optimizers.Optimizer`."""

import keras
from keras import ops


# Registered, so that keras.optimizers.deserialize / load_model find it inside a saved model or a
# LossScaleOptimizer's config (the config and save claims fail without it).
@keras.saving.register_keras_serializable(package="momentum_sgd")
class MomentumSGD(keras.optimizers.Optimizer):
    """v = momentum * v + g;  w = w - learning_rate * v."""

    def __init__(self, learning_rate=0.01, momentum=0.9, name="momentum_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        # checked here, not at the first step (the suite's argument claims ask for that)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
        self.momentum = momentum

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocities = [self.add_variable_from_reference(v, "velocity") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        v = self.velocities[self._get_variable_index(variable)]
        self.assign(v, ops.add(ops.multiply(v, ops.cast(self.momentum, variable.dtype)), g))
        self.assign_sub(variable, ops.multiply(lr, v))

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}

