"""User optimizers that misbehave as a process, not as an optimizer: for --claim-timeout and for
crash-proof results files (tests/test_crash_proof.py). Each is SGD until its first update step."""

from __future__ import annotations

import os
import signal
import time

import keras

# AbortingSGD aborts only in tests whose PYTEST_CURRENT_TEST contains this (every test if unset).
ABORT_IN = "MISBEHAVING_ABORT_IN"


class SleepingSGD(keras.optimizers.SGD):
    """Sleeps for an hour in every update step: Python code that a timer can interrupt."""

    def update_step(self, gradient, variable, learning_rate):
        time.sleep(3600)


class HangingSGD(keras.optimizers.SGD):
    """Hangs where no signal handler can run, as native code that never returns would: SIGALRM is
    blocked in this thread before it sleeps."""

    def update_step(self, gradient, variable, learning_rate):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)


class AbortingSGD(keras.optimizers.SGD):
    """Aborts the process (SIGABRT, as a native crash) at its first update step in the tests that
    MISBEHAVING_ABORT_IN selects; elsewhere it is SGD."""

    def update_step(self, gradient, variable, learning_rate):
        if os.environ.get(ABORT_IN, "") in os.environ.get("PYTEST_CURRENT_TEST", ""):
            os.abort()
        super().update_step(gradient, variable, learning_rate)
