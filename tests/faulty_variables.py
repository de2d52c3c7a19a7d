"""Faults of the variables.* claims: optimizers that lose track of which variable a gradient is for."""

from __future__ import annotations

import keras
from keras import ops

from tests.faulty import MOMENTUM, Fault, sgd


class PositionalSGD(keras.optimizers.SGD):
    """Gives the i-th gradient of a call to the i-th variable it was built with, not to the variable
    passed beside it: right only when a step is given every variable in the built order."""

    def apply(self, grads, trainable_variables=None):
        if self.built and trainable_variables is not None:
            trainable_variables = self._trainable_variables[: len(list(grads))]
        return super().apply(grads, trainable_variables)


class DampingSGD(keras.optimizers.SGD):
    """Halves the momentum of every variable a step is not given (a "decay what is idle" bug)."""

    def apply(self, grads, trainable_variables=None):
        if self.built and trainable_variables is not None:
            given = {self._var_key(v) for v in trainable_variables}
            for v, m in zip(self._trainable_variables, self.momentums):
                if self._var_key(v) not in given:
                    self.assign(m, ops.multiply(m, 0.5))
        return super().apply(grads, trainable_variables)


class FirstSlotSGD(keras.optimizers.SGD):
    """Accepts a variable it was not built with and updates it with the first variable's momentum."""

    def _check_variables_are_known(self, variables):
        pass

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices.get(self._var_key(variable), 0)

    def update_step(self, gradient, variable, learning_rate):
        # the first slot's shape where the variable has another: the corruption stays silent
        m = self.momentums[self._get_variable_index(variable)]
        if tuple(m.shape) != tuple(variable.shape):
            return
        super().update_step(gradient, variable, learning_rate)


class SkippingSGD(keras.optimizers.SGD):
    """Drops, without a word, the gradients of variables it was not built with."""

    def apply(self, grads, trainable_variables=None):
        if self.built and trainable_variables is not None:
            known = self._trainable_variables_indices
            pairs = [(g, v) for g, v in zip(grads, trainable_variables) if self._var_key(v) in known]
            grads, trainable_variables = [g for g, _ in pairs], [v for _, v in pairs]
        return super().apply(grads, trainable_variables)


class GrowingSGD(keras.optimizers.SGD):
    """Conforming double: adopts a variable it was not built with, its state created as build()
    would have (the claim's other allowed outcome, besides an error)."""

    def apply(self, grads, trainable_variables=None):
        if self.built and trainable_variables is not None:
            for v in trainable_variables:
                if self._var_key(v) not in self._trainable_variables_indices:
                    self._adopt(v)
        return super().apply(grads, trainable_variables)

    def _adopt(self, v):
        self._trainable_variables_indices[self._var_key(v)] = len(self._trainable_variables)
        self._trainable_variables.append(v)
        if self.momentum != 0:
            self.momentums.append(self.add_variable_from_reference(v, "momentum"))
        if self.use_ema:
            self._model_variables_moving_average.append(self.add_variable_from_reference(v, "average"))
        if self.gradient_accumulation_steps:
            self._accumulated_gradients.append(self.add_variable_from_reference(v, "gradient_accumulator"))


def variable_faults() -> list[Fault]:
    plain = sgd(keras.optimizers.SGD, MOMENTUM)
    return [
        Fault("variables.subset_after_build", sgd(PositionalSGD, MOMENTUM), plain),
        Fault("variables.subset_after_build", sgd(DampingSGD, MOMENTUM), plain),
        Fault("variables.added_after_build", sgd(FirstSlotSGD, MOMENTUM), plain),
        Fault("variables.added_after_build", sgd(SkippingSGD, MOMENTUM), sgd(GrowingSGD, MOMENTUM)),
    ]
