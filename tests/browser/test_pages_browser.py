"""The pages as a person sees them, in headless Chromium: the seed's memorandum through time.

Issue 14. One server over the example (SQLite: the pages do not depend on the engine, the
API tests check both). Each step is saved as a screenshot under tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import EXAMPLE, invoke
from serve_support import Server, running_server

MOU = "iq-ir-security-mou-2025"
SIGNATORIES = ("qasim-al-araji", "ali-larijani")

# Window sizes (a name imported from `conftest` is whichever conftest was loaded last).
LAPTOP = (1280, 900)
PHONE = (390, 844)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'ledger.db'}"
    invoke(url, ["import", EXAMPLE])
    with running_server(url) as running:
        yield running


def policy_violations(browser: Any) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] or entry["level"] == "SEVERE"
    ]


def signing_text(browser: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.ID, "signings").text)


def test_the_date_control_moves_the_memorandum_back_before_its_signing(
    browser: Any, server: Server, artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.wait import WebDriverWait

    browser.set_window_size(*LAPTOP)
    browser.get(f"{server.base}/agreements/{MOU}")
    assert "Iraq–Iran security memorandum" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.ID, "status").text == "signed"
    for actor in SIGNATORIES:
        assert actor in signing_text(browser)
    statuses = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "td.participant-status")]
    assert statuses == ["signatory", "signatory"]
    browser.save_screenshot(str(artifacts / "1-agreement-today.png"))

    control = browser.find_element(By.ID, "as_of")
    control.clear()
    control.send_keys("08102025")  # the date control as a person types into it (en-US)
    browser.find_element(By.ID, "show").click()
    WebDriverWait(browser, 30).until(until.url_contains("as_of=2025-08-10"))
    assert browser.find_element(By.ID, "as_of").get_attribute("value") == "2025-08-10"
    for actor in SIGNATORIES:
        assert actor not in signing_text(browser)
    assert "Not signed by 2025-08-10" in signing_text(browser)
    statuses = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "td.participant-status")]
    assert "signatory" not in statuses
    browser.save_screenshot(str(artifacts / "2-agreement-2025-08-10.png"))

    browser.find_element(By.CSS_SELECTOR, "#participants a[href^='/actors/IRQ']").click()
    WebDriverWait(browser, 30).until(until.url_contains("/actors/IRQ"))
    assert "Iraq" in browser.find_element(By.TAG_NAME, "h1").text
    assert "as_of=2025-08-10" in browser.current_url  # links keep the page's day
    browser.save_screenshot(str(artifacts / "3-actor-iraq.png"))
    assert policy_violations(browser) == []


@pytest.mark.parametrize(
    "path",
    [
        f"/agreements/{MOU}",
        "/timeline",
        "/actors/ali-larijani",
        "/",
        "/sources/peregraf-2025-08-14",
        "/search?q=larijani",
    ],
)
def test_pages_fit_a_phone_without_sideways_scrolling(
    browser: Any, server: Server, artifacts: Path, path: str
) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(*PHONE)
    browser.get(server.base + path)
    page_width, viewport = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert page_width <= viewport, f"{path} is {page_width}px wide on a {viewport}px phone"
    nav = browser.find_element(By.CSS_SELECTOR, "header.site nav")
    assert nav.is_displayed() and nav.rect["x"] + nav.rect["width"] <= viewport
    name = path.strip("/").replace("/", "-").replace("?q=", "-") or "home"
    browser.save_screenshot(str(artifacts / f"phone-{name}.png"))
    browser.set_window_size(*LAPTOP)
    assert policy_violations(browser) == []


def test_the_timeline_page_draws_the_svg_timeline_and_filters(
    browser: Any, server: Server, artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(*LAPTOP)
    browser.get(f"{server.base}/timeline?actor=ali-larijani")
    marks = browser.find_elements(By.CSS_SELECTOR, "figure.timeline svg g.tl-mark")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.occurrences tbody tr")
    assert len(marks) == len(rows) > 0
    fill = browser.execute_script(
        "return getComputedStyle(document.querySelector('.tl-mark circle, .tl-mark rect')).fill"
    )
    assert fill != "rgb(0, 0, 0)"  # the stylesheet reached the SVG: not the default black
    browser.save_screenshot(str(artifacts / "timeline-larijani.png"))
    browser.get(f"{server.base}/audit/{MOU}")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Audit report")
    border = browser.execute_script(
        "return getComputedStyle(document.querySelector('h2')).borderBottomStyle"
    )
    assert border == "solid"  # the report's inline styles are allowed by their hash
    browser.save_screenshot(str(artifacts / "audit.png"))
    assert policy_violations(browser) == []
