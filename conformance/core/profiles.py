"""Hypothesis settings profiles, registered in one place: dev (default), ci, thorough, quick."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

from conformance.core import hypothesis_hooks

# Explaining a failure replays it many more times; the reproducer and the minimal example say enough.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
# On hypothesis's defaults, not on whichever profile is loaded when this module is imported.
_COMMON = dict(parent=settings.get_profile("default"), deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

settings.register_profile("dev", max_examples=10, phases=_PHASES, report_multiple_bugs=False, **_COMMON)
settings.register_profile(
    "ci",
    max_examples=10,
    phases=_PHASES,
    report_multiple_bugs=False,
    derandomize=True,
    database=None,
    print_blob=True,
    **_COMMON,
)
settings.register_profile("thorough", max_examples=200, **_COMMON)
# An optimizer author's first look at one optimizer (`-k "MyOptimizer]"`): only the fixed examples
# (conditions, anchors, corners), where the findings are; no random ones. max_examples as dev's, so
# that each claim gets the corners and conditions it gets under dev.
settings.register_profile("quick", max_examples=10, phases=[Phase.explicit], report_multiple_bugs=False,
                          derandomize=True, database=None, **_COMMON)
if settings._current_profile == "default":  # noqa: SLF001 - keep a profile already chosen (the self-tests')
    settings.load_profile("dev")

# Shrinking replays a failing claim through Keras hundreds of times; bound it per failing claim
# (successful shrinks, and seconds as a backstop). `thorough` keeps hypothesis's own limits.
SHRINK_BUDGET = {"dev": (40, 8), "ci": (20, 2), "quick": (5, 1)}


def limit_shrinking(profile: str, budget: int | None) -> None:
    shrinks, seconds = SHRINK_BUDGET.get(profile, (None, None))
    if budget:
        shrinks, seconds = budget, None
    hypothesis_hooks.limit_shrinking(shrinks, seconds)


def without_local_constants() -> None:
    """Draw only from the strategies and the seed. Hypothesis mixes into its draws constants found
    in the project's loaded modules, a pool that grows as modules are imported: the tests an xdist
    worker had run before a claim changed that claim's examples, even derandomized (Keras 2's
    legacy.Nadam drew a learning-rate schedule in reset.same_arguments_recompile_fit run alone, and
    none after the other recompile claims)."""
    hypothesis_hooks.without_local_constants()


def generates() -> bool:
    """Whether the loaded profile draws random examples (`quick` runs the fixed ones only)."""
    return Phase.generate in settings.default.phases


def current() -> str:
    return settings._current_profile  # noqa: SLF001 - the name hypothesis loaded last


def costly(share: int) -> settings:
    """Settings for a claim whose every example is expensive (a compiled model.fit): 1/`share` of
    the loaded profile's examples, at least 2. Applied when the scenario is imported, which is
    after pytest has loaded --hypothesis-profile.

    With two to five examples the seed would decide whether a rare case (a subnormal
    hyperparameter, say) is drawn, and so the verdict: these claims take their examples from the
    claim itself (derandomize), the same in every run, except under `thorough`, which explores."""
    derandomize = settings.default.derandomize or current() != "thorough"
    return settings(max_examples=max(2, settings.default.max_examples // share), derandomize=derandomize)
