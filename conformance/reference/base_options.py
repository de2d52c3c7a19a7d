"""Base-optimizer options applied around a reference rule, from the Keras documentation.

Documented behaviour (keras.io, Optimizer base class arguments):
- clipnorm: each weight's gradient is clipped so that its norm is at most clipnorm;
  global_clipnorm: all gradients together; clipvalue: elementwise to [-clipvalue, clipvalue].
- weight_decay: decoupled decay (Loshchilov & Hutter), w <- w - lr * weight_decay * w, before the
  update, using the same learning rate.
- gradient_accumulation_steps=k: weights change every k steps, using the average of the gradients
  since the last update; "learning rate schedules look at the real iterations value", the
  iteration count the update rule sees (bias correction) is optimizer steps // k.
- use_ema: after each training batch, average = ema_momentum * average + (1 - ema_momentum) * w;
  every ema_overwrite_frequency iterations w is overwritten by its average; with accumulation,
  "EMA frequency looks at accumulated iterations". The docs do not say what the first average
  is; we take the standard choice of initialising it to the first value it averages.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.options import Options
from conformance.reference.core import Array, State, f64

ACCUMULATOR = "gradient_accumulator"
AVERAGE = "average"


def init(rule, hp: Mapping, opts: Options, weights: Sequence[Array]) -> State:
    state = rule.init([f64(w) for w in weights], {**rule.DEFAULTS, **hp})
    for w, slots in zip(weights, state.slots):
        if opts.gradient_accumulation_steps:
            slots[ACCUMULATOR] = np.zeros_like(f64(w))
        if opts.use_ema:
            slots[AVERAGE] = np.zeros_like(f64(w))
    return state


def clip(grads: list[Array], opts: Options) -> list[Array]:
    if opts.clipnorm:
        return [g * opts.clipnorm / max(np.linalg.norm(g), opts.clipnorm) for g in grads]
    if opts.global_clipnorm:
        norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
        return [g * opts.global_clipnorm / max(norm, opts.global_clipnorm) for g in grads]
    if opts.clipvalue:
        return [np.clip(g, -opts.clipvalue, opts.clipvalue) for g in grads]
    return grads


def step(
    rule,
    hp: Mapping,
    opts: Options,
    lr: LearningRate,
    weights: Sequence[Array],
    grads: Sequence[Array],
    state: State,
    iteration: int,
    cast: Callable[[float], float] = float,
) -> tuple[list[Array], State]:
    """One call of apply_gradients when the iteration counter reads `iteration` (0-based).

    `cast` rounds the learning rate to the precision the optimizer holds it in.
    """
    hp = {**rule.DEFAULTS, **hp}
    state = state.copy()
    weights = [f64(w) for w in weights]
    grads = [f64(g) for g in grads]
    k = opts.gradient_accumulation_steps
    updating = True
    if k:
        acc = [s[ACCUMULATOR] for s in state.slots]
        if (iteration + 1) % k:
            updating = False
            for s, a, g in zip(state.slots, acc, grads):
                s[ACCUMULATOR] = a + g
        else:
            grads = [(a + g) / k for a, g in zip(acc, grads)]
            for s in state.slots:
                s[ACCUMULATOR] = np.zeros_like(s[ACCUMULATOR])
    updates_done = (iteration + 1) // k if k else iteration + 1
    if updating:
        rate = cast(lr.value(iteration))
        grads = clip(grads, opts)
        if opts.weight_decay:
            # A rule may restrict decay to some variables (Muon: only those on its own path).
            mask = getattr(rule, "weight_decay_mask", lambda ws, _: [True] * len(ws))(weights, hp)
            weights = [w - rate * opts.weight_decay * w if m else w for w, m in zip(weights, mask)]
        extra = [{n: s.pop(n) for n in (ACCUMULATOR, AVERAGE) if n in s} for s in state.slots]
        weights, state = rule.update(weights, grads, state, hp, rate, updates_done)
        for s, e in zip(state.slots, extra):
            s.update(e)
    if opts.use_ema:
        # "EMA frequency will look at accumulated iterations" (optimizer steps // k): the first
        # average is taken while no accumulated iteration has completed.
        accumulated = iteration // k if k else iteration
        m = opts.ema_momentum if accumulated > 0 else 0.0
        for s, w in zip(state.slots, weights):
            s[AVERAGE] = m * s[AVERAGE] + (1 - m) * w
        freq = opts.ema_overwrite_frequency
        if freq and (accumulated + 1) % freq == 0:
            weights = [s[AVERAGE].copy() for s in state.slots]
    return weights, state
