"""Explicit build() against lazy initialisation on the first step."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.checks import drive
from conformance.checks.claims import SOURCES, claim
from conformance.checks.reproducer import script
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed
from conformance.inputs.strategies import FLOAT32, cases


@claim(
    "build.equals_lazy",
    "optimizer.build(variables) followed by k steps gives bit-for-bit the weights and state of "
    "an optimizer that builds itself lazily on its first apply_gradients.",
    SOURCES["INITIALISE_STATE"] + "; Optimizer.build in the Keras docs",
)
@given(data=st.data())
def test_build_equals_lazy(spec, data):
    case = data.draw(cases(spec, FLOAT32), label="case")
    built = drive.run(*drive.fresh(case, build=True), case.grads)
    lazy = drive.run(*drive.fresh(case), case.grads)
    cmp = Comparison(case.dtype, ("build()", "lazy"))
    drive.compare_runs(cmp, built, lazy)
    if cmp.failed:
        raise ClaimFailed(
            f"build() then steps differs from lazy initialisation ({cmp.summary()}):\n{cmp.report()}"
            f"\n\nReproducer (run with and without opt.build):\n{script(case, build_first=True)}"
        )
