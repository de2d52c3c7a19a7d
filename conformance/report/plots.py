"""The performance section's charts: horizontal bar charts laid out here, drawn as inline SVG by the
template (so every label is escaped like any other text).

One chart per regime and measure: the step time (the minimum over rounds, which the ratios use
too), and each ratio the benchmarks record (`roofline_ratio`: time over the memory-bandwidth bound;
`numpy_ratio`: time over a numpy float32 implementation). Bars are grouped by optimizer, one bar per
benchmark file (environment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from conformance.report.inputs import Benchmark

LABEL_W, BAR_H, GAP, PLOT_W, RIGHT = 150, 12, 8, 420, 80
UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


@dataclass
class Bar:
    x: float
    y: float
    width: float
    series: int
    value: str


@dataclass
class Chart:
    title: str
    width: int
    height: int
    labels: list[tuple[float, str]] = field(default_factory=list)  # (y, optimizer)
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, text)
    marker: float | None = None  # x of the ratio 1 line


def seconds(value: float) -> str:
    if value == 0:
        return "0"
    scale, unit = next(((s, u) for s, u in UNITS if value >= s), UNITS[-1])
    return f"{value / scale:.3g} {unit}"


def _axis(value: float) -> tuple[float, float]:
    """(top, step): a 1-2-5 step giving about four intervals, and the first multiple >= value."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return step * math.ceil(value / step - 1e-9), step


LOG_RANGE = 30  # values spanning more than this factor are drawn on a logarithmic axis


def ratio(value: float) -> str:
    return f"{value:,.0f}×" if value >= 1000 else f"{value:.3g}×"


def _scale(values: list[float]) -> tuple[Callable[[float], float], list[float], bool]:
    """(position in [0, 1] of a value, tick values, logarithmic?) for the values of one chart."""
    positive = [v for v in values if v > 0] or [1.0]
    lo, hi = min(positive), max(positive)
    if hi / lo > LOG_RANGE:
        first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        last = max(last, first + 1)
        return (
            lambda v: (math.log10(max(v, 10.0**first)) - first) / (last - first),
            [10.0**k for k in range(first, last + 1)],
            True,
        )
    top, step = _axis(hi)
    return (lambda v: v / top), [i * step for i in range(round(top / step) + 1)], False


def chart(
    title: str, values: dict[str, dict[int, float]], n_series: int, fmt: Callable[[float], str], is_ratio: bool = False
) -> Chart:
    """values: optimizer -> series index -> value."""
    where, ticks, log = _scale([v for per in values.values() for v in per.values()])
    c = Chart(title + (" (log scale)" if log else ""), LABEL_W + PLOT_W + RIGHT, 0)
    y = 20.0
    for optimizer in sorted(values):
        c.labels.append((y + n_series * BAR_H / 2, optimizer))
        for series in range(n_series):
            if series in values[optimizer]:
                v = values[optimizer][series]
                c.bars.append(Bar(LABEL_W, y, max(PLOT_W * where(v), 0.5), series, fmt(v)))
            y += BAR_H
        y += GAP
    c.height = int(y + 20)
    c.ticks = [(LABEL_W + PLOT_W * where(t), fmt(t) if t else "0") for t in ticks]
    if is_ratio and 0 <= where(1.0) <= 1 and ticks[-1] >= 1:
        c.marker = LABEL_W + PLOT_W * where(1.0)
    return c


def charts(benchmarks: list[Benchmark]) -> tuple[list[str], list[Chart]]:
    """The series (benchmark file labels) and the charts, regime by regime."""
    series = sorted({b.source for b in benchmarks})
    out: list[Chart] = []
    for regime in sorted({b.regime for b in benchmarks}):
        these = [b for b in benchmarks if b.regime == regime]
        times: dict[str, dict[int, float]] = {}
        for b in these:
            times.setdefault(b.optimizer, {})[series.index(b.source)] = b.seconds
        out.append(chart(f"{regime}: step time (minimum)", times, len(series), seconds))
        for name in sorted({k for b in these for k in b.ratios}):
            ratios: dict[str, dict[int, float]] = {}
            for b in these:
                if name in b.ratios:
                    ratios.setdefault(b.optimizer, {})[series.index(b.source)] = b.ratios[name]
            out.append(
                chart(f"{regime}: {name} (1 = as fast as the baseline)", ratios, len(series), ratio, is_ratio=True)
            )
    return series, out
