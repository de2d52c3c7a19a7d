"""The constructor's argument contract (the argument-structure question, the Keras docs): every documented argument is
accepted over its domain and kept; an invalid one raises ValueError or TypeError naming it when
the optimizer is constructed, not at its first step."""

import math
from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive, equivalence
from conformance.checks.claims import BASE_DOCS, SOURCES, claim
from conformance.core import profiles
from conformance.core.errors import OptimizerRaised, Unsupported
from conformance.inputs import arguments
from conformance.inputs.options import Options
from conformance.inputs.strategies import FLOAT32, cases, checking

SOURCE = f"{SOURCES['ARGUMENT_STRUCTURE']}; {BASE_DOCS}; each optimizer's argument docs"


def _rule_name(spec) -> str:
    return spec.name if spec.kind == "wrapper" else (spec.parent or spec.name)


def _draw_case(spec, data, kwargs_strategy, inner: bool = False):
    """A case whose optimizer gets the drawn keywords (a wrapper's own, unless `inner`) instead
    of drawn base options; returns the case and the keywords."""
    if kwargs_strategy is None:
        raise Unsupported(f"{spec.name} has no documented argument of this kind")
    given_ = []

    def configure(draw, setup):
        kwargs = draw(kwargs_strategy, label="arguments")
        given_.append(kwargs)
        plain = setup.vary(opts=Options())
        return plain.vary(extra=kwargs) if inner or spec.kind != "wrapper" else plain.vary(own=kwargs)

    case = data.draw(cases(spec, FLOAT32, max_steps=1, configure=configure), label="case")
    return case, given_[-1]


def _same(held, given) -> bool:
    """A kept value: equal, or equal after the float32 rounding of a value Keras holds in a variable."""
    if isinstance(given, float) and isinstance(held, (float, int)) and not isinstance(held, bool):
        return held == given or np.float32(held) == np.float32(given) or (math.isnan(given) and math.isnan(held))
    return held == given


def _find(config, key):
    """The first value under `key` in a nested config."""
    if isinstance(config, dict):
        if key in config:
            return True, config[key]
        for v in config.values():
            found = _find(v, key)
            if found[0]:
                return found
    if isinstance(config, list):
        for v in config:
            found = _find(v, key)
            if found[0]:
                return found
    return False, None


def _rejected(case, names: list[str], what: str) -> None:
    """The claim for an invalid configuration: ValueError/TypeError naming it, at construction."""
    a = adapter()
    try:
        opt = case.setup.build()
    except (ValueError, TypeError) as e:
        if any(n in str(e) for n in names):
            return
        equivalence.fail(
            case,
            [],
            f"{case.setup.code} raised {type(e).__name__} at construction, but its message does not "
            f"name {' or '.join(names)}: {str(e)[:300]}",
            None,
        )
    except Exception as e:  # noqa: BLE001 - any other exception is the finding
        equivalence.fail(
            case, [], f"{case.setup.code} raised {type(e).__name__}, not ValueError/TypeError: {str(e)[:300]}", None
        )
    vars_ = a.variables(case.weights, case.dtype)
    try:
        after = drive.run(opt, vars_, case.grads[:1])[0]
        then = f"a step then ran without an error (weights after it: {[w.tolist() for w in after.weights]})"[:400]
    except OptimizerRaised as e:
        then = f"only its first step raised: {str(e)[:300]}"
    equivalence.fail(case, case.grads[:1], f"{what} was accepted at construction; {then}", None)


def _valid_problem(case, given_: dict) -> str | None:
    """Why valid arguments `given_` fail the claim in `case` (rejected, not kept, or the first step
    raised), or None."""
    a = adapter()
    try:
        opt = case.setup.build()
    except Exception as e:  # noqa: BLE001
        return f"valid arguments {given_} were rejected: {type(e).__name__}: {str(e)[:300]}"
    config = a.config(opt)
    lost = {}
    for k, v in given_.items():
        found, held = _find(config, k)
        if not found or not _same(held, v):
            lost[k] = (v, held if found else "<missing>")
    if lost:
        return f"get_config() does not keep the arguments given (given, held): {lost}"
    try:
        drive.run(opt, a.variables(case.weights, case.dtype), case.grads[:1])
    except OptimizerRaised as e:
        return f"valid arguments {given_} were accepted, but the first step raised: {str(e)[:300]}"
    return None


def _valid_claim(kind: str, text: str, args_for):
    @claim(
        f"arguments.valid.{kind}",
        f"Any combination of {text}s, each strictly inside its documented domain, is accepted, kept "
        "in get_config(), and the optimizer then takes a step without an error (the domains' edges: "
        "arguments.valid.edges).",
        SOURCE,
    )
    @given(data=st.data())
    def test(spec, data):
        case, given_ = _draw_case(spec, data, arguments.valid_arguments(args_for(spec)))
        problem = _valid_problem(case, given_)
        if problem:
            equivalence.fail(case, case.grads[:1], problem, None)

    test.__name__ = f"test_valid_{kind}"
    return test


def _rejection_claim(kind: str, text: str, kwargs_for, inner: bool = False):
    @claim(
        f"arguments.rejects.{kind}",
        f"{text} raises ValueError or TypeError naming the argument when the optimizer is constructed.",
        SOURCE,
    )
    @given(data=st.data())
    def test(spec, data):
        case, bad = _draw_case(spec, data, kwargs_for(spec), inner)
        names = [k for k in bad if k != "use_ema"] or list(bad)
        _rejected(case, names, f"{text[0].lower()}{text[1:]} ({', '.join(f'{k}={v!r}' for k, v in bad.items())})")

    test.__name__ = f"test_rejects_{kind}"
    return test


def _own(spec):
    return arguments.own(_rule_name(spec))


def _base(spec):
    """The base arguments the optimizer's class documents (Keras 2's legacy family: clipping only)."""
    if spec.kind == "wrapper":
        return {}
    accepted = adapter().accepted_options(spec.cls) if spec.cls is not None else arguments.BASE
    return {k: v for k, v in arguments.BASE.items() if k in accepted}


test_valid_own = _valid_claim("own", "optimizer-specific argument", _own)
test_valid_base_options = _valid_claim(
    "base_options", "base option (weight_decay, clipping, EMA, accumulation, loss_scale_factor)", _base
)


@claim(
    "arguments.valid.edges",
    "Every documented argument, optimizer-specific or base option, set alone to each end of its "
    "documented domain that belongs to it (0 and 1 for a decay rate, 0 for an epsilon or a strength, "
    "1 for a count) is accepted, kept in get_config(), and the optimizer then takes a step without "
    "an error. Every example checks every edge, so the verdict does not depend on the draw.",
    SOURCE,
)
@profiles.costly(5)  # each example builds and steps one optimizer per edge
@given(data=st.data())
def test_valid_edges(spec, data):
    edges = arguments.edge_arguments({**_own(spec), **_base(spec)})
    if not edges:
        raise Unsupported(f"{spec.name} has no documented argument with a finite edge")
    case, _ = _draw_case(spec, data, st.just({}))
    inner = spec.kind != "wrapper"
    failed = []
    for kw in edges:
        edge_case = replace(case, setup=case.setup.vary(extra=kw) if inner else case.setup.vary(own=kw))
        problem = _valid_problem(edge_case, kw)
        if problem:
            failed.append((kw, edge_case, problem))
    if failed:
        listed = "; ".join(f"{', '.join(f'{k}={v!r}' for k, v in kw.items())}: {p}" for kw, _, p in failed)
        equivalence.fail(
            checking(failed[0][1]), case.grads[:1], f"{len(failed)} of {len(edges)} edge values failed: {listed}", None
        )


test_rejects_learning_rate = _rejection_claim(
    "learning_rate",
    "A negative, NaN or infinite learning_rate",
    lambda spec: st.sampled_from([-1e-3, -0.5, -10.0, math.nan, math.inf]).map(lambda v: {"learning_rate": v}),
    inner=True,
)
test_rejects_out_of_range = _rejection_claim(
    "out_of_range",
    "An optimizer-specific argument outside its domain (a decay rate outside [0, 1], a negative epsilon, ...)",
    lambda spec: arguments.invalid_argument(_own(spec)),
)
test_rejects_base_option = _rejection_claim(
    "base_option",
    "A base option outside its domain (negative weight_decay, clipnorm <= 0, ema_momentum outside [0, 1], "
    "a count < 1, ...)",
    lambda spec: arguments.invalid_argument(_base(spec)) if _base(spec) else None,
)
test_rejects_several_clipping_options = _rejection_claim(
    "several_clipping_options",
    "Setting more than one of clipnorm, clipvalue and global_clipnorm",
    lambda spec: st.sets(st.sampled_from(arguments.CLIPPING), min_size=2).map(lambda ks: {k: 1.0 for k in sorted(ks)}),
)
test_rejects_unknown_keyword = _rejection_claim(
    "unknown_keyword",
    "A misspelled keyword argument",
    lambda spec: arguments.misspelled(arguments.table(_rule_name(spec))),
)
test_rejects_wrong_type = _rejection_claim(
    "wrong_type",
    "An argument of the wrong type (a string for a number or a flag, a fraction for a count)",
    lambda spec: arguments.wrong_type(arguments.table(_rule_name(spec))),
)
