"""The suite's isolation fixture; its hooks come from the `pytest11` entry point (pytest_plugin.py)."""

from conformance.harness.isolation import keras_globals_restored  # noqa: F401 - an autouse fixture
