"""The contract every float64 numpy reference update rule follows.

A reference is written from the published algorithm and the Keras documentation, never copied
from Keras. It is pure: it never mutates its inputs and returns new arrays.

Weight decay, gradient clipping, gradient accumulation, EMA and learning-rate schedules are
base-optimizer options shared by every optimizer; they live in `options.py` and wrap a rule, so a
rule implements only its own update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

Array = np.ndarray


@dataclass
class State:
    """Optimizer state in float64.

    `slots[i]` holds the per-variable state of variable i (slot name -> array); `shared` holds
    optimizer-wide state that is not tied to one variable.
    """

    slots: list[dict[str, Array]]
    shared: dict[str, Array] = field(default_factory=dict)

    def copy(self) -> "State":
        return State(
            [{k: np.array(v, dtype=np.float64) for k, v in s.items()} for s in self.slots],
            {k: np.array(v, dtype=np.float64) for k, v in self.shared.items()},
        )


class Rule(Protocol):
    """One optimizer's update rule.

    Slot names are the suffixes under which Keras names the state variable of a weight
    (`<weight name>_<slot>`, e.g. "momentum"); `KERAS_NAMES` maps a slot to the exact Keras
    variable name pattern where that convention does not hold. They serve only to pair reference
    state with Keras state for comparison.
    """

    DEFAULTS: Mapping[str, object]

    def init(self, weights: Sequence[Array], hp: Mapping[str, object]) -> State: ...

    def update(
        self,
        weights: Sequence[Array],
        grads: Sequence[Array],
        state: State,
        hp: Mapping[str, object],
        lr: float,
        t: int,
    ) -> tuple[list[Array], State]:
        """Apply update number `t` (1-based) with learning rate `lr` to every variable."""
        ...


def f64(x: object) -> Array:
    return np.array(x, dtype=np.float64)


def per_variable(
    init_one: Callable[[Array, Mapping[str, object]], dict[str, Array]],
    update_one: Callable[..., tuple[Array, dict[str, Array]]],
) -> tuple[Callable[..., State], Callable[..., tuple[list[Array], State]]]:
    """Build (init, update) for a rule whose variables are updated independently.

    `init_one(w, hp) -> slots`; `update_one(w, g, slots, hp, lr, t) -> (new_w, new_slots)`.
    """

    def init(weights: Sequence[Array], hp: Mapping[str, object]) -> State:
        return State([init_one(f64(w), hp) for w in weights])

    def update(weights, grads, state, hp, lr, t):
        state = state.copy()
        new_w, new_slots = [], []
        for w, g, s in zip(weights, grads, state.slots):
            w2, s2 = update_one(f64(w), f64(g), s, hp, float(lr), int(t))
            new_w.append(f64(w2))
            new_slots.append({k: f64(v) for k, v in s2.items()})
        return new_w, State(new_slots, state.shared)

    return init, update
