"""The explorer page in headless Chromium: search, neighbors, a customer, the map.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and Playwright's Python package; skipped
without them unless ``CUSTOMER2VEC_REQUIRE_BROWSER=1`` (CI), which turns the skip into a
failure. A screenshot of each view is saved under ``test-artifacts/``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CUSTOMER2VEC_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CUSTOMER2VEC_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (CUSTOMER2VEC_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def base_url(app):
    """The app served by uvicorn in a background thread on a free loopback port."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Skip (or fail, in CI) before any model is trained when the browser is missing."""
    _require(CHROMIUM.is_file(), f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _require(False, "playwright is not installed (pip install playwright)")


@pytest.fixture
def page(browser_ready, base_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.problems = []
        page.on(
            "console",
            lambda m: (
                page.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda err: page.problems.append(f"page error: {err}"))
        # Offline: any request that leaves the app fails the test.
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith((base_url, "data:"))
                else page.problems.append(f"external request: {r.url}")
            ),
        )
        try:
            yield page
        finally:
            browser.close()


def test_search_neighbor_customer_and_map(page, base_url):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(base_url + "/")
    page.wait_for_selector("#search-results a.item-link")
    assert "item2vec model" in page.inner_text("#model-info")
    assert "24 items" in page.inner_text("#model-info")

    # Search a product; every hit is a bread.
    page.fill("#search", "bread")
    page.press("#search", "Enter")
    page.wait_for_function(
        "document.getElementById('search-summary').innerText.includes('12 products match')"
    )
    results = page.locator("#search-results a.item-link")
    assert all(name.startswith("Bread") for name in results.all_inner_texts())

    # Open it: its neighbors are breads, with scores.
    results.first.click()
    page.wait_for_selector("#neighbors a.item-link")
    first = page.inner_text("#item-title")
    assert first.startswith("Bread")
    neighbors = page.locator("#neighbors a.item-link")
    assert neighbors.count() == 12
    assert all(name.startswith("Bread") for name in neighbors.all_inner_texts()[:5])

    # Click a neighbor: the page navigates to it.
    target = neighbors.nth(1).inner_text()
    neighbors.nth(1).click()
    page.wait_for_function(f"document.getElementById('item-title')?.innerText === {target!r}")
    assert page.evaluate("location.hash").startswith("#item/2")
    page.screenshot(path=str(ARTIFACTS / "explorer-item.png"), full_page=True)

    # The session basket asks POST /recommendations.
    page.click("#add-to-basket")
    page.wait_for_selector("#basket-recs a.item-link")
    assert page.locator("#basket-recs a.item-link").first.inner_text().startswith("Bread")

    # Open a customer: history, segment, recommendations.
    page.fill("#customer-input", "c3")
    page.press("#customer-input", "Enter")
    page.wait_for_selector("#recommendations a.item-link")
    assert page.inner_text("#customer-title") == "Customer c3"
    assert page.inner_text("#customer-segment").startswith("segment ")
    assert page.locator("#history .basket").count() == 4
    recommended = page.locator("#recommendations a.item-link").all_inner_texts()
    assert recommended and all(name.startswith("Apple") for name in recommended[:3])
    page.screenshot(path=str(ARTIFACTS / "explorer-customer.png"), full_page=True)

    # A sample customer of a segment opens too.
    page.locator("#segments a.customer-link").first.click()
    page.wait_for_selector("#customer-title")

    # The map: click a point to open its product.
    if page.evaluate("document.getElementById('map').hidden"):
        hint = page.inner_text("#map-hint")
        assert "projection" in hint or "plotly" in hint, hint
    else:
        page.wait_for_selector("#map .scatterlayer .points path.point")
        page.locator("#map").scroll_into_view_if_needed()
        point = page.locator("#map .scatterlayer .trace").first.locator("path.point").first
        box = point.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.wait_for_function("location.hash.startsWith('#item/')")
        page.wait_for_selector("#item-title")
    page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)
    assert page.problems == []


def test_unknown_customer_shows_the_api_message(page, base_url):
    page.goto(base_url + "/#customer/nobody")
    page.wait_for_selector("#status.error")
    assert "unknown customer id 'nobody'" in page.inner_text("#status")
    # The failed request itself is the only console message.
    assert all("404" in problem for problem in page.problems), page.problems
