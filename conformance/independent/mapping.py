"""How a mapping table entry turns a Keras configuration into an independent library's arguments.

Each optimizer's record (conformance/optimizers/) holds one `Target` per library (its `torch` and
`optax` fields; the library module's `SPEC_FIELD` names which): which constructor, how every Keras
hyperparameter maps to its arguments, which Keras values have no counterpart (and what they are
drawn as instead), and the library-only arguments Keras lacks.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from conformance.inputs import arguments


@dataclass(frozen=True)
class Param:
    """A library argument fed by one Keras hyperparameter through a documented transformation."""

    path: str  # the library argument ("betas[0]": an element of a tuple argument)
    convert: Callable[[Any], Any]
    text: str  # how the value is converted, for the table and the failure message

    def __repr__(self) -> str:
        return f"{self.path} = {self.text}"


def negated(path: str, keras_name: str) -> Param:
    return Param(path, lambda v: -v, f"-{keras_name}")


@dataclass(frozen=True)
class Probe:
    """Values at which a suspected difference between the two algorithms vanishes (epsilon 0 for
    a difference in epsilon's placement). On a failure the same inputs are run again with them,
    and the message says whether the two then agree: evidence of the cause, not an assumption."""

    keras: dict[str, Any] = field(default_factory=dict)  # Keras hyperparameters (weight_decay too), mapped as usual
    library: dict[str, Any] = field(default_factory=dict)  # library arguments set directly

    def text(self, label: str) -> str:
        shown = [f"{k}={v!r}" for k, v in self.keras.items()] + [f"{label} {k}={v!r}" for k, v in self.library.items()]
        return ", ".join(shown)


@dataclass(frozen=True)
class Target:
    """One Keras optimizer's counterpart in an independent library.

    `params`: Keras hyperparameter (learning_rate and weight_decay included) -> library argument.
    `adjust`: Keras hyperparameters without a counterpart over part or all of their domain ->
    (the value drawn instead, or a function of the drawn hyperparameters; why), so that only
    configurations where the two algorithms are meant to coincide are compared.
    `library_only`: library arguments Keras has no hyperparameter for -> the value that matches
    Keras's documented algorithm.
    `alternatives`: a Keras flag that, when True, selects another constructor of the library.
    `probes`: see `Probe`.
    """

    constructor: str
    params: dict[str, str | Param]
    adjust: dict[str, tuple[Any, str]] = field(default_factory=dict)
    library_only: dict[str, Any] = field(default_factory=dict)
    alternatives: dict[str, str] = field(default_factory=dict)
    probes: tuple[Probe, ...] = ()

    def constructor_for(self, hp: dict[str, Any]) -> str:
        chosen = [ctor for flag, ctor in self.alternatives.items() if hp.get(flag)]
        return chosen[0] if chosen else self.constructor

    def keras_names(self) -> set[str]:
        return set(self.params) | set(self.adjust) | set(self.alternatives)


def argument_of(dest: str | Param) -> tuple[str, int | None]:
    """("betas", 0) for "betas[0]", ("eps", None) for "eps"."""
    name, sep, rest = (dest.path if isinstance(dest, Param) else dest).partition("[")
    return name, int(rest.rstrip("]")) if sep else None


def _put(kwargs: dict[str, Any], dest: str | Param, value: Any) -> None:
    name, index = argument_of(dest)
    if index is None:
        kwargs[name] = value
        return
    items = list(kwargs.get(name, ()))
    items += [None] * (index + 1 - len(items))
    items[index] = value
    kwargs[name] = tuple(items)


def adjusted(target: Target, hp: dict[str, Any]) -> dict[str, Any]:
    """The Keras hyperparameters with every `adjust` entry applied (values, then functions)."""
    out = dict(hp)
    for name, (value, _why) in target.adjust.items():
        out[name] = value(out) if callable(value) else value
    return out


def _converted(name: str, dest: str | Param, value: Any) -> Any:
    if name == "weight_decay" and value is None:  # Keras's None: no decay
        value = 0.0
    return dest.convert(value) if isinstance(dest, Param) else value


def library_kwargs(
    target: Target, hp: dict[str, Any], overrides: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """(constructor, keyword arguments) of the library call for the Keras hyperparameters `hp`
    (learning_rate and weight_decay included); `overrides` set library arguments directly."""
    unknown = set(hp) - target.keras_names()
    if unknown:
        raise ValueError(f"the mapping table to {target.constructor} does not say what {sorted(unknown)} map to")
    kwargs: dict[str, Any] = {}
    for dest, value in target.library_only.items():
        _put(kwargs, dest, value)
    for name, value in hp.items():
        if name in target.params:
            _put(kwargs, target.params[name], _converted(name, target.params[name], value))
    for dest, value in (overrides or {}).items():
        _put(kwargs, dest, value)
    return target.constructor_for(hp), kwargs


# Hyperparameters are drawn on grids that float32 represents exactly: on the TensorFlow backend a
# Python-float hyperparameter becomes a float32 tensor before it meets a float64 variable, and the
# learning rate is a float32 variable (the reference.trajectory_float64 deviation), so only such
# values are held identically by Keras and by a float64 library.
SIGNIFICANT_BITS = 12
# A decay rate (domain [0, 1]) is used as 1 - rate too: on a fixed grid of 2**-16 both are exact.
RATE_GRID = 2.0**-16


def float32_exact(value: Any, rate: bool = False) -> Any:
    """`value` rounded onto the grid above (non-floats unchanged)."""
    if type(value) is not float or value == 0.0 or not math.isfinite(value):
        return value
    if rate:
        snapped = round(value / RATE_GRID) * RATE_GRID
        # keep a non-zero rate non-zero and a rate below 1 below 1 (their domains may be open there)
        return min(max(snapped, RATE_GRID), 1.0 - RATE_GRID) if 0.0 < value < 1.0 else snapped
    m, e = math.frexp(value)
    return math.ldexp(round(m * 2**SIGNIFICANT_BITS), e - SIGNIFICANT_BITS)


def is_rate(optimizer: str, name: str) -> bool:
    """Whether the documented domain of `name` is a decay rate in [0, 1] (see arguments.py)."""
    domain = arguments.own(optimizer).get(name)
    return domain is not None and domain.lo == 0.0 and domain.hi == 1.0


def describe_call(label: str, constructor: str, kwargs: dict[str, Any]) -> str:
    """`torch.optim.Adam(lr=0.001, betas=(0.9, 0.999), ...)` as text (also reproducer code)."""
    return f"{label}.{constructor}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def _defaults(fn: Callable) -> dict[str, Any]:
    sig = inspect.signature(fn)
    return {
        k: (p.default if p.default is not inspect.Parameter.empty else "required") for k, p in sig.parameters.items()
    }


def default_differences(keras_cls: type, target: Target, library_fn: Callable) -> dict[str, tuple[Any, Any]]:
    """Keras hyperparameter -> (its Keras default, the default of the library argument it maps to),
    where they differ: read from the installed signatures, so they are this environment's."""
    keras_defaults = _defaults(keras_cls.__init__)
    lib_defaults = _defaults(library_fn)
    out = {}
    for name, dest in target.params.items():
        arg, index = argument_of(dest)
        if name not in keras_defaults or arg not in lib_defaults:
            continue
        lib = lib_defaults[arg]
        if index is not None and isinstance(lib, tuple):
            lib = lib[index]
        keras_value = keras_defaults[name]
        seen = _converted(name, dest, keras_value) if isinstance(keras_value, (int, float, type(None))) else keras_value
        absent = (None, 0)  # no momentum, no decay: None and 0 say the same here
        if seen != lib and not (seen in absent and lib in absent):
            out[name] = (keras_value, lib)
    return out
