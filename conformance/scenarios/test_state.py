"""State round trips (the Keras optimizers docs: get_weights/set_weights "can in turn be used to load state into
similarly parameterized optimizers"): snapshot after k steps, restore into a fresh optimizer on
the same weights, continue; the continuation equals the uninterrupted run bit for bit."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.checks.claims import SOURCES, claim
from conformance.checks.reproducer import script
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed
from conformance.inputs.strategies import FLOAT32, cases

SOURCE = SOURCES["OPTIMIZER_DOCS"] + " (get_weights / set_weights)"


def _on_variables(case, mechanism: str):
    """An optimizer on bare variables; saving returns a thunk that restores into a new one."""
    a = adapter()
    opt, vars_ = drive.fresh(case)

    def save():
        blob = a.save_state(opt, mechanism)
        copy = a.variables(a.values(vars_), case.dtype)

        def restore():
            new = case.setup.build()
            a.create_state(new, copy)
            a.load_state(new, mechanism, blob)
            return new, copy

        return restore

    return opt, vars_, save


def _in_model(case, mechanism: str):
    """An optimizer compiled into a model; saving writes a .keras file and loads it back."""
    a = adapter()
    opt = drive.construct(case)
    model, vars_ = a.model_holding(case.weights, case.dtype, opt)

    def save():
        loaded = a.keras_file_roundtrip(model, [type(opt)])
        return lambda: loaded

    return opt, vars_, save


def round_trip(spec, data, mechanism: str) -> None:
    case = data.draw(cases(spec, FLOAT32, min_steps=2), label="case")
    split = data.draw(st.integers(1, len(case.grads) - 1), label="snapshot after step")
    opt, vars_, save = (_in_model if mechanism == "keras_file" else _on_variables)(case, mechanism)
    drive.run(opt, vars_, case.grads[:split])
    restore = save()
    uninterrupted = drive.run(opt, vars_, case.grads[split:])
    continued = drive.run(*restore(), case.grads[split:])
    cmp = Comparison(case.dtype, ("restored", "uninterrupted"))
    drive.compare_runs(cmp, continued, uninterrupted)
    if cmp.failed:
        raise ClaimFailed(
            f"restoring the state saved after step {split} through {mechanism} does not continue the run "
            f"(steps counted from the restore):\n{cmp.summary()}:\n{cmp.report()}"
            f"\n\nReproducer (the run before the snapshot):\n{script(case, case.grads[:split])}"
        )


def _claim(mechanism: str, how: str):
    @claim(
        f"state.roundtrip.{mechanism}",
        f"State saved after k steps with {how} and restored into a new optimizer on the same "
        "weights continues bit for bit like the uninterrupted optimizer (weights and state).",
        SOURCE
        + ("; Keras docs: a .keras file holds 'the optimizer and its state'" if mechanism == "keras_file" else ""),
    )
    @given(data=st.data())
    def test(spec, data):
        round_trip(spec, data, mechanism)

    test.__name__ = f"test_roundtrip_{mechanism}"
    return test


test_roundtrip_get_weights = _claim("get_weights", "optimizer.get_weights() / set_weights()")
test_roundtrip_variables_set_weights = _claim(
    "variables_set_weights", "[v.numpy() for v in optimizer.variables] / set_weights()"
)
test_roundtrip_own_variables = _claim("own_variables", "save_own_variables(store) / load_own_variables(store)")
test_roundtrip_tf_checkpoint = _claim("tf_checkpoint", "tf.train.Checkpoint(optimizer=...).write() / read()")
test_roundtrip_keras_file = _claim("keras_file", "model.save() of a .keras file / keras.models.load_model()")
