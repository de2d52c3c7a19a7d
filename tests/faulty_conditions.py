"""Optimizers whose fault shows in one condition only: constructed with no arguments, or with
clipnorm. With the zero-safe double beside them they show that each condition is judged on its own."""

from __future__ import annotations

from keras import ops

from conformance.inputs import catalogue, user_specs
from tests.faulty import ZeroSafeSGD


class ShrinksAtDefaultsSGD(ZeroSafeSGD):
    """Shrinks every weight a little on every step, but only when constructed with no arguments."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.shrinks = not kwargs

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        if self.shrinks:
            self.assign(variable, ops.multiply(variable, 0.999))


class ShrinksWithClipnormSGD(ZeroSafeSGD):
    """Shrinks every weight a little on every step, but only when given clipnorm."""

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        if self.clipnorm is not None:
            self.assign(variable, ops.multiply(variable, 0.999))


def user(cls: type) -> catalogue.Spec:
    """`cls` as `--optimizer tests.faulty_conditions:Cls` gives it: a subclass of SGD, drawn and
    checked against SGD's reference, its defaults its own."""
    return user_specs.user_spec(f"{cls.__module__}:{cls.__name__}")

