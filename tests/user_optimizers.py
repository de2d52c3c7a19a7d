"""Optimizers as users write them, for the tests of how the suite takes them (not faults of a claim)."""

import keras


class MissingArgSGD(keras.optimizers.SGD):
    """A constructor with a required argument: the suite says what to give instead of failing every claim."""

    def __init__(self, momentum_required, **kwargs):
        super().__init__(momentum=momentum_required, **kwargs)


class CrashingSGD(keras.optimizers.SGD):
    """A bug in the user's own update_step: blamed on their code, not on Keras."""

    def update_step(self, gradient, variable, learning_rate):
        raise RuntimeError("a bug in the user's update_step")


class MyAdam(keras.optimizers.Adam):
    """An unmodified subclass: judged with Adam's declared deviations, recorded as inherited."""


def make_adam(**kwargs):
    """A factory taking keywords: checked like a class."""
    return keras.optimizers.Adam(**kwargs)


class DecayingSGD(keras.optimizers.SGD):
    """SGD with a weight decay by default (as ZenGrad's 5e-4): the documented decay on every step
    shows at its defaults, though `DecayingSGD()` names no weight_decay."""

    def __init__(self, weight_decay=5e-4, **kwargs):
        super().__init__(weight_decay=weight_decay, **kwargs)


class ScaledAdam(keras.optimizers.Adam):
    """Adds an argument Adam lacks: Adam's reference no longer describes it."""

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale


class NoUpdateOptimizer(keras.optimizers.Optimizer):
    """Written on the base class without update_step: Keras's abstract method raises, the gap is the user's."""

    def __init__(self, learning_rate=0.01, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)


class NoInitOptimizer(keras.optimizers.Optimizer):
    """No constructor of its own: the base class's needs a learning_rate, which the signature hides."""
