"""Isolation: every claim starts from the same process-wide state, whatever ran before it.

Keras keeps global settings (floatx, epsilon, the mixed-precision policy, the distribution) and
the random generators are global too. A claim that changes one and fails halfway would change the
verdicts of every claim after it, and so make verdicts depend on test order and on the seed. The
fixture below records them before each test, puts back what the test changed and names the test
that changed it, then clears Keras's session: its name counters (a state variable named `sgd_546/...`
would otherwise depend on what ran before) and the graphs and objects a test built, which over a
whole run would otherwise fill the machine's memory. `--shuffle SEED` runs the tests in a shuffled
order, the check that order does not matter.
"""

from __future__ import annotations

import random
import sys
import warnings
from typing import Any, Callable, Iterator

import numpy as np
import pytest

from conformance.harness import memory

# A changed global found after a test: (what, before, after).
Leak = tuple[str, Any, Any]


def _settings() -> dict[str, tuple[Callable[[], Any], Callable[[Any], None]]]:
    """Name -> (get, set) of every process-wide setting a claim could change."""
    from conformance.adapters import current

    keras = current().keras_module
    config = getattr(keras, "config", None) or keras.backend  # Keras 2 keeps them in keras.backend
    out = {
        "floatx": (config.floatx, config.set_floatx),
        "epsilon": (config.epsilon, config.set_epsilon),
        "image_data_format": (config.image_data_format, config.set_image_data_format),
        "python random": (random.getstate, random.setstate),
        "numpy random": (np.random.get_state, np.random.set_state),
    }
    precision = getattr(keras, "mixed_precision", None)
    if precision is not None:
        out["mixed precision policy"] = (lambda: precision.global_policy().name, precision.set_global_policy)
    distribution = getattr(keras, "distribution", None)
    if distribution is not None and hasattr(distribution, "set_distribution"):
        out["distribution"] = (distribution.distribution, distribution.set_distribution)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):  # numpy's state holds an array
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a is b or a == b


def restoring() -> Iterator[list[Leak]]:
    """Record the settings, yield a list, then restore every changed one and list it there."""
    settings = _settings()
    before = {name: get() for name, (get, _) in settings.items()}
    leaks: list[Leak] = []
    yield leaks
    for name, (get, put) in settings.items():
        now = get()
        if not _same(now, before[name]):
            put(before[name])
            # The random generators are reseeded by design (hypothesis does, per example); only
            # Keras's own settings are worth naming.
            if "random" not in name:
                leaks.append((name, before[name], now))


def _clear_session() -> None:
    from conformance.adapters import current

    keras = current().keras_module
    keras.backend.clear_session()
    if getattr(getattr(keras, "config", None), "backend", lambda: "")() == "jax":  # Keras 2 has no config
        # Keras's clear_session leaves JAX's compilation caches, which otherwise keep every
        # test's compiled steps (keras3-jax workers grew to 4.7 GB over a run).
        sys.modules["jax"].clear_caches()
    memory.release()


class LeakedGlobalState(UserWarning):
    """A test left a Keras global setting changed (it has been put back)."""


@pytest.fixture(autouse=True)
def keras_globals_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """Restore Keras's global settings and the random generators after every test; a test that
    changed a setting is named in pytest's warnings summary."""
    gen = restoring()
    leaks = next(gen)
    yield
    next(gen, None)
    _clear_session()
    if leaks:
        changes = "; ".join(f"{name} {before!r} -> {after!r}" for name, before, after in leaks)
        warnings.warn(LeakedGlobalState(f"{request.node.nodeid} changed {changes} (restored)"), stacklevel=1)


def shuffle(items: list[pytest.Item], seed: int) -> None:
    """Reorder `items` in place, the same way for the same seed."""
    random.Random(seed).shuffle(items)
