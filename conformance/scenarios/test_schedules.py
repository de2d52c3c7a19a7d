"""Learning-rate schedules and callables (the Keras optimizers docs' ExponentialDecay example): each update uses
the learning rate's value at the number of steps taken so far, a zero-gradient initialisation
step (the initialise-state question) included."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.checks import equivalence
from conformance.checks.claims import SOURCES, claim
from conformance.checks.equivalence import Expected
from conformance.checks.trajectory import rounding
from conformance.inputs.hyperparameters import varying_learning_rates as varying
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.strategies import FLOAT32, cases, zeros_like


@claim(
    "options.learning_rate_schedule",
    "With a LearningRateSchedule or a callable as learning_rate, the update made when "
    "optimizer.iterations reads n equals the same optimizer with the constant learning rate "
    "schedule(n), also after a zero-gradient initialisation step.",
    f"{SOURCES['OPTIMIZER_DOCS']} (learning rate decay / scheduling); {SOURCES['INITIALISE_STATE']}",
)
@given(data=st.data())
def test_learning_rate_schedule(spec, data):
    def configure(draw, setup):
        return setup.vary(lr=draw(varying, label="learning_rate"))

    case = data.draw(cases(spec, FLOAT32, configure=configure), label="case")
    zero_first = data.draw(st.booleans(), label="zero-gradient step first")
    steps = [zeros_like(case.weights), *case.grads] if zero_first else case.grads
    cast = rounding(case.dtype)

    def plan(t, before, grads):
        lr = cast(case.setup.lr.value(t))
        constant = case.setup.vary(lr=LearningRate("constant", {"value": lr}))
        return Expected(
            constant, before.weights, grads, before, f"the constant learning rate {lr!r} (the schedule at step {t})"
        )

    equivalence.check(case, plan, "the learning rate is not the schedule's value at the current step", steps=steps)
