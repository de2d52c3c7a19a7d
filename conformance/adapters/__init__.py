"""Adapters: the only code that knows which Keras generation is installed.

Scenarios call `current()` and use the adapter's methods; a method the installed generation
cannot express raises `conformance.core.errors.Unsupported`.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from conformance.adapters.interface import Adapter

# TensorFlow's switch that makes `tf.keras` the tf-keras package (Keras 2) beside Keras 3.
LEGACY_KERAS = "TF_USE_LEGACY_KERAS"


def wants_keras2() -> bool:
    """Whether this process runs Keras 2: TF_USE_LEGACY_KERAS, or a `keras` package older than 3."""
    if os.environ.get(LEGACY_KERAS, "").lower() in ("1", "true", "yes"):
        return True
    import keras

    return int(keras.__version__.split(".")[0]) < 3


@functools.lru_cache(maxsize=None)
def current() -> Adapter:
    """The adapter for the installed Keras: the module implementing the interface for its generation."""
    if wants_keras2():
        from conformance.adapters import keras2

        return cast("Adapter", keras2)
    from conformance.adapters import keras3

    return cast("Adapter", keras3)

# The implementations, by generation (tests/test_adapter.py checks each against the interface).
IMPLEMENTATIONS = {"keras3": "conformance.adapters.keras3", "keras2": "conformance.adapters.keras2"}
