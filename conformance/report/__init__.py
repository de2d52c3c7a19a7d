"""The HTML compatibility report: `python -m conformance.report RESULTS... -o reports/index.html`.

inputs.py reads results and benchmark files (what cannot be read becomes a problem naming file and
line; the environments in version order, records/versions.py), table.py builds the row list
((optimizer, claim) rows x environments, each row's history across them), grid.py the opening
view (per environment, claims x optimizers), conditions.py reads what a format-2 record says per
condition (the verdict at defaults, a deviation's kind), baseline.py compares with an older run
(per condition too), details.py packs what a click on a cell shows, plots.py lays out the benchmark
charts, and render.py fills the Jinja2 templates (autoescaped: every string from a results file is
untrusted).
Standard library and Jinja2 only, so `tox -e report` installs nothing else.
"""

from __future__ import annotations

from conformance.report.render import build, render_file

__all__ = ["build", "render_file"]
