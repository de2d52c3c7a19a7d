"""Expectations files: checked completely when loaded (every problem a line naming its file and
entry), the built-in files plus a user's (`load_all`), and entries inherited from the built-in
optimizers a user's optimizer subclasses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.core import verdicts
from conformance.core.errors import ClaimFailed
from conformance.core.running import Outcome
from conformance.records import expectations
from conformance.records.expectations import Deviation, ExpectationsError, load_all

KERAS, BACKEND = "3.15.1", "tensorflow"
GOOD = 'optimizer = "Adam"\nclaim = "zero_grad.weights_unchanged"\nreason = "r"\nkind = "documented"\n'
WHERE = "entry 1 (Adam / zero_grad.weights_unchanged): "


def write(tmp_path: Path, text: str, name: str = "my.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path, *, builtin: bool = False) -> list[str]:
    with pytest.raises(ExpectationsError) as e:
        load_all([path], builtin=builtin)
    assert isinstance(e.value, ValueError) and str(e.value) == "\n".join(e.value.problems)
    assert all(line and "\n" not in line for line in e.value.problems)
    return e.value.problems


@pytest.mark.parametrize("extra, problem", [
    ('match = "a("', "match: bad regular expression 'a(': missing ), unterminated subpattern at position 1"),
    ('match = "(?<=a+)b"', "match: bad regular expression '(?<=a+)b': look-behind requires fixed-width pattern"),
    ('keras = ">=three"', "keras: bad version specifier '>=three' (PEP 440"),
    ('keras = "3.0"', "keras: bad version specifier '3.0'"),
    ('keras = 3', "keras: must be a string, not int 3"),
    ('backend = "pytorch"', "backend: 'pytorch' matches no Keras backend (tensorflow, jax, torch, numpy, openvino)"),
    ('conditions = ["weightdecay"]', "unknown conditions ['weightdecay'] (did you mean 'weight_decay'?)"),
    ('conditions = []', "conditions must be a non-empty list of condition names, not list []"),
    ('conditions = "defaults"', "conditions must be a non-empty list of condition names, not str 'defaults'"),
    ('condition = ["defaults"]', "has unknown key 'condition' (did you mean 'conditions'?) (known: "),
    ('upstrem = "none found"', "has unknown key 'upstrem' (did you mean 'upstream'?)"),
    ('link = "see the docs"', "link: 'see the docs' is not an http(s) link"),
    ('upstream = "see the docs"', "upstream: 'see the docs' is neither an http(s) link nor 'none found'"),
    ('measured_on = "3.5.0"', "measured_on must be a non-empty list of Keras releases, not str '3.5.0'"),
    ('measured_on = ["3.5", "latest"]', "measured_on: ['latest'] are not Keras releases"),
    ('keras = "<3.5"\nmeasured_on = ["3.4.1", "3.5.0"]', "measured_on: ['3.5.0'] lie outside keras '<3.5'"),
])
def test_each_problem_of_an_entry_is_one_line_naming_the_file_and_the_entry(tmp_path, extra, problem):
    path = write(tmp_path, f"[[deviation]]\n{GOOD}{extra}\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}: {WHERE}"), line
    assert problem in line, line


def test_the_line_for_a_bad_regular_expression_is_as_documented(tmp_path):
    path = write(tmp_path, f"[[deviation]]\n{GOOD}match = 'a('\n")
    assert problems(path) == [
        f"{path}: {WHERE}match: bad regular expression 'a(': missing ), unterminated subpattern at position 1"
    ]


@pytest.mark.parametrize(
    "entry, problem",
    [
        (
            'optimizer = "Adam"\nclaim = "zero_grad.weights_unchanged"\n',
            "lacks ['kind', 'reason'] (required: optimizer, claim, reason, kind)",
        ),
        (
            'optimizer = "Adam"\nclaim = "zero_grad.weights_unchanged"\nreason = "r"\nkind = "bugg"\n',
            "kind 'bugg' is not one of bug, documented, design, environment (did you mean 'bug'?)",
        ),
        (
            'optimizer = "Adam"\nclaim = "zero_grad.weights_unchanged"\nreason = "r"\nkind = "bug"\n',
            "upstream: a bug needs upstream = the link",
        ),
        (
            'optimizer = "Adam"\nclaim = "zero_grad.weights_unchanged"\nreason = "r"\n'
            'kind = "design"\nupstream = "none found"\n',
            "upstream: a design deviation needs upstream = the link",
        ),
        (
            'optimizer = "Adam"\nclaim = "zero_grad.weights_unchanged"\nreason = " "\nkind = "documented"\n',
            "reason: must not be empty",
        ),
        (
            'optimizer = "Adam"\nclaim = "zero_grad.weights_unchanged"\nreason = ["r"]\nkind = "documented"\n',
            "reason: must be a string, not list ['r']",
        ),
    ],
)
def test_missing_and_wrong_required_fields(tmp_path, entry, problem):
    path = write(tmp_path, f"[[deviation]]\n{entry}")
    (line,) = problems(path)
    assert line.startswith(f"{path}: {WHERE}") and problem in line, line


def test_an_entry_whose_names_are_not_patterns_is_named_by_its_index(tmp_path):
    path = write(tmp_path, '[[deviation]]\noptimizer = 1\nclaim = []\nreason = "r"\nkind = "documented"\n')
    assert problems(path) == [
        f"{path}: entry 1 (? / ?): optimizer: must be a non-empty name pattern or a non-empty list of them, not int 1",
        f"{path}: entry 1 (? / ?): claim: must be a non-empty name pattern or a non-empty list of them, not list []",
    ]


def test_a_long_list_of_optimizers_is_shortened_in_the_entry_name(tmp_path):
    path = write(
        tmp_path,
        '[[deviation]]\noptimizer = ["Adam", "SGD", "Nadam", "Lion"]\n'
        'claim = ["a.b", "c.d"]\nreason = "r"\nkind = "x"\n',
    )
    (line,) = problems(path)
    assert line.startswith(f"{path}: entry 1 (Adam, SGD, ... (4 names) / a.b, c.d): kind 'x'"), line


@pytest.mark.parametrize(
    "text, problem",
    [
        (
            f"[[deviaton]]\n{GOOD}",
            "unknown table [[deviaton]] (did you mean 'deviation'?) "
            "(an expectations file holds only [[deviation]] entries)",
        ),
        (f"[expectation]\n{GOOD}", "unknown table [expectation]"),
        (f"version = 1\n[[deviation]]\n{GOOD}", "unknown top-level key 'version'"),
        (f"[deviation]\n{GOOD}", "[deviation] must be an array of tables: write [[deviation]] before each entry"),
        ("deviation = [1]\n", "entry 1: not a table but int 1"),
    ],
)
def test_unknown_tables_and_keys_at_the_top_are_errors(tmp_path, text, problem):
    path = write(tmp_path, text)
    (line,) = problems(path)
    assert line.startswith(f"{path}: ") and problem in line, line


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda d: d / "absent.toml", "cannot read the expectations file (No such file or directory)"),
        (lambda d: d, "cannot read the expectations file"),
        (lambda d: write(d, '[[deviation]]\noptimizer = "Adam\n'), "not valid TOML: "),
        (lambda d: write(d, '{"run_info": {}}\n', "r.jsonl"), "not valid TOML: "),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line(tmp_path, make, problem):
    path = make(tmp_path)
    (line,) = problems(path)
    assert line.startswith(f"{path}: {problem}"), line


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    a = write(
        tmp_path,
        f'[[deviation]]\n{GOOD}\n[[deviation]]\n{GOOD}match = "("\nkeras = "~3"\n'
        f'[[deviaton]]\n{GOOD}\n[[deviation]]\n{GOOD}backend = "tf"\n',
        "a.toml",
    )
    b = write(tmp_path, f"[[deviation]]\n{GOOD}kind2 = 1\n", "b.toml")
    with pytest.raises(ExpectationsError) as e:
        load_all([a, b])
    lines = str(e.value).splitlines()
    assert lines == e.value.problems and len(lines) == 5
    assert [re.sub(r":.*", "", line.replace(f"{tmp_path}/", "")) for line in lines] == ["a.toml"] * 4 + ["b.toml"]
    assert [line.split(": ")[1] for line in lines[:4]] == [
        "unknown table [[deviaton]] (did you mean 'deviation'?) (an expectations file "
        "holds only [[deviation]] entries)",
        *["entry 2 (Adam / zero_grad.weights_unchanged)"] * 2,
        "entry 3 (Adam / zero_grad.weights_unchanged)",
    ]
    assert "keras: bad version specifier '~3'" in lines[1] and "match: bad regular expression '('" in lines[2]
    assert "backend: 'tf' matches no Keras backend" in lines[3]
    assert lines[4].startswith(f"{b}: {WHERE}has unknown key 'kind2' (did you mean 'kind'?)")


def test_the_built_in_files_are_valid_and_every_entry_can_be_judged():
    paths = expectations.builtin_paths()
    assert paths[0] == expectations.DEFAULT_PATH and len(paths) > 1
    entries = load_all()
    assert len(entries) == sum(p.read_text().count("[[deviation]]") for p in paths)
    assert entries == expectations.load()  # the default file and its .d/, as before
    for d in entries:  # nothing left to fail at judge time
        for keras in ("2.15.0", "3.0.0", KERAS):
            d.applies("Adam", "zero_grad.weights_unchanged", keras, BACKEND, "defaults")
        d.explains("keras.optimizers.Adam(weight_decay=0.1)\nsome message")


def test_extra_files_add_to_the_built_in_ones_or_replace_them(tmp_path):
    mine = write(
        tmp_path, '[[deviation]]\noptimizer = "mypkg:*"\nclaim = "reference.*"\nreason = "mine"\nkind = "documented"\n'
    )
    builtin = load_all()
    added = load_all([mine])
    assert added[: len(builtin)] == builtin and [d.reason for d in added[len(builtin) :]] == ["mine"]
    assert [d.reason for d in load_all([mine], builtin=False)] == ["mine"]
    assert load_all([], builtin=False) == []
    assert load_all([expectations.DEFAULT_PATH, mine, mine]) == added  # a file named twice is read once
    # an extra file is itself, not its .d/ (only load() reads the directory beside its file)
    (tmp_path / "my.d").mkdir()
    write(
        tmp_path / "my.d",
        '[[deviation]]\noptimizer = "x"\nclaim = "y"\nreason = "beside"\nkind = "documented"\n',
        "z.toml",
    )
    assert [d.reason for d in load_all([mine], builtin=False)] == ["mine"]
    assert [d.reason for d in expectations.load(mine)] == ["mine", "beside"]


def test_a_bad_extra_file_is_an_error_though_the_built_in_ones_are_fine(tmp_path):
    bad = write(tmp_path, f"[[deviation]]\n{GOOD}match = 'a('\n")
    assert len(problems(bad, builtin=True)) == 1


# --- inheritance ------------------------------------------------------------------------------

ADAM = Deviation("Adam", "zero_grad.*", "Adam's own bug", "bug", upstream="none found", match="moved")
OPTIMIZER = Deviation("Optimizer", "zero_grad.*", "the base class's behaviour", "documented", match="moved")


def judge(deviations, optimizer, parents, message="weights moved"):
    return expectations.judge(
        deviations,
        optimizer,
        "zero_grad.weights_unchanged",
        KERAS,
        BACKEND,
        "defaults",
        "MyAdam()",
        message,
        parents=parents,
    )


def test_an_entry_about_a_parent_applies_to_its_subclass_and_says_so():
    assert judge([ADAM], "mypkg:MyAdam", ()) is None
    found = judge([ADAM], "mypkg:MyAdam", ("Adam", "Optimizer"))
    assert found.reason == "inherited from Adam: Adam's own bug" and found.inherited_from == "Adam"
    assert found.fields() == {
        "reason": "inherited from Adam: Adam's own bug",
        "link": "",
        "kind": "bug",
        "upstream": "none found",
        "inherited_from": "Adam",
    }
    assert "inherited_from" not in ADAM.fields()
    assert judge([ADAM], "mypkg:MyAdam", ("Adam",), message="another cause") is None  # match still applies


def test_the_own_entry_wins_over_an_inherited_one_and_the_nearest_parent_over_a_farther():
    own = Deviation("mypkg:*", "zero_grad.*", "mine", "documented")  # no match: it would lose on that alone
    assert judge([ADAM, own], "mypkg:MyAdam", ("Adam", "Optimizer")) == own
    assert judge([OPTIMIZER, ADAM], "mypkg:MyAdam", ("Adam", "Optimizer")).inherited_from == "Adam"
    assert (
        judge([OPTIMIZER], "mypkg:MyAdam", ("Adam", "Optimizer")).reason
        == "inherited from Optimizer: the base class's behaviour"
    )
    # an entry matching both the own name and a parent's is the optimizer's own
    assert judge([Deviation("*", "zero_grad.*", "every", "documented")], "mypkg:MyAdam", ("Adam",)).inherited_from == ""


def _failed(condition: str, message: str = "weights moved") -> Outcome:
    return Outcome(condition, ClaimFailed(message, reproducer="print(1)"))


def test_the_record_carries_the_inherited_deviation_in_its_condition_and_at_the_top():
    rec = verdicts.record(
        [Outcome("defaults", None), _failed("drawn")],
        "mypkg:MyAdam",
        "zero_grad.weights_unchanged",
        [ADAM],
        KERAS,
        BACKEND,
        parents=("Adam",),
    )
    assert rec["verdict"] == "deviation" and rec["inherited_from"] == "Adam"
    assert rec["reason"].startswith("inherited from Adam: ")
    assert (
        rec["conditions"]["drawn"]["inherited_from"] == "Adam" and "inherited_from" not in rec["conditions"]["defaults"]
    )
    assert (
        verdicts.record([_failed("drawn")], "mypkg:MyAdam", "zero_grad.weights_unchanged", [ADAM], KERAS, BACKEND)[
            "verdict"
        ]
        == "fail"
    )
    own = verdicts.record(
        [_failed("drawn")], "Adam", "zero_grad.weights_unchanged", [ADAM], KERAS, BACKEND, parents=("Optimizer",)
    )
    assert own["verdict"] == "deviation" and own["reason"] == "Adam's own bug" and "inherited_from" not in own
    assert "inherited_from" not in own["conditions"]["drawn"]


def test_an_inherited_entry_that_did_not_fail_is_not_stale_an_own_one_is():
    promise = Deviation("Adam", "zero_grad.*", "always fails", "documented")  # no match: promises a failure
    passed = [Outcome("defaults", None), Outcome("drawn", None)]
    # a subclass may fix its parent's bug: not stale
    assert (
        verdicts.record(
            passed, "mypkg:MyAdam", "zero_grad.weights_unchanged", [promise], KERAS, BACKEND, parents=("Adam",)
        )["stale"]
        == ""
    )
    assert (
        verdicts.record(passed, "Adam", "zero_grad.weights_unchanged", [promise], KERAS, BACKEND)["stale"]
        == "always fails"
    )
    mine = Deviation("mypkg:MyAdam", "zero_grad.*", "mine fails", "documented")
    assert (
        verdicts.record(
            passed, "mypkg:MyAdam", "zero_grad.weights_unchanged", [promise, mine], KERAS, BACKEND, parents=("Adam",)
        )["stale"]
        == "mine fails"
    )


def test_rejudge_applies_inherited_entries_where_the_record_names_its_parents(tmp_path):
    from conformance.records.rejudge import rejudge

    exp = write(
        tmp_path,
        '[[deviation]]\noptimizer = "Adam"\nclaim = "zero_grad.*"\nmatch = "moved"\nreason = "why"\n'
        'kind = "documented"\n',
    )
    fields = {"verdict": "fail", "expected": "pass", "message": "weights moved", "configuration": "MyAdam()"}
    rec = {
        "optimizer": "mypkg:MyAdam",
        "claim": "zero_grad.weights_unchanged",
        "parents": ["Adam"],
        **fields,
        "condition": "drawn",
        "conditions": {"drawn": dict(fields)},
    }
    records = {("mypkg:MyAdam", "zero_grad.weights_unchanged"): rec}
    assert rejudge({"keras": KERAS, "backend": BACKEND}, records, exp) == 1
    assert (
        rec["verdict"] == "deviation"
        and rec["inherited_from"] == "Adam"
        and rec["reason"] == "inherited from Adam: why"
    )
    exp.write_text(exp.read_text().replace("moved", "vanished"))
    assert rejudge({"keras": KERAS, "backend": BACKEND}, records, exp) == 1
    assert (
        rec["verdict"] == "fail" and "inherited_from" not in rec and "inherited_from" not in rec["conditions"]["drawn"]
    )


# --- the command line -------------------------------------------------------------------------


def test_the_command_lists_the_built_in_files_plus_the_ones_given(tmp_path, capsys):
    mine = write(
        tmp_path,
        '[[deviation]]\noptimizer = "mypkg:*"\nclaim = "reference.*"\nreason = "mine"\nkind = "bug"\n'
        'upstream = "none found"\n',
    )
    assert expectations.main(["--no-builtin-expectations", str(mine)]) == 0
    assert capsys.readouterr().out.endswith("1 entries: bug 1\n")
    assert expectations.main([str(mine)]) == 0
    assert capsys.readouterr().out.endswith(f"{len(load_all()) + 1} entries: " + _counts(load_all([mine])) + "\n")


def _counts(entries: list[Deviation]) -> str:
    counts = {k: sum(1 for d in entries if d.kind == k) for k in expectations.KINDS}
    return ", ".join(f"{k} {n}" for k, n in counts.items() if n)


def test_the_command_prints_every_problem_and_exits_2(tmp_path, capsys):
    bad = write(tmp_path, f"[[deviaton]]\n{GOOD}\n[[deviation]]\n{GOOD}match = 'a('\n")
    assert expectations.main([str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"conformance.records.expectations: {line}" for line in problems(bad)]
