"""The claim being checked now: one structured object per running claim.

Deep inside hypothesis, `strategies.cases` needs to know whether a draw stands for a fixed example
(an anchor, a condition), the scenario needs to say which case it is checking and where it ran (a
worker process), and the plugin needs, per condition, what happened. All of that lives on the
`RunningClaim` the plugin starts for each claim test, reached through `current()`: no module
globals to reset, no message to parse back apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from conformance.core.errors import Unsupported


class NotExpressible(Exception):
    """The claim cannot take this condition (its own configuration replaces the condition's option,
    say): the condition is left out of the record, not judged."""


@dataclass
class Outcome:
    """What checking one condition gave: `exc` None when the claim held."""

    condition: str
    exc: BaseException | None
    case: Any = None  # the case checked last: after hypothesis's final replay, the minimal failing one
    examples: int = 0
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)  # a fixed condition's notes (its counterexample)


@dataclass
class RunningClaim:
    optimizer: str = ""
    claim: str = ""
    condition: str = "drawn"  # the condition being checked now
    case: Any = None  # the case being checked now (what a failure records)
    fixed: Any = None  # while it draws: the fixed example (anchors.FixedData) a draw stands for
    drawn: int = 0  # cases drawn by this claim so far
    ran_on: dict[str, Any] = field(default_factory=dict)  # the worker kind, devices and versions, where not here
    outcomes: list[Outcome] = field(default_factory=list)
    fail_fast: bool = False  # re-raise a condition's failure at once (the suite's own tests of faults)

    def check(self, condition: str, run: Callable[[], Any], notes: Callable[[], list[str]] | None = None) -> None:
        """Run `run()` as the check of `condition` and keep its outcome. A failure or an error of one
        condition never stops the next; a BaseException (a claim timeout, Ctrl-C) is kept and re-raised."""
        self.condition, self.case = condition, None
        t0, drawn0 = time.perf_counter(), self.drawn
        exc: BaseException | None = None
        try:
            run()
        except NotExpressible:
            return
        except Exception as e:  # noqa: BLE001 - every exception is this condition's outcome
            exc = e
        except BaseException as e:
            self.outcomes.append(
                Outcome(condition, e, self.case, self.drawn - drawn0, round(time.perf_counter() - t0, 3))
            )
            raise
        self.outcomes.append(
            Outcome(
                condition,
                exc,
                self.case,
                self.drawn - drawn0,
                round(time.perf_counter() - t0, 3),
                notes() if notes and exc is not None else [],
            )
        )
        # An unsupported condition (an option this generation lacks) is a verdict, not a failure.
        if exc is not None and self.fail_fast and not isinstance(exc, Unsupported):
            exc.add_note(f"(in condition {condition})")
            raise exc


_IDLE = RunningClaim()  # outside a claim (the suite's own tests drawing cases, benchmarks)
_current: list[RunningClaim] = [_IDLE]


def current() -> RunningClaim:
    return _current[0]


def start(optimizer: str, claim_id: str, fail_fast: bool = False) -> RunningClaim:
    """Make a new running claim current (the plugin's, for the test about to run)."""
    rc = RunningClaim(optimizer, claim_id, fail_fast=fail_fast)
    _current[0] = rc
    return rc


def run_claim(test: Callable[..., Any], fail_fast: bool = True, **kwargs: Any) -> RunningClaim:
    """Check a claim test outside pytest (the suite's own tests): its outcome per condition; with
    `fail_fast` the first condition that fails or errs raises, as a plain test would."""
    previous = _current[0]
    rc = start(getattr(kwargs.get("spec"), "name", ""), getattr(getattr(test, "claim", None), "id", ""), fail_fast)
    try:
        test(**kwargs)
    finally:
        _current[0] = previous
    return rc
