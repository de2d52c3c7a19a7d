"""What a click on a cell shows, packed once into the page.

Every verdict record's fields are stored as indices into one table of strings (a reason or a claim's
text is stored once however many cells share it), the whole is JSON, gzip-compressed and base64-
encoded: the page's script unpacks it with the browser's DecompressionStream and inserts every
string as text, never as HTML. Base64 cannot close a <script> element, whatever the strings hold.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from ..merge import Run
from .table import Row

# The record fields a cell's details show, in the order the page's script expects them.
FIELDS = ("verdict", "expected", "optimizer_kind", "configuration", "hyperparameters", "dtype", "shapes",
          "message", "reason", "link", "stale", "counterexample", "reproducer", "duration_s", "examples",
          "ran_on", "nodeid")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(f"{k} = {json.dumps(v) if not isinstance(v, str) else v}" for k, v in value.items())
    return json.dumps(value)


class Strings:
    """An interning table: each distinct string once, referred to by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {"": 0}

    def __call__(self, value: Any) -> int:
        text = "" if value is None else _text(value)
        return self.index.setdefault(text, len(self.index))

    def table(self) -> list[str]:
        return list(self.index)


def _record(strings: Strings, record: dict[str, Any]) -> list[int]:
    return [strings(record.get(f)) for f in FIELDS]


def pack(rows: list[Row], runs: list[Run], environments: list[dict[str, Any]], claims: dict[str, dict],
         baseline: dict[int, Run]) -> str:
    """The base64 text of the gzip-compressed JSON the page's script reads."""
    s = Strings()
    cells: dict[str, list[int]] = {}
    before: dict[str, list[int]] = {}
    for row in rows:
        key = (row.optimizer, row.claim)
        for e, run in enumerate(runs):
            if key in run.records:
                cells[f"{row.index}.{e}"] = _record(s, run.records[key])
            if e in baseline and key in baseline[e].records:
                before[f"{row.index}.{e}"] = _record(s, baseline[e].records[key])
    payload = {
        "fields": FIELDS,
        "rows": [[s(r.optimizer), s(r.claim), s(r.scenario)] for r in rows],
        "claims": {c: [s(rec.get("claim_text")), s(rec.get("source"))] for c, rec in claims.items()},
        "environments": environments,
        "baseline": {str(e): b.label for e, b in baseline.items()},
        "layouts": [run.layouts for run in runs],
        "cells": cells,
        "before": before,
    }
    payload["strings"] = s.table()
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def unpack(text: str) -> dict[str, Any]:
    """The payload back (for tests and for reading a report without a browser)."""
    return json.loads(gzip.decompress(base64.b64decode(text)))
