"""Faults for what the suite runs on Keras 2 through paths of its own: the distributed workers
driving tf.keras (both families) and the adapter's LossScaleOptimizer API (get_scaled_loss,
get_unscaled_gradients). Each is a seeded bug next to the unmodified tf.keras optimizer or, where
real Keras 2 fails the claim (expectations.d/keras2.toml), a conforming double (the pattern of
tests/faulty.py).

Imported only where the suite runs Keras 2 (tests/test_keras2_faults.py), and by the workers, which
import a fault by name from the job's reproducer code.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from conformance.adapters import current
from conformance.inputs.catalogue import Spec, fixed_spec, wrapper_spec
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.options import Options

keras = current().keras_module  # tf.keras 2
# tf.keras.mixed_precision.LossScaleOptimizer constructs this class around a new-family optimizer;
# it is not exported under its own name.
LossScaleOptimizerV3 = type(keras.mixed_precision.LossScaleOptimizer(keras.optimizers.SGD()))


def _replicas() -> int:
    return tf.distribute.get_strategy().num_replicas_in_sync


class ReplicaScaledSGD(keras.optimizers.SGD):
    """The fault: scales its step by the number of replicas (a linear-scaling slip)."""

    def update_step(self, gradient: Any, variable: Any) -> Any:
        return super().update_step(gradient * _replicas(), variable)


class ReplicaScaledLegacySGD(keras.optimizers.legacy.SGD):
    """The same fault in the legacy family (OptimizerV2 applies each variable's update here)."""

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Any = None) -> Any:
        return super()._resource_apply_dense(grad * _replicas(), var, apply_state)


class IgnoringSkipSGD(keras.optimizers.SGD):
    """The fault: accepts skip_gradients_aggregation=True but sums the replicas' gradients anyway, so
    a caller's own all-reduce is counted N times."""

    def apply_gradients(
        self, grads_and_vars: Any, name: Any = None, skip_gradients_aggregation: bool = False, **kwargs: Any
    ) -> Any:
        return super().apply_gradients(grads_and_vars, name=name, skip_gradients_aggregation=False)


class IgnoringAggregateLegacySGD(keras.optimizers.legacy.SGD):
    """The same fault in the legacy family: experimental_aggregate_gradients=False is ignored."""

    def apply_gradients(
        self, grads_and_vars: Any, name: Any = None, experimental_aggregate_gradients: bool = True
    ) -> Any:
        return super().apply_gradients(grads_and_vars, name, experimental_aggregate_gradients=True)


def _finite(grads_and_vars: list) -> Any:
    return tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g, _ in grads_and_vars])


class UncountedSkipLossScaleOptimizer(LossScaleOptimizerV3):
    """Conforming double for loss_scale.skips_nonfinite: a skipped step leaves iterations where it
    was (Keras 2's LossScaleOptimizer counts it, a declared deviation)."""

    def apply_gradients(self, grads_and_vars: Any, *args: Any, **kwargs: Any) -> None:
        grads_and_vars = list(grads_and_vars)
        finite = _finite(grads_and_vars)
        super().apply_gradients(grads_and_vars, *args, **kwargs)
        self.iterations.assign_sub(tf.cast(tf.logical_not(finite), self.iterations.dtype))


class UncheckedLossScaleOptimizer(LossScaleOptimizerV3):
    """The fault: believes every gradient is finite, so it never skips a step (nor updates its scale)."""

    def apply_gradients(self, grads_and_vars: Any, *args: Any, **kwargs: Any) -> None:
        self.inner_optimizer.apply_gradients(grads_and_vars)


class HalvingLossScaleOptimizer(LossScaleOptimizerV3):
    """Conforming double for loss_scale.dynamic_scale: halves its scale below 1 too (Keras 2 stops
    at 1, a declared deviation)."""

    def apply_gradients(self, grads_and_vars: Any, *args: Any, **kwargs: Any) -> None:
        grads_and_vars = list(grads_and_vars)
        finite, before = _finite(grads_and_vars), tf.identity(self._loss_scale.current_loss_scale)
        super().apply_gradients(grads_and_vars, *args, **kwargs)
        scale = self._loss_scale.current_loss_scale
        scale.assign(tf.where(finite, scale, self._after_nonfinite(before)))

    def _after_nonfinite(self, before: Any) -> Any:
        return before / 2


class NeverShrinkingLossScaleOptimizer(HalvingLossScaleOptimizer):
    """The fault: skips a non-finite step but keeps its loss scale."""

    def _after_nonfinite(self, before: Any) -> Any:
        return before


HALF = LearningRate("constant", {"value": 0.5})  # exact in every dtype, as tests/faulty.py's


def spec(cls: type, ctor: str | None = None, name: str | None = None) -> Spec:
    """A fixed spec of `cls` at learning rate 0.5, judged by SGD's reference: a class of this module
    is imported by name (in the workers too); a tf.keras one is constructed as `ctor`."""
    own = cls.__module__ == __name__
    imports = f"from {__name__} import {cls.__name__}" if own else ""
    return fixed_spec(name or cls.__name__, cls, "SGD", {}, Options(), HALF, imports=imports, ctor=ctor)


SGD = spec(keras.optimizers.SGD, "keras.optimizers.SGD", "SGD")
LEGACY_SGD = spec(keras.optimizers.legacy.SGD, "keras.optimizers.legacy.SGD", "legacy.SGD")


def _scaled(cls: type) -> Spec:
    return wrapper_spec(cls, [SGD])


def keras2_faults() -> list[tuple[str, Spec, Spec]]:
    """(claim, faulty spec, passing spec): the new family and the legacy one through the workers,
    and the LossScaleOptimizer through the adapter."""
    scaled, legacy_scaled = spec(ReplicaScaledSGD), spec(ReplicaScaledLegacySGD)
    out = []
    for claim in (
        "distributed.mirrored.plain.eager",
        "distributed.mirrored.plain.compiled",
        "distributed.mirrored.unbuilt.eager",
        "distributed.multi_worker.plain.eager",
    ):
        out += [(claim, scaled, SGD), (claim, legacy_scaled, LEGACY_SGD)]
    return out + [
        ("distributed.mirrored.fit", scaled, SGD),
        ("distributed.mirrored.manual_aggregation", spec(IgnoringSkipSGD), SGD),
        ("distributed.mirrored.manual_aggregation", spec(IgnoringAggregateLegacySGD), LEGACY_SGD),
        (
            "loss_scale.skips_nonfinite",
            _scaled(UncheckedLossScaleOptimizer),
            _scaled(UncountedSkipLossScaleOptimizer),
        ),
        (
            "loss_scale.dynamic_scale",
            _scaled(NeverShrinkingLossScaleOptimizer),
            _scaled(HalvingLossScaleOptimizer),
        ),
    ]
