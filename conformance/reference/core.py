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
    defaults: Mapping[str, object] | None = None,
) -> tuple[Callable[..., State], Callable[..., tuple[list[Array], State]]]:
    """Build (init, update) for a rule whose variables are updated independently.

    `init_one(w, hp) -> slots`; `update_one(w, g, slots, hp, lr, t) -> (new_w, new_slots)`;
    `defaults` fill in the hyperparameters the caller leaves out.
    """
    defaults = dict(defaults or {})

    def init(weights: Sequence[Array], hp: Mapping[str, object]) -> State:
        hp = {**defaults, **hp}
        return State([init_one(f64(w), hp) for w in weights])

    def update(weights, grads, state, hp, lr, t):
        hp = {**defaults, **hp}
        state = state.copy()
        new_w, new_slots = [], []
        for w, g, s in zip(weights, grads, state.slots):
            w2, s2 = update_one(f64(w), f64(g), s, hp, float(lr), int(t))
            new_w.append(f64(w2))
            new_slots.append({k: f64(v) for k, v in s2.items()})
        return new_w, State(new_slots, state.shared)

    return init, update


def bias_correction_amplification(*betas: float) -> float:
    """How much a bias correction 1 - beta ** t amplifies rounding of beta in the working dtype.

    1 - beta loses digits as beta nears 1 (relative error eps / (1 - beta)); a correction that
    enters through a square root, as Adam's, passes on its square root. Implementations round
    beta in some places and not others, so the loss does not cancel; tolerances widen by this.
    """
    return max([1.0] + [float(np.sqrt(1.0 / (1.0 - b))) for b in betas if 0.0 <= b < 1.0])


def amplifier(defaults: Mapping[str, object], *betas: str) -> Callable[[Mapping[str, object]], float]:
    """`amplification(hp)` for a rule whose bias corrections use the hyperparameters `betas`."""

    def amplification(hp: Mapping[str, object]) -> float:
        merged = {**defaults, **hp}
        return bias_correction_amplification(*(float(merged[b]) for b in betas))

    return amplification
