"""The specs of the optimizers a user names: `--optimizer MODULE:ATTR` (a class, or a factory) and
`--optimizer-spec MODULE:ATTR` (an OptimizerSpec), each checked for what the suite needs to
construct it, with a usage message, not a traceback, where it cannot."""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any, Callable

from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.inputs import registry
from conformance.inputs.catalogue import Setup, Spec, base_options, is_number, plain_spec
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.spec import DOCS, OptimizerSpec, of_class, required_arguments


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
        return plain_spec(
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
        return plain_spec(
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
    return plain_spec(
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
    opts = base_options(config, type(sample))
    lr_value = config.get("learning_rate")
    lr = LearningRate("constant", {"value": float(lr_value) if is_number(lr_value) else 0.001})
    if not is_number(lr_value):
        rule = None  # a schedule we cannot see into: no reference
    setup = Setup(path, hp, opts, lr, rule, factory, f"{attr}()", imports)
    return Spec(path, "user", st.just(setup), parent=parent, record=record, parents=parents)
