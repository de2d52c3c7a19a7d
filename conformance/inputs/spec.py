"""The public record of what the suite knows about one optimizer: `OptimizerSpec`.

Every built-in optimizer has one (conformance/optimizers/), and a user gives one for their own
optimizer with `--optimizer-spec MODULE:ATTR` or as the class attribute `conformance_spec`. Only
`name` is required: an optimizer without a spec, or with an empty one, is still checked on every
claim that needs nothing but the base `Optimizer` arguments; the fields below open the others.

Modelled on PyTorch's `OptimizerInfo` (torch/testing/_internal/common_optimizers.py): one record
per optimizer, read by every test, instead of one table per test.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from hypothesis import strategies as st

if TYPE_CHECKING:
    from conformance.independent.mapping import Target

    # A reference rule: a module with DEFAULTS, init(weights, hp) and update(weights, grads, state,
    # hp, lr, t), in float64 numpy (the Protocol in conformance/reference/core.py).
    from conformance.reference.core import Rule

SPEC_ATTRIBUTE = "conformance_spec"  # a class attribute holding the class's OptimizerSpec
DOCS = "docs/your-optimizer.md"  # where the docs show a worked example of a spec with a reference

# The fields a record may give a sentence for instead of a value (see `OptimizerSpec.missing`).
EXPLAINABLE = ("hyperparameters", "arguments", "reference", "torch", "optax", "numpy_step")
MAPPINGS = ("hyperparameters", "arguments")
# What a complete record gives, or says why not: every built-in one is (tests/test_specs.py).
COMPLETE = ("hyperparameters", "arguments", "reference", "torch", "optax", "family", "numpy_step")


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer, as the claims need to know it.

    - `name`: the Keras class name of a built-in; any label for a user's optimizer.
    - `construct`: the class or a factory taking keyword arguments (None for a built-in: the
      installed Keras's class of that name).
    - `hyperparameters`: the optimizer's own hyperparameters -> a hypothesis strategy of valid
      values (a draw sets some of them, the others keep the constructor's defaults).
    - `arguments`: the optimizer's own constructor arguments -> their documented domain
      (`conformance.inputs.arguments.Domain`), for the argument-contract claims; the base arguments
      (weight_decay, clipnorm, ...) are the same for every optimizer and are not repeated here.
    - `reference`: the float64 numpy update rule, written from the published algorithm
      (conformance/reference/core.py states the contract). Without it, the claims that compare
      with a reference say `unsupported`.
    - `torch`, `optax`: how a Keras configuration maps to `torch.optim` / `optax`
      (`conformance.independent.mapping.Target`), for the independent-implementation claims.
    - `family`: the optimizers sharing the structure of their update ("adam-like", ...; the
      built-in families are `conformance.inputs.registry.FAMILIES`).
    - `default_weight_decay`: the documented default of `weight_decay` where it is not None.
    - `numpy_step`: an in-place float32 numpy step of the default configuration (a
      `conformance.benchmarks.numpy_steps.Step` class), for the benchmarks' baseline.
    - `missing`: field -> why the optimizer has none (no torch.optim counterpart, a wrapper's
      hyperparameters, ...). Any field of `EXPLAINABLE` may be given such a sentence in place of
      its value: the sentence moves here and the field is left empty (None, or {} for a mapping),
      so a reader of `torch` meets a `Target` or None, and `why_missing("torch")` says why.
    """

    name: str
    construct: Callable[..., Any] | None = None
    hyperparameters: Mapping[str, st.SearchStrategy] = field(default_factory=dict)
    arguments: Mapping[str, Any] = field(default_factory=dict)
    reference: Rule | None = None
    torch: Target | None = None
    optax: Target | None = None
    family: str | None = None
    default_weight_decay: float | None = None
    numpy_step: Callable[..., Any] | None = None
    missing: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = dict(self.missing)
        for name in EXPLAINABLE:
            value = getattr(self, name)
            if isinstance(value, str):  # a sentence saying why there is none
                missing[name] = value
                object.__setattr__(self, name, {} if name in MAPPINGS else None)
        object.__setattr__(self, "missing", missing)

    def why_missing(self, name: str) -> str | None:
        """Why the record has no `name` (a field of `EXPLAINABLE`), where it says."""
        return self.missing.get(name)

    def gaps(self) -> list[str]:
        """The fields of `COMPLETE` this record neither gives nor says why it lacks."""
        return [n for n in COMPLETE if not getattr(self, n) and n not in self.missing]

    def defaults(self) -> dict[str, Any]:
        """The constructor's keyword defaults, read from its signature (`construct` or, for a
        class, its `__init__`); empty where there is no signature to read."""
        if self.construct is None:
            return {}
        return signature_defaults(self.construct)


def signature_defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    """`fn`'s parameters that have a default, with it (a class: its constructor's)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    return {
        n: p.default for n, p in sig.parameters.items()
        if p.default is not inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def required_arguments(fn: Callable[..., Any]) -> list[str]:
    """The parameters a call of `fn` with no arguments would lack."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [n for n, p in sig.parameters.items()
            if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def of_class(cls: Any) -> OptimizerSpec | None:
    """The spec a class carries as its `conformance_spec` attribute, if any."""
    spec = getattr(cls, SPEC_ATTRIBUTE, None)
    return spec if isinstance(spec, OptimizerSpec) else None
