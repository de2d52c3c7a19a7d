"""Faulty optimizers for the independent-implementation claims (see tests/faulty.py for the pattern).

Both are SGD subclasses, so the claims map them to torch.optim.SGD and optax.sgd; the unmodified
SGD must agree with both.
"""

from __future__ import annotations

import keras
from keras import ops

from tests.faulty import MOMENTUM, DriftingSGD, Fault, sgd


class DampenedSGD(keras.optimizers.SGD):
    """Dampens its momentum (m = momentum * m - (1 - momentum) * lr * g): torch's `dampening`
    set to the momentum, which Keras's SGD does not do."""

    def update_step(self, gradient, variable, learning_rate):
        damped = ops.multiply(ops.cast(learning_rate, variable.dtype), 1.0 - self.momentum)
        super().update_step(gradient, variable, damped)


def independent_faults() -> list[Fault]:
    plain, with_momentum = sgd(keras.optimizers.SGD), sgd(keras.optimizers.SGD, MOMENTUM)
    return [
        Fault(claim, faulty, passing)
        for claim in ("independent.torch", "independent.optax")
        for faulty, passing in ((sgd(DriftingSGD), plain), (sgd(DampenedSGD, MOMENTUM), with_momentum))
    ]
