"""Where one benchmarked optimizer step spends its time: the evidence for "why is it far from the
roofline".

    python -m conformance.tools.profile_step OPTIMIZER [--regime large|many_small] [--mode eager|function|xla]
        [--steps 20]

Prints (1) cProfile's functions with the most time of their own per step, and (2) on TensorFlow,
the ops of the traced step: how many there are, and how many produce a tensor as large as the
weights (each one is at least one full pass over memory; the roofline assumes 3 + 2 x state passes).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections import Counter

from conformance.adapters import current
from conformance.benchmarks import workloads
from conformance.inputs import catalogue


def graph_ops(opt, vars_, grads) -> tuple[int, Counter, int] | None:
    """(ops, full-size ops by type, full-size count) of the step traced by tf.function, or None."""
    adapter = current()
    if adapter.versions()["backend"] != "tensorflow":
        return None
    import tensorflow as tf

    tensors = [tf.constant(g) for g in grads]
    graph = tf.function(lambda: opt.apply_gradients(zip(tensors, vars_))).get_concrete_function().graph
    sizes = {int(w.size) for w in grads}
    full: Counter = Counter()
    total = 0
    for op in graph.get_operations():
        total += 1
        for out in op.outputs:
            shape = out.shape
            if shape.rank and shape.is_fully_defined() and shape.num_elements() in sizes and max(sizes) > 1000:
                full[op.type] += 1
                break
    return total, full, sum(full.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.tools.profile_step", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("optimizer")
    parser.add_argument("--regime", default="large", choices=list(workloads.REGIMES))
    parser.add_argument("--mode", default="eager")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    adapter = current()
    specs = {s.name: s for s in catalogue.builtin_specs()}
    if args.optimizer not in specs:
        parser.error(f"unknown optimizer {args.optimizer!r} (known: {', '.join(sorted(specs))})")
    spec = specs[args.optimizer]
    grads = workloads.gradients(args.regime)
    opt = adapter.default_instance(spec.name, spec.cls)
    vars_ = adapter.variables(workloads.weights(args.regime), "float32")
    adapter.create_state(opt, vars_)
    step = adapter.timed_step(opt, vars_, grads, args.mode)
    step()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.steps):
        step()
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt / args.steps
    print(f"{spec.name}, {args.regime}, {args.mode}: {total * 1e3:.2f} ms per step under cProfile ({args.steps} steps)")
    print(f"{'own ms/step':>11} {'calls/step':>10}  function")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[: args.top]
    for (path, line, name), (_cc, calls, tottime, _cum, _callers) in rows:
        where = path.split("site-packages/")[-1]
        print(f"{tottime / args.steps * 1e3:11.3f} {calls / args.steps:10.1f}  {name} ({where}:{line})")
    ops = graph_ops(opt, vars_, grads)
    if ops:
        n, full, count = ops
        print(
            f"traced step: {n} ops; {count} produce a full-size tensor: "
            + ", ".join(f"{k} {v}" for k, v in full.most_common())
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
