"""The built-in optimizers' specs: one module per Keras optimizer, each holding its `SPEC`.

A record is the one home of what the suite knows about that optimizer (its hyperparameters and
argument domains, its reference rule, its torch.optim and optax counterparts, its family, its
numpy benchmark step); the tables the claims used to read (`reference.MODULES`,
`hyperparameters.HYPERPARAMETERS`, ...) are views of these records.

The record modules import the building blocks they share (strategies, domains, reference rules,
mapping targets, numpy steps); none of those imports this package at module level.
"""

from __future__ import annotations

import importlib

from ..spec import OptimizerSpec

# One module per built-in optimizer, each defining SPEC.
MODULES = (
    "adadelta", "adafactor", "adagrad", "adam", "adamax", "adamw", "ftrl", "lamb", "lion",
    "loss_scale_optimizer", "multi_optimizer", "muon", "nadam", "rmsprop", "schedule_free_adamw", "sgd",
)

# The families a built-in's `family` names: optimizers that share the structure of their update
# (and so the places a bug hides), in the order reports list them.
FAMILIES: dict[str, str] = {
    "sgd": "momentum SGD: one velocity, no normalisation",
    "adam-like": "first and second moments with bias corrections (decoupled decay, infinity norm, Nesterov "
    "look-ahead, layer-wise trust ratio and schedule-free averaging are variations on Adam)",
    "accumulator": "per-coordinate accumulators of squared gradients, without Adam's bias corrections",
    "sign": "steps by the sign of an interpolated momentum",
    "orthogonalised": "Newton-Schulz orthogonalised momentum, AdamW for the rest",
    "wrapper": "wrap other optimizers",
}

_BUILTIN: dict[str, OptimizerSpec] | None = None


def builtin() -> dict[str, OptimizerSpec]:
    """Every built-in record, by Keras class name (sorted)."""
    global _BUILTIN
    if _BUILTIN is None:
        records = [importlib.import_module(f"{__name__}.{m}").SPEC for m in MODULES]
        _BUILTIN = {s.name: s for s in sorted(records, key=lambda s: s.name)}
    return _BUILTIN


# Users' records (--optimizer-spec, a class's conformance_spec), by the name their optimizer is
# judged under: the claims look them up as they look up a built-in's.
_USER: dict[str, OptimizerSpec] = {}


def register(name: str, spec: OptimizerSpec) -> None:
    """Make a user's record the one `record(name)` gives."""
    _USER[name] = spec


def record(name: str) -> OptimizerSpec | None:
    """The record of an optimizer name: a user's registered one, else the built-in's (`Adam`),
    None for an unknown one."""
    return _USER.get(name) or builtin().get(name)


def with_field(name: str) -> dict[str, OptimizerSpec]:
    """The built-in records that give `name` (a field of `OptimizerSpec`), by Keras class name."""
    return {n: s for n, s in builtin().items() if getattr(s, name)}
