"""Activates the suite's pytest plugin for `pytest conformance`, and its isolation fixture."""

from conformance.isolation import keras_globals_restored  # noqa: F401 - an autouse fixture

from conformance.plugin import (  # noqa: F401 - pytest finds hooks by name
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_configure_node,
    pytest_generate_tests,
    pytest_ignore_collect,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_sessionstart,
    pytest_terminal_summary,
    pytest_unconfigure,
)
