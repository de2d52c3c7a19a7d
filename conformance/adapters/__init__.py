"""Adapters: the only code that knows which Keras generation is installed.

Scenarios call `current()` and use the adapter's methods; a method the installed generation
cannot express raises `conformance.errors.Unsupported`.
"""

from __future__ import annotations

import functools
import os
from types import ModuleType

# TensorFlow's switch that makes `tf.keras` the tf-keras package (Keras 2) beside Keras 3.
LEGACY_KERAS = "TF_USE_LEGACY_KERAS"


def wants_keras2() -> bool:
    """Whether this process runs Keras 2: TF_USE_LEGACY_KERAS, or a `keras` package older than 3."""
    if os.environ.get(LEGACY_KERAS, "").lower() in ("1", "true", "yes"):
        return True
    import keras

    return int(keras.__version__.split(".")[0]) < 3


@functools.lru_cache(maxsize=None)
def current() -> ModuleType:
    """The adapter module for the installed Keras."""
    if wants_keras2():
        from . import keras2

        return keras2
    from . import keras3

    return keras3
