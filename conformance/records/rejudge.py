"""Apply the expectations as they are now to a stored run's failures (`merge --rejudge`).

A run records each failure with the configuration and message it was judged on, per condition
(format 2) or once (format 1), so a deviation declared after the run can be applied without
running it again: a `fail` that an entry now explains becomes `deviation` (with that entry's
reason, kind and upstream), and a `deviation` that no entry explains any more becomes `fail`.
Passes, unsupported and error verdicts are left as they were. The decision is
`expectations.decide`'s, the same as during a run; a record's verdict is then its conditions'
worst again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.records import expectations
from conformance.records.results_format import worst


def _rejudge_one(fields: dict[str, Any], deviations: list, optimizer: str, claim: str, keras: str, backend: str,
                 condition: str | None, parents: list[str]) -> bool:
    """Re-judge one verdict (a record's, or one condition's) in place; whether it changed."""
    before = fields.get("verdict")
    if before not in ("fail", "deviation"):
        return False
    fields.update({k: "" for k in expectations.DEVIATION_FIELDS})
    fields.pop("inherited_from", None)  # set again where the entry found is still inherited
    fields.update(expectations.decide(deviations, optimizer, claim, keras, backend, condition,
                                      fields.get("configuration"), fields.get("message") or "", parents=parents))
    return fields["verdict"] != before


def rejudge(
    info: dict[str, Any], records: dict[tuple[str, str], dict[str, Any]], path: Path = expectations.DEFAULT_PATH
) -> int:
    """Re-judge `records` (of a run with `info`) in place; how many records' verdicts changed."""
    deviations = expectations.load(path)
    keras, backend = str(info.get("keras", "0")), str(info.get("backend", "*"))
    changed = 0
    for rec in records.values():
        parents = list(rec.get("parents") or ())  # the built-ins it inherits from, where the run recorded them
        conditions = rec.get("conditions")
        if not isinstance(conditions, dict) or not conditions:  # format 1: one verdict, no condition
            changed += _rejudge_one(rec, deviations, rec["optimizer"], rec["claim"], keras, backend, None, parents)
            continue
        before = rec["verdict"]
        for name, fields in conditions.items():
            _rejudge_one(fields, deviations, rec["optimizer"], rec["claim"], keras, backend, name, parents)
        first = worst({n: f.get("verdict", "pass") for n, f in conditions.items()})
        rec.update({k: "" for k in expectations.DEVIATION_FIELDS})
        rec.pop("inherited_from", None)
        rec.update({k: v for k, v in conditions[first].items() if k not in ("examples", "duration_s")}, condition=first)
        changed += rec["verdict"] != before
    return changed
