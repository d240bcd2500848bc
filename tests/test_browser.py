"""Open every chapter of the built book in headless Chromium, offline, and check what a
reader sees: the theme and navigation, every figure, every widget once, typeset math,
and no JavaScript errors. A screenshot per chapter lands in ``book/_build/screenshots``.

Run with ``pytest -m browser`` after ``make book``. Needs Debian's ``chromium`` (found at
``/usr/bin/chromium`` or ``$CHROMIUM``) and the ``playwright`` Python package; Playwright
cannot download its own browser here, so it drives the system one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

BUILD = Path(__file__).resolve().parent.parent / "book" / "_build"
HTML = Path(os.environ.get("GENOTUTOR_SITE", BUILD / "html"))
SCREENSHOTS = HTML.parent / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Known harmless console messages, each with why. A missing local file
# (net::ERR_FILE_NOT_FOUND) is never harmless.
HARMLESS = (
    # The requests this test aborts on purpose (the network is off).
    "Failed to load resource: net::ERR_FAILED",
    # jupyter-book 1 includes sphinx-thebe's loader twice; thebe is not used by the book.
    "Identifier 'THEBE_JS_URL' has already been declared",
    # pydata-sphinx-theme on a page opened from disk, with no stored light/dark choice.
    "Got invalid theme mode",
    # @jupyter-widgets/html-manager 1.x typesets widget labels with MathJax 2's
    # MathJax.Hub.Queue whenever window.MathJax exists; the book loads MathJax 3, so the
    # call throws and labels are not typeset (none of ours holds math). Widgets render.
    "Cannot read properties of undefined (reading 'Queue')",
)


def _chapters() -> list[Path]:
    if not HTML.is_dir():
        return []
    skip = {"genindex.html", "search.html", "index.html"}
    return sorted(p for p in HTML.glob("*.html") if p.name not in skip)


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    if not _chapters():
        pytest.skip("no built book: run `make book` first")
    with playwright_api.sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("page_path", _chapters(), ids=lambda p: p.stem)
def test_chapter_renders_offline(browser, page_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []

    def offline(route):
        blocked.append(route.request.url)
        route.abort()

    # Intercept only what would leave the machine; local files load untouched.
    context.route(lambda url: not url.startswith("file:"), offline)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "pageerror",
        lambda error: (
            None if any(h in str(error) for h in HARMLESS) else errors.append(f"pageerror: {error}")
        ),
    )
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console: {msg.text}")
            if msg.type == "error" and not any(h in msg.text for h in HARMLESS)
            else None
        ),
    )
    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_timeout(2500)  # let require.js render the widgets and MathJax typeset

    # The theme's stylesheet applied and the navigation is there.
    assert page.locator("nav.bd-docs-nav, #bd-docs-nav").count() >= 1
    assert page.evaluate("getComputedStyle(document.body).fontFamily") not in ("", "serif")

    # Every image decoded.
    broken = page.evaluate(
        "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert broken == [], f"images that did not load: {broken[:3]}"

    # Every widget view rendered exactly once, with a non-empty box (a cell's other
    # outputs, such as printed text, are its siblings: myst-nb's .output divs).
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    rendered = page.evaluate(
        """[...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
        .map(s => [...s.parentElement.children]
        .filter(c => c.tagName !== 'SCRIPT' && !c.classList.contains('output'))
        .map(c => c.getBoundingClientRect().height))"""
    )
    for heights in rendered:
        assert len(heights) == 1, f"a widget rendered {len(heights)} times"
        assert heights[0] > 20, "a widget rendered as a blank box"
    assert len(rendered) == views

    # Math typeset by MathJax wherever the page has math.
    if page.locator(".math").count():
        assert page.locator("mjx-container").count() >= 1, "math was not typeset"

    assert errors == [], errors
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{page_path.stem}.png"), full_page=True)
    context.close()


# ---------------------------------------------------------------------------------------
# The explorers compute on the static page: change every control of every explorer.

RESPONSE_BUDGET_MS = 300
SITE_BUDGET_MB = 60
PAGE_BUDGET_MB = 8

# In the page: the explorers (the widget box around each genotutor view), their controls
# by kind, and a probe that times a control's effect from the triggering event to the
# first change of the view (summary or figure).
PROBE_JS = """
() => {
  window.__explorers = [...document.querySelectorAll('.genotutor-figure')].map((figure, i) => {
    let box = figure.closest('.widget-vbox') || figure.parentElement;
    box.setAttribute('data-genotutor-explorer', String(i));
    return { box, figure, summary: figure.parentElement.querySelector('.genotutor-summary') };
  });
  window.__snapshot = i => {
    const e = window.__explorers[i];
    return (e.summary ? e.summary.innerHTML : '') + '|' + e.figure.innerHTML;
  };
  window.__arm = i => {
    const e = window.__explorers[i];
    window.__t0 = null; window.__t1 = null;
    const start = ev => { if (window.__t0 === null) window.__t0 = performance.now(); };
    for (const type of ['keydown', 'change', 'click', 'input', 'pointerdown', 'mousedown']) {
      e.box.addEventListener(type, start, { capture: true, once: true });
    }
    const observer = new MutationObserver(() => {
      if (window.__t1 === null) window.__t1 = performance.now();
      observer.disconnect();
    });
    const what = { childList: true, subtree: true, characterData: true, attributes: true };
    observer.observe(e.figure.parentElement, what);
  };
  return window.__explorers.length;
}
"""

CONTROLS_JS = """
i => {
  const box = window.__explorers[i].box;
  const out = [];
  const kinds = '.widget-inline-hbox, .widget-toggle-buttons, .widget-checkbox';
  box.querySelectorAll(kinds).forEach((el, k) => {
    if (el.closest('.genotutor-figure')) return;
    let kind = null;
    if (el.classList.contains('widget-toggle-buttons')) kind = 'toggle';
    else if (el.classList.contains('widget-checkbox')) kind = 'checkbox';
    else if (el.querySelector('.noUi-handle')) kind = 'slider';
    else if (el.querySelector('select')) kind = 'select';
    else if (el.querySelector('input[type=number]')) kind = 'number';
    if (!kind) return;
    const label = (el.querySelector('.widget-label') || {}).textContent || '';
    el.setAttribute('data-genotutor-control', `${i}-${k}`);
    out.push({ id: `${i}-${k}`, kind, label });
  });
  return out;
}
"""


def _change(page, control: dict) -> None:
    """Change one control as a reader would: a key, a click, a choice."""
    root = page.locator(f'[data-genotutor-control="{control["id"]}"]')
    kind = control["kind"]
    if kind == "toggle":
        buttons = root.locator("button")
        pressed = [buttons.nth(j).get_attribute("class") for j in range(buttons.count())]
        choice = next(j for j, cls in enumerate(pressed) if "mod-active" not in (cls or ""))
        buttons.nth(choice).click()
    elif kind == "checkbox":
        root.locator("input[type=checkbox]").click()
    elif kind == "select":
        select = root.locator("select")
        options = select.locator("option")
        current = select.evaluate("s => s.selectedIndex")
        select.select_option(index=(current + 1) % options.count())
    elif kind == "slider":
        handle = root.locator(".noUi-handle").first
        handle.focus()
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.press("ArrowLeft" if at_max else "ArrowRight")
    elif kind == "number":
        field = root.locator("input[type=number]")
        value = int(float(field.input_value()))
        high = field.get_attribute("max")
        new = value - 1 if high is not None and value + 1 > float(high) else value + 1
        field.fill(str(new))
        field.press("Enter")


def _explorer_pages() -> list[Path]:
    """The pages whose saved widget state holds a genotutor view (an explorer)."""
    view = re.compile(r"genotutor\.widgets\.\w+\.\w+View")
    return [p for p in _chapters() if view.search(p.read_text(errors="ignore"))]


@pytest.mark.parametrize("page_path", _explorer_pages(), ids=lambda p: p.stem)
def test_every_control_of_every_explorer_changes_its_figure(browser, page_path):
    """Offline, with no kernel: each control redraws its explorer within the budget, and
    the console stays clean."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(lambda url: not url.startswith("file:"), lambda route: route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: None if any(h in str(e) for h in HARMLESS)
            else errors.append(f"pageerror: {e}"))  # fmt: skip
    page.on("console", lambda m: errors.append(f"console: {m.text}")
            if m.type == "error" and not any(h in m.text for h in HARMLESS) else None)  # fmt: skip
    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_function("document.querySelectorAll('.genotutor-figure svg').length > 0",
                           timeout=20000)  # fmt: skip
    page.wait_for_timeout(500)
    n_explorers = page.evaluate(PROBE_JS)
    assert n_explorers >= 1, "no explorer view rendered"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    slow: list[str] = []
    timings: list[dict] = []
    for i in range(n_explorers):
        controls = page.evaluate(CONTROLS_JS, i)
        assert controls, f"explorer {i} has no controls"
        box = page.locator(f'[data-genotutor-explorer="{i}"]')
        box.scroll_into_view_if_needed()
        box.screenshot(path=str(SCREENSHOTS / f"{page_path.stem}-explorer{i}-before.png"))
        for control in controls:
            before = page.evaluate("i => window.__snapshot(i)", i)
            page.evaluate("i => window.__arm(i)", i)
            _change(page, control)
            changed = page.wait_for_function(
                "([i, before]) => window.__snapshot(i) !== before", arg=[i, before],
                timeout=5000,
            )  # fmt: skip
            assert changed, f"explorer {i}: {control} did not change the figure"
            elapsed = page.evaluate("window.__t1 !== null && window.__t0 !== null ? "
                                    "window.__t1 - window.__t0 : null")  # fmt: skip
            assert elapsed is not None, f"explorer {i}: {control}: no timed response"
            timings.append({"explorer": i, **control, "ms": round(elapsed, 1)})
            if elapsed > RESPONSE_BUDGET_MS:
                slow.append(f"explorer {i} {control['label']!r}: {elapsed:.0f} ms")
            assert "Cannot show this" not in page.evaluate("i => window.__snapshot(i)", i), (
                f"explorer {i}: {control} led to an error message"
            )
        box.screenshot(path=str(SCREENSHOTS / f"{page_path.stem}-explorer{i}-after.png"))
    timing_file = SCREENSHOTS / f"{page_path.stem}-timings.json"
    timing_file.write_text(json.dumps(timings, indent=1))
    assert slow == [], f"over {RESPONSE_BUDGET_MS} ms: {slow}"
    assert errors == [], errors
    context.close()


def test_the_site_and_each_page_fit_their_budgets():
    if not HTML.is_dir():
        pytest.skip("no built book: run `make book` first")
    total = sum(p.stat().st_size for p in HTML.rglob("*") if p.is_file())
    assert total <= SITE_BUDGET_MB * 2**20, f"site is {total / 2**20:.1f} MB"
    for page_path in HTML.glob("*.html"):
        size = page_path.stat().st_size
        assert size <= PAGE_BUDGET_MB * 2**20, f"{page_path.name} is {size / 2**20:.1f} MB"


def test_every_link_of_the_claims_ledger_reaches_its_section():
    ledger_page = HTML / "claims_ledger.html"
    if not ledger_page.is_file():
        pytest.skip("no built book: run `make book` first")
    links = re.findall(r'<a href="([0-9]{2}_[a-z_]+\.html)#([^"]+)"', ledger_page.read_text())
    assert len(links) >= 25, f"only {len(links)} links to chapter sections"
    missing = [
        f"{page}#{anchor}"
        for page, anchor in sorted(set(links))
        if f'id="{anchor}"' not in (HTML / page).read_text()
    ]
    assert missing == [], f"ledger links to sections that do not exist: {missing}"
