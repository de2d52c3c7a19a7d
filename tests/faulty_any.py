"""Faulty optimizers for the reference-free `any.*` claims (see tests/faulty.py for the pattern):
each an SGD with one seeded fault that no reference rule is needed to see, and the unmodified SGD
that passes."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from tests.faulty import MOMENTUM, Fault, HiddenCounterSGD, sgd


class SlippingSGD(keras.optimizers.SGD):
    """Steps by its learning rate plus 1e-3, so at learning rate 0 it still moves the weights."""

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, ops.add(ops.cast(learning_rate, variable.dtype), 1e-3))


class NoisySGD(keras.optimizers.SGD):
    """Adds a little noise from numpy's global generator to every gradient, so two runs differ."""

    def update_step(self, gradient, variable, learning_rate):
        noise = np.random.uniform(-1e-3, 1e-3, size=tuple(variable.shape))
        super().update_step(ops.add(gradient, ops.cast(noise, variable.dtype)), variable, learning_rate)


def any_faults() -> list[Fault]:
    plain, with_momentum = sgd(keras.optimizers.SGD), sgd(keras.optimizers.SGD, MOMENTUM)
    return [
        Fault("any.zero_learning_rate", sgd(SlippingSGD), plain),
        Fault("any.deterministic", sgd(NoisySGD), plain),
        # a step counter kept in a Python attribute: no copy of optimizer.variables carries it
        Fault("any.state_copy", sgd(HiddenCounterSGD, MOMENTUM), with_momentum),
    ]
