"""kg serve in a real browser: Debian's chromium driven by selenium through the system's
chromedriver (nothing downloaded). Every kind of page is loaded and its content asserted, a
named query is run through its form, a query is run in YASGUI, links are followed; any console
error or failed request fails the test. Skipped, with the reason, when chromium is absent."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="chromium and chromedriver are not installed "
                                       "(apt-get install chromium chromium-driver)")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="kg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.get("about:blank")
    problems(driver)  # the browser's own start-up page (its new-tab page), not ours
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def problems(driver) -> list[str]:
    """The console errors and failed or refused requests since the last call."""
    found = [f"console: {e['message']}" for e in driver.get_log("browser")
             if e["level"] == "SEVERE"]
    urls: dict[str, str] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.loadingFailed":
            found.append(f"failed request: {params.get('errorText')} "
                         f"{urls.get(params['requestId'], '?')}")
        elif message["method"] == "Network.responseReceived":
            response = params["response"]
            if response["status"] >= 400:
                found.append(f"{response['status']}: {response['url']}")
    return found


def visit(driver, url: str) -> str:
    """Load a page; its text, after checking nothing went wrong."""
    driver.get(url)
    assert problems(driver) == [], url
    return driver.find_element("tag name", "body").text


def test_every_kind_of_page_shows_its_content(browser, serve_url: str) -> None:
    home = visit(browser, serve_url + "/")
    assert "Pairs of states" in home and "Findings of the checks" in home
    entity = visit(browser, serve_url + "/entity/ishaq-dar")
    assert "Ishaq Dar" in entity
    posts = browser.find_element("css selector", "table.posts").text
    assert "Deputy Prime Minister" in posts and "Foreign Affairs" in posts
    event = visit(browser, serve_url + "/event/fidan-visit-pak-2025-07")
    marked = browser.find_element("css selector", "tr.disagree").text
    assert "2025-07-09" in marked and "2025-07-08" in marked
    assert "not said" in event
    source = visit(browser, serve_url + "/source/004_9b5fa0e87cd416ef")
    assert "Paragraph 1 of a stand-in text" in source
    fact = visit(browser, serve_url + "/fact/s000-dar-post-dpm")
    assert "Ishaq Dar" in fact
    pair = visit(browser, serve_url + "/pair/TUR/PAK")
    assert "2025" in pair
    disputed = browser.find_element("css selector", ".when.disputed").text
    assert "2025-07-09" in disputed and "2025-07-08" in disputed
    assert browser.find_elements("css selector", ".picture svg a")
    assert browser.find_elements("css selector", "svg.chart circle")


def test_a_hostile_label_is_shown_as_text(browser, serve_url: str) -> None:
    visit(browser, serve_url + "/entity/energy")
    heading = browser.find_element("tag name", "h1").text
    assert heading == '<script>alert("kg")</script> & "energy"'
    assert browser.execute_script("return window.__kg_pwned === undefined")


def test_links_lead_from_page_to_page(browser, serve_url: str) -> None:
    visit(browser, serve_url + "/")
    browser.find_element("css selector", "a.pair[href='/pair/PAK/TUR']").click()
    assert problems(browser) == []
    assert browser.current_url.endswith("/pair/PAK/TUR")
    browser.find_element("css selector",
                         "a.title[href='/event/guler-visit-pak-2025-07']").click()
    assert problems(browser) == []
    assert "/event/guler-visit-pak-2025-07" in browser.current_url
    browser.find_element("css selector", "table.compare a[href^='/entity/']").click()
    assert problems(browser) == []
    assert "/entity/" in browser.current_url
    browser.get(serve_url + "/pair/TUR/PAK")
    node = browser.find_element("css selector",
                                ".picture svg a[*|href='/entity/hakan-fidan']")
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', "
                           "{bubbles: true}))", node)
    assert browser.current_url.endswith("/entity/hakan-fidan")
    assert problems(browser) == []


def test_a_named_query_runs_through_its_form(browser, serve_url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    visit(browser, serve_url + "/queries")
    browser.find_element("css selector", "a[href='/queries/cq08-visits-of-person']").click()
    field = browser.find_element("css selector", "input[name='person']")
    field.clear()
    field.send_keys("yasar-guler")
    browser.find_element("css selector", "form.params button").click()
    table = WebDriverWait(browser, 20).until(
        lambda d: d.find_element("css selector", "table.results")).text
    assert problems(browser) == []
    assert "2025-07-08" in table
    browser.find_element("css selector",
                         "table.results a[href='/event/guler-visit-pak-2025-07']").click()
    assert problems(browser) == []
    assert browser.current_url.endswith("/event/guler-visit-pak-2025-07")
    assert browser.title.startswith("Yaşar Güler visits Pakistan")
    browser.back()
    assert browser.find_element("css selector", "a.download").get_attribute("href")


def test_a_query_runs_in_yasgui(browser, serve_url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    visit(browser, serve_url + "/yasgui")
    browser.execute_script(
        "kgYasgui.getTab().setQuery('SELECT ?name WHERE { kgr:TUR skos:altLabel ?name }');"
        "kgYasgui.getTab().query();")
    WebDriverWait(browser, 20).until(
        lambda d: "Turkey" in d.find_element("css selector", ".yasr").text)
    assert problems(browser) == []
    examples = browser.find_elements("css selector", "button.example")
    assert any(e.text == "timeline" for e in examples)
    next(e for e in examples if e.text == "timeline").click()
    query = browser.execute_script("return kgYasgui.getTab().getQuery()")
    assert "<https://w3id.org/kg-bilateral/id/TUR>" in query  # the default, in place
