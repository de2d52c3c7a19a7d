"""A step on some of an optimizer's variables, judged teacher-forced.

After `optimizer.build(variables)` a step may be given some of the variables, in any order (or one
it was not built with). What it must do to the variables given is what a second optimizer of the
same configuration, built on every variable in order, does to them when it is handed the first
one's weights and state by name (the weights' slots, the step counter, a wrapper's loss scale) and
then steps on every variable, the others with zero gradients (which change neither a global norm
nor a loss scale): the verdict is about which variables and which state the step touches,
whatever the update rule. Every variable not given, and its state, must stay bit-for-bit as it was.
State belongs to the variable whose name it carries (`v0_momentum`, Adafactor's `v0`); the rest
(the step counter, Nadam's momentum product, a loss scale) is shared and must match the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, permutations
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.checks.equivalence import forced_values, keyed
from conformance.core.compare import Comparison
from conformance.inputs.strategies import Case


def selections(n: int) -> list[list[int]]:
    """Every non-empty ordered selection of `n` variables' indices: each alone, then all of them
    reversed, then the rest. A fixed condition takes them in turn: its first step leaves the other
    variables out before they ever had a step (state that a step initialises shows), its second
    leaves out the first variable, whose gradient, accumulated on the first step, is then pending,
    and, with two variables, its third gives them all in another order."""
    first = [[i] for i in range(n)] + [list(reversed(range(n)))]
    rest = [list(p) for k in range(1, n + 1) for c in combinations(range(n), k) for p in permutations(c)]
    return first + [s for s in rest if s not in first]


def draw_given(data: Any, n: int, step: int) -> list[int]:
    """The variables (indices, in the order given) that step `step` applies gradients to."""
    every = selections(n)
    u = data.draw(st.integers(0, len(every) - 1), label=f"step {step + 1} selection")
    return every[(u + step) % len(every)]


@dataclass
class Reference:
    """The second optimizer and its variables (named as the case's, so that state pairs by name)."""

    opt: Any
    vars_: list[Any]
    order: list[int]  # the variables it is built on, in order


def reference(case: Case, order: list[int]) -> Reference:
    """A new optimizer of the case's configuration built on the case's variables `order`."""
    a = adapter()
    opt = drive.construct(case)
    vars_ = a.variables(case.weights, case.dtype)
    a.create_state(opt, [vars_[i] for i in order])
    return Reference(opt, vars_, order)


def expected_step(ref: Reference, before: drive.Snapshot, given: list[int], grads: list[np.ndarray]) -> drive.Snapshot:
    """`ref`'s step from `before`'s weights and state, the variables `given` getting `grads` and
    the others it is built on zero gradients."""
    a = adapter()
    a.assign_weights(ref.vars_, before.weights)
    a.assign_state(ref.opt, forced_values(a.state(ref.opt), before.state, {}))
    by_index = dict(zip(given, grads))
    full = [by_index.get(i, np.zeros(np.shape(before.weights[i]))) for i in ref.order]
    a.apply(ref.opt, full, [ref.vars_[i] for i in ref.order])
    return drive.snapshot(ref.opt, ref.vars_)


def owner(name: str, n: int) -> int | None:
    """The variable (of v0 ... v{n-1}) a state variable belongs to by its name, None if shared."""
    found = [i for i in range(n) if name == f"v{i}" or name.startswith(f"v{i}_")]
    return max(found, key=lambda i: len(f"v{i}")) if found else None


def _show(key: tuple) -> str:
    name, k = key
    return f"{name}" if k == 0 else f"{name} #{k + 1}"


def compare_step(
    cmp: Comparison,
    step: int,
    given: list[int],
    before: drive.Snapshot,
    after: drive.Snapshot,
    expected: drive.Snapshot,
) -> None:
    """Bit-for-bit: the variables given, their state and the shared state against `expected`; every
    other variable and its state against `before`; the step counter."""
    at, n = f"step {step + 1}", len(before.weights)
    for i, (now, was) in enumerate(zip(after.weights, before.weights)):
        if i in given:
            cmp.equal(f"{at} weight v{i}", now, expected.weights[i])
        else:
            cmp.equal(f"{at} weight v{i} (not given: expected unchanged)", now, was)
    got, had, want = ({k: v for k, v in keyed(s).items() if k[0] != "weight"} for s in (after, before, expected))
    for key, value in want.items():
        if owner(key[0], n) not in (None, *given):
            continue  # a variable not given: judged against `before` below
        if key in got:
            cmp.equal(f"{at} {_show(key)}", got[key], value)
        else:
            cmp.differ(f"{at} state {_show(key)}", "absent", "present in an optimizer built with the variable")
    for key, value in got.items():
        if owner(key[0], n) not in (None, *given):
            if key in had:
                cmp.equal(f"{at} {_show(key)} (not of a variable given: expected unchanged)", value, had[key])
            else:
                cmp.differ(f"{at} state {_show(key)}", "created by the step", "absent before it")
        elif key not in want:
            cmp.differ(f"{at} state {_show(key)}", "created by the step", "absent from an optimizer built with them")
    if after.iterations != expected.iterations:
        cmp.differ(f"{at} iterations", after.iterations, expected.iterations)


def unchanged(cmp: Comparison, before: drive.Snapshot, after: drive.Snapshot) -> None:
    """Bit-for-bit: every weight, every state variable and the step counter as `before`."""
    for i, (now, was) in enumerate(zip(after.weights, before.weights)):
        cmp.equal(f"weight v{i}", now, was)
    got, had = keyed(after), keyed(before)
    for key in sorted(set(got) | set(had), key=str):
        if key[0] == "weight":
            continue
        if key in got and key in had:
            cmp.equal(_show(key), got[key], had[key])
        else:
            cmp.differ(f"state {_show(key)}", *("present" if key in s else "absent" for s in (got, had)))
    if after.iterations != before.iterations:
        cmp.differ("iterations", after.iterations, before.iterations)
