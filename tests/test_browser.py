"""One real browser on the real server (`cotour serve` on the sample) and on the report's HTML
edition, headless Chromium.

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

from kb.report import write_report
from kb.store.search import search

from conftest import SAMPLE

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
def browser():
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    yield page
    page.close()


def test_search_box_finds_cooperative_in_italian(server, page, sample_build):
    expected = [h.id for h in search(sample_build[1], "cooperativa", limit=10_000,
                                     tables=("findings",))]
    page.goto(server + "/")
    assert "it" == page.get_attribute("html", "lang")
    page.click('a[href="/cotour"]')
    page.click('a[href="/cotour/findings"]')
    page.fill("#_search", "cooperativa")
    page.press("#_search", "Enter")
    page.wait_for_url("**/cotour/findings?*_search=*")
    page.locator("table.rows-and-columns").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "3b-search-cooperativa-rows.png")

    assert "cooperativa" == page.input_value("#_search")
    assert page.inner_text("h3.cotour-count").startswith(f"{len(expected)} righe")
    shown = page.locator("table.rows-and-columns td.col-id a").all_inner_texts()
    assert expected[:50] == shown  # the most relevant first, 50 to a page
    texts = " ".join(page.locator("table.rows-and-columns td.col-text").all_inner_texts())
    assert "cooperative" in texts.lower()
    assert "[[" not in texts and "#" not in texts  # mentions and tags shown as words


def test_overview_and_map_pages_render(server, page):
    page.goto(server + "/-/dashboards/panoramica")
    page.wait_for_selector("#chart-per-tappa canvas, #chart-per-tappa svg")
    page.screenshot(path=ARTIFACTS / "4-panoramica.png", full_page=True)
    page.goto(server + "/cotour/organisations")
    page.wait_for_selector(".leaflet-marker-icon, .marker-cluster")
    page.screenshot(path=ARTIFACTS / "5-organisations.png")
    assert not page.is_visible("dl.column-descriptions")  # folded under "Descrizione…"
    page.click("text=Descrizione delle colonne (19)")
    assert page.is_visible("dl.column-descriptions")
    page.goto(server + "/cotour/cerca?testo=spazi+condivisi")
    assert "spazi condivisi" == page.input_value('input[name="testo"]')


def finding_with_mentions(public_path):
    import sqlite3

    conn = sqlite3.connect(public_path)
    return conn.execute("select id from findings where text like '[[!%' and themes != '[]' "
                        "and organisations like '%,%' order by id limit 1").fetchone()[0]


def pages_to_look_at(sample_build):
    return {
        "home": "/",
        "table-facets": "/cotour/findings",
        "search": "/cotour/findings?_search=spazi+condivisi",
        "finding": f"/cotour/findings/{finding_with_mentions(sample_build[1])}",
        "organisation": "/cotour/organisations/kilowatt",
        "canned-query": "/cotour/minacce_emergenti_e_tradizionali?tipo=Minacce",
    }


@pytest.mark.parametrize("width", [1280, 390])
def test_pages_people_look_at(server, browser, sample_build, width):
    """Screenshots of each page, wide and on a phone: no request leaves the machine, no error
    in the console, nothing wider than the screen but the tables' own scroll."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    outside, errors = [], []
    page.on("request", lambda r: r.url.startswith(server) or outside.append(r.url))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    try:
        for name, path in pages_to_look_at(sample_build).items():
            page.goto(server + path)
            assert "it" == page.get_attribute("html", "lang"), name
            page.screenshot(path=ARTIFACTS / f"serve-{name}-{width}.png", full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 1, (name, overflow)
    finally:
        page.close()
    assert [] == outside
    assert [] == errors


def test_on_a_phone_an_empty_list_shows_nothing_and_filters_show_words(server, browser):
    """At 390 px a row is a card, each cell under its column's label: a finding raised by no
    one shows its empty lists as nothing (it showed "[]"); the filter box shows the word the
    facet shows (Minacce), and removing the filter still works."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server + "/cotour/findings?source_profiles=[]")
        cells = page.locator("table.rows-and-columns td")
        assert cells.count() > 0
        card = page.locator("table.rows-and-columns tr").nth(1)
        card.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "serve-phone-empty-lists.png")
        shown = [t.strip() for t in cells.all_inner_texts()]
        assert "[]" not in shown
        assert {""} == {t.strip() for t in page.locator(
            "td.col-source_profiles, td.col-source_organisations").all_inner_texts()}
        # the card's label is still there, drawn by the page's CSS
        assert "Profili di chi ha sollevato il punto" == page.locator(
            "td.col-source_profiles").first.evaluate(
            "td => getComputedStyle(td, '::before').content").strip('"')

        page.goto(server + "/cotour/findings?kind=threat")
        box = page.locator('select[name="_filter_value_1"]')
        assert box.is_visible()
        assert "Minacce" == box.evaluate("s => s.options[s.selectedIndex].text")
        assert "threat" == box.input_value()
        assert "Tipo di risultato = «Minacce»" in page.inner_text("h3.cotour-count")
        page.screenshot(path=ARTIFACTS / "serve-phone-filter-word.png")
        box.select_option(label="Opportunità")
        page.click('input[type="submit"][value="Applica"]')
        page.wait_for_url("**/cotour/findings?kind__exact=opportunity")
        assert "«Opportunità»" in page.inner_text("h3.cotour-count")
        # "- togli il filtro -" still takes the filter away
        page.select_option('select[name="_filter_column_1"]', value="")
        page.click('input[type="submit"][value="Applica"]')
        page.wait_for_url("**/cotour/findings")
        assert "dove" not in page.inner_text("h3.cotour-count")
    finally:
        page.close()
    assert [] == errors


# ---- the report's HTML edition, opened as a file, as people open it

# The nearest ancestor-or-self background that is not transparent: what a text is painted on.
BACKGROUND_JS = """el => {
    for (let e = el; e; e = e.parentElement) {
        const bg = getComputedStyle(e).backgroundColor;
        if (bg && bg !== "transparent" && bg !== "rgba(0, 0, 0, 0)") return bg;
    }
    return "rgb(255, 255, 255)";
}"""


@pytest.fixture(scope="module")
def report_html(sample_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("report-html") / "cotour-report.pdf"
    result = write_report(sample_build[0], out, data_dir=SAMPLE)
    return result.html_path


def open_report(browser, report_html, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(report_html.as_uri())
    return page, requested


def test_report_html_reads_well_on_a_wide_screen(browser, report_html):
    page, requested = open_report(browser, report_html, 1280)
    try:
        page.screenshot(path=ARTIFACTS / "7-report-cover.png")
        # Self-contained: nothing is fetched besides the file itself (images are data: URIs).
        assert [report_html.as_uri()] == [u for u in requested if not u.startswith("data:")]

        # The cover: the title is drawn on a coloured band, not white on white.
        title = page.locator(".cover-title")
        assert title.is_visible()
        colour = title.evaluate("e => getComputedStyle(e).color")
        background = title.evaluate(BACKGROUND_JS)
        assert colour != background
        assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")

        # A centred reading column with margins, not text flush against the window's edge.
        body = page.evaluate("""() => { const s = getComputedStyle(document.body),
                                         r = document.body.getBoundingClientRect();
                                         return {maxWidth: s.maxWidth, left: r.left,
                                                 right: innerWidth - r.right}; }""")
        assert body["maxWidth"].endswith("px") and float(body["maxWidth"][:-2]) <= 1000
        assert body["left"] > 100 and abs(body["left"] - body["right"]) <= 20
        text = page.locator("#capitolo-progetto p").first.bounding_box()
        assert text["x"] > body["left"] + 20 and 500 <= text["width"] <= 820
        assert page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") >= 16

        # The table of contents: in-page links to every chapter, no leaders or page numbers.
        hrefs = page.locator(".toc a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
        assert len(hrefs) >= 10
        for href in hrefs:
            assert href.startswith("#") and page.locator(href).count() == 1, href
        assert page.locator(".toc a").first.evaluate(
            "a => getComputedStyle(a, '::after').content") in ("none", "normal")
        assert "..." not in page.inner_text(".toc")

        # Chapters are set apart on screen (there are no page breaks in a browser).
        chapter = page.locator("#capitolo-mappatura")
        assert chapter.evaluate("e => parseFloat(getComputedStyle(e).marginTop)") >= 32
        assert chapter.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"

        # Figures fit the column; links look like links.
        column = page.locator("#capitolo-mappatura").bounding_box()
        for box in page.locator("figure.chart img").evaluate_all(
                "is => is.map(i => [i.getBoundingClientRect().width, i.naturalWidth])"):
            assert 0 < box[0] <= column["width"] + 1
        decoration = page.locator("a.finding-id").first.evaluate(
            "a => getComputedStyle(a).textDecorationLine")
        assert "underline" in decoration

        page.goto(report_html.as_uri() + "#tappa-parma-2015")
        page.screenshot(path=ARTIFACTS / "7b-report-chapter.png")
        assert 0 <= page.locator("#tappa-parma-2015").bounding_box()["y"] <= 80
    finally:
        page.close()


def test_report_html_fits_a_phone(browser, report_html):
    page, _ = open_report(browser, report_html, 390)
    try:
        page.screenshot(path=ARTIFACTS / "7c-report-narrow.png")
        # Nothing makes the page wider than the screen: wide tables scroll inside themselves.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator(".cover-title").bounding_box()["x"] >= 10
        body_px = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        # Charts: the phone's figure, whose smallest text is at least the body's size.
        charts = page.locator("figure.chart img").evaluate_all("""is => is.map(i => {
            const svg = atob(i.currentSrc.split(",")[1]);
            const sizes = [...svg.matchAll(/font-size="([0-9.]+)"/g)].map(m => parseFloat(m[1]));
            const width = parseFloat(svg.match(/width="([0-9.]+)pt"/)[1]) * 4 / 3;
            return {narrow: i.currentSrc !== i.getAttribute("src"), smallest: Math.min(...sizes),
                    scale: i.getBoundingClientRect().width / width};
        })""")
        assert len(charts) >= 6
        for chart in charts:
            assert chart["narrow"]
            assert chart["smallest"] * 4 / 3 * chart["scale"] >= body_px - 0.5, (chart, body_px)
        page.locator("figure.chart").first.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "7e-report-narrow-chart.png")
        # Tables wider than the screen scroll inside a box that shows it (shadows at its edges).
        boxes = page.locator(".table-scroll").evaluate_all("""ds => ds.map(d => ({
            wider: d.scrollWidth > d.clientWidth + 1, overflow: getComputedStyle(d).overflowX,
            cue: getComputedStyle(d).backgroundImage}))""")
        assert any(b["wider"] for b in boxes)
        for box in boxes:
            assert "auto" == box["overflow"]
            assert box["cue"].count("gradient") == 4
        page.locator("table.directory").first.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "7d-report-narrow-table.png")
    finally:
        page.close()
