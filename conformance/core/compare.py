"""Elementwise comparisons that always report the observed error."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from conformance.core import tolerance


@dataclass
class Mismatch:
    where: str
    index: tuple[int, ...]
    actual: float
    expected: float
    allowed: float
    labels: tuple[str, str] = ("keras", "reference")

    def __str__(self) -> str:
        err = abs(self.actual - self.expected) if np.isfinite(self.actual) else float("inf")
        a, e = self.labels
        return (
            f"{self.where}{list(self.index) if self.index else ''}: {a} {self.actual!r}, "
            f"{e} {self.expected!r}, |difference| {err:.3g} > allowed {self.allowed:.3g}"
        )


@dataclass
class Comparison:
    """Accumulates the worst observed error over many arrays, as a multiple of what is allowed."""

    dtype: str
    labels: tuple[str, str] = ("keras", "reference")
    amplification: float = 1.0  # the compared rule's own loss of digits, see tolerance.rtol
    steps: int = 1  # steps taken without teacher forcing: their roundings add up
    mismatches: list[Mismatch] = field(default_factory=list)
    worst_ratio: float = 0.0
    worst_abs: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.mismatches or self.notes)

    def close(
        self, where: str, actual: np.ndarray, expected: np.ndarray, prev: np.ndarray, slack: np.ndarray | float = 0.0
    ) -> None:
        """Within tolerance.bound, plus `slack` (the formula's own sensitivity to rounding)."""
        a = np.asarray(actual, np.float64)
        e = np.asarray(expected, np.float64)
        if a.shape != e.shape:
            self.mismatches.append(Mismatch(f"{where} shape {a.shape} vs {e.shape}", (), np.nan, np.nan, 0.0))
            return
        allowed = tolerance.bound(e, prev, self.dtype, self.steps, self.amplification) + slack
        with np.errstate(invalid="ignore"):
            err = np.where(np.isfinite(a), np.abs(a - e), np.inf)
            # the same value (NaN against NaN, or the same infinity) is no difference; a finite
            # value against NaN is as far off as a value can be
            err = np.where((np.isnan(e) & np.isnan(a)) | (a == e), 0.0, err)
            err = np.where(np.isnan(err), np.inf, err)
            ratio = np.where(err == 0.0, 0.0, err / allowed)
        # (inf / inf, or the NaN allowed error where the expected value is NaN: never a NaN ratio,
        # which argmax would pick and max() would ignore, hiding every other element's error)
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        if ratio.size:
            k = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            self.worst_ratio = max(self.worst_ratio, float(ratio[k]))
            self.worst_abs = max(self.worst_abs, float(err[k]))
            if ratio[k] > 1:
                self.mismatches.append(
                    Mismatch(where, tuple(int(x) for x in k), float(a[k]), float(e[k]), float(allowed[k]), self.labels)
                )

    def equal(self, where: str, actual: np.ndarray, expected: np.ndarray) -> None:
        """Bit-for-bit equality (NaN equal to NaN)."""
        a, e = np.asarray(actual), np.asarray(expected)
        if a.shape != e.shape or a.dtype != e.dtype:
            self.mismatches.append(
                Mismatch(f"{where} shape/dtype {a.shape}/{a.dtype} vs {e.shape}/{e.dtype}", (), np.nan, np.nan, 0.0)
            )
            return
        same = (
            (a == e) | (np.isnan(a.astype(np.float64)) & np.isnan(e.astype(np.float64)))
            if a.size
            else np.ones((), bool)
        )
        if not np.all(same):
            k = np.unravel_index(int(np.argmin(same)), same.shape)
            diff = float(np.max(np.abs(a.astype(np.float64) - e.astype(np.float64))))
            self.worst_abs = max(self.worst_abs, diff)
            self.mismatches.append(
                Mismatch(where, tuple(int(x) for x in k), float(a[k]), float(e[k]), 0.0, self.labels)
            )

    def differ(self, where: str, actual: object, expected: object) -> None:
        """A structural difference (names, layout) that has no numeric error."""
        self.notes.append(f"{where}: {actual!r} vs {expected!r}")

    def summary(self) -> str:
        if not self.worst_ratio:
            return f"largest difference {self.worst_abs:.3g}"
        return f"worst error {self.worst_abs:.3g} ({self.worst_ratio:.3g} x allowed for {self.dtype})"

    def report(self, limit: int = 6) -> str:
        lines = self.notes + [str(m) for m in self.mismatches[:limit]]
        if len(self.mismatches) > limit:
            lines.append(f"... and {len(self.mismatches) - limit} more")
        return "\n".join(lines)
