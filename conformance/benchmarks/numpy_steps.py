"""Baseline (2): each update rule as a vectorised numpy float32 step, in place where numpy allows.

What a careful numpy user would write: whole-array operations, coefficients as Python floats (so
nothing is promoted to float64), state updated in place. Written from the same published formulas
as `conformance/reference/` (which are pure and float64, for correctness); tests/test_benchmarks.py
checks every step here against those references. Hyperparameters are the documented defaults
(`reference.<rule>.DEFAULTS`), the learning rate is the Keras optimizer's default. Each
optimizer's record (conformance/optimizers/) names its step as `numpy_step`, or says why it has none.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

Arrays = list[np.ndarray]


class Step:
    """State for a list of float32 weights; `step(weights, grads)` updates weights in place."""

    slots: tuple[str, ...] = ()
    fill: float = 0.0

    def __init__(self, weights: Arrays, lr: float, hp: Mapping[str, object]) -> None:
        self.lr, self.hp, self.t = float(lr), {k: v for k, v in hp.items()}, 0
        self.state = [{s: np.full_like(w, self._fill(s)) for s in self.slots} for w in weights]

    def _fill(self, slot: str) -> float:
        return self.fill if slot in ("accumulator",) else 0.0

    def f(self, name: str) -> float:
        return float(self.hp[name])  # type: ignore[arg-type]

    def step(self, weights: Arrays, grads: Arrays) -> None:
        self.t += 1
        self.prepare()
        for w, g, s in zip(weights, grads, self.state):
            self.one(w, g, s)

    def prepare(self) -> None:
        """Per-step scalars (bias corrections, schedules): Python floats."""

    def one(self, w: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        raise NotImplementedError


class SGD(Step):
    def __init__(self, weights: Arrays, lr: float, hp: Mapping[str, object]) -> None:
        self.slots = ("momentum",) if float(hp["momentum"]) else ()  # type: ignore[arg-type]
        super().__init__(weights, lr, hp)

    def one(self, w, g, s):
        mu = self.f("momentum")
        if not mu:
            w -= self.lr * g
            return
        v = s["momentum"]
        v *= mu
        v -= self.lr * g
        w += mu * v - self.lr * g if self.hp["nesterov"] else v


def _moments(s: dict[str, np.ndarray], g: np.ndarray, b1: float, b2: float) -> tuple[np.ndarray, np.ndarray]:
    """Adam's first and second moment updates, in place: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2."""
    m, v = s["momentum"], s["velocity"]
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * np.square(g)
    return m, v


class Adam(Step):
    slots = ("momentum", "velocity")
    decay = 0.0  # AdamW: decoupled weight decay

    def prepare(self):
        b1, b2 = self.f("beta_1"), self.f("beta_2")
        self.alpha = self.lr * (1 - b2**self.t) ** 0.5 / (1 - b1**self.t)

    def one(self, w, g, s):
        b1, b2 = self.f("beta_1"), self.f("beta_2")
        if self.decay:
            w *= 1 - self.lr * self.decay
        m, v = _moments(s, g, b1, b2)
        w -= self.alpha * m / (np.sqrt(v) + self.f("epsilon"))


class AdamW(Adam):
    decay = 0.004  # Keras AdamW's documented default weight_decay


class Adamax(Step):
    slots = ("momentum", "norm")

    def one(self, w, g, s):
        b1, b2 = self.f("beta_1"), self.f("beta_2")
        m, u = s["momentum"], s["norm"]
        m *= b1
        m += (1 - b1) * g
        u *= b2
        np.maximum(u, np.abs(g), out=u)
        w -= self.lr / (1 - b1**self.t) * m / (u + self.f("epsilon"))


class Adagrad(Step):
    slots = ("accumulator",)

    def __init__(self, weights, lr, hp):
        self.fill = float(hp["initial_accumulator_value"])  # type: ignore[arg-type]
        super().__init__(weights, lr, hp)

    def one(self, w, g, s):
        acc = s["accumulator"]
        acc += np.square(g)
        w -= self.lr * g / (np.sqrt(acc) + self.f("epsilon"))


class Adadelta(Step):
    slots = ("accumulated_grad", "accumulated_delta_var")

    def one(self, w, g, s):
        rho, eps = self.f("rho"), self.f("epsilon")
        eg2, edx2 = s["accumulated_grad"], s["accumulated_delta_var"]
        eg2 *= rho
        eg2 += (1 - rho) * np.square(g)
        dx = -np.sqrt(edx2 + eps) / np.sqrt(eg2 + eps) * g
        edx2 *= rho
        edx2 += (1 - rho) * np.square(dx)
        w += self.lr * dx


class RMSprop(Step):
    slots = ("velocity",)  # the defaults: no momentum, not centered

    def one(self, w, g, s):
        rho = self.f("rho")
        v = s["velocity"]
        v *= rho
        v += (1 - rho) * np.square(g)
        w -= self.lr * g / (np.sqrt(v) + self.f("epsilon"))


class Nadam(Step):
    slots = ("momentum", "velocity")
    u_product = 1.0

    def _mu(self, t: int) -> float:
        return self.f("beta_1") * (1 - 0.5 * 0.96 ** (t * 0.004))  # Dozat's schedule, decay 0.004

    def prepare(self):
        self.mu, self.mu_next = self._mu(self.t), self._mu(self.t + 1)
        self.u_product *= self.mu
        self.u_next = self.u_product * self.mu_next

    def one(self, w, g, s):
        b1, b2 = self.f("beta_1"), self.f("beta_2")
        m, v = _moments(s, g, b1, b2)
        m_bar = (1 - self.mu) / (1 - self.u_product) * g + self.mu_next / (1 - self.u_next) * m
        w -= self.lr * m_bar / (np.sqrt(v / (1 - b2**self.t)) + self.f("epsilon"))


class Lion(Step):
    slots = ("momentum",)

    def one(self, w, g, s):
        b1, b2 = self.f("beta_1"), self.f("beta_2")
        m = s["momentum"]
        w -= self.lr * np.sign(b1 * m + (1 - b1) * g)
        m *= b2
        m += (1 - b2) * g


class Ftrl(Step):
    """The defaults only: learning_rate_power -0.5, no l1, l2, shrinkage or beta."""

    slots = ("accumulator", "linear")

    def __init__(self, weights, lr, hp):
        self.fill = float(hp["initial_accumulator_value"])  # type: ignore[arg-type]
        super().__init__(weights, lr, hp)

    def one(self, w, g, s):
        n, z = s["accumulator"], s["linear"]
        sqrt_old = np.sqrt(n)
        n += np.square(g)
        sqrt_new = np.sqrt(n)
        z += g - (sqrt_new - sqrt_old) / self.lr * w
        np.divide(-z, sqrt_new / self.lr, out=w)  # l1 = 0: w = -z / (sqrt(n) / lr)
