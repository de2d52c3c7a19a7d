"""What a click on a cell shows, packed once into the page.

Every verdict record's fields are stored as indices into one table of strings (a reason or a claim's
text is stored once however many cells share it), the whole is JSON, gzip-compressed and base64-
encoded: the page's script unpacks it with the browser's DecompressionStream and inserts every
string as text, never as HTML. Base64 cannot close a <script> element, whatever the strings hold.

A format-2 record's conditions are packed beside it (`conditions`: per cell, one list per condition,
its name then COND_FIELDS), and in diff mode the conditions whose verdict changed (`changes`). Per
row, where its claim holds across the environments, each end named with its label (`history`).
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from conformance.records.results_format import Run
from conformance.report import conditions
from conformance.report.table import SHOWN, Row

# The record fields a cell's details show, in the order the page's script expects them.
FIELDS = ("verdict", "expected", "optimizer_kind", "configuration", "hyperparameters", "dtype", "shapes",
          "message", "reason", "link", "stale", "counterexample", "reproducer", "duration_s", "examples",
          "ran_on", "nodeid", "condition", "kind", "upstream")
# A condition's fields, in the order the page's script expects them.
COND_FIELDS = ("verdict", "expected", "kind", "upstream", "message", "configuration", "dtype", "examples", "duration_s",
               "hyperparameters", "shapes", "reason", "link", "counterexample", "reproducer")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if type(value) in (int, float):
        return repr(value)  # what json.dumps writes for them
    if isinstance(value, dict):
        return "\n".join(f"{k} = {json.dumps(v) if not isinstance(v, str) else v}" for k, v in value.items())
    return json.dumps(value)


class Strings:
    """An interning table: each distinct string once, referred to by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {"": 0}

    def __call__(self, value: Any) -> int:
        if value is None:
            return 0
        text = value if type(value) is str else _text(value)  # the common case first: this runs for every field
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    def table(self) -> list[str]:
        return list(self.index)


def _record(strings: Strings, record: dict[str, Any], fields: tuple[str, ...] = FIELDS) -> list[int]:
    return [strings(record.get(f)) for f in fields]


def pack(rows: list[Row], runs: list[Run], environments: list[dict[str, Any]], claims: dict[str, dict],
         baseline: dict[int, Run]) -> str:
    """The base64 text of the gzip-compressed JSON the page's script reads."""
    s = Strings()
    cells: dict[str, list[int]] = {}
    conds: dict[str, list[list[int]]] = {}
    before: dict[str, list[int]] = {}
    changes: dict[str, list[list[int]]] = {}
    for row in rows:
        key = (row.optimizer, row.claim)
        for e, run in enumerate(runs):
            at = f"{row.index}.{e}"
            if key in run.records:
                cells[at] = _record(s, run.records[key])
                found = conditions.of(run.records[key])
                if found:
                    conds[at] = [[s(name), *_record(s, fields, COND_FIELDS)] for name, fields in found.items()]
            if e in baseline and key in baseline[e].records:
                before[at] = _record(s, baseline[e].records[key])
            if row.cells[e].changed_conditions:
                changes[at] = [[s(x) for x in change] for change in row.cells[e].changed_conditions]
    payload = {
        "fields": FIELDS,
        "rows": [[s(r.optimizer), s(r.claim), s(r.scenario)] for r in rows],
        "claims": {c: [s(rec.get("claim_text")), s(rec.get("source"))] for c, rec in claims.items()},
        "environments": environments,
        "baseline": {str(e): b.label for e, b in baseline.items()},
        "layouts": [run.layouts for run in runs],
        "cells": cells,
        "before": before,
        "cond_fields": COND_FIELDS,
        "conditions": conds,
        "changes": changes,
        "history": {str(r.index): [s(line) for line in r.history_long] for r in rows if r.history_long},
        "shown": SHOWN,  # symbol and word per verdict, for the script's defaults view
        "kinds": conditions.KINDS,
    }
    payload["strings"] = s.table()
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def unpack(text: str) -> dict[str, Any]:
    """The payload back (for tests and for reading a report without a browser)."""
    return json.loads(gzip.decompress(base64.b64decode(text)))


def record_of(data: dict[str, Any], at: str) -> dict[str, str]:
    """An unpacked payload's record of cell `at` ("row.environment"), field -> text."""
    return {f: data["strings"][i] for f, i in zip(data["fields"], data["cells"][at])}


def conditions_of(data: dict[str, Any], at: str) -> dict[str, dict[str, str]]:
    """An unpacked payload's conditions of cell `at`, name -> field -> text ({} for format 1)."""
    strings = data["strings"]
    return {strings[name]: {f: strings[i] for f, i in zip(data["cond_fields"], values)}
            for name, *values in data["conditions"].get(at, [])}
