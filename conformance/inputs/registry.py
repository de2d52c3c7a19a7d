"""The registry of optimizer specs: the built-in ones (one module per Keras optimizer under
`conformance.optimizers`, loaded by name when first asked for) and the users' ones.

The spec modules import the building blocks they share (strategies, domains, reference rules,
mapping targets, numpy steps), so they sit above all of those; the code below them that needs a
spec (argument domains, hyperparameters, reference lookup) asks this registry by name."""


from __future__ import annotations

import importlib

from conformance.inputs.spec import OptimizerSpec

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
        records = [importlib.import_module(f"conformance.optimizers.{m}").SPEC for m in MODULES]
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
