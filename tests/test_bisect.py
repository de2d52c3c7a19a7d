"""The bisector: which releases it probes and what it concludes, on fake probes; its command line's
usage errors; the requirements of a cached environment; one real probe in this environment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conformance.records.results_format import UsageError
from conformance.tools import bisect, venvs

VERSIONS = [f"3.{i}.0" for i in range(16)]


def fake(changes: dict[str, int], uninstallable: tuple[str, ...] = ()) -> tuple[list[str], callable]:
    """A probe whose condition `name` fails from VERSIONS[changes[name]] on; records what it probed."""
    probed: list[str] = []

    def probe(version: str) -> bisect.Probe:
        probed.append(version)
        if version in uninstallable:
            return bisect.Probe(version, {bisect.OVERALL: "uninstallable"}, 0.0)
        i = VERSIONS.index(version)
        outcomes = {name: "fails" if i >= at else "holds" for name, at in changes.items()}
        outcomes[bisect.OVERALL] = "fails" if "fails" in outcomes.values() else "holds"
        return bisect.Probe(version, outcomes, 0.0)

    return probed, probe


def test_finds_the_first_differing_release_in_logarithmic_probes() -> None:
    probed, probe = fake({"defaults": 9})
    found = bisect.bisect(VERSIONS, probe)
    change = found["changes"]["defaults"]
    assert (change["last_same"], change["first_differing"]) == ("3.8.0", "3.9.0")
    assert (change["from"], change["to"]) == ("holds", "fails")
    assert len(probed) == len(set(probed)) <= 2 + 4  # the ends, then log2(16)


def test_each_condition_is_bisected_and_probes_are_shared() -> None:
    probed, probe = fake({"defaults": 3, "use_ema": 12, "weight_decay": 99})
    changes = bisect.bisect(VERSIONS, probe)["changes"]
    assert changes["defaults"]["first_differing"] == "3.3.0"
    assert changes["use_ema"]["first_differing"] == "3.12.0"
    assert changes["weight_decay"]["first_differing"] is None  # the same at both ends: not bisected
    assert changes[bisect.OVERALL]["first_differing"] == "3.3.0"
    assert len(probed) == len(set(probed))


def test_an_uninstallable_release_is_skipped_for_its_neighbour() -> None:
    probed, probe = fake({"defaults": 8}, uninstallable=("3.7.0", "3.8.0"))
    change = bisect.bisect(VERSIONS, probe)["changes"]["defaults"]
    assert (change["last_same"], change["first_differing"]) == ("3.6.0", "3.9.0")  # the change lies in between


def test_every_release_is_probed_with_all() -> None:
    probed, probe = fake({"defaults": 5})
    found = bisect.bisect(VERSIONS, probe, every=True)
    assert sorted(probed) == sorted(VERSIONS)
    assert found["changes"]["defaults"]["first_differing"] == "3.5.0"
    assert found["changes"]["defaults"]["last_same"] == "3.4.0"


def test_outcomes_read_a_deviation_as_a_failure_and_a_missing_test_as_absent() -> None:
    conditions = {"defaults": {"verdict": "pass"}, "use_ema": {"verdict": "deviation"}}
    record = {"verdict": "deviation", "conditions": conditions}
    assert bisect.outcomes_of(record) == {bisect.OVERALL: "fails", "defaults": "holds", "use_ema": "fails"}
    assert bisect.outcomes_of(None) == {bisect.OVERALL: "absent"}


@pytest.mark.parametrize("text", ["3.5", "3.5..", "3.9.0..3.5.0", "a..b", "2.15.0..3.1.0"])
def test_a_bad_range_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--keras"):
        bisect.parse_range(text)


@pytest.mark.parametrize("argv, says", [
    (["c", "SGD", "--keras", "3.9.0..3.5.0", "--versions", "3.5.0,3.9.0"], "FIRST before LAST"),
    (["c", "SGD", "--keras", "3.5.0..3.9.0", "--versions", "3.5.0,3.6.0"], "Keras 3.9.0 is not among"),
    (["c", "SGD"], "--keras"),
])
def test_the_command_line_says_what_is_wrong(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert bisect.main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_requirements_pin_the_tools_and_leave_tensorflow_to_the_resolver(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("pytest==9.2.0\nhypothesis==6.1.0\njax==0.10.2\ntorch==2.13.0\nkeras==3.15.1\n")
    pins = venvs.pins(constraints)
    assert "keras" not in pins
    tf = venvs.requirements("tensorflow", "3.5.0", pins)
    assert tf[0] == "keras==3.5.0" and "tensorflow-cpu>=2.16" in tf
    assert "pytest==9.2.0" in tf and "hypothesis==6.1.0" in tf
    assert "jax[cpu]==0.10.2" in venvs.requirements("jax", "3.5.0", pins)
    assert "torch==2.13.0" in venvs.requirements("torch", "3.5.0", pins)
    with pytest.raises(ValueError, match="release"):
        venvs.requirements("jax", "3.5; rm -rf /", pins)


def test_a_half_made_environment_is_rebuilt_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def call(command: list[str], log: object, env: object = None) -> None:
        calls.append(command)
        if "venv" in command:
            Path(command[-1]).mkdir()

    monkeypatch.setattr(venvs, "_call", call)
    monkeypatch.setattr(venvs, "_freeze", lambda python: {"keras": "3.5.0"})
    half = tmp_path / f"jax-keras3.5.0-py{sys.version_info.major}{sys.version_info.minor}"
    (half / "bin").mkdir(parents=True)  # an install that was interrupted: no ready marker
    (half / "bin" / "leftover").write_text("")
    env = venvs.ensure("jax", "3.5.0", tmp_path)
    assert not (half / "bin" / "leftover").exists()
    assert len(calls) == 2 and env.seconds >= 0 and env.installed == {"keras": "3.5.0"}
    again = venvs.ensure("jax", "3.5.0", tmp_path)
    assert len(calls) == 2 and again.seconds == 0.0  # from the cache


def test_one_real_probe_runs_the_claim_in_the_given_environment(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe's command line against this environment (standing in for a cached one): the claim
    is collected, judged and read back, with its conditions."""
    import keras

    here = venvs.Environment(Path(sys.prefix), Path(sys.executable), {"keras": keras.__version__}, 0.0)
    monkeypatch.setattr(venvs, "ensure", lambda *a, **k: here)
    probe = bisect.run_probe("arguments.rejects.several_clipping_options", "SGD", keras.__version__, "tensorflow",
                             tmp_path / "cache", tmp_path / "out", None)
    assert probe.outcome(bisect.OVERALL) == "holds", probe.message
    assert probe.outcomes.keys() > {bisect.OVERALL}
    results = tmp_path / "out" / f"keras-{keras.__version__}.jsonl"
    info = json.loads(results.read_text().splitlines()[0])["run_info"]
    assert info["environment"] == f"tensorflow-keras{keras.__version__}"
    missing = bisect.run_probe("arguments.rejects.several_clipping_options", "NoSuchOptimizer", keras.__version__,
                               "tensorflow", tmp_path / "cache", tmp_path / "out2", None)
    assert missing.outcome(bisect.OVERALL) == "absent"


def test_the_cli_runs_it_as_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance import cli

    assert cli.main(["bisect", "c", "SGD", "--keras", "3.9.0..3.5.0", "--versions", "3.5.0,3.9.0"]) == 2
    assert "keras-conformance bisect: --keras" in capsys.readouterr().err
