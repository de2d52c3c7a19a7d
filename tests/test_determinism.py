"""Verdicts depend on neither the hypothesis seed nor the order of the tests.

A slice of the suite (the lifecycle machine, zero-gradient, state round-trip and reset claims of
two optimizers that between them pass and deviate) runs twice in the default `dev` profile: with
seed 1 in collection order, and with seed 2 in an order shuffled by --shuffle, each with its own
empty example database (so the second run cannot replay the failures the first one found, as a
run on another machine could not). Every (optimizer, claim) must get the same verdict, and the
`quick` profile, which runs the fixed examples alone, the verdicts of the first run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .suite_runs import run_suite

SLICE = [
    "conformance/scenarios/test_lifecycle.py",
    "conformance/scenarios/test_zero_grad.py",
    "conformance/scenarios/test_state.py",
    "conformance/scenarios/test_reset.py",
    "-k",
    "SGD or Nadam",
]


def verdicts(path: Path) -> dict[tuple[str, str], str]:
    """Each record's verdict and its fixed conditions' (the drawn condition explores; the record's
    own verdict covers it)."""
    out = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if "verdict" in r:
            fixed = " ".join(f"{n}={c['verdict']}" for n, c in (r.get("conditions") or {}).items() if n != "drawn")
            out[(r["optimizer"], r["claim"])] = f"{r['verdict']} [{fixed}]"
    return out


def examples(path: Path) -> dict[tuple[str, str], int]:
    """Each record's count of examples run."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return {(r["optimizer"], r["claim"]): r.get("examples") or 0 for r in records if "verdict" in r}


def differences(a: dict, b: dict) -> list[str]:
    return [
        f"{k[0]} / {k[1]}: {a.get(k, 'absent')} vs {b.get(k, 'absent')}"
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]


def test_differences_name_each_disagreement():
    a = {("SGD", "x"): "pass", ("SGD", "y"): "fail"}
    assert differences(a, a) == []
    assert differences(a, {("SGD", "x"): "pass"}) == ["SGD / y: fail vs absent"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[dict, dict, dict]:
    out, first_examples = [], {}
    for seed, order in ((1, []), (2, ["--shuffle", "3"])):
        where = tmp_path_factory.mktemp(f"determinism{seed}")
        path = where / "results.jsonl"
        done = run_suite(
            *SLICE,
            f"--hypothesis-seed={seed}",
            *order,
            f"--results={path}",
            profile="dev",
            env={"HYPOTHESIS_STORAGE_DIRECTORY": str(where / "hypothesis")},
        )
        assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
        out.append(verdicts(path))
        first_examples = first_examples or examples(path)
    return out[0], out[1], first_examples


def test_two_seeds_and_orders_give_the_same_verdicts(two_runs):
    first, second, _ = two_runs
    assert len(first) >= 20, first
    assert differences(first, second) == []
    assert {"pass", "deviation"} <= {v.split()[0] for v in first.values()}  # the slice covers both outcomes


def test_quick_profile_gives_the_dev_verdicts_from_the_fixed_examples_alone(two_runs, tmp_path):
    # an optimizer author's first look (`--hypothesis-profile quick`): every fixed condition and the
    # record's verdict as the dev profile finds them, from the fixed examples alone (fewer examples
    # in every claim that draws random ones under dev)
    path = tmp_path / "results.jsonl"
    done = run_suite(*SLICE, f"--results={path}", profile="quick")
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    assert differences(two_runs[0], verdicts(path)) == []
    quick, dev = examples(path), two_runs[2]
    assert all(quick[k] <= dev[k] for k in dev), [(k, quick[k], dev[k]) for k in dev if quick[k] > dev[k]]
    assert sum(quick.values()) < sum(dev.values()) * 0.8, (sum(quick.values()), sum(dev.values()))


@pytest.mark.parametrize("profile, derandomized", [("dev", True), ("ci", True), ("thorough", False)])
def test_costly_claims_take_their_examples_from_the_claim_not_the_seed(profile, derandomized):
    # two to five examples: a seed would decide whether a rare case is drawn, so dev and ci fix them
    from hypothesis import settings

    from conformance.core import profiles

    before = settings._current_profile  # noqa: SLF001 - restored below
    settings.load_profile(profile)
    try:
        costly = profiles.costly(5)
    finally:
        settings.load_profile(before)
    assert costly.derandomize is derandomized
    assert costly.database is None or not derandomized
    assert costly.max_examples == max(2, settings.get_profile(profile).max_examples // 5)


def test_draws_take_no_constants_from_the_loaded_modules():
    # hypothesis's pool of constants from local modules grows as modules are imported, so the tests
    # a worker ran before a claim would change its examples
    from conformance.core import hypothesis_hooks, profiles

    profiles.without_local_constants()
    import conformance.inputs.anchors  # noqa: F401 - a module full of float constants

    assert len(hypothesis_hooks.local_constants()) == 0
