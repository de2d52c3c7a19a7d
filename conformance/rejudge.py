"""Apply the expectations as they are now to a stored run's failures (`merge --rejudge`).

A run records each failure with the configuration and message it was judged on, so a deviation
declared after the run can be applied without running it again: a `fail` that an entry now
explains becomes `deviation` (with that entry's reason), and a `deviation` that no entry explains
any more becomes `fail`. Passes, unsupported and error verdicts are left as they were.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import expectations


def rejudge(info: dict[str, Any], records: dict[tuple[str, str], dict[str, Any]], path: Path = expectations.DEFAULT_PATH) -> int:
    """Re-judge `records` (of a run with `info`) in place; how many verdicts changed."""
    deviations = expectations.load(path)
    keras, backend = str(info.get("keras", "0")), str(info.get("backend", "*"))
    changed = 0
    for rec in records.values():
        if rec.get("verdict") not in ("fail", "deviation"):
            continue
        context = f"{rec.get('configuration') or ''}\n{rec.get('message') or ''}"
        explained = [d for d in expectations.find(deviations, rec["optimizer"], rec["claim"], keras, backend) if d.explains(context)]
        if explained:
            d = max(explained, key=lambda dev: bool(dev.match))  # as verdicts.classify: a named cause wins
            new = {"verdict": "deviation", "expected": "fail", "reason": d.reason, "link": d.link}
        else:
            new = {"verdict": "fail", "expected": "pass", "reason": "", "link": ""}
        if new["verdict"] != rec["verdict"]:
            changed += 1
        rec.update(new)
    return changed
