"""The specs: what the suite knows about each optimizer, built-in or user-supplied.

A spec yields, through hypothesis, a `Setup`: one concrete configuration (hyperparameters, base
options, learning rate) that can build a fresh Keras optimizer, name its reference rule and print
itself as reproducer code.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from . import reference
from .adapters import current as adapter
from .errors import Unsupported
from .hyperparameters import HYPERPARAMETERS, hyperparameters, learning_rates
from .learning_rates import LearningRate
from .options import Options, options

DTYPES = ("float32", "float64", "float16", "bfloat16")
WRAPPERS = ("LossScaleOptimizer", "MultiOptimizer")
# Wrappers are checked around the most used optimizers, so that a wrapper's verdict is about the
# wrapper rather than the union of every inner optimizer's own findings.
WRAPPER_INNER = ("SGD", "Adam")
# Documented defaults of `weight_decay` where it is not None.
DEFAULT_WEIGHT_DECAY = {"AdamW": 0.004, "Muon": 0.004}


@dataclass(frozen=True)
class Code:
    """A constructor argument given with the code that makes it (a function, an object)."""

    value: Any
    text: str

    def __repr__(self) -> str:
        return self.text


# An `extra` value that removes the keyword (the variant without an argument a claim added).
OMIT = Code(None, "<omitted>")


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Code) else v


@dataclass
class Setup:
    """One drawn configuration of one optimizer."""

    spec: str
    hp: dict[str, Any]
    opts: Options
    lr: LearningRate
    reference: ModuleType | None
    build: Callable[[], Any]
    code: str  # a Python expression that builds the same optimizer (keras + numpy only)
    imports: str = ""
    # `variant(hp=, opts=, lr=, extra=, own=)`: the same optimizer with some of its configuration
    # replaced (`extra`: raw constructor keywords; `own`: a wrapper's own keywords). None where
    # the suite cannot construct it otherwise (a user factory, an optimizer without a spec).
    variant: Callable[..., "Setup"] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"learning_rate": self.lr.describe(), **self.hp, **self.opts.kwargs(), **{k: repr(v) for k, v in self.extra.items()}}

    def vary(self, **changes: Any) -> "Setup":
        """`variant(**changes)`, or Unsupported where this setup has none."""
        if self.variant is None:
            raise Unsupported(f"{self.spec}: the suite cannot construct it with another configuration (no spec)")
        return self.variant(**changes)

    def __repr__(self) -> str:  # hypothesis prints this in falsifying examples
        return f"<{self.code}>"


@dataclass
class Spec:
    name: str
    kind: str  # "built-in" | "wrapper" | "user" | "unspecced"
    setups: st.SearchStrategy[Setup]
    note: str = ""
    parent: str | None = None
    cls: type | None = None  # the optimizer class, where there is one (not for a factory)
    # The optimizer as a user constructs it with no arguments (the defaults condition), where that
    # differs from the one configuration a spec has (a factory's, a class without a spec).
    defaults: Callable[[], Setup] | None = None

    def default_setup(self) -> Setup:
        """The defaults condition's setup: `defaults()`, else the spec's only configuration."""
        if self.defaults is not None:
            return self.defaults()
        from .corners import fixed_draw  # a spec of one configuration: its strategy is a `just`

        return fixed_draw(self.setups)

    def __repr__(self) -> str:  # keeps hypothesis's failing-example report short
        return f"Spec({self.name!r})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis's pretty printer
        p.text(repr(self))


def _kwargs_code(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _setup(
    name: str, cls: type, ctor: str, rule_name: str | None, imports: str,
    hp: dict[str, Any], opts: Options, lr: LearningRate, extra: dict[str, Any] | None = None,
    implicit: dict[str, Any] | None = None,
) -> Setup:
    """A plain optimizer's setup: `cls(learning_rate=..., **hp, **options, **extra)`, leaving out
    every keyword whose value is the class's own default in `implicit` (the defaults condition's
    optimizer is constructed as a user does, with no arguments; a claim's option then adds one)."""
    keras = adapter().keras_module
    extra = {k: v for k, v in (extra or {}).items() if v is not OMIT}
    refused = set(opts.kwargs()) - adapter().accepted_options(cls)
    if refused:
        raise Unsupported(f"{cls.__module__}.{cls.__name__} has no {', '.join(sorted(refused))} argument")
    given = {"learning_rate": lr, **hp, **opts.kwargs(), **extra}  # an `extra` learning_rate replaces lr
    if implicit:
        given = {k: v for k, v in given.items() if k not in implicit or implicit[k] != v}
    shown = {k: Code(None, v.code()) if v is lr else v for k, v in given.items()}

    def build() -> Any:
        return cls(**{k: v.keras(keras) if v is lr else _value(v) for k, v in given.items()})

    def variant(
        hp: dict | None = None, opts: Options | None = None, lr: LearningRate | None = None,
        extra: dict | None = None, own: dict | None = None,
    ) -> Setup:
        return _setup(name, cls, ctor, rule_name, imports, s.hp if hp is None else hp, s.opts if opts is None else opts,
                      s.lr if lr is None else lr, {**s.extra, **(extra or {}), **(own or {})}, implicit)

    s = Setup(name, hp, opts, lr, reference.rule_for(rule_name) if rule_name else None, build,
              f"{ctor}({_kwargs_code(shown)})", imports, variant, extra)
    return s


def own_defaults(cls: type, rule_name: str | None) -> tuple[dict[str, Any], Options, LearningRate]:
    """The hyperparameters, base options and learning rate the class gives itself, read from the
    configuration of an instance constructed with no arguments (not from a table)."""
    with adapter().keras_call(f"constructing {cls.__name__}() with no arguments"):
        config = cls().get_config()
    rule = reference.rule_for(rule_name) if rule_name else None
    hp = {k: list(config[k]) if isinstance(config[k], (list, tuple)) else config[k]  # not Keras's tracked lists
          for k in (getattr(rule, "DEFAULTS", None) or {}) if k in config}
    opts = Options(**{k: config[k] for k in Options.__dataclass_fields__ if config.get(k) is not None})
    lr = config.get("learning_rate")
    if not isinstance(lr, (int, float)):
        raise Unsupported(f"{cls.__name__}() has a learning rate the suite cannot read as a number ({lr!r})")
    # Keras keeps the rate in a float32 variable: its shortest decimal, as a user writes it (0.01).
    return hp, opts, LearningRate("constant", {"value": float(str(np.float32(lr)))})


def _plain(
    name: str, cls: type, ctor_code: str, imports: str = "", kind: str = "built-in", parent: str | None = None
) -> Spec:
    rule_name = parent or adapter().rule_name(name)

    def make(hp: dict, opts: Options, lr: LearningRate) -> Setup:
        return _setup(name, cls, ctor_code, rule_name, imports, hp, opts, lr)

    def defaults() -> Setup:
        hp, opts, lr = own_defaults(cls, rule_name)
        return _setup(name, cls, ctor_code, rule_name, imports, hp, opts, lr,
                      implicit={"learning_rate": lr, **hp, **opts.kwargs()})

    opts = options(default_weight_decay=DEFAULT_WEIGHT_DECAY.get(rule_name), accepted=adapter().accepted_options(cls))
    # `legacy.Adam` (Keras 2) has Adam's rule and tables: its parent, as for a user subclass.
    parent = parent or (rule_name if rule_name != name else None)
    return Spec(name, kind, st.builds(make, hyperparameters(rule_name), opts, learning_rates), parent=parent, cls=cls,
                defaults=defaults)


def _wrapped(name: str, s: Setup, wrapper_own: dict[str, Any], build: Callable[[], Any], code: str, remake: Callable) -> Setup:
    """A wrapper's setup: `own` changes go to the wrapper's keywords, other changes to the inner setup."""

    def variant(own: dict[str, Any] | None = None, **inner_changes: Any) -> Setup:
        return remake(s.vary(**inner_changes) if inner_changes else s, {**wrapper_own, **(own or {})})

    return Setup(name, s.hp, s.opts, s.lr, s.reference, build=build, code=code, imports=s.imports, variant=variant, extra=wrapper_own)


def _scaled(cls: type, ctor: str, name: str, s: Setup, own: dict[str, Any]) -> Setup:
    return _wrapped(
        name, s, own, lambda: cls(s.build(), **{k: _value(v) for k, v in own.items()}),
        f"{ctor}({', '.join(filter(None, (s.code, _kwargs_code(own))))})", lambda s2, own2: _scaled(cls, ctor, name, s2, own2),
    )


def loss_scaled(setup: Setup, own: dict[str, Any]) -> Setup:
    """`setup` inside a LossScaleOptimizer with the keywords `own` (or, if it is one, re-made with them)."""
    a = adapter()
    with a.keras_call(f"constructing {setup.code}"):
        if a.is_loss_scale(setup.build()):
            return setup.vary(own=own)
    if not hasattr(a.keras_module.optimizers, "LossScaleOptimizer"):
        raise Unsupported(f"no keras.optimizers.LossScaleOptimizer in Keras {a.versions()['keras']} ({a.GENERATION})")
    return _scaled(a.keras_module.optimizers.LossScaleOptimizer, "keras.optimizers.LossScaleOptimizer", setup.spec, setup, own)


def wrapper_spec(cls: type, inner: list[Spec], name: str | None = None) -> Spec:
    """LossScaleOptimizer or MultiOptimizer (or a subclass) around any of the `inner` specs."""
    keras = adapter().keras_module
    name = name or cls.__name__
    inner_setups = st.one_of(*[s.setups for s in inner])
    ctor = f"keras.optimizers.{name}" if name in WRAPPERS else cls.__name__
    # Its defaults: the wrapper's own, around the first inner optimizer's (SGD()'s) defaults.
    first = next((s for s in inner if s.name == WRAPPER_INNER[0]), inner[0] if inner else None)

    if issubclass(cls, keras.optimizers.LossScaleOptimizer):

        def draw(s: Setup, scale_exp: int, growth: int) -> Setup:
            return _scaled(cls, ctor, name, s, {"initial_scale": 2.0**scale_exp, "dynamic_growth_steps": growth})

        return Spec(name, "wrapper", st.builds(draw, inner_setups, st.integers(0, 15), st.integers(1, 3)), cls=cls,
                    defaults=first and (lambda: _scaled(cls, ctor, name, first.default_setup(), {})))

    def make_multi(s: Setup, own: dict[str, Any]) -> Setup:
        # Two sub-optimizers of the same configuration: v0 goes to one, the rest to the default.
        def build() -> Any:
            omap = keras.optimizers.OptimizerMap(default_optimizer=s.build(), optimizer_map={"v0": s.build()})
            return cls(omap, **{k: _value(v) for k, v in own.items()})

        code = (
            f"{ctor}(keras.optimizers.OptimizerMap("
            f"default_optimizer={s.code}, optimizer_map={{'v0': {s.code}}}){', ' if own else ''}{_kwargs_code(own)})"
        )
        return _wrapped(name, s, own, build, code, make_multi)

    return Spec(name, "wrapper", st.builds(make_multi, inner_setups, st.just({})), cls=cls,
                defaults=first and (lambda: make_multi(first.default_setup(), {})))


def fixed_spec(
    name: str, cls: type, parent: str, hp: dict[str, Any], opts: Options, lr: LearningRate, imports: str = ""
) -> Spec:
    """A spec with one fixed configuration (inputs are still drawn): for the suite's own tests."""
    ctor = f"keras.optimizers.{cls.__name__}" if cls.__module__.startswith("keras") else cls.__name__
    setup = _setup(name, cls, ctor, parent, imports, hp, opts, lr)
    return Spec(name, "user", st.just(setup), parent=parent, cls=cls)


def _unspecced(name: str, cls: type) -> Spec:
    setup = Setup(name, {}, Options(), LearningRate("constant", {"value": 0.001}), None, cls, f"keras.optimizers.{name}()")
    return Spec(name, "unspecced", st.just(setup), note=f"no spec for {name}: built with its defaults, no reference", cls=cls)


def builtin_specs() -> list[Spec]:
    """A spec for every optimizer the installed Keras exports; unknown ones are marked unspecced."""
    a = adapter()
    exported = a.exported_optimizers()
    known = {n for n in exported if a.rule_name(n) in reference.MODULES and a.rule_name(n) in HYPERPARAMETERS}
    plain = [_plain(n, c, f"keras.optimizers.{n}") for n, c in exported.items() if n in known]
    out = list(plain)
    for n, c in exported.items():
        if n in WRAPPERS:
            out.append(wrapper_spec(c, [s for s in plain if s.name in WRAPPER_INNER], n))
        elif n not in known:
            out.append(_unspecced(n, c))
    return sorted(out, key=lambda s: s.name)


class UsageError(Exception):
    """A bad --optimizer value: reported as a one-line usage error."""


def load_object(path: str) -> Any:
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"--optimizer {path!r}: expected MODULE:CLASS (e.g. mypkg.opt:MyAdam)")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - any import failure is a usage error
        raise UsageError(f"--optimizer {path!r}: cannot import {module_name!r}: {type(e).__name__}: {e}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"--optimizer {path!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _builtin_parent(cls: type, include_self: bool = False) -> str | None:
    """The nearest built-in optimizer with a reference among `cls`'s bases."""
    exported = adapter().exported_optimizers()
    for base in cls.__mro__[0 if include_self else 1 :]:
        if exported.get(base.__name__) is base and base.__name__ in reference.MODULES:
            return base.__name__
    return None


def user_spec(path: str) -> Spec:
    """A spec for `--optimizer MODULE:CLASS` (a class or a zero-argument factory)."""
    obj = load_object(path)
    module_name, _, attr = path.partition(":")
    imports = f"from {module_name} import {attr.split('.')[0]}"
    base = adapter().BASE_CLASS
    if inspect.isclass(obj):
        if not issubclass(obj, base):
            bases = " or ".join(f"{b.__module__}.{b.__name__}" for b in (base if isinstance(base, tuple) else (base,)))
            raise UsageError(f"--optimizer {path!r}: {obj!r} is not a subclass of {bases}")
        parent = _builtin_parent(obj)
        if parent is None:
            setup = Setup(path, {}, Options(), LearningRate("constant", {"value": 0.001}), None, obj, f"{attr}()", imports)
            return Spec(path, "user", st.just(setup), note="no built-in parent: defaults only, no reference", cls=obj)
        return _plain(path, obj, attr, imports=imports, kind="user", parent=parent)
    if callable(obj):
        try:
            sample = obj()
        except Exception as e:  # noqa: BLE001
            raise UsageError(f"--optimizer {path!r}: calling the factory raised {type(e).__name__}: {e}") from None
        if not isinstance(sample, base):
            raise UsageError(f"--optimizer {path!r}: the factory returned {type(sample).__name__}, not an optimizer")
        return _factory_spec(path, obj, attr, imports, sample)
    raise UsageError(f"--optimizer {path!r}: {obj!r} is neither an optimizer class nor a factory")


def _factory_spec(path: str, factory: Callable, attr: str, imports: str, sample: Any) -> Spec:
    """A factory fixes its own configuration: read it back from get_config()."""
    parent = _builtin_parent(type(sample), include_self=True)
    config = sample.get_config()
    rule = reference.rule_for(parent) if parent else None
    hp = {k: config[k] for k in (rule.DEFAULTS if rule else {}) if k in config}
    opts = Options(**{k: config[k] for k in Options.__dataclass_fields__ if k in config})
    lr_value = config.get("learning_rate")
    lr = LearningRate("constant", {"value": lr_value if isinstance(lr_value, float) else 0.001})
    if not isinstance(lr_value, float):
        rule = None  # a schedule we cannot see into: no reference
    setup = Setup(path, hp, opts, lr, rule, factory, f"{attr}()", imports)
    return Spec(path, "user", st.just(setup), parent=parent)


def layouts(specs: list[Spec]) -> list[dict[str, Any]]:
    """The state layout of every optimizer built with its defaults, so that a layout change
    between versions shows in the results; an optimizer that cannot be built so says why."""
    a = adapter()
    classes = a.exported_optimizers()
    out = []
    for spec in specs:
        cls = classes.get(spec.name)
        try:
            if cls is None:  # a user optimizer: its own zero-argument construction
                obj = load_object(spec.name)
                opt = obj() if callable(obj) else obj
            else:
                opt = a.default_instance(spec.name, cls)
            out.append({"optimizer": spec.name, "shapes": [list(s) for s in a.LAYOUT_SHAPES], "variables": a.state_layout(opt)})
        except Exception as e:  # noqa: BLE001 - recorded, not fatal: the claims will say more
            out.append({"optimizer": spec.name, "error": f"{type(e).__name__}: {e}"})
    return out
