"""Drive a Keras optimizer through a case and take snapshots, via the adapter only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from conformance.adapters import current as adapter
from conformance.inputs.strategies import Case


@dataclass
class Snapshot:
    weights: list[np.ndarray]
    state: list[Any]  # adapter StateVar, in optimizer.variables order
    iterations: int

    def state_layout(self) -> list[dict[str, Any]]:
        return [sv.layout() for sv in self.state]


def construct(case: Case) -> Any:
    """A new optimizer of the case's configuration; Keras refusing the configuration is a claim
    failure saying so (a declared deviation where expected), not an error of the suite."""
    with adapter().keras_call(f"constructing {case.setup.code}"):
        return case.setup.build()


def fresh(case: Case, build: bool = False, slots: bool = False) -> tuple[Any, list[Any]]:
    """A new optimizer from the case's configuration and new variables holding its weights;
    `build`: built through the public build(); `slots`: its state created however the
    generation can (the harness's need, not a claim about build())."""
    a = adapter()
    opt = construct(case)
    vars_ = a.variables(case.weights, case.dtype)
    if build:
        a.build(opt, vars_)
    elif slots:
        a.create_state(opt, vars_)
    return opt, vars_


def snapshot(opt: Any, vars_: Sequence[Any]) -> Snapshot:
    a = adapter()
    built = bool(getattr(opt, "built", True))
    return Snapshot(a.values(vars_), a.state(opt) if built else [], a.iterations(opt))


def run(opt: Any, vars_: Sequence[Any], steps: Sequence[Sequence[np.ndarray]]) -> list[Snapshot]:
    """Apply each step's gradients; a snapshot after each."""
    a = adapter()
    out = []
    for grads in steps:
        a.apply(opt, grads, vars_)
        out.append(snapshot(opt, vars_))
    return out


def as_dtype(arrays: Sequence[np.ndarray], dtype: str) -> list[np.ndarray]:
    """The float64 values the optimizer actually sees after casting to its dtype."""
    a = adapter()
    return [np.asarray(x, np.float64).astype(a.np_dtype(dtype)).astype(np.float64) for x in arrays]


def compare_runs(cmp: Any, a: list[Snapshot], b: list[Snapshot], state: bool = True) -> None:
    """Bit-for-bit comparison of two runs, step by step: weights, then state other than counters."""
    from conformance.checks.pairing import COUNTERS

    for t, (sa, sb) in enumerate(zip(a, b)):
        for i, (wa, wb) in enumerate(zip(sa.weights, sb.weights)):
            cmp.equal(f"step {t + 1} weight v{i}", wa, wb)
        if state:
            xa = [v for v in sa.state if v.name not in COUNTERS]
            xb = [v for v in sb.state if v.name not in COUNTERS]
            if [v.name for v in xa] != [v.name for v in xb]:
                cmp.differ(f"step {t + 1} state names", [v.name for v in xa], [v.name for v in xb])
                return
            for va, vb in zip(xa, xb):
                cmp.equal(f"step {t + 1} {va.name}", va.value, vb.value)
        if cmp.failed:
            return
