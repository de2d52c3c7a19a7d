"""Claims: one checkable sentence each, with an id, its text and its source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

import pytest

from conformance.core import hypothesis_hooks
from conformance.inputs import corners

F = TypeVar("F", bound=Callable)


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    source: str


CLAIMS: dict[str, Claim] = {}

# Where the claims come from: the users' questions (../shared/seeds/) and the pages they cite, each
# named after what it asks (a claim's `source` quotes it).
SOURCES = {
    "INITIALISE_STATE": (
        "Q&A: 'How can I initialize a TensorFlow 2 Keras optimizer's state without applying gradients?'"
    ),
    "ARGUMENT_STRUCTURE": "Q&A: 'What is the valid argument structure for optimizer_experimental.Optimizer?'",
    "RESET": "Q&A: 'How can I reset a stateful optimizer without recompiling the model?'",
    "OPTIMIZER_DOCS": "Keras API reference / Optimizers (keras.io/api/optimizers/)",
    "STATE_PERSISTS": "Q&A: 'Does tf.zeros() return tf.get_variable()?' (optimizer state persists between steps)",
    "UNKNOWN_VARIABLE": (
        "Q&A / GitHub issues: 'The optimizer cannot recognize variable ...' (Keras 2) and 'Unknown variable: ... "
        "This optimizer can only be called for the variables it was originally built with' (Keras 3), met when "
        "one optimizer updates parts of a model separately (github.com/Esri/arcgis-python-api/issues/1849, "
        "github.com/mrosol/Nonlincausality/pull/12)"
    ),
}

# The base-optimizer arguments every Keras optimizer documents (Optimizer docstring, keras.io).
BASE_DOCS = "Keras docs: base optimizer arguments (keras.io/api/optimizers/, Optimizer class)"


def claim(id: str, text: str, source: str, conditions: tuple[str, ...] | None = None) -> Callable[[F], F]:
    """Mark a scenario test as the check of one claim, checked per condition (conditions.py):
    `conditions` the fixed ones it checks before its drawn examples (by default every one, or the
    defaults alone for a claim too costly for corners)."""
    c = Claim(id, text, source)
    fixed = conditions
    if id in CLAIMS and CLAIMS[id] != c:
        raise ValueError(f"claim {id!r} defined twice")
    CLAIMS[id] = c

    def mark(fn: F) -> F:
        from conformance.inputs import anchors
        from conformance.inputs import conditions as _conditions

        names: tuple[str, ...] = ()
        if _draws_data(fn):
            fn = corners.with_corners(fn)
            names = fixed if fixed is not None else _conditions.FIXED
            if not getattr(fn, "hypothesis_explicit_examples", None):
                # A costly claim (too few examples for corners) checks its first anchor (every
                # hyperparameter at the top of its range) and, of the fixed conditions, the defaults.
                fn = anchors.with_anchors(fn, anchors.COSTLY)
                names = _conditions.DEFAULTS_ONLY
        fn = _conditions.with_conditions(fn, names, c.id)
        fn.claim = c  # type: ignore[attr-defined]
        return pytest.mark.claim(c)(fn)

    return mark


def _draws_data(fn: Callable) -> bool:
    """A @given test whose one drawn argument is `data` (every scenario's, the state machine's aside)."""
    return hypothesis_hooks.given_arguments(fn) == {"data"}
