"""`keras-conformance list`: the claims (id, text, source) and the optimizers with their spec status."""

from __future__ import annotations

import importlib
import pkgutil

from conformance.inputs.spec import DOCS


def claims() -> list:
    """Every claim, by importing the scenario modules that define them."""
    from conformance import scenarios
    from conformance.checks.claims import CLAIMS

    for module in pkgutil.iter_modules(scenarios.__path__):
        if module.name.startswith("test_"):
            importlib.import_module(f"{scenarios.__name__}.{module.name}")
    return sorted(CLAIMS.values(), key=lambda c: c.id)


def spec_status(spec) -> str:  # noqa: ANN001 - a catalogue.Spec
    """What the suite knows about an optimizer, and so which claims it can check."""
    record = spec.record
    if spec.kind == "wrapper":
        return "wrapper: checked around SGD and Adam"
    if record is None:
        return "its own configuration (a factory): the claims that vary it say unsupported"
    have = [f for f in ("hyperparameters", "arguments", "reference", "torch", "optax") if getattr(record, f)]
    origin = f"{record.name}'s record" if spec.kind != "built-in" and record.name != spec.name else "spec"
    if not have:
        return (
            f"no spec: its defaults and the base options only; claims needing a reference say unsupported (see {DOCS})"
        )
    missing = [f for f in ("reference",) if not getattr(record, f)]
    return f"{origin}: {', '.join(have)}" + (f"; no {missing[0]} (see {DOCS})" if missing else "")


def lines(what: str = "all", optimizer_paths: list[str] = (), spec_paths: list[str] = ()) -> list[str]:
    out: list[str] = []
    if what in ("claims", "all"):
        found = claims()
        out.append(f"{len(found)} claims:")
        out += [f"  {c.id}\n      {c.text}\n      source: {c.source}" for c in found]
    if what in ("optimizers", "all"):
        from conformance.inputs.catalogue import builtin_specs
        from conformance.inputs.user_specs import user_specs

        specs = builtin_specs() + user_specs(list(optimizer_paths), list(spec_paths))
        out.append(f"{len(specs)} optimizers:")
        width = max(len(s.name) for s in specs)
        out += [
            f"  {s.name:<{width}}  {s.kind:<10} {spec_status(s)}"
            + (f"  [inherits the deviations of {', '.join(s.parents)}]" if s.parents else "")
            for s in specs
        ]
    return out
