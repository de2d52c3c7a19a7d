"""--shard K/N: every test in exactly one shard, balanced by stored durations, and the shards'
results files joined by merge into the verdicts of one whole run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.records import merge, results_format, shards
from tests.suite_runs import run_suite


def test_parse_accepts_k_of_n_only():
    assert shards.parse("2/4") == (2, 4)
    for bad in ("0/2", "3/2", "1", "a/b", "1/0", "-1/2", "1/2/3"):
        assert shards.parse(bad) is None, bad


def test_every_key_in_one_shard_and_the_same_partition_each_time():
    keys = [f"k{i}" for i in range(50)]
    seconds = {k: float(i % 7 + 1) for i, k in enumerate(keys[:40])}  # ten without a stored duration
    first = shards.assign(keys, seconds, 3)
    assert set(first) == set(keys) and set(first.values()) == {1, 2, 3}
    assert shards.assign(list(reversed(keys)), seconds, 3) == first  # order of collection does not matter


def test_balanced_by_stored_durations():
    # one long test and many short ones: a split by count would put 50 s in one shard and 5 in the other
    seconds = {"long": 50.0, **{f"s{i}": 1.0 for i in range(55)}}
    found = shards.totals(shards.assign(list(seconds), seconds, 2), seconds, 2)
    assert sorted(found) == [52.0, 53.0], found


def _run(label: str, records: dict, shard: str | None, notes: list | None = None) -> results_format.Run:
    info = {"environment": label, **({"shard": shard} if shard else {})}
    return results_format.Run(
        label, Path(f"{label}-{shard}.jsonl"), info, dict(records), {o for o, _ in records}, {}, notes or []
    )


def test_join_unites_the_shards_of_one_environment_and_names_a_missing_one():
    a = _run("env", {("SGD", "c1"): {"verdict": "pass"}}, "1/3")
    b = _run("env", {("Adam", "c1"): {"verdict": "fail"}}, "3/3")
    other = _run("other", {("SGD", "c1"): {"verdict": "pass"}}, None)
    joined = shards.join([a, other, b])
    assert [r.label for r in joined] == ["env", "other"]
    env = joined[0]
    assert set(env.records) == {("SGD", "c1"), ("Adam", "c1")} and env.optimizers == {"SGD", "Adam"}
    assert env.info["shards"] == ["1/3", "3/3"] and "shard" not in env.info
    assert any("2/3 missing" in n for n in env.notes), env.notes


def test_durations_read_from_a_results_file_or_an_object(tmp_path):
    results = tmp_path / "r.jsonl"
    results.write_text(
        json.dumps({"run_info": {}})
        + "\n"
        + json.dumps({"optimizer": "SGD", "claim": "c1", "verdict": "pass", "duration_s": 2.5})
        + "\n"
        + '{"optimizer": "SGD", "cl'
    )  # a crashed run's last line
    assert shards.read_durations(results) == {"c1|SGD": 2.5}
    obj = tmp_path / "d.json"
    obj.write_text(json.dumps({"c1|SGD": 3}))
    assert shards.read_durations(obj) == {"c1|SGD": 3.0}
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError):
        shards.read_durations(tmp_path / "bad.json")


def test_the_packaged_durations_cover_the_default_suite():
    stored = shards.read_durations(shards.DEFAULT_DURATIONS)
    assert len(stored) > 1000 and all(v >= 0 for v in stored.values())


def test_bad_shard_is_a_usage_error():
    done = run_suite("conformance", "--shard", "3/2", "--collect-only", "-q")
    assert done.returncode == 4 and "--shard '3/2'" in done.stderr, done.stderr[-2000:]


def _verdicts(*paths: Path) -> dict:
    runs = shards.join([results_format.read_run(p, warn=False) for p in paths])
    assert len(runs) == 1, [r.label for r in runs]
    return {
        k: (r["verdict"], {c: v.get("verdict") for c, v in (r.get("conditions") or {}).items()})
        for k, r in runs[0].records.items()
    }


def test_two_shards_merge_to_one_whole_run(tmp_path):
    selection = ("-k", "zero_grad and (SGD or Adagrad) and not legacy")
    whole = tmp_path / "whole.jsonl"
    done = run_suite("conformance", *selection, "--results", str(whole), env={"CONFORMANCE_ENV": "e"})
    assert done.returncode in (0, 1), done.stdout[-3000:]
    parts = []
    for k in (1, 2):
        part = tmp_path / f"shard{k}.jsonl"
        done = run_suite(
            "conformance", *selection, "--shard", f"{k}/2", "--results", str(part), env={"CONFORMANCE_ENV": "e"}
        )
        assert done.returncode in (0, 1), done.stdout[-3000:]
        parts.append(part)
    alone = [set(results_format.read_run(p, warn=False).records) for p in parts]
    assert alone[0] and alone[1] and not alone[0] & alone[1]  # both shards ran something, nothing twice
    assert _verdicts(*parts) == _verdicts(whole)
    printed = merge.main([str(parts[0]), str(parts[1]), "--out", str(tmp_path / "m.json")])
    assert printed == 0
    merged = json.loads((tmp_path / "m.json").read_text())
    assert [e["label"] for e in merged["environments"]] == ["e"]
