"""Every use the suite makes of hypothesis beyond its public API, in one place.

The suite draws fixed examples outside hypothesis's engine (corners, anchors, conditions), trims
a claim's random examples by the fixed ones it adds, limits shrinking per profile, and walks the
lifecycle state machine's rules in a fixed order. Each needs an internal of hypothesis; a
hypothesis release that changes one fails here, at import with the name it lacks, or in
tests/test_hypothesis_hooks.py, which checks each hook's effect: never silently in a claim.
"""

from __future__ import annotations

import hashlib
from random import Random
from typing import Any, Callable

import hypothesis
from hypothesis import settings

# The hypothesis release these hooks were last checked on, and the releases they are expected to
# work with (a release outside is named in the run's header, not refused).
CHECKED_ON = "6.170.15"
EXPECTED = (6, 131)  # from this minor release of hypothesis 6 on

try:
    from hypothesis.control import BuildContext, current_build_context
    from hypothesis.errors import StopTest, UnsatisfiedAssumption
    from hypothesis.internal.conjecture import engine, providers
    from hypothesis.internal.conjecture.data import ConjectureData
    from hypothesis.internal.conjecture.providers import PrimitiveProvider
    from hypothesis.reporting import with_reporter
except ImportError as e:  # pragma: no cover - only on a hypothesis that moved them
    raise ImportError(f"hypothesis {hypothesis.__version__} lacks {e.name or e}, which the suite uses "
                      f"(conformance/core/hypothesis_hooks.py, checked on hypothesis {CHECKED_ON})") from e

__all__ = ["BuildContext", "ConjectureData", "PrimitiveProvider", "StopTest", "UnsatisfiedAssumption",
           "current_build_context", "with_reporter"]


def version_problem(version: str = hypothesis.__version__) -> str | None:
    """Why `version` of hypothesis may not work with these hooks, or None."""
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return f"hypothesis {version}: not a version these hooks know"
    if major != EXPECTED[0] or minor < EXPECTED[1]:
        return (f"hypothesis {version} is outside the releases the suite's hooks expect "
                f"({EXPECTED[0]}.{EXPECTED[1]} or later 6.x; checked on {CHECKED_ON})")
    return None


def new_data(provider: type[PrimitiveProvider] | None = None, **provider_kw: Any) -> ConjectureData:
    """A ConjectureData outside any test, drawing through `provider` (hypothesis's own by default)
    with a fixed random generator."""
    if provider is None:
        return ConjectureData(random=Random(0))
    return ConjectureData(random=Random(0), provider=provider, provider_kw=provider_kw)


def build_context(data: ConjectureData, *, is_final: bool, wrapped_test: Callable | None) -> BuildContext:
    """The context `note()`, `reject()` and `st.data()` draws need, around `data`."""
    return BuildContext(data, is_final=is_final, wrapped_test=wrapped_test)


def case_local(owner: object, make: Callable[[], Any]) -> Any:
    """`make()`, made once per test case for `owner` and kept on the case's build context, so it
    ends with the case: a finished case's value is never taken for a new one's, as a cache keyed by
    the context's id() would be once a new context got a freed one's address."""
    store = current_build_context().__dict__.setdefault("_conformance_case_local", {})
    if owner not in store:
        store[owner] = make()
    return store[owner]


def settings_of(test: Callable) -> settings | None:
    """The settings @given / @settings gave `test` (None where it has none)."""
    return getattr(test, "_hypothesis_internal_use_settings", None)


def set_settings(test: Callable, value: settings) -> None:
    """Run `test` with `value` (for example fewer random examples once fixed ones are added)."""
    test._hypothesis_internal_use_settings = value  # type: ignore[attr-defined]


def seed_from_identity(test: Callable, identity: str) -> int | None:
    """Where `test`'s settings derandomize, draw its random examples from `identity` (a claim's id),
    and return that seed; elsewhere leave the seed to hypothesis (--hypothesis-seed or a random one)
    and return None. Derandomized, hypothesis would seed from a digest of the test function's
    source text, so any edit to the function, its layout included, drew other examples."""
    use = settings_of(test)
    if use is None or not use.derandomize:
        return None
    seed = int.from_bytes(hashlib.sha256(f"claim {identity}".encode()).digest()[:8], "big")
    test._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined] - what @hypothesis.seed sets
    return seed


def given_arguments(test: Callable) -> set[str]:
    """The names of the arguments @given draws for `test`."""
    given = getattr(test, "hypothesis", None)
    return set(getattr(given, "_given_kwargs", {})) if given is not None else set()


def limit_shrinking(shrinks: int | None, seconds: float | None) -> None:
    """Stop shrinking a failure after `shrinks` successful shrinks and `seconds` (None: as is)."""
    if shrinks:
        engine.MAX_SHRINKS = shrinks
    if seconds:
        engine.MAX_SHRINKING_SECONDS = seconds


def shrink_limits() -> tuple[int, float]:
    return engine.MAX_SHRINKS, engine.MAX_SHRINKING_SECONDS


def without_local_constants() -> None:
    """Draw only from the strategies and the seed: hypothesis otherwise mixes in constants found in
    the loaded modules, a pool that grows as modules are imported (no setting switches it off)."""
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty  # noqa: SLF001


def local_constants() -> Any:
    """The pool of constants from loaded modules that hypothesis would mix into its draws."""
    return providers._get_local_constants()  # noqa: SLF001


def rules(machine: Any) -> list[Any]:
    """A state machine's rules, each with `function`, `arguments` and `preconditions`."""
    return list(machine.rules)
