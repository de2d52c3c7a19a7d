"""Devices: where a GPU is visible, a step taken on it equals the same step on the CPU.

Teacher-forced like the option claims (`conformance/checks/equivalence.py`): the optimizer runs where the
backend places it (the GPU), and before each step a new optimizer is built on the CPU, given the
GPU one's weights and state, and takes the same step; both must agree within the dtype's
tolerance. Without a GPU the claim is `unsupported`, naming the devices the backend sees (every
result file's run_info lists them)."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import equivalence
from conformance.checks.claims import SOURCES, claim
from conformance.checks.equivalence import Expected
from conformance.core import profiles, running
from conformance.core.errors import Unsupported
from conformance.inputs.conditions import DEFAULTS_ONLY
from conformance.inputs.strategies import FLOAT32, cases

CPU = "cpu:0"
COSTLY = profiles.costly(2)


def on_cpu(setup, job):
    with adapter().on_device(CPU):
        return equivalence.take_step(setup, job)


@claim(
    "devices.gpu",
    "On a GPU, every step equals the same step taken on the CPU from the same weights and state: "
    "the weights and every state variable agree within the dtype's tolerance.",
    f"{SOURCES['OPTIMIZER_DOCS']}; Keras docs: keras.device (keras.io/api/utils/config_utils/)",
    conditions=DEFAULTS_ONLY,  # each example runs every step on two devices
)
@COSTLY
@given(data=st.data())
def test_gpu(spec, data):
    a = adapter()
    gpu = a.accelerator()
    if gpu is None:
        raise Unsupported(f"no GPU visible to {a.versions()['backend']} (devices: {', '.join(a.devices())})")
    running.current().ran_on.update(kind="devices", devices=[gpu, CPU])
    case = data.draw(cases(spec, FLOAT32), label="case")

    def plan(t, before, grads):
        return Expected(case.setup, before.weights, grads, before, "the same step on the CPU",
                        apply=equivalence.relocated(on_cpu, case.dtype))

    with a.on_device(gpu):
        equivalence.check(case, plan, f"a step on {gpu} differs from the same step on the CPU", labels=(gpu, CPU),
                          amplification=equivalence.rule_amplification(case.setup))
