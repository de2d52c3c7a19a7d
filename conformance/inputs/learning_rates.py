"""Learning-rate forms a claim can draw: a float, a documented schedule, or a callable.

Each form builds the Keras object, computes its value at an iteration from the documented
formula (keras.io, optimizers/learning_rate_schedules), and renders itself as reproducer code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LearningRate:
    kind: str  # "constant" | "callable" | "ExponentialDecay" | "InverseTimeDecay" | "PiecewiseConstantDecay"
    params: dict[str, Any] = field(default_factory=dict)

    def value(self, iteration: int) -> float:
        """Learning rate used by the update made when the iteration counter reads `iteration`."""
        p = self.params
        if self.kind in ("constant", "callable"):
            return float(p["value"])
        if self.kind == "ExponentialDecay":
            # lr0 * decay_rate ^ (step / decay_steps), floored exponent when staircase
            e = iteration / p["decay_steps"]
            e = math.floor(e) if p.get("staircase") else e
            return p["initial_learning_rate"] * p["decay_rate"] ** e
        if self.kind == "InverseTimeDecay":
            # lr0 / (1 + decay_rate * step / decay_steps)
            e = iteration / p["decay_steps"]
            e = math.floor(e) if p.get("staircase") else e
            return p["initial_learning_rate"] / (1 + p["decay_rate"] * e)
        if self.kind == "PiecewiseConstantDecay":
            # values[i] while step <= boundaries[i], values[-1] after the last boundary
            for b, v in zip(p["boundaries"], p["values"]):
                if iteration <= b:
                    return float(v)
            return float(p["values"][-1])
        raise ValueError(f"unknown learning-rate kind {self.kind!r}")

    def keras(self, keras_module: Any) -> Any:
        if self.kind == "constant":
            return float(self.params["value"])
        if self.kind == "callable":
            value = float(self.params["value"])
            return lambda: value
        return getattr(keras_module.optimizers.schedules, self.kind)(**self.params)

    def code(self) -> str:
        if self.kind == "constant":
            return repr(float(self.params["value"]))
        if self.kind == "callable":
            return f"lambda: {float(self.params['value'])!r}"
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"keras.optimizers.schedules.{self.kind}({args})"

    def describe(self) -> Any:
        return self.params["value"] if self.kind == "constant" else {"kind": self.kind, **self.params}


def configurable(lr: LearningRate) -> LearningRate:
    """`lr`, or the constant a callable returns: get_config() cannot carry a callable through
    from_config() (a finding of the reset.from_config_* claims, which draw callables), so claims
    about what comes after a re-make take its value instead."""
    return LearningRate("constant", {"value": lr.value(0)}) if lr.kind == "callable" else lr
