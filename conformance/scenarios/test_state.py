"""State round trips (seed 003: get_weights/set_weights "can in turn be used to load state into
similarly parameterized optimizers"): snapshot after k steps, restore into a fresh optimizer on
the same weights, continue; the continuation equals the uninterrupted run bit for bit."""

from hypothesis import given
from hypothesis import strategies as st

from conformance import drive
from conformance.adapters import current as adapter
from conformance.claims import SEEDS, claim
from conformance.compare import Comparison
from conformance.errors import ClaimFailed
from conformance.reproducer import script
from conformance.strategies import FLOAT32, cases

SOURCE = SEEDS["003"] + " (get_weights / set_weights)"


def round_trip(spec, data, mechanism: str) -> None:
    case = data.draw(cases(spec, FLOAT32, min_steps=2), label="case")
    split = data.draw(st.integers(1, len(case.grads) - 1), label="snapshot after step")
    a = adapter()
    opt, vars_ = drive.fresh(case)
    drive.run(opt, vars_, case.grads[:split])
    blob = a.save_state(opt, mechanism)
    copy = a.variables(a.values(vars_), case.dtype)
    uninterrupted = drive.run(opt, vars_, case.grads[split:])
    restored = case.setup.build()
    a.build(restored, copy)
    a.load_state(restored, mechanism, blob)
    continued = drive.run(restored, copy, case.grads[split:])
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
        f"State saved after k steps with {how} and restored into a new optimizer built on the same "
        "weights continues bit for bit like the uninterrupted optimizer (weights and state).",
        SOURCE,
    )
    @given(data=st.data())
    def test(spec, data):
        round_trip(spec, data, mechanism)

    test.__name__ = f"test_roundtrip_{mechanism}"
    return test


test_roundtrip_get_weights = _claim("get_weights", "optimizer.get_weights() / set_weights()")
test_roundtrip_variables_set_weights = _claim("variables_set_weights", "[v.numpy() for v in optimizer.variables] / set_weights()")
test_roundtrip_own_variables = _claim("own_variables", "save_own_variables(store) / load_own_variables(store)")
test_roundtrip_tf_checkpoint = _claim("tf_checkpoint", "tf.train.Checkpoint(optimizer=...).write() / read()")


@claim(
    "state.roundtrip.keras_file",
    "A model saved with model.save() to a .keras file after k steps and loaded with "
    "keras.models.load_model() continues bit for bit like the uninterrupted model: the loaded "
    "optimizer carries the state (weights and optimizer variables).",
    SEEDS["003"] + "; Keras docs, saving: 'the optimizer and its state' are part of the .keras file",
)
@given(data=st.data())
def test_roundtrip_keras_file(spec, data):
    case = data.draw(cases(spec, FLOAT32, min_steps=2), label="case")
    split = data.draw(st.integers(1, len(case.grads) - 1), label="snapshot after step")
    a = adapter()
    opt = case.setup.build()
    model, vars_ = a.model_holding(case.weights, case.dtype, opt)
    drive.run(opt, vars_, case.grads[:split])
    loaded_opt, loaded_vars = a.keras_file_roundtrip(model, [type(opt)])
    uninterrupted = drive.run(opt, vars_, case.grads[split:])
    continued = drive.run(loaded_opt, loaded_vars, case.grads[split:])
    cmp = Comparison(case.dtype, ("loaded", "uninterrupted"))
    drive.compare_runs(cmp, continued, uninterrupted)
    if cmp.failed:
        raise ClaimFailed(
            f"the model loaded from a .keras file saved after step {split} does not continue the run:\n"
            f"{cmp.summary()}:\n{cmp.report()}\n\nReproducer (the run before saving; put the variables in a "
            f"model, model.save(), keras.models.load_model()):\n{script(case, case.grads[:split])}"
        )
