"""model.fit sequences that claims compare, as functions a worker process can run
(`conformance.distributed.isolated.call`): each fit's traced functions stay with the process that
ran it, and a worker's are freed when it is replaced."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.distributed.jobs import setup_of
from conformance.inputs.catalogue import Setup

# How reset claims re-make an optimizer: from the old one's config, or from the same arguments.
REMAKE: dict[str, Callable[[Setup, Any], Any]] = {
    "from_config": lambda setup, old: adapter().from_config(old),
    "same_arguments": lambda setup, old: setup.build(),
}
Round = tuple[np.ndarray, np.ndarray, int]  # inputs, targets, epochs


def recompiled_and_fresh(
    job: dict[str, Any], way: str, kernel: np.ndarray, bias: np.ndarray, batch: int, rounds: list[Round]
) -> tuple[drive.Snapshot, drive.Snapshot]:
    """A Dense model fit on round 1, recompiled with an optimizer re-made `way`, fit on round 2;
    and a new model from the weights round 1 left with a brand-new optimizer, fit on round 2.
    `job` names the optimizer as distributed jobs do (spec, code, imports). Their snapshots."""
    a = adapter()
    setup = setup_of(job)
    with a.keras_call(f"constructing {setup.code}"):
        old = setup.build()
    model = a.dense_model(kernel, bias, "float32", old)
    a.fit(model, *rounds[0][:2], rounds[0][2], batch)
    new = REMAKE[way](setup, old)
    start = a.model_weights(model)
    a.recompile(model, new)
    a.fit(model, *rounds[1][:2], rounds[1][2], batch)
    fresh_opt = setup.build()
    fresh = a.dense_model(*start, "float32", fresh_opt)
    a.fit(fresh, *rounds[1][:2], rounds[1][2], batch)
    return tuple(  # type: ignore[return-value]
        drive.Snapshot(a.model_weights(m), a.state(o), a.iterations(o)) for m, o in ((model, new), (fresh, fresh_opt))
    )
