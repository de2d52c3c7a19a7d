"""Conditions: each is checked and judged on its own, a deviation covers only the conditions it
names, the record carries them all, and the expectations' kinds are checked when loaded."""

from __future__ import annotations

import pytest

from conformance.core import verdicts
from conformance.core.errors import ClaimFailed
from conformance.core.running import Outcome, run_claim
from conformance.inputs import conditions
from conformance.records import expectations
from conformance.records.expectations import Deviation
from conformance.scenarios import test_zero_grad
from tests.faulty import ZeroSafeSGD
from tests.faulty_conditions import ShrinksAtDefaultsSGD, ShrinksWithClipnormSGD, user

FIXED = [n for n in conditions.FIXED if n not in conditions.DTYPES]  # a float32 claim's fixed conditions


def outcomes(cls: type) -> dict[str, str]:
    """zero_grad.weights_unchanged on `cls`, every condition: its outcome by name."""
    rc = run_claim(test_zero_grad.test_weights_unchanged, fail_fast=False, spec=user(cls))
    return {o.condition: type(o.exc).__name__ if o.exc else "held" for o in rc.outcomes}


def test_the_conforming_double_holds_in_every_condition():
    assert outcomes(ZeroSafeSGD) == {**{n: "held" for n in FIXED}, "drawn": "held"}


def test_a_fault_at_the_defaults_fails_only_where_it_is_constructed_with_none():
    got = outcomes(ShrinksAtDefaultsSGD)
    # loss_scale wraps the optimizer constructed with no arguments; every other condition passes one
    assert {n for n, v in got.items() if v != "held"} == {"defaults", "loss_scale"}
    assert set(got) == {*FIXED, "drawn"}


def test_a_fault_of_one_option_fails_only_that_option():
    got = outcomes(ShrinksWithClipnormSGD)
    assert got["clipnorm"] == "ClaimFailed"
    assert all(v == "held" for n, v in got.items() if n not in ("clipnorm", "drawn")), got


def test_the_condition_is_constructed_as_a_user_does():
    spec = user(ShrinksAtDefaultsSGD)
    assert conditions.CONDITIONS["defaults"].setup(spec).code == "ShrinksAtDefaultsSGD()"
    assert conditions.CONDITIONS["clipnorm"].setup(spec).code == "ShrinksAtDefaultsSGD(clipnorm=0.01)"
    assert conditions.CONDITIONS["learning_rate_schedule"].setup(spec).code.startswith(
        "ShrinksAtDefaultsSGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(initial_learning_rate=0.01")


def test_fail_fast_raises_the_first_failing_condition():
    with pytest.raises(ClaimFailed) as e:
        run_claim(test_zero_grad.test_weights_unchanged, spec=user(ShrinksAtDefaultsSGD))
    assert "(in condition defaults)" in e.value.__notes__


def _failed(condition: str, message: str = "a zero-gradient step changed the weights") -> Outcome:
    return Outcome(condition, ClaimFailed(message, reproducer="print(1)"))


def test_a_deviation_declared_for_one_condition_never_excuses_another():
    dev = Deviation("SGD", "c", "weight decay shrinks the weights", "documented", conditions=("weight_decay",))
    rec = verdicts.record(
        [_failed("defaults"), _failed("weight_decay"), Outcome("drawn", None)],
        "SGD",
        "c",
        [dev],
        "3.15.1",
        "tensorflow",
    )
    assert rec["conditions"]["weight_decay"]["verdict"] == "deviation"
    assert rec["conditions"]["weight_decay"]["kind"] == "documented"
    assert rec["conditions"]["defaults"]["verdict"] == "fail"
    assert (rec["verdict"], rec["condition"]) == ("fail", "defaults")
    assert list(rec["conditions"]) == ["defaults", "weight_decay", "drawn"]


def test_the_record_is_the_worst_condition_and_says_which():
    dev = Deviation("SGD", "c", "documented behaviour", "bug", upstream="none found")
    rec = verdicts.record(
        [Outcome("defaults", None), _failed("clipnorm"), Outcome("drawn", None)],
        "SGD",
        "c",
        [dev],
        "3.15.1",
        "tensorflow",
    )
    assert (rec["verdict"], rec["condition"], rec["kind"], rec["upstream"]) == (
        "deviation",
        "clipnorm",
        "bug",
        "none found",
    )
    assert rec["reproducer"] == "print(1)" and rec["conditions"]["defaults"] == {
        "verdict": "pass",
        "expected": "pass",
        "message": "",
        "dtype": None,
        "examples": 0,
        "duration_s": 0.0,
    }


def test_an_unconditional_entry_is_stale_only_when_none_of_its_conditions_failed():
    every = Deviation("SGD", "c", "always fails", "documented")
    named = Deviation("SGD", "d", "fails with weight decay", "documented", conditions=("weight_decay",))
    one = [Outcome("defaults", None), _failed("weight_decay")]
    assert verdicts.record(one, "SGD", "c", [every], "3.15.1", "tensorflow")["stale"] == ""
    assert (
        verdicts.record([Outcome("defaults", None)], "SGD", "c", [every], "3.15.1", "tensorflow")["stale"]
        == "always fails"
    )
    assert (
        verdicts.record(
            [_failed("defaults"), Outcome("weight_decay", None)], "SGD", "d", [named], "3.15.1", "tensorflow"
        )["stale"]
        == "fails with weight decay"
    )


@pytest.mark.parametrize(
    "entry, problem",
    [
        ('kind = "feature"', "kind 'feature' is not one of bug, documented, design, environment"),
        ('kind = "bug"', "a bug needs upstream"),
        ('kind = "design"\nupstream = "none found"', "a design deviation needs upstream = the link"),
        ('kind = "documented"\nupstream = "see the docs"', "is neither an http(s) link"),
        ('kind = "documented"\nconditions = ["weightdecay"]', "unknown conditions ['weightdecay']"),
        ('kind = "documented"\ncondition = ["defaults"]', "unknown key 'condition'"),
        ('upstream = "none found"', "lacks ['kind']"),
    ],
)
def test_an_entry_that_is_not_well_formed_is_refused_when_loaded(tmp_path, entry, problem):
    path = tmp_path / "expectations.toml"
    path.write_text(f'[[deviation]]\noptimizer = "SGD"\nclaim = "c"\nreason = "r"\n{entry}\n')
    with pytest.raises(ValueError, match=r"entry 1 \(SGD / c\)") as e:
        expectations.load(path)
    assert problem in str(e.value)


def test_every_shipped_entry_has_a_kind_and_the_unreported_bugs_can_be_listed(capsys):
    entries = expectations.load()
    assert entries and all(d.kind in expectations.KINDS for d in entries)
    assert all(d.upstream for d in entries if d.kind in ("bug", "design"))
    assert expectations.main(["--unreported"]) == 0
    out = capsys.readouterr().out
    unreported = sum(1 for d in entries if d.kind == "bug" and d.upstream == expectations.NONE_FOUND)
    assert f"{unreported} entries: bug {unreported}" in out
