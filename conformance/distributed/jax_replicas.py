"""Replication on JAX (runs in a worker started with XLA_FLAGS forcing MAX_REPLICAS host devices):
keras.distribution.DataParallel. Each replica's gradient is one shard of a batch-sharded array
and the step's gradient is its sum, computed by XLA across the devices (an all-reduce)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Callable, ContextManager

import jax
import keras
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from conformance.core.errors import Unsupported
from conformance.distributed import MAX_REPLICAS


class Group:
    def __init__(self, devices: list, distributed: bool = True) -> None:
        self.n = len(devices)
        self.devices = [str(d) for d in devices]
        self.describe = (
            f"keras.distribution.DataParallel over {self.devices}" if distributed else "one device (no distribution)"
        )
        self.distribution = keras.distribution.DataParallel(devices=devices) if distributed else None
        mesh = Mesh(np.array(devices), ("batch",))
        self._sharded = NamedSharding(mesh, PartitionSpec("batch"))
        self._total = jax.jit(
            lambda xs: [x.sum(axis=0) for x in xs], out_shardings=NamedSharding(mesh, PartitionSpec())
        )

    def scope(self) -> ContextManager:
        return self.distribution.scope() if self.distribution else nullcontext()

    def stepper(self, opt: Any, vars_: list, compiled: bool, apply: Callable | None = None) -> Callable[[list], None]:
        """apply_gradients on the summed gradients, or, `compiled`, a jax.jit of stateless_apply."""
        from conformance.adapters import current

        if apply is not None:
            raise Unsupported(
                "JAX has no replica context: a DataParallel gradient is summed by XLA before the optimizer sees it"
            )
        a = current()
        jitted = jax.jit(opt.stateless_apply)

        def step(by_replica: list[list[np.ndarray]]) -> None:
            stacked = [
                jax.device_put(np.stack([grads[i] for grads in by_replica]).astype(a.np_dtype(v.dtype)), self._sharded)
                for i, v in enumerate(vars_)
            ]
            grads = self._total(stacked)
            if not compiled:
                opt.apply_gradients(zip(grads, vars_))
                return
            if not opt.built:  # stateless_apply needs the state it threads through
                opt.build(vars_)
            weights, state = jitted([v.value for v in opt.variables], grads, [v.value for v in vars_])
            for v, x in zip(vars_, weights):
                v.assign(x)
            for v, x in zip(opt.variables, state):
                v.assign(x)

        return step

    def local(self, var: Any) -> list[np.ndarray]:
        return [np.asarray(s.data) for s in var.value.addressable_shards]


class DataParallel:
    def __init__(self) -> None:
        devices = jax.devices()
        self._devices = (devices if len(devices) >= 2 else jax.devices("cpu"))[:MAX_REPLICAS]
        self.devices = [str(d) for d in self._devices]
        self._groups: dict[int, Group] = {}

    def one(self) -> Group:
        return Group(self._devices[:1], distributed=False)

    def group(self, n: int) -> Group:
        if n not in self._groups:
            self._groups[n] = Group(self._devices[:n])
        return self._groups[n]


def data_parallel() -> DataParallel:
    return DataParallel()
