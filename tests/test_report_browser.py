"""The report in a real browser: headless Chromium (Debian's chromium + chromium-driver) opens the
file from disk, the grid is the opening view, a click on a cell shows its details (with a table of
its conditions), the defaults view, the list view, filters and grouping work, hostile text stays
text, and screenshots are saved under reports/."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.report.__main__ import main

from . import webdriver
from .results_files import cond, info, rec, rec2, synthetic, write
from .test_report import HOSTILE, three  # noqa: F401 - the fixtures
from .test_report_conditions import v2  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "reports" / "report-browser.png"
GRID_SCREENSHOT = ROOT / "reports" / "report-grid.png"

pytestmark = pytest.mark.skipif(
    webdriver.find() is None, reason="no chromium + chromedriver installed (Debian packages chromium, chromium-driver)"
)


@pytest.fixture
def browser():
    b = webdriver.Browser(*webdriver.find())
    yield b
    b.close()


def visible_rows(b: webdriver.Browser) -> int:
    return b.run("return [...document.querySelectorAll('tr.row')].filter(r => r.offsetParent !== null).length")


def click_cell(b: webdriver.Browser, optimizer: str, head: str, column: int) -> None:
    """Click the cell of one environment in the visible row of that optimizer and leaf label."""
    element = b.run(
        """
        const [o, head, col] = arguments;
        const row = [...document.querySelectorAll('tr.row')].find(r => r.offsetParent !== null && r.dataset.o === o
            && r.querySelector('th').firstChild.textContent === head);  // the label, not its history lines
        const td = row.querySelectorAll('td.c')[col];
        td.scrollIntoView({block: 'center'});
        return td;""",
        optimizer,
        head,
        column,
    )
    b.click(element[webdriver.ELEMENT])


def grid_cell(b: webdriver.Browser, env: int, optimizer: str, claim: str) -> str:
    """The grid cell of (optimizer, claim) in environment env, scrolled into view."""
    return b.run(
        """
        const [e, o, claim] = arguments;
        const table = document.querySelector(`table.grid[data-e="${e}"]`);
        const column = [...table.querySelectorAll('thead th.o')].findIndex(th => th.title === o);
        const row = [...table.querySelectorAll('tbody tr')].find("""
        """r => r.querySelector('th.cl').title.split(':')[0] === claim);
        const td = [...row.cells].filter(c => c.tagName === 'TD')[column];
        td.scrollIntoView({block: 'center'});
        return td;""",
        env,
        optimizer,
        claim,
    )[webdriver.ELEMENT]


def choose(b: webdriver.Browser, css: str, value: str) -> None:
    b.run(
        "const s = document.querySelector(arguments[0]); s.value = arguments[1]; "
        "s.dispatchEvent(new Event('change', {bubbles: true}));",
        css,
        value,
    )


def test_report_opens_from_disk_and_a_click_shows_details(three, tmp_path, browser):  # noqa: F811
    hostile = write(
        tmp_path / "hostile.jsonl",
        [
            info("3.15.1", "torch", environment="keras3-torch"),
            rec(
                "Adam",
                "reference.trajectory",
                "deviation",
                reason=HOSTILE,
                message=f"</script>{HOSTILE}",
                link="javascript:window.__pwned=3",
                reproducer=f"print('{HOSTILE}')",
            ),
        ],
    )
    out = tmp_path / "index.html"
    assert main([*map(str, three), str(hostile), "-o", str(out)]) == 0
    b = browser
    b.open(out)
    assert b.wait("return document.body.dataset.ready") == "1"  # the details unpacked: the CSP let our script run
    assert b.displayed(b.find("#grid-view")) and not b.displayed(b.find("#matrix"))  # the grid opens first
    assert (
        b.text(b.find("#f-count")) == "2 claims, 16 cells shown"
    )  # 4 environments x (3 optimizers + Adam's zero_grad)
    b.click(b.find("input[name=view][value=list]"))
    matrix = b.find("#matrix")
    assert b.displayed(matrix)
    assert visible_rows(b) == 4 and b.text(b.find("#f-count")) == "4 rows shown"
    details = b.find("#details")
    assert not b.displayed(details)

    click_cell(b, "Adam", "Adam", 1)  # grouped by claim: the leaf is the optimizer; column 1 is keras3-jax
    assert b.displayed(details)
    text = b.text(details)
    for expected in (
        "Adam · reference.trajectory · keras3-jax",
        "fail",
        "text of reference.trajectory",
        "step 2 v0: 1.5 vs 1.0",
        "Draw 1: Case(...)",
        "opt = keras.optimizers.Adam()",
        "1.25 s",
        "v0_momentum",
        "the state-persists question",
        "across versions",  # where the claim holds, each end with its column's label
        "tensorflow: holds Keras 2.15.0 (keras2-tf215) – Keras 3.15.1 (keras3-tf) · "
        "jax: fails Keras 3.15.1 (keras3-jax)",
    ):
        assert expected in text, expected
    assert b.run("return document.querySelector('#details button.copy') !== null")
    click_cell(b, "Adam", "Adam", 3)  # the hostile record: its strings are text, nothing ran
    text = b.text(details)
    assert HOSTILE in text and f"</script>{HOSTILE}" in text
    assert b.run(
        "return [window.__pwned, document.querySelectorAll('img').length, "
        "document.querySelectorAll('#details a').length]"
    ) == [None, 0, 0]

    b.click(b.find("#details-close"))
    assert not b.displayed(details)
    b.click(b.find("#f-differ"))  # only rows that differ: Adam's two claims (absent is not a difference)
    assert b.run("return document.querySelector('#f-differ').checked"), "the checkbox was not clicked"
    assert visible_rows(b) == 2, b.text(b.find("#f-count"))
    b.click(b.find("#f-differ"))
    choose(b, "#f-order", "optimizer")
    assert b.run("return document.querySelector(\"tbody[data-order='optimizer']\").hidden") is False
    assert visible_rows(b) == 4
    click_cell(b, "Lion", "reference.trajectory", 0)  # grouped by optimizer: the leaf is the claim; keras2 first
    assert "Lion · reference.trajectory · keras2-tf215" in b.text(
        details
    ) and "No verdict in this environment" in b.text(details)
    b.run(
        "document.querySelector(\"tbody[data-order='optimizer'] tr.g1 button.fold\").click()"
    )  # fold the first optimizer's rows
    assert visible_rows(b) == 2


def test_grid_cell_shows_its_conditions_and_the_defaults_view_swaps_verdicts(v2, tmp_path, browser):  # noqa: F811
    other = write(
        tmp_path / "jax.jsonl",
        [
            info("3.15.1", "jax", environment="keras3-jax", format_version=2),
            rec2(
                "Adam",
                "reference.trajectory",
                {
                    "defaults": cond("pass"),
                    "weight_decay": cond("pass"),
                    HOSTILE: cond(
                        "deviation", message=f"</script>{HOSTILE}", kind=HOSTILE, upstream="javascript:window.__pwned=5"
                    ),
                },
            ),
        ],
    )
    out = tmp_path / "index.html"
    assert main([str(v2), str(other), "-o", str(out)]) == 0  # columns: keras3-jax, keras3-tf (same Keras: by backend)
    b = browser
    b.open(out)
    assert b.wait("return document.body.dataset.ready") == "1"
    cell = grid_cell(b, 1, "Adam", "reference.trajectory")
    assert b.text(cell) == "✓◆B"
    b.click(cell)
    details = b.find("#details")
    text = b.text(details)
    for expected in (
        "Adam · reference.trajectory · keras3-tf",
        "Conditions (4)",
        "weight_decay (worst)",
        "B bug",
        "none found",
        "at defaults",
        "✓ pass",
        "step 1: 0.9 vs 0.8",
    ):
        assert expected in text, expected
    assert "opt = keras.optimizers.Adam(weight_decay=0.1)" in text  # the worst condition's reproducer, below the table
    rows = b.run(
        "return [...document.querySelectorAll('#details tr.cond')]"
        ".map(r => r.cells[0].textContent + ' ' + r.cells[1].textContent)"
    )
    assert rows == ["defaults ✓ pass", "weight_decay (worst) ◆ deviation", "float16 ✓ pass", "drawn ✓ pass"]
    b.run("document.querySelectorAll('#details tr.cond')[1].click()")  # opens what the row leaves out
    assert (
        b.run("return document.querySelector('#details tr.more').textContent").count("weight decay applied twice") == 1
    )
    assert b.run("return document.querySelectorAll('#details tr.more button.copy').length") == 1
    b.run("document.querySelector('#matrix-section').scrollIntoView()")
    b.screenshot(SCREENSHOT)

    b.click(grid_cell(b, 0, "Adam", "reference.trajectory"))  # hostile condition name, message, kind and upstream: text
    text = b.text(details)
    assert HOSTILE in text and f"</script>{HOSTILE}" in text
    b.run("[...document.querySelectorAll('#details tr.cond')].forEach(r => r.click())")
    assert b.run(
        "return [window.__pwned, document.querySelectorAll('img').length, "
        "document.querySelectorAll('#details a').length]"
    ) == [None, 0, 0]
    b.click(b.find("#details-close"))

    b.click(b.find("#f-defaults"))  # the defaults view: one verdict per optimizer and claim, at defaults
    assert b.text(grid_cell(b, 1, "Adam", "reference.trajectory")) == "✓"
    assert b.text(grid_cell(b, 1, "Adam", "zero_grad.weights_unchanged")) == "—"  # no defaults condition
    assert b.text(grid_cell(b, 1, "SGD", "reference.trajectory")) == "◆I"
    assert "v-pass" in b.run(
        "return arguments[0].className", {webdriver.ELEMENT: grid_cell(b, 1, "Adam", "reference.trajectory")}
    )
    choose(b, "#f-kind", "bug")  # at defaults no cell is a bug
    assert b.text(b.find("#f-count")) == "0 claims, 0 cells shown"
    b.click(b.find("#f-defaults"))
    assert b.text(b.find("#f-count")) == "1 claim, 1 cell shown"  # over every condition: Adam's weight_decay
    assert b.text(grid_cell(b, 1, "Adam", "reference.trajectory")) == "✓◆B"
    choose(b, "#f-kind", "")
    choose(b, "#f-env", "0")  # one environment's grid
    assert b.run("return [...document.querySelectorAll('.gridenv')].map(s => s.hidden)") == [False, True]
    choose(b, "#f-env", "")

    b.click(b.find("input[name=view][value=list]"))
    b.click(b.find("#f-defaults"))
    texts = b.run(
        "return [...document.querySelectorAll(\"tbody[data-order='claim'] tr.row\")]"
        ".filter(r => r.offsetParent !== null)"
        ".map(r => r.querySelector('th').firstChild.textContent + ': ' "
        "+ [...r.querySelectorAll('td.c')].map(c => c.textContent).join(' | '))"
    )
    assert "Adam: ✓ pass | ✓ pass" in texts  # reference.trajectory, both environments at defaults
    assert "Adam: · not run | — no defaults condition" in texts  # zero_grad: keras3-jax has no such record; drawn only
    assert "SGD: — absent | — no defaults condition" in texts  # options.clipnorm's error, which has no conditions


def test_a_full_run_grid_fits_a_screen_or_two(tmp_path, browser):
    """99 claims x 16 optimizers in two environments: the grid's size on screen, and how fast it opens and switches."""
    files = [synthetic(tmp_path / "tf.jsonl"), synthetic(tmp_path / "jax.jsonl", environment="keras3-jax", seed=1)]
    out = tmp_path / "index.html"
    assert main([*map(str, files), "-o", str(out)]) == 0
    b = browser
    b.open(out)
    assert b.wait("return document.body.dataset.ready") == "1"
    width, height = b.run("const t = document.querySelector('table.grid'); return [t.offsetWidth, t.offsetHeight]")
    assert width < 900 and height < 2 * 1000, (width, height)  # the window is 1400 x 1000
    seconds = b.run(
        "const t = performance.now(); document.querySelector('#f-defaults').click(); "
        "return (performance.now() - t) / 1000"
    )
    assert seconds < 5, seconds
    b.run("document.querySelector('#f-defaults').click(); document.querySelector('#grid-view').scrollIntoView()")
    b.screenshot(GRID_SCREENSHOT)
    print(f"grid {width} x {height} px; defaults view switched in {seconds:.2f} s")
