"""The specs: what the suite knows about each optimizer, built-in or user-supplied.

A spec yields, through hypothesis, a `Setup`: one concrete configuration (hyperparameters, base
options, learning rate) that can build a fresh Keras optimizer, name its reference rule and print
itself as reproducer code.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.core.errors import Unsupported
from conformance.inputs import registry
from conformance.inputs.hyperparameters import learning_rates
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.options import Options, options
from conformance.inputs.spec import OptimizerSpec

WRAPPERS = ("LossScaleOptimizer", "MultiOptimizer")
# Wrappers are checked around the most used optimizers, so that a wrapper's verdict is about the
# wrapper rather than the union of every inner optimizer's own findings.
WRAPPER_INNER = ("SGD", "Adam")


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
    # A wrapper's: the setup of the optimizer it wraps (run alone, it is what a wrapper is compared with).
    inner: "Setup | None" = None

    def describe(self) -> dict[str, Any]:
        return {
            "learning_rate": self.lr.describe(),
            **self.hp,
            **self.opts.kwargs(),
            **{k: repr(v) for k, v in self.extra.items()},
        }

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
    record: OptimizerSpec | None = None  # the OptimizerSpec its knowledge comes from
    # The built-ins (and abstract bases) a user's optimizer inherits from, nearest first: it is
    # judged with their declared deviations.
    parents: tuple[str, ...] = ()

    def default_setup(self) -> Setup:
        """The defaults condition's setup: `defaults()`, else the spec's only configuration."""
        if self.defaults is not None:
            return self.defaults()
        from conformance.inputs.corners import fixed_draw  # a spec of one configuration: its strategy is a `just`

        return fixed_draw(self.setups)

    def __repr__(self) -> str:  # keeps hypothesis's failing-example report short
        return f"Spec({self.name!r})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis's pretty printer
        p.text(repr(self))


def _kwargs_code(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _setup(
    name: str,
    cls: type,
    ctor: str,
    rule: Any,
    imports: str,
    hp: dict[str, Any],
    opts: Options,
    lr: LearningRate,
    extra: dict[str, Any] | None = None,
    implicit: dict[str, Any] | None = None,
    construct: Callable[..., Any] | None = None,
) -> Setup:
    """A plain optimizer's setup: `cls(learning_rate=..., **hp, **options, **extra)` (or a spec's
    `construct(...)`), leaving out every keyword whose value is the class's own default in
    `implicit` (the defaults condition's optimizer is constructed as a user does, with no
    arguments; a claim's option then adds one)."""
    keras = adapter().keras_module
    extra = {k: v for k, v in (extra or {}).items() if v is not OMIT}
    refused = set(opts.kwargs()) - adapter().accepted_options(cls)
    if refused:
        # (a Keras 2 legacy optimizer's own `weight_decay` is its hyperparameter, not this option)
        raise Unsupported(
            f"{cls.__module__}.{cls.__name__} does not take the base Optimizer option {', '.join(sorted(refused))}"
        )
    given = {"learning_rate": lr, **hp, **opts.kwargs(), **extra}  # an `extra` learning_rate replaces lr
    if implicit:
        given = {k: v for k, v in given.items() if k not in implicit or implicit[k] != v}
    shown = {k: Code(None, v.code()) if v is lr else v for k, v in given.items()}
    make = construct or cls

    def build() -> Any:
        return make(**{k: v.keras(keras) if v is lr else _value(v) for k, v in given.items()})

    def variant(
        hp: dict | None = None,
        opts: Options | None = None,
        lr: LearningRate | None = None,
        extra: dict | None = None,
        own: dict | None = None,
    ) -> Setup:
        return _setup(
            name,
            cls,
            ctor,
            rule,
            imports,
            s.hp if hp is None else hp,
            s.opts if opts is None else opts,
            s.lr if lr is None else lr,
            {**s.extra, **(extra or {}), **(own or {})},
            implicit,
            construct,
        )

    s = Setup(name, hp, opts, lr, rule, build, f"{ctor}({_kwargs_code(shown)})", imports, variant, extra)
    return s


def base_options(config: dict[str, Any], cls: type) -> Options:
    """The base options a configuration holds, of those the class takes as base options (a Keras 2
    legacy optimizer's own `weight_decay` is its hyperparameter, not the base option)."""
    accepted = adapter().accepted_options(cls)
    return Options(
        **{k: config[k] for k in Options.__dataclass_fields__ if config.get(k) is not None and k in accepted}
    )


def is_number(value: Any) -> bool:
    """A constant learning rate in a config: tf.keras 2 gives a numpy float32 (np.float32(0.01)),
    Keras 3 a Python float; a schedule is a dict or an object."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def own_defaults(make: Callable[[], Any], rule: Any) -> tuple[dict[str, Any], Options, LearningRate]:
    """The hyperparameters, base options and learning rate the optimizer gives itself, read from the
    configuration of an instance constructed with no arguments (not from a table)."""
    name = getattr(make, "__name__", "the optimizer")
    with adapter().keras_call(f"constructing {name}() with no arguments"):
        instance = make()
        config = instance.get_config()
    hp = {
        k: list(config[k]) if isinstance(config[k], (list, tuple)) else config[k]  # not Keras's tracked lists
        for k in (getattr(rule, "DEFAULTS", None) or {})
        if k in config
    }
    opts = base_options(config, type(instance))
    lr = config.get("learning_rate")
    if not is_number(lr):
        raise Unsupported(f"{name}() has a learning rate the suite cannot read as a number ({lr!r})")
    # Keras keeps the rate in a float32 variable: its shortest decimal, as a user writes it (0.01).
    return hp, opts, LearningRate("constant", {"value": float(str(np.float32(lr)))})


def plain_spec(
    name: str,
    cls: type,
    ctor_code: str,
    imports: str = "",
    kind: str = "built-in",
    parent: str | None = None,
    record: OptimizerSpec | None = None,
    construct: Callable[..., Any] | None = None,
    parents: tuple[str, ...] = (),
) -> Spec:
    """A spec from an OptimizerSpec record: `record` (a user's), else the built-in record of
    `parent` (or of the class's own name). Without a record, hyperparameters are left at the
    class's defaults and the base options are drawn: no reference."""
    if record is not None and kind != "built-in":
        # a user's own record: the claims look it up under the optimizer's own name
        registry.register(name, record)
        parent = None
    rule_name = parent or adapter().rule_name(name)
    record = record or registry.record(rule_name) or OptimizerSpec(name)
    rule = record.reference

    def make(hp: dict, opts: Options, lr: LearningRate) -> Setup:
        return _setup(name, cls, ctor_code, rule, imports, hp, opts, lr, construct=construct)

    def defaults() -> Setup:
        hp, opts, lr = own_defaults(construct or cls, rule)
        return _setup(
            name,
            cls,
            ctor_code,
            rule,
            imports,
            hp,
            opts,
            lr,
            implicit={"learning_rate": lr, **hp, **opts.kwargs()},
            construct=construct,
        )

    opts = options(default_weight_decay=record.default_weight_decay, accepted=adapter().accepted_options(cls))
    hp = st.fixed_dictionaries({}, optional=dict(record.hyperparameters))  # some drawn, the rest at their defaults
    # `legacy.Adam` (Keras 2) has Adam's rule and tables: its parent, as for a user subclass.
    parent = parent or (rule_name if rule_name != name else None)
    return Spec(
        name,
        kind,
        st.builds(make, hp, opts, learning_rates),
        parent=parent,
        cls=cls,
        defaults=defaults,
        record=record,
        parents=parents,
    )


def _wrapped(
    name: str, s: Setup, wrapper_own: dict[str, Any], build: Callable[[], Any], code: str, remake: Callable
) -> Setup:
    """A wrapper's setup: `own` changes go to the wrapper's keywords, other changes to the inner setup."""

    def variant(own: dict[str, Any] | None = None, **inner_changes: Any) -> Setup:
        return remake(s.vary(**inner_changes) if inner_changes else s, {**wrapper_own, **(own or {})})

    return Setup(
        name,
        s.hp,
        s.opts,
        s.lr,
        s.reference,
        build=build,
        code=code,
        imports=s.imports,
        variant=variant,
        extra=wrapper_own,
        inner=s,
    )


def _scaled(cls: type, ctor: str, name: str, s: Setup, own: dict[str, Any]) -> Setup:
    return _wrapped(
        name,
        s,
        own,
        lambda: cls(s.build(), **{k: _value(v) for k, v in own.items()}),
        f"{ctor}({', '.join(filter(None, (s.code, _kwargs_code(own))))})",
        lambda s2, own2: _scaled(cls, ctor, name, s2, own2),
    )


def loss_scaled(setup: Setup, own: dict[str, Any]) -> Setup:
    """`setup` inside a LossScaleOptimizer with the keywords `own` (or, if it is one, re-made with them)."""
    a = adapter()
    with a.keras_call(f"constructing {setup.code}"):
        if a.is_loss_scale(setup.build()):
            return setup.vary(own=own)
    if a.LOSS_SCALE_OPTIMIZER is None:
        raise Unsupported(f"no {a.LOSS_SCALE_CODE} in Keras {a.versions()['keras']} ({a.GENERATION})")
    return _scaled(a.LOSS_SCALE_OPTIMIZER, a.LOSS_SCALE_CODE, setup.spec, setup, own)


def wrapper_spec(cls: type, inner: list[Spec], name: str | None = None) -> Spec:
    """LossScaleOptimizer or MultiOptimizer (or a subclass) around any of the `inner` specs."""
    a = adapter()
    keras = a.keras_module
    name = name or cls.__name__
    inner_setups = st.one_of(*[s.setups for s in inner])
    scaling = a.LOSS_SCALE_OPTIMIZER is not None and issubclass(cls, a.LOSS_SCALE_OPTIMIZER)
    # Keras 2's is tf.keras.mixed_precision.LossScaleOptimizer: the adapter says how code names it.
    ctor = (a.LOSS_SCALE_CODE if scaling else f"keras.optimizers.{name}") if name in WRAPPERS else cls.__name__
    # Its defaults: the wrapper's own, around the first inner optimizer's (SGD()'s) defaults.
    first = next((s for s in inner if s.name == WRAPPER_INNER[0]), inner[0] if inner else None)

    if scaling:

        def draw(s: Setup, scale_exp: int, growth: int) -> Setup:
            return _scaled(cls, ctor, name, s, {"initial_scale": 2.0**scale_exp, "dynamic_growth_steps": growth})

        return Spec(
            name,
            "wrapper",
            st.builds(draw, inner_setups, st.integers(0, 15), st.integers(1, 3)),
            cls=cls,
            defaults=first and (lambda: _scaled(cls, ctor, name, first.default_setup(), {})),
        )

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

    return Spec(
        name,
        "wrapper",
        st.builds(make_multi, inner_setups, st.just({})),
        cls=cls,
        defaults=first and (lambda: make_multi(first.default_setup(), {})),
    )


def fixed_spec(
    name: str,
    cls: type,
    parent: str,
    hp: dict[str, Any],
    opts: Options,
    lr: LearningRate,
    imports: str = "",
    ctor: str | None = None,
) -> Spec:
    """A spec with one fixed configuration (inputs are still drawn): for the suite's own tests.
    `ctor`: how code names the class (by default `keras.optimizers.<Name>` for a Keras 3 class, else
    its name; tf.keras 2's classes live in tf_keras, and its legacy family in keras.optimizers.legacy)."""
    ctor = ctor or (f"keras.optimizers.{cls.__name__}" if cls.__module__.startswith("keras") else cls.__name__)
    record = registry.record(parent)
    setup = _setup(name, cls, ctor, record.reference if record else None, imports, hp, opts, lr)
    return Spec(name, "user", st.just(setup), parent=parent, cls=cls, record=record)


def _unspecced(name: str, cls: type) -> Spec:
    """An export the suite has no record for: checked as a user's optimizer without a spec."""
    spec = plain_spec(name, cls, f"keras.optimizers.{name}", kind="unspecced", record=OptimizerSpec(name))
    spec.note = f"no spec for {name}: its defaults and the base options, no reference"
    return spec


def builtin_specs() -> list[Spec]:
    """A spec for every optimizer the installed Keras exports; unknown ones are marked unspecced."""
    a = adapter()
    exported = a.exported_optimizers()
    known = {n for n in exported if registry.record(a.rule_name(n)) is not None and n not in WRAPPERS}
    plain = [plain_spec(n, c, f"keras.optimizers.{n}") for n, c in exported.items() if n in known]
    out = list(plain)
    for n, c in exported.items():
        if n in WRAPPERS:
            out.append(wrapper_spec(c, [s for s in plain if s.name in WRAPPER_INNER], n))
        elif n not in known:
            out.append(_unspecced(n, c))
    return sorted(out, key=lambda s: s.name)


def layouts(specs: list[Spec]) -> list[dict[str, Any]]:
    """The state layout of every optimizer built with its defaults, so that a layout change
    between versions shows in the results; an optimizer that cannot be built so says why."""
    a = adapter()
    classes = a.exported_optimizers()
    out = []
    for spec in specs:
        cls = classes.get(spec.name)
        try:
            if cls is None:  # a user optimizer: as its defaults condition constructs it
                opt = spec.default_setup().build()
            else:
                opt = a.default_instance(spec.name, cls)
            out.append(
                {"optimizer": spec.name, "shapes": [list(s) for s in a.LAYOUT_SHAPES], "variables": a.state_layout(opt)}
            )
        except Exception as e:  # noqa: BLE001 - recorded, not fatal: the claims will say more
            out.append({"optimizer": spec.name, "error": f"{type(e).__name__}: {e}"})
    return out
