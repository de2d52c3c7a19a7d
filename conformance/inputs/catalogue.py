"""The specs: what the suite knows about each optimizer, built-in or user-supplied.

A spec yields, through hypothesis, a `Setup`: one concrete configuration (hyperparameters, base
options, learning rate) that can build a fresh Keras optimizer, name its reference rule and print
itself as reproducer code.
"""

from __future__ import annotations

import importlib
import inspect
import numbers
import re
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
from conformance.inputs.spec import DOCS, OptimizerSpec, of_class, required_arguments

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


def _base_options(config: dict[str, Any], cls: type) -> Options:
    """The base options a configuration holds, of those the class takes as base options (a Keras 2
    legacy optimizer's own `weight_decay` is its hyperparameter, not the base option)."""
    accepted = adapter().accepted_options(cls)
    return Options(
        **{k: config[k] for k in Options.__dataclass_fields__ if config.get(k) is not None and k in accepted}
    )


def _is_number(value: Any) -> bool:
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
    opts = _base_options(config, type(instance))
    lr = config.get("learning_rate")
    if not _is_number(lr):
        raise Unsupported(f"{name}() has a learning rate the suite cannot read as a number ({lr!r})")
    # Keras keeps the rate in a float32 variable: its shortest decimal, as a user writes it (0.01).
    return hp, opts, LearningRate("constant", {"value": float(str(np.float32(lr)))})


def _plain(
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
    spec = _plain(name, cls, f"keras.optimizers.{name}", kind="unspecced", record=OptimizerSpec(name))
    spec.note = f"no spec for {name}: its defaults and the base options, no reference"
    return spec


def builtin_specs() -> list[Spec]:
    """A spec for every optimizer the installed Keras exports; unknown ones are marked unspecced."""
    a = adapter()
    exported = a.exported_optimizers()
    known = {n for n in exported if registry.record(a.rule_name(n)) is not None and n not in WRAPPERS}
    plain = [_plain(n, c, f"keras.optimizers.{n}") for n, c in exported.items() if n in known]
    out = list(plain)
    for n, c in exported.items():
        if n in WRAPPERS:
            out.append(wrapper_spec(c, [s for s in plain if s.name in WRAPPER_INNER], n))
        elif n not in known:
            out.append(_unspecced(n, c))
    return sorted(out, key=lambda s: s.name)


class UsageError(Exception):
    """A bad --optimizer or --optimizer-spec value: reported as a one-line usage error."""


def load_object(path: str, flag: str = "--optimizer") -> Any:
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{flag} {path!r}: expected MODULE:ATTR (e.g. mypkg.opt:MyAdam)")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - any import failure is a usage error
        raise UsageError(f"{flag} {path!r}: cannot import {module_name!r}: {type(e).__name__}: {e}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{flag} {path!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def inheritance(cls: type) -> tuple[str, ...]:
    """The exported built-ins and abstract bases among `cls`'s bases (not itself), nearest first,
    by the names Keras exports them under (`legacy.Adam` for Keras 2's legacy Adam)."""
    a = adapter()
    names = {c: n for n, c in a.exported_optimizers().items()}
    names.update(a.BASE_NAMES)
    return tuple(names[b] for b in cls.__mro__[1:] if b in names)


def _builtin_parent(cls: type, include_self: bool = False) -> str | None:
    """The nearest built-in optimizer with a record among `cls`'s bases, by its record's name."""
    a = adapter()
    names = {c: n for n, c in a.exported_optimizers().items()}
    for base in cls.__mro__[0 if include_self else 1 :]:
        if base in names and registry.record(a.rule_name(names[base])) is not None:
            return a.rule_name(names[base])
    return None


def _parameters(cls: type) -> set[str]:
    """The named constructor parameters of `cls` (not self, *args, **kwargs)."""
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return set()
    return {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _parent_record(cls: type, include_self: bool = False) -> tuple[str | None, OptimizerSpec | None]:
    """The built-in parent whose record checks `cls`, and the record to use: None where `cls` adds
    constructor arguments the parent lacks (tfa's AdamW on legacy Adam: its weight_decay), which the
    parent's reference and domains do not describe; its deviations are still inherited."""
    parent = _builtin_parent(cls, include_self)
    if parent is None:
        return None, None
    names = {n: c for n, c in adapter().exported_optimizers().items()}
    parent_cls = next((names[n] for n in names if adapter().rule_name(n) == parent and issubclass(cls, names[n])), None)
    added = _parameters(cls) - _parameters(parent_cls) if parent_cls is not None else set()
    if added:
        return None, OptimizerSpec(cls.__name__)
    return parent, None


def _base_check(path: str, flag: str, cls: type) -> None:
    base = adapter().BASE_CLASS
    if not issubclass(cls, base):
        bases = " or ".join(f"{b.__module__}.{b.__name__}" for b in (base if isinstance(base, tuple) else (base,)))
        raise UsageError(f"{flag} {path!r}: {cls!r} is not a subclass of {bases}")


def _needs_arguments(path: str, flag: str, fn: Callable[..., Any], what: str) -> None:
    """A constructor that cannot be called with no arguments: say what to give instead."""
    missing = [n for n in required_arguments(fn) if n != "self"]
    if not missing and inspect.isclass(fn):
        # a signature of *args, **kwargs hides what a base class requires (Keras's learning_rate)
        try:
            fn()
        except TypeError as e:
            found = re.search(r"required (?:positional |keyword-only )?arguments?: (.*)", str(e))
            if found:
                missing = re.findall(r"'(\w+)'", found.group(1)) or [found.group(1)]
        except Exception:  # noqa: BLE001 - any other crash is the claims' to show, with its blame
            pass
    if missing:
        raise UsageError(
            f"{flag} {path!r}: {what} requires {', '.join(missing)}, so the suite cannot construct it as it is. "
            f"Give a factory that supplies {'them' if len(missing) > 1 else 'it'} and passes on the other keywords "
            f"(def make(**kwargs): kwargs.setdefault({missing[0]!r}, ...); return {what}(**kwargs); "
            f"then --optimizer mymodule:make), "
            f"or an OptimizerSpec whose construct does (--optimizer-spec; see {DOCS})"
        )


def _takes_keywords(fn: Callable[..., Any]) -> bool:
    try:
        return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False


def user_spec(path: str) -> Spec:
    """A spec for `--optimizer MODULE:ATTR`: a class (with its `conformance_spec`, else its
    built-in parent's record, else none), a factory taking keywords (constructed like a class), or
    a zero-argument factory (its one configuration)."""
    flag = "--optimizer"
    obj = load_object(path, flag)
    module_name, _, attr = path.partition(":")
    imports = f"from {module_name} import {attr.split('.')[0]}"
    if inspect.isclass(obj):
        _base_check(path, flag, obj)
        record = of_class(obj)
        if record is None or record.construct is None:
            _needs_arguments(path, flag, obj, obj.__name__)
        construct = record.construct if record is not None else None
        parent, bare = _parent_record(obj)
        return _plain(
            path,
            obj,
            attr,
            imports=imports,
            kind="user",
            parent=parent,
            record=record or bare,
            construct=construct,
            parents=inheritance(obj),
        )
    if not callable(obj):
        raise UsageError(f"{flag} {path!r}: {obj!r} is neither an optimizer class nor a factory")
    _needs_arguments(path, flag, obj, attr)
    try:
        sample = obj()
    except Exception as e:  # noqa: BLE001 - the user's factory: said, not judged
        raise UsageError(f"{flag} {path!r}: calling the factory raised {type(e).__name__}: {e}") from None
    if not adapter().is_optimizer(sample):
        raise UsageError(f"{flag} {path!r}: the factory returned {type(sample).__name__}, not an optimizer")
    # a factory of a built-in is judged as that built-in, then as what it inherits from
    parents = tuple(n for n in (_exported_name(type(sample)),) if n) + inheritance(type(sample))
    if _takes_keywords(obj):
        cls = type(sample)
        parent, bare = _parent_record(cls, include_self=True)
        return _plain(
            path,
            cls,
            attr,
            imports=imports,
            kind="user",
            parent=parent,
            construct=obj,
            record=of_class(cls) or bare,
            parents=parents,
        )
    return _factory_spec(path, obj, attr, imports, sample, parents)


def _exported_name(cls: type) -> str | None:
    return {c: n for n, c in adapter().exported_optimizers().items()}.get(cls)


def spec_from_record(path: str) -> Spec:
    """A spec for `--optimizer-spec MODULE:ATTR`: an OptimizerSpec whose `construct` builds it."""
    flag = "--optimizer-spec"
    record = load_object(path, flag)
    if not isinstance(record, OptimizerSpec):
        raise UsageError(f"{flag} {path!r}: {type(record).__name__} is not a conformance.inputs.spec.OptimizerSpec")
    if record.construct is None:
        raise UsageError(f"{flag} {path!r}: the spec has no `construct` (the class or a factory taking keywords)")
    _needs_arguments(path, flag, record.construct, getattr(record.construct, "__name__", "construct"))
    module_name, _, attr = path.partition(":")
    imports = f"from {module_name} import {attr.split('.')[0]}"
    cls = record.construct
    if not inspect.isclass(cls):
        try:
            cls = type(record.construct())
        except Exception as e:  # noqa: BLE001
            raise UsageError(f"{flag} {path!r}: calling its construct() raised {type(e).__name__}: {e}") from None
    _base_check(path, flag, cls)
    parents = tuple(n for n in (_exported_name(cls),) if n and not inspect.isclass(record.construct)) + inheritance(cls)
    return _plain(
        record.name,
        cls,
        f"{attr}.construct",
        imports=imports,
        kind="user",
        parent=_builtin_parent(cls, True),
        record=record,
        construct=record.construct,
        parents=parents,
    )


def user_specs(optimizer_paths: list[str], spec_paths: list[str]) -> list[Spec]:
    """The specs of every --optimizer and --optimizer-spec, each name once."""
    out = [user_spec(p) for p in optimizer_paths] + [spec_from_record(p) for p in spec_paths]
    names = [s.name for s in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"two user optimizers are named {', '.join(twice)}: give each spec its own name")
    return out


def _factory_spec(path: str, factory: Callable, attr: str, imports: str, sample: Any, parents: tuple[str, ...]) -> Spec:
    """A zero-argument factory fixes its own configuration: read it back from get_config()."""
    parent = _builtin_parent(type(sample), include_self=True)
    record = of_class(type(sample)) or (registry.record(parent) if parent else None)
    rule = record.reference if record else None
    config = sample.get_config()
    hp = {k: config[k] for k in (getattr(rule, "DEFAULTS", None) or {}) if k in config}
    opts = _base_options(config, type(sample))
    lr_value = config.get("learning_rate")
    lr = LearningRate("constant", {"value": float(lr_value) if _is_number(lr_value) else 0.001})
    if not _is_number(lr_value):
        rule = None  # a schedule we cannot see into: no reference
    setup = Setup(path, hp, opts, lr, rule, factory, f"{attr}()", imports)
    return Spec(path, "user", st.just(setup), parent=parent, record=record, parents=parents)


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
