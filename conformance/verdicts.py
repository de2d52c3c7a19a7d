"""Turn the outcome of one scenario test into a verdict record."""

from __future__ import annotations

import sys
from typing import Any

if sys.version_info < (3, 11):  # hypothesis brings the backport
    from exceptiongroup import BaseExceptionGroup

from . import expectations, strategies
from .errors import ClaimFailed, ClaimTimeout, Unsupported


def _split(message: str) -> tuple[str, str]:
    head, sep, repro = message.partition("\n\nReproducer:\n")
    return head, repro if sep else ""


def _unwrap(exc: BaseException | None) -> BaseException | None:
    """Hypothesis reports several distinct failures as a group: a claim failure if all are."""
    if isinstance(exc, BaseExceptionGroup):  # noqa: F821 - built in from 3.11, imported before
        failures = [e for e in exc.exceptions if isinstance(e, ClaimFailed)]
        if failures and len(failures) == len(exc.exceptions):
            failures[0].add_note(f"(and {len(failures) - 1} other distinct failure(s))")
            return failures[0]
    return exc


def classify(
    exc: BaseException | None, optimizer: str, claim: str, deviations: list, keras: str, backend: str
) -> dict[str, Any]:
    """verdict, expected, message, reproducer and, for stale expectations, the stale reason."""
    exc = _unwrap(exc)
    out: dict[str, Any] = {"verdict": "pass", "expected": "pass", "message": "", "reproducer": "", "stale": ""}
    if exc is None:
        # An entry with `match` is conditional (it explains a failure if one occurs); only an
        # unconditional entry promises a failure, so only those go stale.
        matching = [d for d in expectations.find(deviations, optimizer, claim, keras, backend) if not d.match]
        if matching:
            out.update(expected="fail", stale=matching[0].reason, message=f"stale expectation: {matching[0].reason}")
    elif isinstance(exc, Unsupported):
        out.update(verdict="unsupported", message=str(exc))
    elif isinstance(exc, ClaimFailed):
        message, repro = _split(str(exc))
        out.update(verdict="fail", message=message, reproducer=repro)
        case = strategies.LAST[0]
        context = f"{case.setup.code}\n{message}" if case else message
        explained = [d for d in expectations.find(deviations, optimizer, claim, keras, backend) if d.explains(context)]
        if explained:
            d = max(explained, key=lambda dev: bool(dev.match))  # an entry naming its cause wins
            out.update(verdict="deviation", expected="fail", reason=d.reason, link=d.link)
    elif isinstance(exc, ClaimTimeout):
        out.update(verdict="error", message=str(exc))
    else:
        out.update(verdict="error", message=f"{type(exc).__name__}: {exc}")
    notes = getattr(exc, "__notes__", None) if exc is not None else None
    out["counterexample"] = "\n".join(notes or [])
    case = strategies.LAST[0] if out["verdict"] in ("fail", "deviation") else None
    timeout = exc if isinstance(exc, ClaimTimeout) else None
    out["configuration"] = case.setup.code if case else timeout and timeout.configuration  # a timeout's last case
    out["hyperparameters"] = case.setup.describe() if case else None
    out["dtype"] = case.dtype if case else None
    out["shapes"] = [list(w.shape) for w in case.weights] if case else None
    return out


def error(message: str, configuration: str | None = None) -> dict[str, Any]:
    """The verdict fields of an `error` that no exception reached classify with (a claim stuck in
    native code, a crashed xdist worker): the same keys classify gives."""
    return {"verdict": "error", "expected": "pass", "message": message, "reproducer": "", "stale": "",
            "counterexample": "", "configuration": configuration, "hyperparameters": None, "dtype": None, "shapes": None}
