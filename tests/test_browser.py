"""Open every chapter of the built book in headless Chromium, offline, and check what a
reader sees: the theme and navigation, every figure, every widget once, typeset math,
and no JavaScript errors. A screenshot per chapter lands in ``book/_build/screenshots``.

Run with ``pytest -m browser`` after ``make book``. Needs Debian's ``chromium`` (found at
``/usr/bin/chromium`` or ``$CHROMIUM``) and the ``playwright`` Python package; Playwright
cannot download its own browser here, so it drives the system one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

BUILD = Path(__file__).resolve().parent.parent / "book" / "_build"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"
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

    # Every widget view rendered exactly once, with a non-empty box.
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    rendered = page.evaluate(
        """[...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
        .map(s => [...s.parentElement.children].filter(c => c.tagName !== 'SCRIPT')
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
