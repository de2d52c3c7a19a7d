"""float64 numpy reference update rules, one module per optimizer (see core.py for the contract)."""

from __future__ import annotations

from types import ModuleType
from typing import Any


def rule_for(class_name: str) -> ModuleType | None:
    """The reference module for a Keras optimizer class name, or None if there is none (its
    record's `reference`, conformance/optimizers/)."""
    from conformance.inputs import registry

    spec = registry.record(class_name)
    return spec.reference if spec is not None else None


def __getattr__(name: str) -> Any:
    # MODULES (Keras class name -> module under conformance.reference), a view of the records.
    if name == "MODULES":
        from conformance.inputs import registry

        return {n: s.reference.__name__.rpartition(".")[2] for n, s in registry.with_field("reference").items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
