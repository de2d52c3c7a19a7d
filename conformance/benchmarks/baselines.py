"""The baselines each optimizer step is measured against, in the same run on the same machine:

1. the roofline: the bytes one step must move (read weights, gradients and every state variable;
   write weights and state) over the machine's memory bandwidth, measured as a numpy copy that
   moves the same number of bytes on every core;
2. a vectorised numpy float32 step of the same rule (numpy_steps.py; the record's `numpy_step`);
3. `torch.optim` with `foreach=True`, where PyTorch is installed and maps the optimizer
   (the record's `torch` mapping, conformance/optimizers/).

Times are the minimum over rounds after warm-up, like pytest-benchmark's `min`. The ratios of a
step to its baselines are measured interleaved (`interleaved_ratios`): the step and every baseline
alternate round by round in one process, and each round's ratio compares calls made moments
apart, so that the machine's slow drift between and within processes cancels.
"""

from __future__ import annotations

import functools
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

from conformance.core.errors import Unsupported
from conformance.independent import mapping, torch_optim
from conformance.inputs import registry

MIN_ROUNDS, TARGET_S, MAX_ROUNDS = 15, float(os.environ.get("CONFORMANCE_BENCH_SECONDS", 0.4)), 2000
THREADS = os.cpu_count() or 1
POOL = ThreadPoolExecutor(THREADS)


def best_time(fn: Callable[[], Any], warmup: int = 2) -> float:
    """Minimum wall time of fn() over enough rounds to fill TARGET_S (at least MIN_ROUNDS)."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    deadline = time.perf_counter() + TARGET_S
    while len(times) < MIN_ROUNDS or (time.perf_counter() < deadline and len(times) < MAX_ROUNDS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def rounds_for(seconds: float) -> int:
    """Rounds for a benchmark whose one call takes about `seconds` (the same budget as best_time)."""
    return int(min(MAX_ROUNDS, max(MIN_ROUNDS, TARGET_S / max(seconds, 1e-9))))


def step_bytes(weights: list[np.ndarray], state: list[np.ndarray]) -> int:
    """Bytes a step must move at least: weights read and written, gradients (the weights' size and
    dtype) read, every state array read and written."""
    w = sum(a.nbytes for a in weights)
    return 3 * w + 2 * sum(a.nbytes for a in state)


@functools.lru_cache(maxsize=None)
def copy_fn(nbytes: int) -> Callable[[], Any]:
    """A call that moves `nbytes` through memory: a numpy copy reading and writing nbytes / 2 each,
    split over one thread per core (numpy copies without the GIL), as the frameworks use every core:
    one thread alone does not reach the machine's bandwidth. For a copy that fits in cache, handing
    it to threads costs more than it saves: the faster of the two is the one returned."""
    n = max(nbytes // 8, 1)  # float32 elements per side
    src, dst = np.ones(n, np.float32), np.empty(n, np.float32)
    bounds = np.linspace(0, n, THREADS + 1).astype(int)
    parts = [(dst[a:b], src[a:b]) for a, b in zip(bounds, bounds[1:])]

    def threaded() -> None:
        list(POOL.map(lambda p: np.copyto(*p), parts))

    def single() -> None:
        np.copyto(dst, src)

    return threaded if best_time(threaded) < best_time(single) else single


@functools.lru_cache(maxsize=None)
def copy_time(nbytes: int) -> float:
    """Seconds to move `nbytes` through memory (copy_fn's call)."""
    return best_time(copy_fn(nbytes))


def bandwidth(nbytes: int) -> float:
    """Bytes per second of the copy above."""
    return 8 * max(nbytes // 8, 1) / copy_time(nbytes)


def numpy_fn(
    rule: str, weights: list[np.ndarray], grads: list[np.ndarray], lr: float, hp: dict[str, Any]
) -> Callable[[], Any]:
    """One step of the numpy float32 implementation (on copies of the weights), as a call."""
    record = registry.record(rule)
    if record is None or record.numpy_step is None:
        why = record.why_missing("numpy_step") if record is not None else None
        raise Unsupported(why or f"no numpy implementation of {rule} in conformance/benchmarks/numpy_steps.py")
    ws = [w.copy() for w in weights]
    impl = record.numpy_step(ws, lr, hp)
    return lambda: impl.step(ws, grads)


def numpy_time(rule: str, weights: list[np.ndarray], grads: list[np.ndarray], lr: float, hp: dict[str, Any]) -> float:
    return best_time(numpy_fn(rule, weights, grads, lr, hp))


def torch_fn(rule: str, weights: list[np.ndarray], grads: list[np.ndarray], hp: dict[str, Any]) -> Callable[[], Any]:
    """One `step()` of the torch.optim counterpart with foreach=True, hyperparameters mapped by the
    independent-implementation table (`hp`: Keras names, learning_rate and weight_decay included),
    as a call."""
    if not torch_optim.available():
        raise Unsupported("torch is not installed")
    record = registry.record(rule)
    if record is None or record.torch is None:
        why = record.why_missing("torch") if record is not None else None
        raise Unsupported(f"{rule}: {why or 'no torch.optim counterpart in the mapping table'}")
    import torch

    target = record.torch
    ctor, kwargs = mapping.library_kwargs(
        target, mapping.adjusted(target, {k: v for k, v in hp.items() if k in target.keras_names()})
    )
    params = [torch.tensor(w, dtype=torch.float32, requires_grad=True) for w in weights]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g, dtype=torch.float32)
    opt = torch_optim.constructor(ctor)(params, **kwargs, foreach=True)
    return opt.step


def torch_time(rule: str, weights: list[np.ndarray], grads: list[np.ndarray], hp: dict[str, Any]) -> float:
    return best_time(torch_fn(rule, weights, grads, hp))


def interleaved_ratios(step: Callable[[], Any], baselines: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """For each baseline, the median over rounds of (the step's time / the baseline's time), the
    step and every baseline called once per round, one after the other: both calls of a ratio see
    the same state of the machine. Rounds fill TARGET_S (at least MIN_ROUNDS) after one warm-up
    round."""
    calls = [step, *baselines.values()]
    for fn in calls:
        fn()
    rounds: list[list[float]] = []
    deadline = time.perf_counter() + TARGET_S
    while len(rounds) < MIN_ROUNDS or (time.perf_counter() < deadline and len(rounds) < MAX_ROUNDS):
        times = []
        for fn in calls:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        rounds.append(times)
    return {
        name: statistics.median(r[0] / r[i] for r in rounds) for i, name in enumerate(baselines, start=1)
    }
