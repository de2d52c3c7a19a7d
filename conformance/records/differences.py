"""The (optimizer, claim) pairs whose verdicts differ between environments, grouped, as text or
Markdown. Used by `merge.py`; standard library only.

A pair differs when the environments that have the optimizer and ran the claim gave different
verdicts, or different verdicts for a condition two or more of them checked (format 2: `defaults`
passes here and fails there, though both cells say `deviation`). Pairs with the same verdicts and
reason in every environment form one group, so that one cause (a TensorFlow-only API, one declared
deviation) is one entry, not one per optimizer. Each group says where its claims hold across the
environments, in their (version) order: "holds 3.5.0–3.15.1; fails 3.3.3–3.4.1" (`versions.py`).
"""

from __future__ import annotations

import re
from typing import Any

from conformance.records import versions

ABSENT, NOT_RUN = "—", "not run"
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def explain(cell: dict[str, Any], optimizer: str) -> str:
    """Why a cell has its verdict, in one line: the deviation's reason, else the first line of the
    message (a failure, an error, what an unsupported claim lacked), the optimizer's own name
    replaced by <optimizer> so that one cause reads the same for every optimizer."""
    verdict = cell["verdict"]
    if verdict == "pass":
        text = f"stale expectation: {cell['stale']}" if cell.get("stale") else ""
    else:
        text = (cell.get("reason") if verdict == "deviation" else "") or cell.get("message", "")
    text = text.strip().split("\n")[0]
    return re.sub(rf"(?<![\w.]){re.escape(optimizer)}(?!\w)", "<optimizer>", text)


def differing_conditions(cells: list[dict[str, Any]]) -> list[str]:
    """The conditions that two or more of the cells checked, with different verdicts."""
    seen: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for cell in cells:
        for name, verdict in (cell.get("conditions") or {}).items():
            seen.setdefault(name, set()).add(verdict)
            counts[name] = counts.get(name, 0) + 1
    return [n for n, vs in seen.items() if counts[n] > 1 and len(vs) > 1]


def history(row: dict[str, Any], labels: list[str], names: list[versions.Column]) -> list[str]:
    """Where the row's claim holds across the environments (labels, in order), and at defaults where
    that differs; [] where its verdict is the same in every environment that ran it."""
    cells = [row["verdicts"].get(label) for label in labels]
    overall = versions.history(names, [c["verdict"] if c else None for c in cells])
    at_defaults = versions.history(names, [(c.get("conditions") or {}).get("defaults") if c else None for c in cells])
    return versions.summary(overall, at_defaults)


def group(
    rows: list[dict[str, Any]],
    labels: list[str],
    present: dict[str, list[str]],
    names: list[versions.Column] | None = None,
) -> list[dict[str, Any]]:
    """The differing rows, grouped by their verdicts and reasons in every environment.

    Each group: {"cells": {label: {"verdict", "reason"}}, "claims": {claim: [optimizers]}, "pairs": n,
    "history": lines saying where its claims hold, by the environments' versions (default: labels)}.
    Its rows have the same verdicts everywhere (and at defaults, where those differ), so one history.
    A reason whose numbers vary inside a group is shown by its first instance, prefixed "e.g.".
    """
    names = names or [versions.Column(label, label) for label in labels]
    groups: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        opt, verdicts = row["optimizer"], row["verdicts"]
        conditions = differing_conditions(list(verdicts.values()))
        if len({c["verdict"] for c in verdicts.values()}) < 2 and not conditions:
            continue
        cells, key = {}, []
        for label in labels:
            if label not in present.get(opt, ()):
                cell = {"verdict": ABSENT, "reason": ""}
            elif label not in verdicts:
                cell = {"verdict": NOT_RUN, "reason": ""}
            else:
                got = verdicts[label].get("conditions") or {}
                shown = ", ".join(f"{n} {got[n]}" for n in conditions if n in got)
                cell = {"verdict": verdicts[label]["verdict"] + (f" ({shown})" if shown else ""),
                        "reason": explain(verdicts[label], opt)}
            cells[label] = cell
            key.append((cell["verdict"], _NUMBER.sub("#", cell["reason"])))
        g = groups.setdefault(
            tuple(key), {"cells": cells, "claims": {}, "pairs": 0, "history": history(row, labels, names)}
        )
        for label, cell in cells.items():
            if cell["reason"] != g["cells"][label]["reason"] and not g["cells"][label]["reason"].startswith("e.g. "):
                g["cells"][label]["reason"] = "e.g. " + g["cells"][label]["reason"]
        g["claims"].setdefault(row["claim"], []).append(opt)
        g["pairs"] += 1
    return sorted(groups.values(), key=lambda g: (min(g["claims"]), -g["pairs"]))


def _by_optimizers(g: dict[str, Any], everywhere: set[str]) -> list[tuple[str, list[str]]]:
    """(optimizers, claims) lines of a group: claims on the same optimizers share one line."""
    sets: dict[tuple[str, ...], list[str]] = {}
    for claim, opts in sorted(g["claims"].items()):
        sets.setdefault(tuple(sorted(opts)), []).append(claim)
    out = []
    for opts, claims in sets.items():
        name = (
            f"every optimizer all environments have ({len(opts)})"
            if len(opts) > 2 and set(opts) == everywhere
            else ", ".join(opts)
        )
        out.append((name, claims))
    return out


def _everywhere(merged: dict[str, Any]) -> set[str]:
    return {r["optimizer"] for r in merged["results"]} - set(merged["only_in"])


def describe(env: dict[str, Any]) -> str:
    i = env["run_info"]
    lib = i["versions"].get(i.get("backend") or "", "")
    parts = [f"Keras {i.get('keras')}", f"{i.get('backend')} {lib}".strip(), f"{i.get('profile')} profile"]
    return (
        ", ".join(parts) + f", devices {', '.join(map(str, i.get('devices') or [])) or '?'}, started {i.get('started')}"
    )


def _only_in(merged: dict[str, Any]) -> dict[str, list[str]]:
    by_envs: dict[str, list[str]] = {}
    for opt, envs in merged["only_in"].items():
        by_envs.setdefault(", ".join(envs), []).append(opt)
    return by_envs


def text(merged: dict[str, Any], width: int = 160) -> str:
    """The summary printed by `python -m conformance.records.merge`."""
    envs = merged["environments"]
    w = max(len(e["label"]) for e in envs)
    out = [f"environments ({len(envs)}, in version order):"]
    for e in envs:
        counts = ", ".join(f"{v} {n}" for v, n in e["counts"].items()) or "no verdicts"
        stale = f" (stale expectations: {e['stale']})" if e.get("stale") else ""
        out += [
            f"  {e['label']:<{w}}  {describe(e)}",
            f"  {'':<{w}}  {sum(e['counts'].values())} verdicts: {counts}{stale}",
        ]
        if e.get("defaults"):
            out.append(f"  {'':<{w}}  with the defaults: " + ", ".join(f"{v} {n}" for v, n in e["defaults"].items()))
        if e.get("kinds"):
            out.append(
                f"  {'':<{w}}  deviations per kind ((optimizer, claim) pairs): "
                + ", ".join(f"{k} {n}" for k, n in e["kinds"].items())
            )
        out += [f"  {'':<{w}}  note: {n}" for n in e["notes"]]
    if merged["only_in"]:
        out.append("optimizers not in every environment (not compared where absent):")
        out += [f"  only in {envs_}: {', '.join(opts)}" for envs_, opts in _only_in(merged).items()]
    if merged["not_run"]:
        out.append("not run: (optimizer, claim) pairs another environment ran, for an optimizer this one has:")
        out += [f"  {label}: {n}" for label, n in merged["not_run"].items()]
    diffs = merged["differences"]
    if not diffs:
        out.append("differences: none (every pair run in two or more environments has one verdict)")
        return "\n".join(out)
    out.append(f"differences: {sum(g['pairs'] for g in diffs)} (optimizer, claim) pairs in {len(diffs)} groups")
    for n, g in enumerate(diffs, 1):
        out.append(f"[{n}] {g['pairs']} pair(s)")
        out += [f"    {'across versions:' if i == 0 else '':<16} {line}" for i, line in enumerate(g.get("history", []))]
        for label, cell in g["cells"].items():
            line = f"      {label:<{w}}  {cell['verdict']:<11}  {cell['reason']}".rstrip()
            out.append(line if len(line) <= width else line[: width - 1] + "…")
        for opts, claims in _by_optimizers(g, _everywhere(merged)):
            out.append(f"    on {opts}:")
            out += [f"      {c}" for c in claims]
    return "\n".join(out)


def markdown(merged: dict[str, Any]) -> str:
    """The differences table in Markdown: one row per group, reasons numbered below it."""

    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")

    envs = merged["environments"]
    labels = [e["label"] for e in envs]
    diffs = merged["differences"]
    out = ["## Verdicts that differ between environments", "", "The environments, in version order:", ""]
    out += [f"- `{e['label']}`: {esc(describe(e))}" for e in envs] + [""]
    reasons: dict[str, int] = {}
    if diffs:
        out.append(f"{sum(g['pairs'] for g in diffs)} (optimizer, claim) pairs in {len(diffs)} groups.")
        out += ["", "| claims | optimizers | across versions | " + " | ".join(labels) + " |",
                "|---" * (len(labels) + 3) + "|"]
        for g in diffs:
            cells = []
            for label in labels:
                c = g["cells"][label]
                num = reasons.setdefault(c["reason"], len(reasons) + 1) if c["reason"] else None
                cells.append(c["verdict"] + (f" ({num})" if num else ""))
            for opts, claims in _by_optimizers(g, _everywhere(merged)):
                claim_cell = "<br>".join(f"`{c}`" for c in claims)
                history = "<br>".join(esc(line) for line in g.get("history", []))
                out.append(f"| {claim_cell} | {esc(opts)} | {history} | " + " | ".join(cells) + " |")
        out += ["", "Reasons:", ""] + [f"{n}. {esc(r)}" for r, n in reasons.items()]
    else:
        out.append("No differences: every pair run in two or more environments has one verdict.")
    if merged["only_in"]:
        out += ["", "Optimizers not in every environment (not compared where absent):", ""]
        out += [f"- only in {envs_}: {', '.join(f'`{o}`' for o in opts)}" for envs_, opts in _only_in(merged).items()]
    return "\n".join(out) + "\n"
