"""The argument domains and their strategies: valid draws lie inside, invalid ones outside."""

import math

from hypothesis import given
from hypothesis import strategies as st

from conformance.inputs import arguments, registry
from conformance.inputs.arguments import Domain

OWN = [s.arguments for s in registry.builtin().values()]
DOMAINS = sorted({d for t in [arguments.BASE, *OWN] for d in t.values()}, key=repr)


def inside(d: Domain, v) -> bool:
    if d.boolean:
        return isinstance(v, bool)
    if d.integer and not (isinstance(v, int) and not isinstance(v, bool)):
        return False
    return math.isfinite(v) and d.lo <= v <= d.hi and not (d.lo_open and v == d.lo)


@given(st.sampled_from(DOMAINS).flatmap(lambda d: st.tuples(st.just(d), d.valid())))
def test_valid_values_are_inside(dv):
    d, v = dv
    assert inside(d, v), (d, v)


@given(
    st.sampled_from([d for d in DOMAINS if d.invalid() is not None]).flatmap(
        lambda d: st.tuples(st.just(d), d.invalid())
    )
)
def test_invalid_values_are_outside(dv):
    d, v = dv
    assert not inside(d, v), (d, v)


@given(st.sampled_from(DOMAINS).flatmap(lambda d: st.tuples(st.just(d), d.wrong_type())))
def test_wrong_types_are_strings_or_fractions_for_counts(dv):
    d, v = dv
    assert isinstance(v, str) or (d.integer and isinstance(v, float) and not v.is_integer()), (d, v)
    assert not inside(d, v) if not isinstance(v, str) else v != ""


def test_edges_are_valid_and_open_edges_are_not():
    assert inside(arguments.DECAY, 0.0) and inside(arguments.DECAY, 1.0)
    assert not inside(arguments.POSITIVE, 0.0) and inside(arguments.COUNT, 1) and not inside(arguments.COUNT, 0)


@given(arguments.misspelled(arguments.table("Adam")))
def test_misspelled_keywords_are_not_real_arguments(kw):
    (name,) = kw
    assert name not in arguments.table("Adam") and name not in ("learning_rate", "name")


@given(arguments.valid_arguments(arguments.BASE))
def test_valid_base_options_set_at_most_one_clipping_option(kw):
    assert sum(k in kw for k in arguments.CLIPPING) <= 1


def test_wrappers_have_only_their_own_arguments():
    assert set(arguments.table("LossScaleOptimizer")) == {"initial_scale", "dynamic_growth_steps"}
    assert "clipnorm" in arguments.table("SGD") and "momentum" in arguments.table("SGD")


@given(st.sampled_from(DOMAINS).flatmap(lambda d: st.tuples(st.just(d), d.inside())))
def test_inside_values_are_valid_and_not_edges(dv):
    d, v = dv
    assert inside(d, v) and v not in d.edges(), (d, v)


def test_every_finite_edge_is_enumerated_and_valid():
    assert arguments.DECAY.edges() == [0.0, 1.0] and arguments.COUNT.edges() == [1]
    assert arguments.POSITIVE.edges() == [] and arguments.FLAG.edges() == []
    for d in DOMAINS:
        assert all(inside(d, x) for x in d.edges()), d


def test_edge_arguments_set_one_argument_each_with_what_it_needs():
    edges = arguments.edge_arguments(arguments.BASE)
    assert {"gradient_accumulation_steps": 1} in edges and {"weight_decay": 0.0} in edges
    assert {"ema_momentum": 1.0, "use_ema": True} in edges
    assert all(len(kw) == 1 or set(kw) - {"use_ema"} < {"ema_momentum", "ema_overwrite_frequency"} for kw in edges)
    assert edges == arguments.edge_arguments(arguments.BASE)  # the same every run
