"""The mutation table (scripts/mutation.py): every family and claim has faults, and --run fills in the verdicts."""

from dataclasses import replace

from conformance.checks.claims import CLAIMS
from scripts import mutation
from tests.test_faults_caught import FAULTS


def test_every_family_and_claim_has_faults():
    short = mutation.shortfalls(FAULTS, CLAIMS)
    assert not short, f"short of faults ({{family: distinct faulty optimizers}}, [claims]): {short}"


def test_every_fault_has_a_family_and_a_seeded_bug():
    rows = mutation.rows(FAULTS)
    assert {r.family for r in rows} == set(mutation.FAMILIES)
    assert all(r.what for r in rows)


def test_table_lists_every_fault_and_escapes_pipes():
    table = mutation.rows(FAULTS)
    text = mutation.markdown(table, ran=False)
    assert len([line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]) == len(FAULTS)
    assert "\\|g\\|" in text  # SummingAdamax's "|g|" does not split its row


def test_run_fills_in_verdicts_and_fails_on_an_uncaught_fault():
    caught = next(f for f in FAULTS if f.faulty.name == "UncorrectedAdam")
    uncaught = replace(caught, faulty=caught.passing)  # the unmodified Adam "seeded" with nothing
    table = mutation.rows([caught, uncaught])
    assert not mutation.run([caught, uncaught], table)
    assert [(r.caught, r.passes) for r in table] == [(True, True), (False, True)]
    assert "| NO (" in mutation.markdown(table, ran=True)


def test_main_writes_the_markdown_table(tmp_path, capsys):
    path = tmp_path / "reports" / "mutation.md"
    assert mutation.main(["--markdown", str(path)]) == 0
    assert path.read_text().strip() == capsys.readouterr().out.strip()
