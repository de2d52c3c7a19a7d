"""The report in a real browser: headless Chromium (Debian's chromium + chromium-driver) opens the
file from disk, the matrix is visible, a click on a cell shows its details, filters and grouping
work, hostile text stays text, and a screenshot is saved under reports/."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.report.__main__ import main

from . import webdriver
from .results_files import info, rec, write
from .test_report import HOSTILE, three  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "reports" / "report-browser.png"

pytestmark = pytest.mark.skipif(webdriver.find() is None, reason="no chromium + chromedriver installed (Debian packages chromium, chromium-driver)")


@pytest.fixture
def browser():
    b = webdriver.Browser(*webdriver.find())
    yield b
    b.close()


def visible_rows(b: webdriver.Browser) -> int:
    return b.run("return [...document.querySelectorAll('tr.row')].filter(r => r.offsetParent !== null).length")


def click_cell(b: webdriver.Browser, optimizer: str, head: str, column: int) -> None:
    """Click the cell of one environment in the visible row of that optimizer and leaf label."""
    element = b.run("""
        const [o, head, col] = arguments;
        const row = [...document.querySelectorAll('tr.row')].find(r => r.offsetParent !== null && r.dataset.o === o
            && r.querySelector('th').textContent === head);
        const td = row.querySelectorAll('td.c')[col];
        td.scrollIntoView({block: 'center'});
        return td;""", optimizer, head, column)
    b.click(element[webdriver.ELEMENT])


def test_report_opens_from_disk_and_a_click_shows_details(three, tmp_path, browser):  # noqa: F811
    hostile = write(tmp_path / "hostile.jsonl", [
        info("3.15.1", "torch", environment="keras3-torch"),
        rec("Adam", "reference.trajectory", "deviation", reason=HOSTILE, message=f"</script>{HOSTILE}", link="javascript:window.__pwned=3",
            reproducer=f"print('{HOSTILE}')"),
    ])
    out = tmp_path / "index.html"
    assert main([*map(str, three), str(hostile), "-o", str(out)]) == 0
    b = browser
    b.open(out)
    assert b.wait("return document.body.dataset.ready") == "1"  # the details unpacked: the CSP let our script run
    matrix = b.find("#matrix")
    assert b.displayed(matrix)
    assert visible_rows(b) == 4 and b.text(b.find("#f-count")) == "4 rows shown"
    details = b.find("#details")
    assert not b.displayed(details)

    click_cell(b, "Adam", "Adam", 1)  # grouped by claim: the leaf is the optimizer; column 1 is keras3-jax
    assert b.displayed(details)
    text = b.text(details)
    for expected in ("Adam · reference.trajectory · keras3-jax", "fail", "text of reference.trajectory", "step 2 v0: 1.5 vs 1.0",
                     "Draw 1: Case(...)", "opt = keras.optimizers.Adam()", "1.25 s", "v0_momentum", "seed 004"):
        assert expected in text, expected
    assert b.run("return document.querySelector('#details button.copy') !== null")
    b.run("document.querySelector('#matrix-section').scrollIntoView()")
    b.screenshot(SCREENSHOT)

    click_cell(b, "Adam", "Adam", 3)  # the hostile record: its strings are text, nothing ran
    text = b.text(details)
    assert HOSTILE in text and f"</script>{HOSTILE}" in text
    assert b.run("return [window.__pwned, document.querySelectorAll('img').length, document.querySelectorAll('#details a').length]") == [None, 0, 0]

    b.click(b.find("#details-close"))
    assert not b.displayed(details)
    b.click(b.find("#f-differ"))  # only rows that differ: Adam's two claims (absent is not a difference)
    assert b.run("return document.querySelector('#f-differ').checked"), "the checkbox was not clicked"
    assert visible_rows(b) == 2, b.text(b.find("#f-count"))
    b.click(b.find("#f-differ"))
    b.run("const s = document.querySelector('#f-order'); s.value = 'optimizer'; s.dispatchEvent(new Event('change', {bubbles: true}));")
    assert b.run("return document.querySelector(\"tbody[data-order='optimizer']\").hidden") is False
    assert visible_rows(b) == 4
    click_cell(b, "Lion", "reference.trajectory", 2)  # grouped by optimizer: the leaf is the claim
    assert "Lion · reference.trajectory · keras2-tf215" in b.text(details) and "No verdict in this environment" in b.text(details)
    b.run("document.querySelector(\"tbody[data-order='optimizer'] tr.g1 button.fold\").click()")  # fold the first optimizer's rows
    assert visible_rows(b) == 2
    assert SCREENSHOT.stat().st_size > 10_000
