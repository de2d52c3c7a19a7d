"""Replication on TensorFlow (runs in a worker): MirroredStrategy over logical devices, and
MultiWorkerMirroredStrategy across worker processes. Imported before anything initialises
TensorFlow, because logical devices can only be configured then."""

from __future__ import annotations

from typing import Any, Callable, ContextManager

import numpy as np
import tensorflow as tf

from conformance.distributed import MAX_REPLICAS


class Group:
    """`n` replicas under one strategy: feed each its own gradients and read each one's values."""

    def __init__(self, strategy: Any, describe: str, devices: list[str] | None = None) -> None:
        self.strategy = strategy
        self.n = strategy.num_replicas_in_sync
        self.devices = devices or list(strategy.extended.worker_devices)
        self.describe = describe

    def scope(self) -> ContextManager:
        return self.strategy.scope()

    def stepper(self, opt: Any, vars_: list, compiled: bool, apply: Callable | None = None) -> Callable[[list], None]:
        """A step taking one gradient list per replica: `strategy.run(apply, ...)`, in a
        tf.function when `compiled`; `apply(grads)` runs in replica context (apply_gradients)."""
        from conformance.adapters import current

        a = current()
        s = self.strategy
        # The gradients of the scaled loss, as a training step hands them over (Keras 2's
        # LossScaleOptimizer wants them through get_unscaled_gradients first).
        apply = apply or (lambda grads: opt.apply_gradients(zip(a.unscaled(opt, grads), vars_)))

        def run(stacked: list) -> None:
            def replica(stacked: list) -> None:
                # Each replica takes its own row: plain tensors are the same on every replica, which
                # (unlike distributed values) works in a tf.function under every strategy.
                r = tf.distribute.get_replica_context().replica_id_in_sync_group
                apply([tf.gather(x, r) for x in stacked])

            s.run(replica, args=(stacked,))

        if compiled:
            run = tf.function(run)

        def step(by_replica: list[list[np.ndarray]]) -> None:
            run(
                [
                    tf.constant(np.stack([grads[i] for grads in by_replica]).astype(a.np_dtype(v.dtype)))
                    for i, v in enumerate(vars_)
                ]
            )

        return step

    @staticmethod
    def all_reduce(grads: list) -> list:
        """The caller's own all-reduce (the Keras optimizers docs' example), in replica context."""
        return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)

    def local(self, var: Any) -> list[np.ndarray]:
        """The variable's value on each replica this process holds."""
        # A Keras 3 variable holds a tf.Variable in `value`; a tf.keras 2 one is the tf.Variable (whose
        # `value` is a method).
        inner = var if isinstance(var, tf.Variable) else var.value
        return [np.asarray(x.numpy()) for x in self.strategy.experimental_local_results(inner)]

    def reads(self, vars_: list) -> list[list[tuple[str, np.ndarray]]]:
        """Each variable's value read every way a user reads one, as (how, value): whole, outside the
        strategy's scope and inside it (cross-replica context), each replica's local copy, and each
        replica's own read inside strategy.run. A variable's synchronization and aggregation decide
        what a whole read returns (a sum of the copies, one replica's copy), so each way is read."""
        from conformance.adapters import current  # here: this module is imported before TensorFlow initialises

        # The generation's own read (keras.ops.convert_to_numpy on Keras 3; tf.keras 2 has no keras.ops).
        a = current()
        read = a.REPRO.numpy.format(x="v")

        def whole(where: str) -> list[list[tuple[str, np.ndarray]]]:
            return [
                [
                    (f"{read} {where}", a.values([v])[0]),
                    (f"v.numpy() {where}", np.asarray(v.numpy())),
                ]
                for v in vars_
            ]

        outside = whole("outside strategy.scope()")
        with self.strategy.scope():
            inside = whole("in strategy.scope()")
        # One strategy.run for every variable: each replica's reads come back as one PerReplica each.
        ran = self.strategy.run(lambda: [tf.identity(tf.convert_to_tensor(v)) for v in vars_])
        out = []
        for var, mine, theirs, replicated in zip(vars_, outside, inside, ran):
            copies = self.local(var)
            run = [np.asarray(x.numpy()) for x in self.strategy.experimental_local_results(replicated)]
            out.append(
                [
                    *mine,
                    *theirs,
                    *[(f"replica {r}'s copy (strategy.experimental_local_results)", x) for r, x in enumerate(copies)],
                    *[(f"replica {r}'s read inside strategy.run", x) for r, x in enumerate(run)],
                ]
            )
        return out


class Mirrored:
    """MAX_REPLICAS devices: the GPUs where two or more are visible, one GPU split into logical
    GPUs, or else the CPU split into logical CPUs."""

    def __init__(self) -> None:
        gpus = tf.config.list_physical_devices("GPU")
        if len(gpus) == 1:
            tf.config.set_logical_device_configuration(
                gpus[0], [tf.config.LogicalDeviceConfiguration(memory_limit=1024)] * MAX_REPLICAS
            )
        elif not gpus:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * MAX_REPLICAS)
        self.devices = [d.name for d in tf.config.list_logical_devices("GPU" if gpus else "CPU")][:MAX_REPLICAS]
        self._groups: dict[int, Group] = {}

    def one(self) -> Group:
        return Group(tf.distribute.get_strategy(), "one device (no strategy)", ["default device"])

    def group(self, n: int) -> Group:
        if n not in self._groups:
            # Strategies in one process share collective group keys from 1; groups of different sizes
            # under one key abort. Each replica count gets its own key range (TF's own tests do this).
            tf.distribute.MirroredStrategy._collective_key_base = 100_000 * n
            self._groups[n] = Group(
                tf.distribute.MirroredStrategy(self.devices[:n]), f"MirroredStrategy over {self.devices[:n]}"
            )
        return self._groups[n]


class MultiWorker:
    """One replica per worker process; TF_CONFIG (set by the suite) names the cluster."""

    def __init__(self) -> None:
        self.strategy = tf.distribute.MultiWorkerMirroredStrategy()
        self.devices = list(self.strategy.extended.worker_devices)

    def one(self) -> Group:
        return Group(tf.distribute.get_strategy(), "one device (no strategy)", ["default device"])

    def group(self, n: int) -> Group:
        if n != self.strategy.num_replicas_in_sync:
            raise ValueError(f"the cluster has {self.strategy.num_replicas_in_sync} replicas, the job asked for {n}")
        return Group(self.strategy, f"MultiWorkerMirroredStrategy over {n} worker processes on 127.0.0.1")


def mirrored() -> Mirrored:
    return Mirrored()


def multi_worker() -> MultiWorker:
    return MultiWorker()
