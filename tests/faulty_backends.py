"""Faults for the claims that compare backends, compiled and eager steps, and devices, next to
the unmodified SGD: each fault takes a longer step only where the claim looks for a difference."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import keras
from keras import ops

from conformance import adapters
from conformance.checks.claims import CLAIMS
from tests.faulty import Fault, sgd

SKEW = 1.001  # 0.1% longer steps: far beyond float32 rounding, invisible to a glance


class TracedSkewSGD(keras.optimizers.SGD):
    """Steps 0.1% longer when traced (tf.function, jit_compile) than eagerly."""

    def update_step(self, gradient, variable, learning_rate):
        import tensorflow as tf

        factor = 1.0 if tf.executing_eagerly() else SKEW
        super().update_step(gradient, variable, ops.multiply(learning_rate, factor))


class BackendSkewedSGD(keras.optimizers.SGD):
    """Steps 0.1% longer on every backend but TensorFlow."""

    def update_step(self, gradient, variable, learning_rate):
        factor = 1.0 if keras.backend.backend() == "tensorflow" else SKEW
        super().update_step(gradient, variable, ops.multiply(learning_rate, factor))


PLACED = {"device": None}  # the device the stand-in scope below placed the step on


class PlacementSkewedSGD(keras.optimizers.SGD):
    """Steps 0.1% longer anywhere but on the CPU."""

    def update_step(self, gradient, variable, learning_rate):
        factor = 1.0 if PLACED["device"] in (None, "cpu:0") else SKEW
        super().update_step(gradient, variable, ops.multiply(learning_rate, factor))


@contextmanager
def stand_in_gpu() -> Iterator[None]:
    """A machine without a GPU pretends to have one: the adapter names one, and its device
    scope only records where the step was placed (so PlacementSkewedSGD can misbehave there)."""
    a = adapters.current()
    saved = a.accelerator, a.on_device

    @contextmanager
    def on_device(name: str) -> Iterator[None]:
        before, PLACED["device"] = PLACED["device"], name
        try:
            yield
        finally:
            PLACED["device"] = before

    a.accelerator, a.on_device = (lambda: "gpu:0"), on_device
    try:
        yield
    finally:
        a.accelerator, a.on_device = saved


def backend_faults() -> list[Fault]:
    out = [Fault(c, sgd(TracedSkewSGD), sgd(keras.optimizers.SGD)) for c in sorted(CLAIMS) if c.startswith("compiled.")]
    for c in sorted(c for c in CLAIMS if c.startswith("backends.")):
        other = c.split(".")[1]
        # Compared from a JAX process where the compared backend is this process's own.
        main = "jax" if other == keras.backend.backend() else None
        out.append(Fault(c, sgd(BackendSkewedSGD), sgd(keras.optimizers.SGD), main_backend=main))
    out.append(Fault("devices.gpu", sgd(PlacementSkewedSGD), sgd(keras.optimizers.SGD), within=stand_in_gpu))
    return out
