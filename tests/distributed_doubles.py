"""Optimizers for the distributed claims' own tests: a seeded replication bug, and conforming
doubles where every Keras 3 optimizer fails a claim (so that the claim is shown to pass too).

They run inside the suite's worker processes, which import them by name: keep them importable
without side effects, and backend-neutral except where a double works around TensorFlow.
"""

from __future__ import annotations

import keras
from keras import ops


def _replicas() -> int:
    """How many replicas the current step runs on (1 outside any strategy or distribution)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync
    dist = keras.distribution.distribution()
    return int(dist.device_mesh.devices.size) if dist is not None else 1


class ReplicaScaledSGD(keras.optimizers.SGD):
    """The fault: scales its learning rate by the number of replicas (a classic linear-scaling slip)."""

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, ops.multiply(learning_rate, float(_replicas())))


class ReducingFirstSGD(keras.optimizers.SGD):
    """Conforming: sums the replicas' gradients before anything else (clipping, accumulation), so
    every option acts on the sum, as on one device."""

    def apply(self, grads, trainable_variables=None):
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            ctx = tf.distribute.get_replica_context()
            if ctx is not None and ctx.num_replicas_in_sync > 1:
                grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, list(grads))
        return super().apply(grads, trainable_variables)

    def _all_reduce_sum_gradients(self, grads_and_vars):
        return grads_and_vars  # already summed in apply()


class BranchFreeAccumulatingSGD(ReducingFirstSGD):
    """Conforming (plain SGD, momentum 0): gradient accumulation without a conditional, since a
    merge_call inside ops.cond cannot run in a tf.function under a strategy. The update is masked:
    the learning rate is zero on steps that only accumulate."""

    def __init__(self, gradient_accumulation_steps=None, **kwargs):
        super().__init__(**kwargs)
        self.every = gradient_accumulation_steps or 1

    def build(self, variables):
        super().build(variables)
        self.sums = [self.add_variable_from_reference(v, "sum") for v in variables]

    def _backend_apply_gradients(self, grads, trainable_variables):
        due = ops.cast(ops.equal((self._iterations + 1) % self.every, 0), "float32")
        sums = [self.sums[self._get_variable_index(v)] for v in trainable_variables]
        totals = [ops.add(g, s) for g, s in zip(grads, sums)]
        self._backend_update_step(
            [ops.divide(t, self.every) for t in totals], trainable_variables, ops.multiply(self.learning_rate, due)
        )
        kept = [ops.multiply(t, ops.cast(1.0 - due, t.dtype)) for t in totals]
        self._assign_replicated(sums, kept)
        self._iterations.assign_add(1)

    def _assign_replicated(self, targets, values):
        if keras.backend.backend() != "tensorflow":
            for t, v in zip(targets, values):
                t.assign(v)
            return
        import tensorflow as tf

        def merged(strategy, targets, values):
            for t, v in zip(targets, values):
                strategy.extended.update(t.value, lambda var, x: var.assign(x), args=(v,), group=False)

        tf.__internal__.distribute.interim.maybe_merge_call(merged, tf.distribute.get_strategy(), targets, values)

    def get_config(self):
        return {**super().get_config(), "gradient_accumulation_steps": self.every}


class LocalOverwriteSGD(ReducingFirstSGD):
    """Conforming: overwrites each replica's own copy of a weight with its own (identical) moving
    average, without the merge_call that Keras 3 places inside ops.cond."""

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            local = _local(var)
            local.assign(ops.cast(_local(average), local.dtype))


def _local(var):
    """This replica's component of a (mirrored) variable."""
    inner = getattr(var, "value", var)
    get = getattr(inner, "_get_on_device_or_primary", None)
    return get() if get is not None else inner


class SkippingSGD(keras.optimizers.SGD):
    """Conforming: apply_gradients(..., skip_gradients_aggregation=True) leaves the summing to the
    caller (the Keras 2 keyword, which Keras 3 dropped)."""

    def apply_gradients(self, grads_and_vars, skip_gradients_aggregation=False):
        self._skip = skip_gradients_aggregation
        try:
            return super().apply_gradients(grads_and_vars)
        finally:
            self._skip = False

    def _all_reduce_sum_gradients(self, grads_and_vars):
        return grads_and_vars if getattr(self, "_skip", False) else super()._all_reduce_sum_gradients(grads_and_vars)


class IgnoringSkipSGD(SkippingSGD):
    """The fault: accepts skip_gradients_aggregation but sums again, so a caller's sum is counted N times."""

    def _all_reduce_sum_gradients(self, grads_and_vars):
        return keras.optimizers.SGD._all_reduce_sum_gradients(self, grads_and_vars)


class InitScopeBuildSGD(keras.optimizers.SGD):
    """Conforming: when the first replicated step builds it, builds outside the step's graph (in
    tf.init_scope), so no variable is initialised inside a tf.function."""

    def apply(self, grads, trainable_variables=None):
        if not self.built and trainable_variables is not None and keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            with tf.init_scope():
                self.build(list(trainable_variables))
        return super().apply(grads, trainable_variables)


class SummedSlotSGD(keras.optimizers.SGD):
    """The fault: its momentum slots are synchronized on read with aggregation "sum" (a metric's
    settings), so each replica updates its own copy correctly but a cross-replica read returns
    the sum of the copies: N times the momentum."""

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        if name != "momentum":
            return super().add_variable_from_reference(reference_variable, name, initializer)
        with keras.name_scope(self.name, caller=self):
            slot = keras.Variable(
                initializer,
                shape=reference_variable.shape,
                dtype=reference_variable.dtype,
                trainable=False,
                name=f"{reference_variable.path.replace('/', '_')}_momentum",
                aggregation="sum",
                synchronization="on_read",
            )
        self._track_variable(slot)
        return slot


class StrategySkewedSGD(keras.optimizers.SGD):
    """The fault: steps 0.1% longer under a tf.distribute strategy than without one."""

    def update_step(self, gradient, variable, learning_rate):
        skewed = False
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            skewed = tf.distribute.has_strategy()
        super().update_step(gradient, variable, ops.multiply(learning_rate, 1.001 if skewed else 1.0))
