"""How fast the lifecycle state machine runs: examples and rules per second, per optimizer.

    python -m conformance.tools.lifecycle_rate [OPTIMIZER ...] [--examples N] [--steps S]

For each built-in optimizer (or those named): the scripted anchor sequences (lifecycle.scripted)
and N random examples of the machine of S rules each (hypothesis's generate phase only: no corners,
no shrinking), timed separately. A machine that departs from its model (a declared deviation, a
bug) stops at its first failing example; its rate counts the examples it ran, and "examples"
counts every machine hypothesis started (overruns and invalid draws included). Prints one line per
optimizer and the totals; exit status 0: this measures, it does not judge.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _timed(run, counter: list) -> tuple[float, int, int, str]:
    """Seconds, examples and rules `run()` took, and how it ended."""
    from conformance.checks import lifecycle

    rules, start = lifecycle.RULES_TAKEN[0], time.perf_counter()
    before = counter[0]
    try:
        run()
        ended = "ok"
    except Exception as e:  # noqa: BLE001 - a departure ends the measurement, not the script
        ended = type(e).__name__
    return time.perf_counter() - start, counter[0] - before, lifecycle.RULES_TAKEN[0] - rules, ended


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.tools.lifecycle_rate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("optimizers", nargs="*", help="built-in optimizer names (default: all)")
    parser.add_argument(
        "--examples", type=int, default=20, help="random machine examples per optimizer (default %(default)s)"
    )
    parser.add_argument("--steps", type=int, default=8, help="rules per example (default %(default)s, the suite's)")
    args = parser.parse_args(argv)

    from hypothesis import Phase, settings
    from hypothesis.stateful import run_state_machine_as_test

    from conformance.checks import lifecycle
    from conformance.inputs import anchors, catalogue
    from conformance.inputs.strategies import FLOAT32

    specs = {s.name: s for s in catalogue.builtin_specs()}
    unknown = set(args.optimizers) - set(specs)
    if unknown:
        parser.error(f"unknown optimizer(s) {', '.join(sorted(unknown))}; known: {', '.join(specs)}")
    chosen = [specs[n] for n in args.optimizers] if args.optimizers else list(specs.values())
    print(
        f"{'optimizer':20s} {'scripted s':>10s} {'anchors':>6s} {'rules/s':>8s}   {'random s':>8s} {'examples':>8s} "
        f"{'ex/s':>6s} {'rules/s':>8s}  ended (scripted / random)"
    )
    totals = [0.0, 0, 0, 0.0, 0, 0]
    for spec in chosen:
        made = [0]

        def counted(cls=lifecycle.machine(spec)):
            made[0] += 1
            return cls()

        s_time, _, s_rules, s_end = _timed(lambda: lifecycle.scripted(spec), made)
        n_anchors = len(anchors.anchors(spec, FLOAT32))
        use = settings(
            max_examples=args.examples,
            stateful_step_count=args.steps,
            phases=[Phase.generate],
            database=None,
            deadline=None,
        )
        made[0] = 0
        r_time, r_examples, r_rules, r_end = _timed(lambda: run_state_machine_as_test(counted, settings=use), made)
        totals = [a + b for a, b in zip(totals, (s_time, s_rules, n_anchors, r_time, r_examples, r_rules))]
        print(
            f"{spec.name:20s} {s_time:10.2f} {n_anchors:6d} {s_rules / s_time:8.1f}   {r_time:8.2f} {r_examples:8d} "
            f"{r_examples / r_time:6.2f} {r_rules / r_time:8.1f}  {s_end} / {r_end}"
        )
    s_time, s_rules, n_anchors, r_time, r_examples, r_rules = totals
    print(
        f"{'total':20s} {s_time:10.2f} {int(n_anchors):6d} {s_rules / s_time:8.1f}   {r_time:8.2f} "
        f"{int(r_examples):8d} {r_examples / r_time:6.2f} {r_rules / r_time:8.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
