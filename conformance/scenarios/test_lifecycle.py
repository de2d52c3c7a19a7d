"""The lifecycle of one optimizer in a training script (seeds 002, 003 and 004 together): steps,
zero-gradient steps, snapshots and restores, re-instantiation, learning-rate changes, .keras
save/load and build on new variables, in any order, agree with the float64 reference model
after every one. See conformance/checks/lifecycle.py for the machine."""

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from conformance.checks import lifecycle
from conformance.checks.claims import SOURCES, claim
from conformance.core import profiles

SOURCE = f"{SOURCES['RESET']}; {SOURCES['OPTIMIZER_DOCS']}; {SOURCES['STATE_PERSISTS']}"
# Rules per example: enough for a snapshot, some steps, a restore and a reload to meet.
STEPS = 8


@claim(
    "lifecycle.model",
    "In any order of steps, zero-gradient steps, state snapshot and restore, re-instantiation from "
    "get_config(), learning-rate changes, .keras save and load, and build() on a grown variable "
    "list, the weights and state follow the float64 reference after every step, a restore or a "
    "reload gives back exactly what was saved, a new optimizer starts from its initial state, and "
    "the iteration count, the state's names, shapes and dtypes and the weights' finiteness hold.",
    SOURCE,
)
def test_lifecycle(spec):
    lifecycle.scripted(spec)  # the anchors through fixed sequences first: every run checks them
    if profiles.generates():  # the random sequences (the machine has no fixed examples of its own)
        run_state_machine_as_test(lifecycle.machine(spec), settings=settings(stateful_step_count=STEPS))
