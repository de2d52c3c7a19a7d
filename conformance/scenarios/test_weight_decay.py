"""Decoupled weight decay (Loshchilov & Hutter 2019; Keras docs: `weight_decay`) and
`exclude_from_weight_decay`: each step equals the same optimizer without decay, given the weights
decayed first, w * (1 - learning_rate * weight_decay), except the variables excluded, which are
not decayed at all."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import equivalence
from conformance.checks.claims import BASE_DOCS, claim
from conformance.checks.equivalence import Expected
from conformance.checks.trajectory import rounding
from conformance.inputs.options import Options
from conformance.inputs.strategies import FLOAT32, cases

SOURCE = f"{BASE_DOCS}: weight_decay; Loshchilov & Hutter 2019 (decoupled decay); Optimizer.exclude_from_weight_decay"


def _factors(setup, weights, lr: float, wd: float) -> list[float]:
    """What each weight is multiplied by before the step: 1 - lr * weight_decay, unless the
    documented rule decays otherwise (Muon: its own adam_weight_decay on its AdamW path)."""
    rule = setup.reference
    if rule is None or not hasattr(rule, "decay_factors"):
        return [1.0 - lr * wd] * len(weights)
    return rule.decay_factors(weights, {**setup.hp, "_names": [f"v{i}" for i in range(len(weights))]}, lr, wd)


def _configure(draw, setup):
    return setup.vary(opts=Options(weight_decay=draw(st.floats(0.001, 0.5), label="weight_decay")))


def _check(case, excluded: frozenset = frozenset(), prepare=None) -> None:
    cast = rounding(case.dtype)
    setup = case.setup
    wd = cast(setup.opts.weight_decay)
    # Every decay off (a rule's own too); the expected weights are decayed here instead.
    own_off = getattr(setup.reference, "DECAY_OFF", {})
    plain = setup.vary(opts=Options(weight_decay=0.0), hp={**setup.hp, **own_off})

    def plan(t, before, grads):
        lr = cast(setup.lr.value(t))
        factors = [1.0 if i in excluded else f for i, f in enumerate(_factors(setup, before.weights, lr, wd))]
        return Expected(plain, [w * f for w, f in zip(before.weights, factors)], grads, before,
                        f"weights decayed in float64 by {[round(f, 9) for f in factors]} (learning rate {lr!r}, "
                        f"weight_decay {wd!r}" + (f", v{sorted(excluded)} excluded)" if excluded else ")"))

    equivalence.check(case, plan, "weight decay is not applied as documented", prepare=prepare)


@claim(
    "options.weight_decay",
    "With weight_decay set, each step first decays every weight, w * (1 - learning_rate * weight_decay), "
    "and then applies the optimizer's update as if there were no decay (decoupled weight decay).",
    SOURCE,
)
@given(data=st.data())
def test_weight_decay(spec, data):
    _check(data.draw(cases(spec, FLOAT32, configure=_configure), label="case"))


def _exclusion_claim(how: str):
    @claim(
        f"options.exclude_from_weight_decay.{how}",
        f"Variables named in exclude_from_weight_decay({how}=...), called before the first step, "
        "are not decayed; the others are.",
        SOURCE,
    )
    @given(data=st.data())
    def test(spec, data):
        case = data.draw(cases(spec, FLOAT32, min_steps=1, configure=_configure), label="case")
        n = len(case.weights)
        excluded = frozenset(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n), label="excluded"))
        if how == "var_list":
            code = f"opt.exclude_from_weight_decay(var_list=[{', '.join(f'variables[{i}]' for i in sorted(excluded))}])"

            def call(opt, vars_):
                adapter().exclude_from_weight_decay(opt, var_list=[vars_[i] for i in sorted(excluded)])
        else:
            code = f"opt.exclude_from_weight_decay(var_names={[f'v{i}' for i in sorted(excluded)]!r})"

            def call(opt, vars_):
                adapter().exclude_from_weight_decay(opt, var_names=[f"v{i}" for i in sorted(excluded)])

        _check(case, excluded, prepare=(call, code))

    test.__name__ = f"test_exclude_from_weight_decay_{how}"
    return test


test_exclude_from_weight_decay_var_list = _exclusion_claim("var_list")
test_exclude_from_weight_decay_var_names = _exclusion_claim("var_names")
