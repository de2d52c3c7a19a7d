import numpy as np
import pytest

from conformance.core import tolerance
from conformance.core.compare import Comparison


@pytest.mark.parametrize(
    "dtype, eps", [("float32", 2.0**-23), ("float64", 2.0**-52), ("float16", 2.0**-10), ("bfloat16", 2.0**-7)]
)
def test_eps(dtype, eps):
    assert tolerance.eps(dtype) == eps


def test_rtol_grows_with_steps_and_dtype():
    assert tolerance.rtol("float32", 3) == 3 * tolerance.rtol("float32", 1)
    assert tolerance.rtol("float16") > tolerance.rtol("float32") > tolerance.rtol("float64")


def test_comparison_reports_observed_error_and_catches_a_wrong_value():
    cmp = Comparison("float32")
    cmp.close("ok", np.array([1.0 + 1e-7]), np.array([1.0]), np.array([1.0]))
    assert not cmp.failed and 0 < cmp.worst_ratio < 1
    cmp.close("bad", np.array([1.001]), np.array([1.0]), np.array([1.0]))
    assert cmp.failed and "bad" in cmp.report() and "1.001" in cmp.report()
    assert cmp.worst_abs == pytest.approx(1e-3)


def test_a_nan_or_an_infinity_hides_no_other_element():
    """NaN against NaN and the same infinity on both sides are no difference; they do not hide a
    difference elsewhere in the array, and a finite value against NaN is a difference."""
    cmp = Comparison("float64")
    cmp.close("x", np.array([np.nan, 1.0, np.inf]), np.array([np.nan, 2.0, np.inf]), np.array([1.0, 1.0, 1.0]))
    assert cmp.failed and cmp.worst_abs == 1.0
    cmp = Comparison("float64")
    cmp.close("x", np.array([np.nan, np.inf, 1.0]), np.array([np.nan, np.inf, 1.0]), np.array([1.0, 1.0, 1.0]))
    assert not cmp.failed and cmp.worst_ratio == 0.0
    for actual, expected in [([1.0], [np.nan]), ([np.inf], [-np.inf]), ([1.0], [np.inf])]:
        cmp = Comparison("float64")
        cmp.close("x", np.array(actual), np.array(expected), np.array([1.0]))
        assert cmp.failed, (actual, expected)


def test_slack_widens_the_bound():
    cmp = Comparison("float32")
    cmp.close("x", np.array([1.001]), np.array([1.0]), np.array([1.0]), slack=np.array([0.01]))
    assert not cmp.failed


def test_equal_is_bitwise_and_nan_aware():
    cmp = Comparison("float32")
    cmp.equal("same", np.array([np.nan, 1.0], np.float32), np.array([np.nan, 1.0], np.float32))
    assert not cmp.failed
    cmp.equal("diff", np.array([1.0], np.float32), np.array([np.nextafter(np.float32(1), np.float32(2))]))
    assert cmp.failed


def test_the_sensitivity_of_a_decay_rate_near_one_is_finite():
    """A decay rate rounded to float16 (0.999 -> 0.99902) moved up by the input perturbation crosses 1,
    where a bias correction sqrt(1 - beta ** t) is NaN: the allowed error must stay a number (moved
    down instead), or every element it guards is judged against NaN."""
    from dataclasses import dataclass

    from conformance.checks.trajectory import _sensitivity
    from conformance.reference.core import State

    @dataclass
    class Opts:
        clipnorm: float | None = None

    def step(hp, opts, weights, grads, state):
        correction = np.sqrt(1.0 - hp["beta_2"])
        return [w - 0.001 * g / correction for w, g in zip(weights, grads)], state

    beta_2 = float(np.float16(0.999))
    assert beta_2 * (1 + tolerance.input_perturbation("float16")) > 1.0  # the premise: up crosses 1
    inputs = ([np.array([1.0, -1.0])], [np.array([0.5, 0.25])], State([{}]))
    slack = _sensitivity(step, inputs, {"beta_2": beta_2}, Opts(), "float16", {})
    assert np.all(np.isfinite(slack[("weight", 0)])) and np.all(slack[("weight", 0)] > 0)
