"""Reset by re-instantiation (the reset question): "create a new optimizer instance with the identical
configuration ... its internal state is wiped clean", and resetting in place."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.checks.claims import SOURCES, claim
from conformance.checks.reproducer import script
from conformance.core import profiles
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed
from conformance.distributed import fits, isolated
from conformance.inputs.learning_rates import configurable
from conformance.inputs.strategies import FLOAT32, array, cases

SOURCE = SOURCES["RESET"]
WAYS = {way: (lambda case, old, way=way: fits.REMAKE[way](case.setup, old)) for way in fits.REMAKE}
HOW = {
    "from_config": "type(opt).from_config(opt.get_config())",
    "same_arguments": "calling the class again with the same arguments",
}


def _trained(data, spec):
    """A case and an optimizer that has taken the case's steps."""
    case = data.draw(cases(spec, FLOAT32), label="case")
    opt, vars_ = drive.fresh(case)
    drive.run(opt, vars_, case.grads)
    return case, opt, vars_


def _built_on(case, vars_) -> drive.Snapshot:
    """A brand-new optimizer's state after build() on (a copy of) the current weights: some
    optimizers start their state from the weights (ScheduleFreeAdamW's z)."""
    a = adapter()
    copy = a.variables(a.values(vars_), case.dtype)
    opt = case.setup.build()
    a.build(opt, copy)
    return drive.snapshot(opt, copy)


def _fail(case, what: str, cmp: Comparison | None, check: str):
    detail = f"\n{cmp.summary()}:\n{cmp.report()}" if cmp else ""
    raise ClaimFailed(f"{what}{detail}\n\nReproducer (the steps before the reset):\n{script(case, check=check)}")


def _starts_fresh(case, old, vars_, way: str) -> None:
    a = adapter()
    new = WAYS[way](case, old)
    a.build(new, vars_)
    got = drive.snapshot(new, vars_)
    want = _built_on(case, vars_)
    check = (
        f"# then: new = {HOW[way]}; new.build(variables): "
        "new.iterations and new.variables should be those of a new optimizer"
    )
    if got.iterations != 0:
        _fail(case, f"after {HOW[way]} the new optimizer's iterations is {got.iterations}, not 0", None, check)
    cmp = Comparison(case.dtype, ("re-instantiated", "brand-new"))
    names = ([v.name for v in got.state], [v.name for v in want.state])
    if names[0] != names[1]:
        cmp.differ("state names", *names)
    for g, w in zip(got.state, want.state):
        if g.name != "iteration":
            cmp.equal(g.name, g.value, w.value)
    old_before = drive.snapshot(old, vars_)
    drive.run(new, vars_, case.grads[:1])
    old_after = drive.snapshot(old, vars_)
    for b, c in zip(old_before.state, old_after.state):
        cmp.equal(f"old optimizer's {b.name} after stepping the new one", c.value, b.value)
    if cmp.failed:
        _fail(case, f"the optimizer made by {HOW[way]} does not start fresh", cmp, check)


def _fresh_claim(way: str):
    """One claim per way of re-making the optimizer (the reset question names both)."""

    @claim(
        f"reset.{way}_starts_fresh",
        f"After k steps, {HOW[way]} gives an optimizer with iterations 0, its state at the values a "
        "new optimizer has after build(), and nothing shared with the old one.",
        SOURCE,
    )
    @given(data=st.data())
    def test(spec, data):
        _starts_fresh(*_trained(data, spec), way)

    test.__name__ = f"test_{way}_starts_fresh"
    return test


test_from_config_starts_fresh = _fresh_claim("from_config")
test_same_arguments_starts_fresh = _fresh_claim("same_arguments")


@claim(
    "reset.keeps_hyperparameters",
    "The optimizer re-made from get_config() after k steps has the same configuration: every "
    "hyperparameter, the learning rate value and its schedule.",
    SOURCE + "; Optimizer.get_config / from_config in the Keras docs",
)
@given(data=st.data())
def test_keeps_hyperparameters(spec, data):
    case, old, _ = _trained(data, spec)
    a = adapter()
    new = a.from_config(old)
    before, after = a.config(old), a.config(new)
    diff = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    # The config may itself omit something: compare the values the two optimizers hold as well.
    for name in [*case.setup.hp, *case.setup.opts.kwargs()]:
        held = (a.hyperparameter(old, name), a.hyperparameter(new, name))
        if held[0] != held[1]:
            diff[f"{name} (held)"] = held
    if diff:
        _fail(
            case,
            f"from_config(get_config()) changed the configuration: {diff} (old, new)",
            None,
            "# then compare opt.get_config() with type(opt).from_config(opt.get_config()).get_config()",
        )


@claim(
    "reset.trajectory_as_new",
    "From the same weights, the optimizer re-made from get_config() after k steps follows "
    "bit for bit the trajectory of a brand-new optimizer.",
    SOURCE,
)
@given(data=st.data())
def test_trajectory_as_new(spec, data):
    case, old, vars_ = _trained(data, spec)
    a = adapter()
    mine, theirs = (a.variables(a.values(vars_), case.dtype) for _ in range(2))
    remade = drive.run(a.from_config(old), mine, case.grads)
    new = drive.run(case.setup.build(), theirs, case.grads)
    cmp = Comparison(case.dtype, ("re-made", "brand-new"))
    drive.compare_runs(cmp, remade, new)
    if cmp.failed:
        _fail(
            case,
            "the re-made optimizer's trajectory differs from a brand-new optimizer's",
            cmp,
            "# then run the same gradients again with type(opt).from_config(opt.get_config()) and with a new optimizer",
        )


@claim(
    "reset.in_place_equals_new",
    "Assigning every optimizer variable the value a new optimizer has after build() resets it: "
    "it then follows bit for bit the trajectory of a brand-new optimizer.",
    SOURCE,
)
@given(data=st.data())
def test_in_place_equals_new(spec, data):
    case, old, vars_ = _trained(data, spec)
    a = adapter()
    theirs = a.variables(a.values(vars_), case.dtype)
    initial = _built_on(case, vars_)
    if [v.name for v in initial.state] != [v.name for v in a.state(old)]:
        _fail(
            case,
            "the trained optimizer's variables do not match a new one's, so they cannot be reset in place",
            None,
            "",
        )
    a.assign_state(old, [v.value for v in initial.state])
    reset = drive.run(old, vars_, case.grads)
    new = drive.run(case.setup.build(), theirs, case.grads)
    cmp = Comparison(case.dtype, ("reset in place", "brand-new"))
    drive.compare_runs(cmp, reset, new)
    if cmp.failed:
        _fail(
            case,
            "after assigning initial values to its variables the optimizer does not behave as a new one",
            cmp,
            "# then: for v, new_v in zip(opt.variables, fresh_built_opt.variables): v.assign(new_v); "
            "run the gradients again",
        )


@st.composite
def fit_data(draw):
    """A Dense layer's weights and two rounds of training data (inputs, targets, epochs)."""
    n_in, n_out, batch, batches = (
        draw(st.integers(1, hi), label=n)
        for n, hi in (("inputs", 4), ("outputs", 3), ("batch size", 4), ("batches", 2))
    )
    kernel = draw(array((n_in, n_out), "float32", zeros=False), label="kernel")
    bias = draw(array((n_out,), "float32"), label="bias")
    rounds = [
        (
            draw(array((batch * batches, n_in), "float32"), label=f"x{r}"),
            draw(array((batch * batches, n_out), "float32"), label=f"y{r}"),
            draw(st.integers(1, 2), label=f"epochs{r}"),
        )
        for r in (1, 2)
    ]
    return kernel, bias, batch, rounds


def _fit_script(case, kernel, bias, batch, rounds, way: str) -> str:
    arr = lambda x: f"np.array({np.asarray(x, np.float64).tolist()!r}, dtype='float32')"  # noqa: E731
    (x1, y1, e1), (x2, y2, e2) = rounds
    remake = "type(opt).from_config(opt.get_config())" if way == "from_config" else case.setup.code
    return "\n".join(
        [
            adapter().REPRO.header,
            *([case.setup.imports] if case.setup.imports else []),
            "",
            "def model(kernel, bias, opt):",
            f"    m = keras.Sequential([keras.Input(({np.shape(kernel)[0]},)), "
            f"keras.layers.Dense({np.shape(kernel)[1]})])",
            "    m.layers[-1].kernel.assign(kernel); m.layers[-1].bias.assign(bias)",
            "    m.compile(optimizer=opt, loss='mse')",
            "    return m",
            "",
            f"opt = {case.setup.code}",
            f"m = model({arr(kernel)}, {arr(bias)}, opt)",
            f"m.fit({arr(x1)}, {arr(y1)}, epochs={e1}, batch_size={batch}, shuffle=False, verbose=0)",
            "weights = [v.numpy() for v in m.trainable_variables]",
            f"new = {remake}",
            "m.compile(optimizer=new, loss='mse')",
            f"m.fit({arr(x2)}, {arr(y2)}, epochs={e2}, batch_size={batch}, shuffle=False, verbose=0)",
            f"fresh = model(*weights, {case.setup.code})",
            f"fresh.fit({arr(x2)}, {arr(y2)}, epochs={e2}, batch_size={batch}, shuffle=False, verbose=0)",
            "for a, b in zip(m.trainable_variables, fresh.trainable_variables):",
            f"    print({adapter().REPRO.name.format(v='a')}, np.max(np.abs(a.numpy() - b.numpy())))  # expected: 0.0",
        ]
    )


def _recompile_claim(way: str):
    """Seed 002's own recipe: a new optimizer, model.compile(optimizer=new), then fit."""

    # from_config cannot re-make a callable learning rate (reset.from_config_starts_fresh finds
    # that with its corners on every run); this costly claim takes the callable's value instead.
    configure = (lambda draw, s: s.vary(lr=configurable(s.lr)) if s.variant else s) if way == "from_config" else None  # noqa: E731

    @claim(
        f"reset.{way}_recompile_fit",
        f"After model.fit, model.compile(optimizer=new) with new made by {HOW[way]}, then fit, trains "
        "from fresh state: weights and optimizer state equal bit for bit those of a new model and "
        "brand-new optimizer given the same weights and data"
        + (
            " (a callable learning rate is replaced by its value: from_config cannot re-make it, "
            "see reset.from_config_starts_fresh)."
            if way == "from_config"
            else "."
        ),
        SOURCE,
    )
    @profiles.costly(3)  # three compiled fits per example
    @given(data=st.data())
    def test(spec, data):
        case = data.draw(cases(spec, FLOAT32, max_steps=1, configure=configure), label="case")
        kernel, bias, batch, rounds = data.draw(fit_data(), label="data")
        job = {"spec": case.setup.spec, "code": case.setup.code, "imports": case.setup.imports}
        # In a worker process: every fit traces functions that this process could never free.
        got, want = isolated.call(fits.recompiled_and_fresh, job, way, kernel, bias, batch, rounds)
        cmp = Comparison("float32", ("recompiled with the re-made optimizer", "fresh model and optimizer"))
        drive.compare_runs(cmp, [got], [want])
        if got.iterations != want.iterations:
            cmp.differ("optimizer.iterations", got.iterations, want.iterations)
        if cmp.failed:
            raise ClaimFailed(
                f"model.compile(optimizer=new) then fit does not train from fresh state "
                f"({cmp.summary()}):\n{cmp.report()}",
                reproducer=_fit_script(case, kernel, bias, batch, rounds, way),
            )

    test.__name__ = f"test_{way}_recompile_fit"
    return test


test_from_config_recompile_fit = _recompile_claim("from_config")
test_same_arguments_recompile_fit = _recompile_claim("same_arguments")
