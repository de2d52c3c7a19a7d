"""The results file's format: its version and the verdicts a record can carry. Standard library
only, so that every reader (merge, the report, --resume) can use it without Keras."""

from __future__ import annotations

from typing import Any

# 1: one verdict per (optimizer, claim); 2: adds `condition`, `conditions`, `kind` and `upstream`.
FORMAT_VERSION = 2
VERDICTS = ("pass", "fail", "deviation", "unsupported", "error")
# A record's verdict is its conditions' worst, in this order; `unsupported` only where nothing ran.
WORST_FIRST = ("error", "fail", "deviation", "pass", "unsupported")
# Where a claim reads a condition it did not check (format 1, or a claim without defaults).
NO_CONDITION = "-"


def condition_verdict(record: dict[str, Any], name: str) -> str:
    """The verdict of condition `name` in `record`, or NO_CONDITION where it has none."""
    conditions = record.get("conditions")
    found = conditions.get(name) if isinstance(conditions, dict) else None
    return str(found.get("verdict", NO_CONDITION)) if isinstance(found, dict) else NO_CONDITION
