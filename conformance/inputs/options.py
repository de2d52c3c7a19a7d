"""The base-optimizer options every Keras optimizer accepts, and their hypothesis strategy."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hypothesis import strategies as st

OPTION_NAMES = (
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "gradient_accumulation_steps",
)


@dataclass(frozen=True)
class Options:
    weight_decay: float | None = None
    clipnorm: float | None = None
    clipvalue: float | None = None
    global_clipnorm: float | None = None
    use_ema: bool = False
    ema_momentum: float = 0.99
    ema_overwrite_frequency: int | None = None
    gradient_accumulation_steps: int | None = None

    def kwargs(self) -> dict[str, Any]:
        """Constructor keywords, only those that differ from the documented defaults."""
        out = {k: v for k, v in asdict(self).items() if v is not None and k != "use_ema"}
        if not self.use_ema:
            out.pop("ema_momentum", None)
            out.pop("ema_overwrite_frequency", None)
        else:
            out["use_ema"] = True
        return out


def options(
    default_weight_decay: float | None = None, accepted: frozenset[str] = frozenset(OPTION_NAMES)
) -> st.SearchStrategy[Options]:
    """Base options within their documented valid ranges; at most one clipping option; only
    the options in `accepted` (those the optimizer's constructor takes)."""
    clip = st.one_of(
        st.just({}),
        *[
            st.builds(lambda v, k=k: {k: v}, st.floats(0.01, 10.0))
            for k in ("clipnorm", "clipvalue", "global_clipnorm")
            if k in accepted
        ],
    )
    wd = st.one_of(st.just(default_weight_decay), st.floats(0.0, 0.1)) if "weight_decay" in accepted else st.none()
    ema = (
        st.just({})
        if "use_ema" not in accepted
        else st.one_of(
            st.just({}),
            st.fixed_dictionaries(
                {
                    "use_ema": st.just(True),
                    "ema_momentum": st.floats(0.0, 1.0),
                    "ema_overwrite_frequency": st.one_of(st.none(), st.integers(1, 3)),
                }
            ),
        )
    )
    acc = st.one_of(st.none(), st.integers(2, 3)) if "gradient_accumulation_steps" in accepted else st.none()
    return st.builds(
        lambda c, w, e, a: Options(**c, weight_decay=w, **e, gradient_accumulation_steps=a), clip, wd, ema, acc
    )


# One base option at a time, for claims that must say which option breaks them.
ONE: dict[str, st.SearchStrategy[Options]] = {
    "plain": st.just(Options()),
    "clipnorm": st.builds(lambda v: Options(clipnorm=v), st.floats(0.01, 10.0)),
    "global_clipnorm": st.builds(lambda v: Options(global_clipnorm=v), st.floats(0.01, 10.0)),
    "clipvalue": st.builds(lambda v: Options(clipvalue=v), st.floats(0.01, 10.0)),
    "weight_decay": st.builds(lambda v: Options(weight_decay=v), st.floats(0.001, 0.1)),
    "ema": st.builds(
        lambda m, f: Options(use_ema=True, ema_momentum=m, ema_overwrite_frequency=f),
        st.floats(0.0, 1.0),
        st.one_of(st.integers(1, 3), st.none()),
    ),
    "gradient_accumulation": st.builds(lambda k: Options(gradient_accumulation_steps=k), st.integers(2, 3)),
}
