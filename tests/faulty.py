"""Deliberately faulty optimizers, each a built-in with one seeded bug, and conforming doubles.

`FAULTS` pairs every claim with a fault it must catch and the unmodified (or conforming)
optimizer it must pass. Where every real Keras optimizer fails a claim (the iteration counter
advances on a zero-gradient step), the passing side is a conforming double and the real
optimizer is the fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ContextManager

import keras
import numpy as np
from keras import ops

from conformance.inputs.catalogue import Spec, fixed_spec, wrapper_spec
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.options import Options


class DriftingSGD(keras.optimizers.SGD):
    """Takes steps 0.1% longer than its learning rate."""

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, ops.multiply(learning_rate, 1.001))


class DoublingSGD(keras.optimizers.SGD):
    """Takes steps twice as long as its learning rate (a fault visible even in float16)."""

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, ops.multiply(learning_rate, 2.0))


class ForgetfulSGD(keras.optimizers.SGD):
    """Forgets its momentum before every step: state does not persist (the state-persists question)."""

    def update_step(self, gradient, variable, learning_rate):
        m = self.momentums[self._get_variable_index(variable)]
        self.assign(m, ops.zeros_like(m))
        super().update_step(gradient, variable, learning_rate)


class SkipsDecayOnZeroGradient:
    """For conforming doubles of zero_grad.weights_unchanged, which also checks each base option
    alone: no weight decay on a step whose gradients are all zero (Keras decays on every step, a
    declared deviation)."""

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        decay = self.weight_decay
        if all(not np.any(ops.convert_to_numpy(g)) for g in grads):
            self.weight_decay = None
        try:
            return super().apply(grads, trainable_variables)
        finally:
            self.weight_decay = decay


class ZeroSafeSGD(SkipsDecayOnZeroGradient, keras.optimizers.SGD):
    """Conforming double: SGD whose zero-gradient step leaves the weights alone, weight decay too."""


class ShrinkingSGD(ZeroSafeSGD):
    """Shrinks every weight a little on every step, zero gradients included."""

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        self.assign(variable, ops.multiply(variable, 0.999))


class PrimedSGD(keras.optimizers.SGD):
    """Adds a constant to its momentum on every step, so a zero-gradient step leaves state behind."""

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        m = self.momentums[self._get_variable_index(variable)]
        self.assign_add(m, ops.full_like(m, 0.125))


class CountingSGD(keras.optimizers.SGD):
    """Divides its learning rate by the step number, so a zero-gradient step shifts later steps."""

    def update_step(self, gradient, variable, learning_rate):
        t = ops.cast(self.iterations + 1, variable.dtype)
        super().update_step(gradient, variable, ops.divide(ops.cast(learning_rate, variable.dtype), t))


class SkipZeroSGD(keras.optimizers.SGD):
    """Conforming double: an all-zero gradient only builds the optimizer; it is not a step."""

    def apply(self, grads, trainable_variables=None):
        if all(not np.any(ops.convert_to_numpy(g)) for g in grads):
            if not self.built:
                self.build(list(trainable_variables))
            return
        return super().apply(grads, trainable_variables)


class LazyPrimedSGD(keras.optimizers.SGD):
    """Initialises its momentum differently when it builds itself lazily."""

    def apply(self, grads, trainable_variables=None):
        if not self.built:
            self.build(list(trainable_variables))
            for m in self.momentums:
                m.assign(ops.full_like(m, 0.25))
        return super().apply(grads, trainable_variables)


class UncheckedLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """Believes every gradient is finite, so it never skips a step."""

    def check_finite(self, grads):
        return ops.convert_to_tensor(True)


# Hyperparameters exactly representable in float16, so that the unmodified parent passes the
# precision-sensitive claims and only the seeded bug can fail them.
HALF = LearningRate("constant", {"value": 0.5})
MOMENTUM = {"momentum": 0.5}


def keras_base(cls: type) -> type:
    """The Keras built-in that `cls` is or modifies (the nearest Keras class in its MRO)."""
    return next(b for b in cls.__mro__ if b.__module__.startswith("keras"))


def spec(cls: type, hp: dict | None = None, opts: Options | None = None, parent: str | None = None) -> Spec:
    """A fixed spec of `cls` at learning rate 0.5, judged by the reference rule of `parent`
    (by default the built-in it modifies)."""
    imports = "" if cls.__module__.startswith("keras") else f"from {cls.__module__} import {cls.__name__}"
    parent = parent or keras_base(cls).__name__
    return fixed_spec(cls.__name__, cls, parent, hp or {}, opts or Options(), HALF, imports=imports)


def sgd(cls: type, hp: dict | None = None) -> Spec:
    return spec(cls, hp, parent="SGD")


def loss_scaled(cls: type) -> Spec:
    return wrapper_spec(cls, [sgd(keras.optimizers.SGD)])


@dataclass(frozen=True)
class Fault:
    claim: str
    faulty: Spec
    passing: Spec
    # The backend the suite's own process must run for the claim to apply (checked in a
    # subprocess where it is not this one's), and a context the check runs in.
    main_backend: str | None = None
    within: Callable[[], ContextManager] | None = None


def faults() -> list[Fault]:
    return [
        Fault("reference.trajectory", sgd(DriftingSGD), sgd(keras.optimizers.SGD)),
        Fault("reference.trajectory", sgd(ForgetfulSGD, MOMENTUM), sgd(keras.optimizers.SGD, MOMENTUM)),
        Fault("reference.trajectory_float64", sgd(DriftingSGD), sgd(keras.optimizers.SGD)),
        Fault("reference.trajectory_low_precision", sgd(DoublingSGD), sgd(keras.optimizers.SGD)),
        Fault("zero_grad.weights_unchanged", sgd(ShrinkingSGD), sgd(ZeroSafeSGD)),
        Fault("zero_grad.state_as_built", sgd(PrimedSGD, MOMENTUM), sgd(keras.optimizers.SGD, MOMENTUM)),
        Fault("zero_grad.trajectory_as_fresh", sgd(CountingSGD), sgd(keras.optimizers.SGD)),
        Fault("zero_grad.iterations_unchanged", sgd(keras.optimizers.SGD), sgd(SkipZeroSGD)),
        Fault("build.equals_lazy", sgd(LazyPrimedSGD, MOMENTUM), sgd(keras.optimizers.SGD, MOMENTUM)),
        Fault(
            "nonfinite.weights_unchanged_or_raises",
            loss_scaled(UncheckedLossScaleOptimizer),
            loss_scaled(keras.optimizers.LossScaleOptimizer),
        ),
    ]


class CarryOverSGD(keras.optimizers.SGD):
    """Puts its step count into its config, so from_config() resumes counting instead of resetting."""

    def __init__(self, *args, start_iteration: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self._iterations.assign(start_iteration)

    def get_config(self):
        return {**super().get_config(), "start_iteration": int(ops.convert_to_numpy(self.iterations))}


class ClassStateSGD(keras.optimizers.SGD):
    """Keeps its step count on the class, so every new instance continues where the last one was."""

    steps_taken = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._iterations.assign(ClassStateSGD.steps_taken)

    def apply(self, grads, trainable_variables=None):
        ClassStateSGD.steps_taken += 1
        return super().apply(grads, trainable_variables)


class ForgetfulConfigSGD(keras.optimizers.SGD):
    """Leaves its momentum out of its config, so from_config() falls back to the default."""

    def get_config(self):
        config = super().get_config()
        config.pop("momentum")
        return config


class HiddenCounterSGD(keras.optimizers.SGD):
    """Keeps a Python-side step counter that scales its steps: assigning its variables cannot reset it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def apply(self, grads, trainable_variables=None):
        self.calls += 1
        return super().apply(grads, trainable_variables)

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, ops.divide(ops.cast(learning_rate, variable.dtype), float(self.calls)))


def reset_faults() -> list[Fault]:
    plain = sgd(keras.optimizers.SGD, MOMENTUM)
    return [
        Fault("reset.from_config_starts_fresh", sgd(CarryOverSGD, MOMENTUM), plain),
        Fault("reset.same_arguments_starts_fresh", sgd(ClassStateSGD, MOMENTUM), plain),
        Fault("reset.keeps_hyperparameters", sgd(ForgetfulConfigSGD, MOMENTUM), plain),
        Fault("reset.trajectory_as_new", sgd(ForgetfulConfigSGD, MOMENTUM), plain),
        Fault("reset.in_place_equals_new", sgd(HiddenCounterSGD, MOMENTUM), plain),
    ]


class WeightsSGD(keras.optimizers.SGD):
    """Conforming double with the Keras 2 get_weights() that Keras 3 optimizers lack."""

    def get_weights(self):
        return [ops.convert_to_numpy(v) for v in self.variables]


class HiddenCounterWeightsSGD(HiddenCounterSGD, WeightsSGD):
    """get_weights() cannot capture a Python-side counter."""


class LossyLoad:
    """Mixin: load_own_variables() forgets to load its last variable (it keeps its fresh value)."""

    def load_own_variables(self, store):
        last = str(len(self.variables) - 1)
        super().load_own_variables(
            {k: v for k, v in store.items() if k != last} | {last: ops.convert_to_numpy(self.variables[-1])}
        )


class LossyLoadSGD(LossyLoad, keras.optimizers.SGD):
    """load_own_variables() forgets to load its last variable (a momentum)."""


def state_faults() -> list[Fault]:
    plain = sgd(keras.optimizers.SGD, MOMENTUM)
    return [
        Fault("state.roundtrip.get_weights", sgd(HiddenCounterWeightsSGD, MOMENTUM), sgd(WeightsSGD, MOMENTUM)),
        Fault("state.roundtrip.variables_set_weights", sgd(HiddenCounterSGD, MOMENTUM), plain),
        Fault("state.roundtrip.own_variables", sgd(LossyLoadSGD, MOMENTUM), plain),
        Fault("state.roundtrip.tf_checkpoint", sgd(HiddenCounterSGD, MOMENTUM), plain),
        Fault("state.roundtrip.keras_file", sgd(HiddenCounterSGD, MOMENTUM), plain),
    ]


class StrictSGD(keras.optimizers.SGD):
    """Conforming double: validates restored state completely before writing any of it."""

    def _validate(self, values):
        if not self.built:
            raise ValueError("the optimizer is not built")
        if len(values) != len(self.variables):
            raise ValueError(f"expected {len(self.variables)} values, got {len(values)}")
        for v, x in zip(self.variables, values):
            x = np.asarray(x)
            if tuple(x.shape) != tuple(v.shape):
                raise ValueError(f"{v.path}: shape {x.shape} != {tuple(v.shape)}")
            if x.dtype.kind not in "fiub":
                raise TypeError(f"{v.path}: dtype {x.dtype} is not numeric")
            if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
                raise ValueError(f"{v.path}: non-finite values")

    def set_weights(self, weights):
        self._validate(list(weights))
        super().set_weights(weights)

    def load_own_variables(self, store):
        self._validate([store[k] for k in sorted(store, key=int)])
        super().load_own_variables(store)


class LenientSGD(keras.optimizers.SGD):
    """Restores whatever it is given: reshapes mismatched arrays, ignores being unbuilt."""

    def set_weights(self, weights):
        if not self.built:
            return
        for v, x in zip(self.variables, weights):
            v.assign(np.resize(np.asarray(x, np.float64), tuple(v.shape)).astype(v.dtype))

    def load_own_variables(self, store):
        self.set_weights([store[k] for k in sorted(store, key=int)])


def bad_state_faults() -> list[Fault]:
    strict = sgd(StrictSGD, MOMENTUM)
    plain, lenient = sgd(keras.optimizers.SGD, MOMENTUM), sgd(LenientSGD, MOMENTUM)
    lenient_cases = {("set_weights", "wrong_shape"), ("set_weights", "unbuilt"), ("own_variables", "wrong_shape")}
    return [
        Fault(f"state.bad_input.{m}.{k}", lenient if (m, k) in lenient_cases else plain, strict)
        for m in ("set_weights", "own_variables")
        for k in ("too_few", "too_many", "wrong_shape", "wrong_dtype", "nonfinite", "unbuilt")
    ]
