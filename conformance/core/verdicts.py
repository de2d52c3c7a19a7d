"""Turn the outcomes of one claim test, one per condition, into its verdict record.

Each condition is judged on its own (a deviation declared for one condition never excuses a
failure in another); the record's own verdict is the worst of them, and its top-level fields
(message, reproducer, configuration, reason, ...) are those of the first condition with that
verdict, named in `condition`, so that readers of format 1 keep working.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

if sys.version_info < (3, 11):  # hypothesis brings the backport
    from exceptiongroup import BaseExceptionGroup

from conformance.core import blame
from conformance.core.errors import ClaimFailed, ClaimTimeout, Unsupported, UserCodeRaised
from conformance.core.running import Outcome
from conformance.records import expectations
from conformance.records.results_format import worst

# What a condition's entry in `conditions` keeps, by verdict (the top-level record keeps all).
_CONDITION_FIELDS = ("verdict", "expected", "message", "configuration", "dtype", "examples", "duration_s")
_FAILURE_FIELDS = ("reproducer", "counterexample", "hyperparameters", "shapes")
# A deviation's field only where its entry was inherited from a parent (expectations.find).
_INHERITED = "inherited_from"


def _unwrap(exc: BaseException | None) -> BaseException | None:
    """Hypothesis reports several distinct failures as a group: a claim failure if all are."""
    if isinstance(exc, BaseExceptionGroup):  # noqa: F821 - built in from 3.11, imported before
        failures = [e for e in exc.exceptions if isinstance(e, ClaimFailed)]
        if failures and len(failures) == len(exc.exceptions):
            failures[0].add_note(f"(and {len(failures) - 1} other distinct failure(s))")
            return failures[0]
    return exc


def judge(outcome: Outcome, optimizer: str, claim: str, deviations: list, keras: str, backend: str, *,
          parents: Sequence[str] = ()) -> dict[str, Any]:
    """One condition's verdict fields: verdict, expected, message, reproducer, the case it failed
    on, and for a deviation its entry's reason, link, kind and upstream (and `inherited_from`
    where the entry is about one of `parents`, see expectations.find)."""
    exc = _unwrap(outcome.exc)
    case = outcome.case
    out: dict[str, Any] = {"verdict": "pass", "expected": "pass", "message": "", "reproducer": "",
                           "configuration": case.setup.code if case is not None else None}
    if exc is None:
        pass
    elif isinstance(exc, Unsupported):
        out.update(verdict="unsupported", message=str(exc))
    elif isinstance(exc, UserCodeRaised):
        # the user's optimizer crashed in its own code: its failure, never a deviation declared for Keras
        out.update(verdict="fail", message=str(exc), reproducer=getattr(exc, "reproducer", ""), blame="user")
    elif isinstance(exc, ClaimFailed) and blame.PREFIX in str(exc):
        # a scenario's failure that carries a user's crash (from a worker process, a construction)
        out.update(verdict="fail", message=str(exc), reproducer=getattr(exc, "reproducer", ""), blame="user")
    elif isinstance(exc, ClaimFailed):
        out.update(message=str(exc), reproducer=getattr(exc, "reproducer", ""))
        out.update(expectations.decide(deviations, optimizer, claim, keras, backend, outcome.condition,
                                       _matched_configuration(case), out["message"], parents=parents))
    elif isinstance(exc, ClaimTimeout):
        out.update(verdict="error", message=str(exc), configuration=exc.configuration or out["configuration"])
    else:
        out.update(verdict="error", message=f"{type(exc).__name__}: {exc}")
    notes = (getattr(exc, "__notes__", None) or outcome.notes) if exc is not None else None
    failed = out["verdict"] in ("fail", "deviation")
    out.update(
        counterexample="\n".join(notes or []),
        hyperparameters=case.setup.describe() if failed and case is not None else None,
        dtype=case.dtype if case is not None else None,
        shapes=[list(w.shape) for w in case.weights] if failed and case is not None else None,
        examples=outcome.examples, duration_s=outcome.duration_s,
    )
    return out


def _matched_configuration(case: Any) -> str | None:
    """What an entry's `match` reads of the configuration: the code as a user writes it, then every
    argument it ran with, the class's own defaults included (a default weight_decay of 5e-4 is
    left out of `ZenGrad()` but decays all the same)."""
    if case is None:
        return None
    given = ", ".join(f"{k}={v!r}" for k, v in case.setup.describe().items())
    return f"{case.setup.code}  # with ({given})"


def _compact(name: str, fields: dict[str, Any]) -> dict[str, Any]:
    keep = _CONDITION_FIELDS + (_FAILURE_FIELDS if fields["verdict"] in ("fail", "deviation") else ()) \
        + (expectations.DEVIATION_FIELDS if fields["verdict"] == "deviation" else ())
    out = {k: fields.get(k) for k in keep}
    if fields["verdict"] == "deviation" and fields.get(_INHERITED):
        out[_INHERITED] = fields[_INHERITED]
    if fields.get("blame"):
        out["blame"] = fields["blame"]
    if out["configuration"] is None or name == "drawn" and fields["verdict"] in ("pass", "unsupported"):
        out.pop("configuration")  # a drawn pass's is only the last example's
    return out


def record(outcomes: list[Outcome], optimizer: str, claim: str, deviations: list, keras: str, backend: str, *,
           parents: Sequence[str] = ()) -> dict[str, Any]:
    """The verdict fields of one claim test's record: the worst condition's fields at the top, every
    condition under `conditions`, and `stale` where a promised deviation did not occur. `parents`:
    the built-in optimizers (and abstract bases) `optimizer` inherits from, nearest first, whose
    entries apply to it too (expectations.find)."""
    judged = {o.condition: judge(o, optimizer, claim, deviations, keras, backend, parents=parents) for o in outcomes}
    if not judged:  # nothing ran (cannot happen for a claim test; kept total)
        judged = {"drawn": judge(Outcome("drawn", None), optimizer, claim, deviations, keras, backend, parents=parents)}
    name = worst({n: f["verdict"] for n, f in judged.items()})
    out: dict[str, Any] = {**judged[name], "condition": name, "stale": "",
                           "conditions": {n: _compact(n, f) for n, f in judged.items()}}
    out.pop("examples"), out.pop("duration_s")  # the claim's totals are the plugin's
    if out["verdict"] not in ("fail", "deviation", "error"):
        out["configuration"] = None  # as in format 1: a configuration is a failure's
    out["stale"] = _stale(judged, optimizer, claim, deviations, keras, backend)
    if out["stale"] and out["verdict"] == "pass":
        out.update(expected="fail", message=f"stale expectation: {out['stale']}")
    return out


def _stale(
    judged: dict[str, dict[str, Any]], optimizer: str, claim: str, deviations: list, keras: str, backend: str
) -> str:
    """The reason of an unconditional entry (no `match`: it promises a failure) none of whose
    conditions failed, though one of them was checked. Only the entries about the optimizer's own
    name count, not those it inherits from a parent: a subclass may well fix its parent's bug, and
    that is no stale entry (no `parents` passed to find)."""
    for d in expectations.find(deviations, optimizer, claim, keras, backend):
        if d.match:
            continue  # conditional: it explains a failure if one occurs
        covered = [f["verdict"] for n, f in judged.items() if not d.conditions or n in d.conditions]
        if covered and "pass" in covered and not any(v in ("fail", "deviation") for v in covered):
            return d.reason
    return ""


def error(message: str, configuration: str | None = None, conditions: dict[str, Any] | None = None) -> dict[str, Any]:
    """The verdict fields of an `error` that no exception reached `record` with (a claim stuck in
    native code, a crashed xdist worker): the same keys, with the conditions finished before."""
    return {
        "verdict": "error",
        "expected": "pass",
        "message": message,
        "reproducer": "",
        "stale": "",
        "counterexample": "",
        "configuration": configuration,
        "hyperparameters": None,
        "dtype": None,
        "shapes": None,
        "condition": None,
        "conditions": conditions or {},
    }
