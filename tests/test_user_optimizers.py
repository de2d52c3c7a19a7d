"""User optimizers as the suite takes them: defaults read from the class, a crash in their own code
blamed on it, a built-in's declared deviations inherited (recorded as such), a factory taking
keywords constructed like a class, a required argument refused with what to give instead."""

import functools

import keras
import pytest

from conformance.adapters import current
from conformance.core import verdicts
from conformance.core.errors import OptimizerRaised, UserCodeRaised
from conformance.core.running import run_claim
from conformance.inputs import catalogue, user_specs
from conformance.inputs.spec import OptimizerSpec, signature_defaults
from conformance.records import expectations
from conformance.scenarios import test_any_optimizer, test_reference, test_zero_grad

VERSIONS = current().versions()


def judged(spec, test):
    rc = run_claim(test, fail_fast=False, spec=spec)
    return verdicts.record(rc.outcomes, spec.name, test.claim.id, expectations.load_all(), VERSIONS["keras"],
                           VERSIONS["backend"], parents=spec.parents)


def test_a_crash_in_the_users_update_step_is_their_failure_with_their_frames():
    spec = user_specs.user_spec("tests.user_optimizers:CrashingSGD")
    record = judged(spec, test_zero_grad.test_weights_unchanged)
    assert record["verdict"] == "fail" and record["blame"] == "user"
    assert "the optimizer's own code raised RuntimeError in update_step" in record["message"]
    assert "tests/user_optimizers.py" in record["message"] and "Keras raised" not in record["message"]
    assert all(c.get("blame") == "user" for c in record["conditions"].values() if c["verdict"] == "fail")


def test_a_crash_inside_keras_is_still_keras():
    """The blame follows the frames: a Keras error with no user frame on the stack stays Keras's."""
    # a partial has no frame of its own: from the suite's code straight into Keras's
    with pytest.raises(OptimizerRaised) as info:
        catalogue.own_defaults(functools.partial(keras.optimizers.SGD, learning_rate="not a number"), None)
    assert not isinstance(info.value, UserCodeRaised) and str(info.value).startswith("Keras raised")


def test_an_unmodified_subclass_inherits_its_parents_deviations():
    spec = user_specs.user_spec("tests.user_optimizers:MyAdam")
    assert spec.parents[0] == "Adam" and "Optimizer" in spec.parents
    plain = judged(user_specs.user_spec("tests.user_optimizers:MyAdam"), test_reference.test_trajectory_float64)
    builtin = judged({s.name: s for s in catalogue.builtin_specs()}["Adam"], test_reference.test_trajectory_float64)
    assert builtin["verdict"] == "deviation"
    assert plain["verdict"] == "deviation", plain["message"][:500]
    assert plain["reason"].startswith("inherited from ") and plain["inherited_from"] in spec.parents


def test_a_factory_taking_keywords_is_constructed_like_a_class():
    spec = user_specs.user_spec("tests.user_optimizers:make_adam")
    assert spec.parent == "Adam" and spec.parents[0] == "Adam"
    varied = spec.default_setup().vary(lr=spec.default_setup().lr, extra={"clipnorm": 0.5}).build()
    assert isinstance(varied, keras.optimizers.Adam) and varied.clipnorm == 0.5


def test_a_required_argument_is_a_usage_error_saying_what_to_give():
    with pytest.raises(user_specs.UsageError, match="requires momentum_required.*factory.*OptimizerSpec"):
        user_specs.user_spec("tests.user_optimizers:MissingArgSGD")


def test_a_class_without_spec_is_checked_with_its_own_defaults_and_base_options():
    spec = user_specs.user_spec("tests.user_optimizers:CrashingSGD")  # SGD's record: a built-in parent
    assert spec.default_setup().lr.value(0) == 0.01  # SGD's own default, read from an instance
    from momentum_sgd import MomentumSGD  # noqa: F401 - examples/momentum_sgd on the path (conftest)

    bare = user_specs.user_spec("momentum_sgd:MomentumSGD")
    setup = bare.default_setup()
    assert setup.reference is None and setup.code == "MomentumSGD()" and setup.lr.value(0) == 0.01
    assert setup.vary(opts=setup.opts.__class__(clipnorm=0.5)).build().clipnorm == 0.5
    record = judged(bare, test_any_optimizer.test_zero_learning_rate)
    assert record["verdict"] in ("pass", "deviation"), record["message"][:500]
    no_reference = judged(bare, test_reference.test_trajectory)
    assert no_reference["verdict"] == "unsupported" and "give a spec with a reference" in no_reference["message"]


def test_a_spec_gives_the_defaults_from_the_signature_and_its_own_claims():
    from momentum_sgd.spec import SPEC

    assert SPEC.defaults()["momentum"] == 0.9 and signature_defaults(SPEC.construct)["learning_rate"] == 0.01
    spec = user_specs.spec_from_record("momentum_sgd.spec:SPEC")
    assert spec.name == "MomentumSGD" and spec.record is SPEC
    assert judged(spec, test_reference.test_trajectory)["verdict"] == "pass"
    with pytest.raises(user_specs.UsageError, match="not a conformance.inputs.spec.OptimizerSpec"):
        user_specs.spec_from_record("tests.user_optimizers:MyAdam")
    assert OptimizerSpec("x").defaults() == {}


def test_a_default_weight_decay_is_matched_though_the_code_does_not_name_it():
    spec = user_specs.user_spec("tests.user_optimizers:DecayingSGD")
    assert spec.default_setup().code == "DecayingSGD()"
    record = judged(spec, test_zero_grad.test_weights_unchanged)
    assert record["conditions"]["defaults"]["verdict"] == "deviation", record["conditions"]["defaults"]["message"][:300]
    assert record["conditions"]["defaults"]["kind"] == "documented"


def test_a_subclass_adding_an_argument_keeps_its_parents_deviations_but_not_its_reference():
    spec = user_specs.user_spec("tests.user_optimizers:ScaledAdam")
    assert spec.default_setup().reference is None and spec.parents[0] == "Adam"
    assert user_specs.user_spec("tests.user_optimizers:MyAdam").default_setup().reference is not None


def test_an_update_step_not_written_is_the_users_gap_not_a_keras_crash():
    record = judged(
        user_specs.user_spec("tests.user_optimizers:NoUpdateOptimizer"), test_zero_grad.test_weights_unchanged
    )
    assert record["verdict"] == "fail" and record["blame"] == "user"
    assert "does not implement update_step()" in record["message"]


def test_a_base_class_requirement_hidden_by_the_signature_is_a_usage_error_too():
    with pytest.raises(user_specs.UsageError, match="requires learning_rate"):
        user_specs.user_spec("tests.user_optimizers:NoInitOptimizer")
