"""Zero-gradient initialisation (the initialise-state question): "applying all-zero gradients initialises the state
without influencing the model's weights; training then proceeds from the initialised state"."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.checks.claims import SOURCES, claim
from conformance.checks.pairing import COUNTERS
from conformance.checks.reproducer import script
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed
from conformance.inputs.strategies import FLOAT32, cases, zeros_like

SOURCE = SOURCES["INITIALISE_STATE"]


def _draw(spec, data):
    return data.draw(cases(spec, FLOAT32), label="case")


def _effects(case, before: list, zero: drive.Snapshot) -> str:
    """What the zero-gradient step observably did: the likely cause of a later difference."""
    built = drive.snapshot(*drive.fresh(case, build=True))
    moved = [f"v{i}" for i, (a, b) in enumerate(zip(before, zero.weights)) if a.tobytes() != b.tobytes()]
    state = {v.name: v.value.tobytes() for v in built.state}
    touched = [v.name for v in zero.state if v.name not in COUNTERS and state.get(v.name) != v.value.tobytes()]
    # an advanced step counter behind an unmoved optimizer.iterations: an accumulation micro-step
    counters = (
        [v.name for v in zero.state if v.name in COUNTERS and state.get(v.name) != v.value.tobytes()]
        if not zero.iterations
        else []
    )
    done = [f"changed the weights {moved}"] if moved else []
    done += [f"changed the state {touched}"] if touched else []
    done += (
        [
            f"advanced optimizer.iterations to {zero.iterations}: the first real update is then update number "
            f"{zero.iterations + 1}, so step-dependent terms (bias correction, learning-rate schedules, warm-up, "
            "EMA start) are shifted"
        ]
        if zero.iterations
        else []
    )
    done += (
        [
            f"advanced the internal counters {counters} (a gradient-accumulation micro-step: the zero gradient "
            "is one of the gradients the next update averages)"
        ]
        if counters
        else []
    )
    if not done:
        return "The zero-gradient step left the weights, the state and every counter as build() leaves them."
    return "The zero-gradient step " + "; ".join(done) + "."


def _fail(case, what: str, cmp: Comparison | None, steps, check: str):
    detail = f"\n{cmp.summary()}:\n{cmp.report()}" if cmp else ""
    raise ClaimFailed(f"{what}{detail}", reproducer=script(case, steps, check=check))


@claim(
    "zero_grad.weights_unchanged",
    "Applying all-zero gradients to a fresh optimizer leaves every weight bit-for-bit unchanged.",
    SOURCE,
)
@given(data=st.data())
def test_weights_unchanged(spec, data):
    case = _draw(spec, data)
    opt, vars_ = drive.fresh(case)
    before = adapter().values(vars_)
    after = drive.run(opt, vars_, [zeros_like(case.weights)])[0]
    cmp = Comparison(case.dtype, ("after", "before"))
    for i, (b, a) in enumerate(zip(before, after.weights)):
        cmp.equal(f"weight v{i}", a, b)
    if cmp.failed:
        _fail(
            case,
            "a zero-gradient step changed the weights",
            cmp,
            [zeros_like(case.weights)],
            "# expected: the printed weights equal the initial values",
        )


@claim(
    "zero_grad.state_as_built",
    "After a zero-gradient step the optimizer holds the same state variables (names, shapes, "
    "dtypes and values) as after optimizer.build(variables), the counters aside.",
    SOURCE,
)
@given(data=st.data())
def test_state_as_built(spec, data):
    case = _draw(spec, data)
    opt, vars_ = drive.fresh(case)
    zero = drive.run(opt, vars_, [zeros_like(case.weights)])[0]
    built = drive.snapshot(*drive.fresh(case, build=True))
    za = [v for v in zero.state if v.name not in COUNTERS]
    zb = [v for v in built.state if v.name not in COUNTERS]
    layout_a, layout_b = [v.layout() for v in za], [v.layout() for v in zb]
    if layout_a != layout_b:
        _fail(
            case,
            f"state layout differs:\n  after zero step: {layout_a}\n  after build():   {layout_b}",
            None,
            [zeros_like(case.weights)],
            "",
        )
    cmp = Comparison(case.dtype, ("after zero step", "after build()"))
    for a, b in zip(za, zb):
        cmp.equal(a.name, a.value, b.value)
    if cmp.failed:
        _fail(
            case,
            "state after a zero-gradient step differs from the state after build()",
            cmp,
            [zeros_like(case.weights)],
            "# compare opt.variables with those of a fresh optimizer after opt.build(variables)",
        )


@claim(
    "zero_grad.trajectory_as_fresh",
    "Real-gradient steps after a zero-gradient initialisation step follow bit-for-bit the "
    "trajectory of an optimizer initialised by build() and of one initialised lazily by its first step.",
    SOURCE,
)
@given(data=st.data())
def test_trajectory_as_fresh(spec, data):
    case = _draw(spec, data)
    opt, vars_ = drive.fresh(case)
    before = adapter().values(vars_)
    zero = drive.run(opt, vars_, [zeros_like(case.weights)])[0]
    after_zero = drive.run(opt, vars_, case.grads)
    lazy = drive.run(*drive.fresh(case), case.grads)
    cmp = Comparison(case.dtype, ("after zero step", "fresh"))
    drive.compare_runs(cmp, after_zero, lazy, state=False)
    if cmp.failed:
        _fail(
            case,
            "the trajectory after a zero-gradient step differs from a fresh optimizer's.\n"
            f"{_effects(case, before, zero)}",
            cmp,
            [zeros_like(case.weights), *case.grads],
            "# compare with the same script without the first (all-zero) gradients",
        )


@claim(
    "zero_grad.iterations_unchanged",
    "A zero-gradient initialisation step leaves optimizer.iterations at 0, so that training "
    "afterwards counts its steps from the first real gradient.",
    SOURCE,
)
@given(data=st.data())
def test_iterations_unchanged(spec, data):
    case = _draw(spec, data)
    opt, vars_ = drive.fresh(case)
    zero = drive.run(opt, vars_, [zeros_like(case.weights)])[0]
    if zero.iterations != 0:
        _fail(
            case,
            f"optimizer.iterations is {zero.iterations} after the zero-gradient step (expected 0): "
            "bias corrections and learning-rate schedules then start one step late",
            None,
            [zeros_like(case.weights)],
            "",
        )
