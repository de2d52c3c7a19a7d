"""The documentation says what the code does: the claims catalogue is the registered claims, the
README's test command is the one CI runs, and every page the README and docs link to exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bash_blocks(text: str) -> list[list[str]]:
    """The command lines (comments and blank lines left out) of each ```bash block."""
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [[line for line in b.splitlines() if line.strip() and not line.startswith("#")] for b in blocks]


def ci_command(run_script: str) -> str:
    """The command .ci/run runs (its `cmd=` line)."""
    found = re.findall(r"^cmd=(\S+)$", run_script, flags=re.M)
    assert len(found) == 1, ".ci/run must set cmd= once"
    return found[0]


def check_readme_runs_ci_command(readme: str, run_script: str) -> None:
    blocks = bash_blocks(readme)
    assert len(blocks) >= 2, "README.md must show two commands first"
    assert blocks[1] == [ci_command(run_script)], f"README's second command {blocks[1]} is not what .ci/run runs"


def check_links(page: Path, text: str) -> list[str]:
    """The relative links of a Markdown page that point at no file."""
    broken = []
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" not in target and not (page.parent / target).exists():
            broken.append(f"{page.relative_to(ROOT)}: {target}")
    return broken


def test_the_claims_catalogue_is_current():
    from conformance.tools import claims_doc

    assert (ROOT / "docs" / "claims.md").read_text() == claims_doc.markdown(), (
        "docs/claims.md is out of date: python -m conformance.tools.claims_doc > docs/claims.md"
    )


def test_readme_shows_the_command_ci_runs():
    check_readme_runs_ci_command((ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text())
    assert (ROOT / ci_command((ROOT / ".ci" / "run").read_text())).stat().st_mode & 0o111, "not executable"


def test_every_link_in_readme_and_docs_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = [b for p in pages for b in check_links(p, p.read_text())]
    assert not broken, f"links to nothing: {broken}"


@pytest.mark.parametrize(
    "readme, run_script",
    [
        ("```bash\na\n```\n```bash\n# comment\nscripts/other\n```\n", "cmd=scripts/selftest\n"),
        ("```bash\na\n```\n", "cmd=scripts/selftest\n"),
    ],
)
def test_a_readme_that_differs_from_ci_is_caught(readme, run_script):
    with pytest.raises(AssertionError):
        check_readme_runs_ci_command(readme, run_script)


def test_a_broken_link_is_caught():
    assert check_links(ROOT / "README.md", "see [x](docs/nothing.md) and [y](docs/running.md)") == [
        "README.md: docs/nothing.md"
    ]


def test_a_claim_missing_from_the_catalogue_is_caught(monkeypatch):
    from conformance.checks.claims import CLAIMS, Claim
    from conformance.tools import claims_doc, listing

    found = listing.claims()
    monkeypatch.setattr(listing, "claims", lambda: [*found, Claim("zz.new", "A new claim.", "nowhere")])
    assert "zz.new" in claims_doc.markdown() and len(CLAIMS) >= len(found)
    assert (ROOT / "docs" / "claims.md").read_text() != claims_doc.markdown()
