"""One real browser on the real server: `cotour serve` on the sample, headless Chromium.

Screenshots are kept in tests/artifacts/ for people to look at.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kb.search import search

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(sample_build):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "COTOUR_STAFF_PASSWORD_HASH"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from kb.cli import cli; cli()", "serve", "--db",
         str(sample_build[0]), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # until it answers (or gives up after about 30 s)
            if process.poll() is not None:
                raise RuntimeError(process.stdout.read().decode())
            try:
                urllib.request.urlopen(url + "/-/versions.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        browser.close()


def test_search_box_finds_cooperative_in_italian(server, page, sample_build):
    expected = sorted(h.id for h in search(sample_build[1], "cooperativa", limit=10_000,
                                           tables=("findings",)))
    page.goto(server + "/")
    page.screenshot(path=ARTIFACTS / "1-home.png", full_page=True)
    page.click('a[href="/cotour"]')
    page.click('a[href="/cotour/findings"]')
    page.screenshot(path=ARTIFACTS / "2-findings.png")
    page.fill("#_search", "cooperativa")
    page.press("#_search", "Enter")
    page.wait_for_url("**/cotour/findings?*_search=*")
    page.screenshot(path=ARTIFACTS / "3-search-cooperativa.png")
    page.locator("table.rows-and-columns").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "3b-search-cooperativa-rows.png")

    assert "cooperativa" == page.input_value("#_search")
    assert f"{len(expected)} rows" in page.inner_text("h3")
    shown = page.locator("table.rows-and-columns td.col-id a").all_inner_texts()
    assert min(len(expected), 50) == len(shown)  # a page holds 50 rows
    assert set(shown) <= set(expected)
    texts = " ".join(page.locator("table.rows-and-columns td.col-text").all_inner_texts())
    assert "cooperative" in texts.lower()


def test_overview_and_map_pages_render(server, page):
    page.goto(server + "/-/dashboards/panoramica")
    page.wait_for_selector("#chart-per-tappa canvas, #chart-per-tappa svg")
    page.screenshot(path=ARTIFACTS / "4-panoramica.png", full_page=True)
    page.goto(server + "/cotour/organisations")
    page.wait_for_selector(".leaflet-marker-icon, .marker-cluster")
    page.screenshot(path=ARTIFACTS / "5-organisations.png")
    page.locator(".leaflet-container").screenshot(path=ARTIFACTS / "5b-organisations-map.png")
    assert not page.is_visible("dl.column-descriptions")  # folded under "Descrizione…"
    page.click("text=Descrizione delle colonne (18)")
    assert page.is_visible("dl.column-descriptions")
    page.goto(server + "/cotour/cerca?testo=spazi+condivisi")
    page.screenshot(path=ARTIFACTS / "6-cerca.png")
    assert "spazi condivisi" == page.input_value('input[name="testo"]')
