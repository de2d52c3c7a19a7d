"""Adapters: the only code that knows which Keras generation is installed.

Scenarios call `current()` and use the adapter's methods; a method the installed generation
cannot express raises `conformance.errors.Unsupported`.
"""

from __future__ import annotations

import functools
from types import ModuleType


@functools.lru_cache(maxsize=None)
def current() -> ModuleType:
    """The adapter module for the installed Keras."""
    import keras

    major = int(keras.__version__.split(".")[0])
    if major >= 3:
        from . import keras3

        return keras3
    from ..errors import Unsupported

    raise Unsupported(f"no adapter for Keras {keras.__version__} yet (Keras 2 is a later issue)")
