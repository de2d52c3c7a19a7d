"""Fill the report template: the view built from the inputs, rendered by Jinja2 with autoescaping.

The page is one file: its style and script are inlined, its Content-Security-Policy forbids every
network request and allows only that script (by hash), so even a string that escaped escaping could
neither run nor load anything.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from conformance import __version__
from conformance.records.differences import describe
from conformance.records.merge import environment
from conformance.report import baseline as _baseline
from conformance.report import conditions, details, grid, plots, table
from conformance.report.inputs import Benchmark, Inputs

TEMPLATES = Path(__file__).parent / "templates"
ORDERS = ("claim", "optimizer")


@dataclass
class Rendered:
    html: str
    rows: int
    environments: int
    seconds: float


def _environment(run: Any) -> dict[str, Any]:
    env = environment(run)
    env["describe"] = describe(env)
    info = env["run_info"]
    backend = " ".join(str(x) for x in (info.get("backend"), info["versions"].get(info.get("backend") or "")) if x)
    env["short"] = " · ".join(x for x in (f"Keras {info.get('keras')}", backend) if x)  # which versions the column is
    return env


def _jinja() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        SHOWN=table.SHOWN,
        CHANGES=_baseline.CHANGES,
        KINDS=conditions.KINDS,
        css=table.css,
        seconds=plots.seconds,
        word=_baseline.word,
        note=_baseline.note,
    )
    env.filters["css"] = table.css
    return env


def build(
    current: Inputs,
    base: Inputs | None = None,
    benchmarks: tuple[list[Benchmark], list[str]] | None = None,
    order: str = "claim",
    title: str = "Keras optimizer conformance",
) -> Rendered:
    """The report's HTML for the runs in current (and a baseline, and benchmarks)."""
    t0 = time.perf_counter()
    runs = current.runs
    problems = list(current.problems)
    pairs, pair_notes = _baseline.pair(runs, base.runs) if base else ({}, [])
    if base:
        problems += [f"baseline {p}" for p in base.problems]
    rows, claims = table.build_rows(runs, _baseline.keys(pairs))
    diff = _baseline.mark(rows, pairs, pair_notes) if base else None
    bench, bench_problems = benchmarks or ([], [])
    problems += bench_problems
    series, charts = plots.charts(bench)
    environments = [_environment(r) for r in runs]
    cells = [c for r in rows for c in r.cells]
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    html = (
        _jinja()
        .get_template("report.html.j2")
        .render(
            title=title,
            generated=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            suite_version=__version__,
            environments=environments,
            baseline_labels={e: b.label for e, b in pairs.items()},
            baseline_files={e: str(b.path) for e, b in pairs.items()},
            problems=problems,
            rows=rows,
            orders={"claim": table.by_claim(rows, claims), "optimizer": table.by_optimizer(rows)},
            order=order if order in ORDERS else "claim",
            optimizers=sorted({r.optimizer for r in rows}),
            scenarios=sorted({r.scenario for r in rows}),
            totals=[table.tally(r.cells[e].verdict for r in rows) for e in range(len(runs))],
            defaults_totals=[
                table.tally(r.cells[e].defaults for r in rows if r.cells[e].defaults) for e in range(len(runs))
            ],
            grid=grid.build(rows, claims),
            with_conditions=any(c.has_conditions for c in cells),  # format 2: the defaults view has something to show
            kinds_seen=any(c.kind or c.defaults_kind for c in cells),
            differing=sum(1 for r in rows if r.differs),
            histories=any(r.history for r in rows),
            diff=diff,
            series=series,
            charts=charts,
            benchmarks=sorted(bench, key=lambda b: (b.regime, b.optimizer, b.source)),
            payload=details.pack(rows, runs, environments, claims, pairs),
            style=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
            script=Markup(script),
            script_hash=digest,
        )
    )
    return Rendered(html, len(rows), len(runs), time.perf_counter() - t0)


def render_file(out: Path, *args: Any, **kwargs: Any) -> Rendered:
    """build(...) written to out (its directory made)."""
    rendered = build(*args, **kwargs)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rendered.html, encoding="utf-8")
    return rendered
