"""float64 numpy reference update rules, one module per optimizer (see core.py for the contract)."""

from __future__ import annotations

import importlib
from types import ModuleType

# Keras class name -> module under conformance.reference
MODULES = {
    "Adadelta": "adadelta",
    "Adafactor": "adafactor",
    "Adagrad": "adagrad",
    "Adam": "adam",
    "AdamW": "adamw",
    "Adamax": "adamax",
    "Ftrl": "ftrl",
    "Lamb": "lamb",
    "Lion": "lion",
    "Muon": "muon",
    "Nadam": "nadam",
    "RMSprop": "rmsprop",
    "SGD": "sgd",
    "ScheduleFreeAdamW": "schedule_free_adamw",
}


def rule_for(class_name: str) -> ModuleType | None:
    """The reference module for a Keras optimizer class name, or None if there is none."""
    mod = MODULES.get(class_name)
    return importlib.import_module(f"conformance.reference.{mod}") if mod else None
