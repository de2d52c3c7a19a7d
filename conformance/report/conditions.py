"""What a format-2 record says per condition: each condition's fields, the verdict at `defaults`,
and a declared deviation's kind.

A claim is checked under several conditions (the optimizer constructed with no arguments, each
base option alone, other dtypes, drawn configurations); the record's own verdict is their worst.
Format-1 records have no conditions: everything here answers "none" for them, so that a format-1
file renders as it always did.
"""

from __future__ import annotations

from typing import Any

DEFAULTS = "defaults"  # the optimizer as a user constructs it: what most users need first
# A declared deviation's kind -> (the letter a cell shows, the words the legend and titles use).
# The kinds are those of conformance.records.expectations.KINDS, repeated so that the report needs no Keras.
KINDS: dict[str, tuple[str, str]] = {
    "bug": ("B", "bug: Keras contradicts its docs or an earlier Keras"),
    "documented": ("D", "documented: Keras documents it; the claim does not hold"),
    "design": ("I", "design: intended upstream"),
    "environment": ("E", "environment: the backend, device or arithmetic"),
}


def of(record: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The record's conditions, name -> fields, in the record's order ({} for format 1)."""
    found = (record or {}).get("conditions")
    if not isinstance(found, dict):
        return {}
    return {str(name): fields for name, fields in found.items() if isinstance(fields, dict)}


def kind(fields: dict[str, Any] | None) -> str:
    """A deviation's declared kind (a key of KINDS), or "" (none, or one this report does not know)."""
    value = (fields or {}).get("kind")
    return value if isinstance(value, str) and value in KINDS else ""


def verdicts(record: dict[str, Any] | None) -> dict[str, str]:
    """Condition name -> its verdict, as written."""
    return {name: str(fields.get("verdict", "")) for name, fields in of(record).items()}
