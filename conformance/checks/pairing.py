"""Pair reference state with Keras optimizer variables, by Keras's naming convention.

Keras names the state of weight `v0` `<optimizer>/v0_<slot>`; a reference module's
`KERAS_NAMES` gives the exact name where that does not hold ("" = the weight's own name).
When several variables carry the same name they pair in creation order.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Sequence

from conformance.reference.core import State

COUNTERS = ("iteration", "learning_rate")


def _candidates(rule: ModuleType, slot: str, weight: str | None) -> list[str]:
    special = getattr(rule, "KERAS_NAMES", {})
    if slot in special:
        pattern = special[slot]
        return [weight if pattern == "" and weight else pattern]
    return [f"{weight}_{slot}"] if weight else [slot]


def pair(rule: ModuleType, state: State, keras_state: Sequence[Any]) -> tuple[dict[tuple, int], list[str]]:
    """Map (i, slot) and ("shared", key) to indices into `keras_state`.

    Returns the mapping and the per-variable slots with no Keras counterpart.
    """
    used: set[int] = set()
    mapping: dict[tuple, int] = {}
    missing: list[str] = []

    def find(names: list[str], shape: tuple[int, ...] | None) -> int | None:
        for j, sv in enumerate(keras_state):
            if j in used or sv.name not in names:
                continue
            if shape is not None and tuple(sv.shape) != shape:
                continue
            used.add(j)
            return j
        return None

    for i, slots in enumerate(state.slots):
        for slot, value in slots.items():
            j = find(_candidates(rule, slot, f"v{i}"), tuple(value.shape))
            if j is None:
                missing.append(f"v{i}_{slot}")
            else:
                mapping[(i, slot)] = j
    for key in state.shared:
        # Optimizer-wide bookkeeping with no Keras variable stays the reference's own.
        j = find(_candidates(rule, key, None), None)
        if j is not None:
            mapping[("shared", key)] = j
    return mapping, missing


def unpaired(mapping: dict[tuple, int], keras_state: Sequence[Any]) -> list[str]:
    """Keras variables the reference does not model (besides the counters)."""
    taken = set(mapping.values())
    return [sv.path for j, sv in enumerate(keras_state) if j not in taken and sv.name not in COUNTERS]
