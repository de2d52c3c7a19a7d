"""The documented domain of every constructor argument, for the argument-contract claims (the
argument-structure question).

The base arguments every optimizer shares are here (`BASE`), with the domains the records share;
each optimizer's own arguments are in its record (conformance/optimizers/).

A domain comes from the Keras docstring where it states one (Adagrad's initial_accumulator_value
"must be non-negative", Ftrl's learning_rate_power "less or equal to zero", ema_momentum in
[0, 1]) and otherwise from what the argument is in the published algorithm: an exponential decay
rate lies in [0, 1]; a stability epsilon, a regularisation strength or a learning rate is not
negative; a clipping threshold or a scale is positive; a count is a positive integer; a flag is a
bool. Values on a domain's edge are valid; invalid values are drawn strictly outside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import strategies as st

from conformance.inputs import registry

INF = math.inf


@dataclass(frozen=True)
class Domain:
    lo: float = -INF  # values are finite; an infinite edge means unbounded
    hi: float = INF
    lo_open: bool = False  # lo itself is outside (a positive threshold)
    integer: bool = False
    boolean: bool = False

    def edges(self) -> list[float | int]:
        """The domain's finite ends that belong to it (a flag has none)."""
        if self.boolean:
            return []
        if self.integer:
            return [int(self.lo) + self.lo_open] if math.isfinite(self.lo) else []
        return [x for x in (self.lo, self.hi) if math.isfinite(x) and not (x == self.lo and self.lo_open)]

    def inside(self) -> st.SearchStrategy:
        """Values strictly between the edges (any value of a flag): the edges are enumerated, not drawn."""
        if self.boolean:
            return st.booleans()
        if self.integer:
            first = int(self.lo) + self.lo_open
            return st.integers(first + 1, int(min(self.hi, self.lo + 6)))
        lo, hi = max(self.lo, -1e3), min(self.hi, 1e3)
        return st.floats(lo, hi, exclude_min=True, exclude_max=True)

    def valid(self) -> st.SearchStrategy:
        edges = self.edges()
        return st.one_of(st.sampled_from(edges), self.inside()) if edges else self.inside()

    def invalid(self) -> st.SearchStrategy | None:
        """Values strictly outside the domain (its open edge excluded), or None if it is unbounded."""
        if self.boolean:
            return None
        if self.integer:
            return st.integers(int(self.lo) - 5, int(self.lo) - 1 + self.lo_open) if math.isfinite(self.lo) else None
        outside = []
        if math.isfinite(self.lo):
            outside.append(st.floats(self.lo - 100, self.lo, exclude_max=True))
        if math.isfinite(self.hi):
            outside.append(st.floats(self.hi, self.hi + 100, exclude_min=True))
        return st.one_of(*outside) if outside else None

    def wrong_type(self) -> st.SearchStrategy:
        """A value of another type: a string of a valid value, or a fraction for a count."""
        strings = self.valid().map(str)
        if self.integer:
            return st.one_of(strings, st.floats(self.lo + 0.25, self.lo + 5).filter(lambda x: not x.is_integer()))
        return strings


DECAY = Domain(0.0, 1.0)
NONNEG = Domain(0.0)
NONPOS = Domain(hi=0.0)
POSITIVE = Domain(0.0, lo_open=True)
COUNT = Domain(1, integer=True)
FLAG = Domain(boolean=True)

LEARNING_RATE = NONNEG
CLIPPING = ("clipnorm", "clipvalue", "global_clipnorm")

# Every optimizer's base arguments (Optimizer class docs).
BASE: dict[str, Domain] = {
    "weight_decay": NONNEG,
    "clipnorm": POSITIVE,
    "clipvalue": POSITIVE,
    "global_clipnorm": POSITIVE,
    "use_ema": FLAG,
    "ema_momentum": DECAY,  # documented range [0, 1]
    "ema_overwrite_frequency": COUNT,
    "gradient_accumulation_steps": COUNT,
    "loss_scale_factor": POSITIVE,
}

# Adam's moments and epsilon, shared by the Adam family's records (conformance/optimizers/).
ADAM_MOMENTS = {"beta_1": DECAY, "beta_2": DECAY, "epsilon": NONNEG}


def own(name: str) -> dict[str, Domain]:
    """The optimizer's own arguments, from its record (conformance/optimizers/); a wrapper's are
    its own, its inner optimizer has its own record."""
    spec = registry.record(name)
    return dict(spec.arguments) if spec is not None else {}


def table(name: str) -> dict[str, Domain]:
    """Every argument of the optimizer `name` but its learning rate: a wrapper has only its own."""
    spec = registry.record(name)
    return own(name) if spec is not None and spec.family == "wrapper" else {**own(name), **BASE}


def valid_arguments(args: dict[str, Domain]) -> st.SearchStrategy[dict] | None:
    """Some of `args`, each strictly inside its domain (edges are `edge_arguments`), at most one
    clipping option."""
    if not args:
        return None
    others = st.fixed_dictionaries({}, optional={k: d.inside() for k, d in args.items() if k not in CLIPPING})
    # chosen, not filtered: a draw with every optional argument present (a corner) stays valid
    clipping = st.one_of(st.just({}), *(st.fixed_dictionaries({k: args[k].inside()}) for k in CLIPPING if k in args))
    return st.tuples(others, clipping).map(lambda kws: {**kws[0], **kws[1]})


def edge_arguments(args: dict[str, Domain]) -> list[dict]:
    """Each argument of `args` alone at each edge of its domain (with what it needs to be read),
    in a fixed order: every run checks the same ones."""
    return [_with_ema({k: x}) for k, d in sorted(args.items()) for x in d.edges()]


def _with_ema(kw: dict) -> dict:
    """ema_* arguments only mean something with use_ema=True."""
    return {**kw, "use_ema": True} if any(k.startswith("ema_") for k in kw) else kw


def invalid_argument(args: dict[str, Domain]) -> st.SearchStrategy[dict] | None:
    """One argument of `args` set outside its domain (with what it needs to be read)."""
    choices = [st.tuples(st.just(k), d.invalid()) for k, d in sorted(args.items()) if d.invalid() is not None]
    if not choices:
        return None
    return st.one_of(*choices).map(lambda kv: _with_ema({kv[0]: kv[1]}))


def wrong_type(args: dict[str, Domain]) -> st.SearchStrategy[dict] | None:
    choices = [st.tuples(st.just(k), d.wrong_type()) for k, d in sorted(args.items())]
    return st.one_of(*choices).map(lambda kv: _with_ema({kv[0]: kv[1]})) if choices else None


def misspelled(args: dict[str, Domain]) -> st.SearchStrategy[dict] | None:
    """A keyword one typo away from a real argument (a letter dropped, doubled or appended)."""
    names = sorted(args) or ["learning_rate"]

    def typo(name: str, i: int, how: int) -> str:
        i %= len(name)
        return [name[:i] + name[i + 1 :], name[:i] + name[i] + name[i:], name + "s"][how]

    words = st.builds(typo, st.sampled_from(names), st.integers(0, 30), st.integers(0, 2))
    real = set(args) | {"learning_rate", "name"}
    return words.filter(lambda w: w not in real and w).map(lambda w: {w: 0.5})
