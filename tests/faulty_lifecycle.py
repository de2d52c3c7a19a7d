"""Faults only a sequence of lifecycle events shows: the lifecycle state machine's own."""

from __future__ import annotations

import keras
from keras import ops

from tests.faulty import MOMENTUM, Fault, sgd


class StaleLearningRateSGD(keras.optimizers.SGD):
    """Keeps stepping with the learning rate it had when it was built: `optimizer.learning_rate =`
    between epochs is read back correctly but ignored by the update."""

    def build(self, variables):
        super().build(variables)
        self._built_lr = float(ops.convert_to_numpy(self.learning_rate))

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, self._built_lr)


class StickyIterationsSGD(keras.optimizers.SGD):
    """Restores every variable from load_own_variables except its iteration counter: only a
    snapshot, a step, then a restore show it (the anchors' fixed rule sequence has them in that
    order on every run; random walks reach it in some runs only)."""

    def load_own_variables(self, store):
        keep = int(ops.convert_to_numpy(self.iterations))
        super().load_own_variables(store)
        self.iterations.assign(keep)


def lifecycle_faults() -> list[Fault]:
    plain = sgd(keras.optimizers.SGD, MOMENTUM)
    return [
        Fault("lifecycle.model", sgd(StaleLearningRateSGD, MOMENTUM), plain),
        Fault("lifecycle.model", sgd(StickyIterationsSGD, MOMENTUM), plain),
    ]
