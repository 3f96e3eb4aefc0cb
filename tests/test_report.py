"""The final results report: render the real PDF and read it back."""

import re
import shutil
import sqlite3

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from kb.cli import cli
from kb.pipeline import build
from kb.report import report_data, write_report
from kb.report.charts import CHART_WIDTH, bar_chart, grouped_chart, stacked_chart, text_width
from kb.report.pydyf_patch import page_references_listed_once
from kb.report.readings import reading_distribution
from kb.report.render import render_editions

import pdfua
from conftest import MINI, SAMPLE

PERSONAL_NAMES = ["Maria Rossi", "Luca Bianchi", "Anna Verdi"]
BASE = "https://dati.example.org/cotour"

# A note added to a copy of the mini fixture: markup that must be shown, never interpreted.
MARKUP_NOTE = """---
event: parma-2015
title: Tavolo 2 — Prove di markup
kind: tavolo
---
Una nota per provare il rendering.

## Proposte
- [[!kilowatt|Le Serre]] propone **spazi condivisi** per <script>alert("x")</script> tutti. #coworking
- Vedi [la mappa](https://example.org/mappa) di [[Mosaico]] e l'elenco "sfitti".
"""
STAFF_READING = "Lettura scritta dallo staff: la mappa delle province va letta con prudenza."
STAFF_INTRO = "Questa introduzione è scritta dallo **staff** del progetto."


def pdf_pages(path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def link_uris(path) -> set[str]:
    uris = set()
    for page in PdfReader(path).pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action and "/URI" in action:
                uris.add(str(action["/URI"]))
    return uris


def public_rows(public_path, sql):
    conn = sqlite3.connect(public_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def mini_report(mini_build, tmp_path_factory):
    kb_path, public_path = mini_build
    out = tmp_path_factory.mktemp("mini-report") / "cotour-report.pdf"
    result = write_report(kb_path, out, data_dir=MINI)
    return result, public_path


@pytest.fixture(scope="module")
def marked_report(tmp_path_factory):
    """The mini fixture plus a note full of markup and two staff texts."""
    root = tmp_path_factory.mktemp("marked")
    data = root / "data"
    shutil.copytree(MINI, data)
    (data / "notes" / "parma-2015" / "tavolo-2.md").write_text(MARKUP_NOTE, encoding="utf-8")
    (data / "report").mkdir()
    (data / "report" / "mappatura-province.md").write_text(STAFF_READING + "\n", encoding="utf-8")
    (data / "report" / "introduzione.md").write_text(STAFF_INTRO + "\n", encoding="utf-8")
    built = build(data, root / "build" / "cotour.db")
    result = write_report(built.db_path, root / "build" / "report" / "cotour-report.pdf",
                          data_dir=data)
    return result, built.public_path


# ---- the document as a whole


def test_pdf_and_html_written(mini_report):
    result, _ = mini_report
    assert result.pdf_path.read_bytes().startswith(b"%PDF-")
    assert result.html_path == result.pdf_path.with_suffix(".html")
    assert '<html lang="it">' in result.html_path.read_text(encoding="utf-8")


def test_html_edition_is_for_screens_and_leaves_the_pdf_alone(mini_report):
    result, _ = mini_report
    html = result.html_path.read_text(encoding="utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media screen" in html
    assert not re.search(r'<(link|script)\b[^>]*\b(href|src)="(?!data:|#)', html)  # self-contained
    # WeasyPrint copies every <meta> into the PDF's metadata: the browser-only one stays out.
    assert "/viewport" not in PdfReader(result.pdf_path).metadata


def test_no_weasyprint_warning(mini_report, marked_report):
    for result, _ in (mini_report, marked_report):
        assert [] == [w for w in result.warnings if w.startswith("weasyprint")]
        assert [] == result.warnings


def test_pdf_structure(mini_report, marked_report):
    # PDF/UA's testable conditions (tests/pdfua.py): heading levels, TH scope, alt text,
    # language, tab order, links in the structure, lists as lists
    for result, _ in (mini_report, marked_report):
        assert [] == pdfua.problems(result.pdf_path)


def test_page_count_sane(mini_report):
    result, _ = mini_report
    pages = pdf_pages(result.pdf_path)
    assert len(pages) == result.pages
    assert 12 <= result.pages <= 40


def test_chapters_present_in_order(mini_report):
    result, _ = mini_report
    text = "\n".join(pdf_pages(result.pdf_path))
    chapters = ["Indice", "In sintesi", "Il progetto e il metodo", "La mappatura", "Il tour",
                "Sintesi trasversale", "Nuove iniziative", "Ibridazioni possibili",
                "Raccomandazioni", "Le note delle tappe", "Parma", "Bologna",
                "Elenco delle organizzazioni", "Dizionario dei dati", "Fonti", "Come citare",
                "Colophon"]
    positions = [text.find(c) for c in chapters]
    assert -1 not in positions
    assert sorted(positions) == positions


def test_table_of_contents_page_numbers_match_chapter_starts(mini_report):
    result, _ = mini_report
    pages = pdf_pages(result.pdf_path)
    toc = pages[1]
    entries = re.findall(r"^([0-9]+|[A-F](?:\.[0-9]+)?)\s+(.+?)[ .]*\.{3,}\s*(\d+)\s*$", toc, re.M)
    assert len(entries) >= 11, toc
    for number, title, page in entries:
        title = title.split(",")[0].strip()  # "Parma, 9 dicembre 2015" -> "Parma"
        start = pages[int(page) - 1]
        assert re.search(rf"^{re.escape(number)}\s*$", start, re.M) or f"{number} {title}" in start, \
            (number, title, page)
        assert title in start, (title, page)


def test_running_heads_and_page_numbers(mini_report):
    result, _ = mini_report
    pages = pdf_pages(result.pdf_path)
    total = len(pages)
    assert "pagina" not in pages[0]  # the cover has no running heads
    for n, text in enumerate(pages[1:], 2):
        assert f"pagina {n} di {total}" in text
        assert "Co?Tour · Rapporto finale" in text
    # a chapter's title runs in the head of its following pages
    assert any("3 · La mappatura" in t for t in pages[4:])


def test_every_finding_links_to_its_row(mini_report):
    result, public_path = mini_report
    ids = [r[0] for r in public_rows(public_path, "select id from findings")]
    assert ids
    uris = link_uris(result.pdf_path)
    assert {f"{BASE}/cotour/findings/{i}" for i in ids} <= uris
    text = "\n".join(pdf_pages(result.pdf_path))
    for finding_id in ids:
        assert finding_id in text


def test_italian_dates_and_typography(mini_report):
    result, _ = mini_report
    text = "\n".join(pdf_pages(result.pdf_path))
    assert "9 dicembre 2015" in text
    assert "10 dicembre 2015" in text
    assert "31 marzo 2016" in text
    html = result.html_path.read_text(encoding="utf-8")
    assert "dell’incontro" in html  # typographic apostrophe in the notes' narrative
    assert "hyphens: auto" in html


def test_pdf_metadata_and_tags(mini_report):
    result, _ = mini_report
    reader = PdfReader(result.pdf_path)
    assert "Co?Tour – Viaggio nella nuova mutualità – Rapporto finale dei risultati" == \
        reader.metadata.title
    assert "Confcooperative Emilia Romagna" in reader.metadata.author
    assert "mutualità" in reader.metadata["/Keywords"]
    root = reader.trailer["/Root"]
    assert "it" == root["/Lang"]
    assert root["/MarkInfo"]["/Marked"]
    assert "/StructTreeRoot" in root


def test_same_database_same_bytes(mini_build, mini_report, tmp_path):
    result, _ = mini_report
    again = write_report(mini_build[0], tmp_path / "again.pdf", data_dir=MINI)
    assert result.pdf_path.read_bytes() == again.pdf_path.read_bytes()


# ---- privacy


def test_no_personal_name_or_internal_note(mini_report):
    result, _ = mini_report
    text = "\n".join(pdf_pages(result.pdf_path))
    html = result.html_path.read_text(encoding="utf-8")
    for name in PERSONAL_NAMES:
        assert name not in text
        assert name not in html
    for internal in ("Debriefing dello staff", "Segreto interno", "Troppi interventi lunghi"):
        assert internal not in text
        assert internal not in html


def test_refuses_the_full_knowledge_base(mini_build, tmp_path):
    kb_path, public_path = mini_build
    copy = tmp_path / "cotour.db"  # a full knowledge base with no -public sibling
    shutil.copy(kb_path, copy)
    from kb.store.public import NotPublicError
    with pytest.raises(NotPublicError):
        write_report(copy, tmp_path / "r.pdf")


# ---- Markdown, mentions, tags, staff texts


def test_markup_shown_as_text_never_interpreted(marked_report):
    result, _ = marked_report
    html = result.html_path.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(«x»)&lt;/script&gt;" in html or "&lt;script&gt;" in html
    text = "\n".join(pdf_pages(result.pdf_path))
    assert "<script>" in text


def test_bold_links_mentions_and_tags(marked_report):
    result, _ = marked_report
    html = result.html_path.read_text(encoding="utf-8")
    assert '<strong>spazi condivisi</strong>' in html
    assert '<a href="https://example.org/mappa">la mappa</a>' in html
    # a mention prints the words written, linked to the organisation (its official name in
    # the link's title only)
    assert (f'<a class="org source" href="{BASE}/cotour/organisations/kilowatt" '
            'title="Kilowatt Soc. Coop">Le Serre</a>') in html
    assert (f'<a class="org" href="{BASE}/cotour/organisations/il-mosaico" '
            'title="Cooperativa Sociale Il Mosaico Onlus">Mosaico</a>') in html
    # the tag leaves the sentence; the finding's themes follow it, in its line of plain words
    assert "&lt;script&gt;alert(«x»)&lt;/script&gt;\u00a0tutti.</p>" in html  # last two words bound
    meta = re.search(r'alert\(«x»\).*?<p class="finding-meta">(.*?)</p>', html, re.S).group(1)
    assert ' · Temi: <span lang="en">Coworking</span> ·' in meta
    assert "[[!kilowatt" not in html and "[[Mosaico" not in html
    assert "l’elenco «sfitti»" in html


def test_staff_text_replaces_the_generated_reading(marked_report):
    result, _ = marked_report
    text = " ".join(" ".join(pdf_pages(result.pdf_path)).split())
    assert STAFF_READING in text
    assert "Questa introduzione è scritta dallo staff del progetto." in text
    html = result.html_path.read_text(encoding="utf-8")
    assert "La provincia più rappresentata" not in html
    assert "giuridiche più diffuse sono" in html  # the other charts keep their reading


def test_unknown_staff_text_is_a_warning(mini_build, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    (data / "report").mkdir()
    (data / "report" / "mappatura-provincia.md").write_text("Refuso.\n", encoding="utf-8")
    built = build(data, tmp_path / "cotour.db")
    _, warnings = report_data(built.db_path, data)
    assert ["report/mappatura-provincia.md: not used by the report"] == \
        [w.split(" (known names")[0] for w in warnings]


# ---- readings follow the figures


@pytest.mark.parametrize("counts, expected", [
    ([("Bologna", 6), ("Parma", 3), ("Rimini", 1)],
     "La provincia più rappresentata è Bologna, con 6 organizzazioni (60%), seguita da Parma "
     "(3, 30%). La meno rappresentata è Rimini, con 1 organizzazione (10%)."),
    ([("Bologna", 2), ("Parma", 2), ("Rimini", 0)],
     "Le province più rappresentate sono Bologna e Parma, con 2 organizzazioni ciascuna (50%). "
     "Nessuna organizzazione in Rimini."),
])
def test_reading_follows_the_figures(counts, expected):
    whole = 10 if expected.startswith("La provincia") else 4
    assert expected == reading_distribution(
        counts, whole, ("organizzazione", "organizzazioni"),
        ("la provincia più rappresentata è", "le province più rappresentate sono"),
        ("la meno rappresentata è", "le meno rappresentate sono"),
        missing="nessuna organizzazione in")


# ---- charts (SVG written by kb.report)


def chart_svg(uri: str):
    import base64
    import xml.etree.ElementTree as ET
    assert uri.startswith("data:image/svg+xml;base64,")
    return ET.fromstring(base64.b64decode(uri.split(",", 1)[1]))


def chart_texts(svg) -> list[str]:
    return [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]


def test_bar_chart_labels_values_and_ticks():
    items = [("Cooperative", 15), ("Associazioni & reti <locali>", 12), ("Startup", 1)]
    svg = chart_svg(bar_chart(items, "organizzazioni"))  # well-formed despite & and <
    texts = chart_texts(svg)
    assert ["15", "12", "1"] == texts[:3]  # the values, in the order of the bars
    assert ["0", "2", "4", "6", "8", "10", "12", "14", "16"] == texts[3:12]  # 15 × 1.12: step 2
    assert "organizzazioni" == texts[12]
    assert ["Cooperative", "Associazioni & reti", "<locali>", "Startup"] == texts[13:]  # wrapped
    assert bar_chart(items, "organizzazioni") == bar_chart(items, "organizzazioni")


@pytest.mark.parametrize("chart", [
    lambda: bar_chart([("Un’organizzazione dal nome davvero molto lungo, su tre righe", 1234)], "x"),
    lambda: stacked_chart(["Cooperative e consorzi", "Altre organizzazioni"],
                          [("Attori emergenti", [6, 24]), ("Settori tradizionali", [23, 0])],
                          "organizzazioni", ["#d9822b", "#1f6f78"]),
    lambda: grouped_chart(["Buone pratiche", "Minacce"], [("Emergenti", [12, 0]),
                                                          ("Tradizionali", [9, 3])],
                          "risultati", ["#d9822b", "#1f6f78"]),
])
def test_chart_text_stays_inside_the_figure(chart):
    svg = chart_svg(chart())
    width, height = (float(v) for v in svg.get("viewBox").split()[2:])
    assert CHART_WIDTH == width
    for t in svg.iter("{http://www.w3.org/2000/svg}text"):
        size = float(next(g.get("font-size") for g in svg.iter("{http://www.w3.org/2000/svg}g")
                          if t in list(g)))
        w = text_width(t.text, size)
        left = {"end": -w, "middle": -w / 2}.get(t.get("text-anchor"), 0) + float(t.get("x"))
        assert 0 <= left and left + w <= width, t.text
        assert size <= float(t.get("y")) <= height, t.text


def test_stacked_chart_prints_no_zero_segment():
    svg = chart_svg(stacked_chart(["A", "B"], [("uno", [6, 24]), ("due", [23, 0])], "n",
                                  ["#d9822b", "#1f6f78"]))
    assert ["6", "23", "24"] == chart_texts(svg)[:3]


def test_print_and_screen_editions_differ_only_in_the_head(sample_report):
    result, public_path = sample_report
    data, _ = report_data(public_path, SAMPLE)
    printed, screen = render_editions(data)
    assert screen == result.html_path.read_text(encoding="utf-8")
    assert printed.split("<body>", 1)[1] == screen.split("<body>", 1)[1]
    assert "viewport" not in printed and "viewport" in screen


# ---- the PDF's page list (WeasyPrint's tagging at thousands of pages)


def test_page_references_built_once_per_page_count():
    import pydyf
    original = pydyf.PDF.page_references
    pdf = pydyf.PDF()
    for _ in range(3):
        pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
    expected = pdf.page_references
    with page_references_listed_once():
        assert expected == pdf.page_references
        assert pdf.page_references is pdf.page_references  # not rebuilt at every read
        pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
        assert 4 == len(pdf.page_references)  # a new page is listed
        assert original.fget(pdf) == pdf.page_references
    assert pydyf.PDF.page_references is original  # undone afterwards


def test_tagged_pdf_lists_the_pages_once_with_the_same_bytes(monkeypatch):
    import pydyf
    import weasyprint
    calls = []
    original = pydyf.PDF.page_references
    monkeypatch.setattr(pydyf.PDF, "page_references",
                        property(lambda pdf: calls.append(1) or original.fget(pdf)))
    html = ('<html lang="it"><title>Prova</title><body>' + "".join(
        f'<h2 style="break-before: page">Capitolo {i}</h2><p>Testo del capitolo {i}.</p>'
        f'<ul><li>uno</li><li>due</li></ul>' for i in range(12)) + "</body></html>")
    document = weasyprint.HTML(string=html).render()
    plain = document.write_pdf(pdf_variant="pdf/ua-1")
    read_per_element = len(calls)
    calls.clear()
    with page_references_listed_once():
        listed_once = document.write_pdf(pdf_variant="pdf/ua-1")
    assert plain == listed_once
    assert 1 == len(calls)
    # WeasyPrint 70 reads the whole list for every tagged element and bookmark: if this fails,
    # WeasyPrint no longer does and page_references_listed_once can go.
    assert read_per_element > 5 * len(document.pages)


# ---- archival


def test_archival_attaches_the_open_dataset(mini_build, tmp_path):
    result = write_report(mini_build[0], tmp_path / "archival.pdf", data_dir=MINI, archival=True)
    reader = PdfReader(result.pdf_path)
    attached = set(reader.attachments)
    assert {"findings.csv", "organisations.csv", "events.csv", "notes.csv"} <= attached
    assert set(result.attachments) == attached
    findings_csv = reader.attachments["findings.csv"][0].decode("utf-8")
    assert findings_csv.startswith("id,")
    for name in PERSONAL_NAMES:
        assert name not in "".join(b.decode("utf-8") for v in reader.attachments.values() for b in v)
    assert "/AF" in reader.trailer["/Root"]
    assert [] == result.warnings


# ---- the sample data


def test_sample_every_held_event_has_its_chapter(sample_report):
    result, public_path = sample_report
    html = result.html_path.read_text(encoding="utf-8")
    held = public_rows(public_path, "select id, city from events where status = 'svolto'")
    assert held
    for event_id, city in held:
        assert f'id="tappa-{event_id}"' in html
    toc = pdf_pages(result.pdf_path)[1]
    for _, city in held:
        assert city in toc


def test_sample_counts_match_the_database(sample_report):
    result, public_path = sample_report
    text = " ".join(" ".join(pdf_pages(result.pdf_path)).split())
    (findings,), = public_rows(public_path, "select count(*) from findings")
    (mapped,), = public_rows(public_path, "select count(*) from organisations where mapped = 1")
    assert f"sono emersi {findings} risultati" in text
    assert f"ha censito {mapped} organizzazioni" in text
    data, _ = report_data(public_path)
    per_event = dict(public_rows(public_path, "select event_id, count(*) from findings group by 1"))
    assert per_event == {r["id"]: r["findings"] for r in data["tour"]["rows"] if r["findings"]}


def test_sample_renders_cleanly(sample_report):
    result, _ = sample_report
    assert [] == result.warnings
    assert 40 <= result.pages <= 120


# ---- the command line


def test_cli_report(mini_build, tmp_path):
    out = tmp_path / "r" / "report.pdf"
    run = CliRunner().invoke(cli, ["report", "--db", str(mini_build[0]), "--out", str(out),
                                   "--data", str(MINI)])
    assert 0 == run.exit_code, run.output
    assert out.exists() and out.with_suffix(".html").exists()
    assert f"{out}: report, " in run.output


def test_cli_report_without_a_build(tmp_path):
    run = CliRunner().invoke(cli, ["report", "--db", str(tmp_path / "cotour.db"),
                                   "--out", str(tmp_path / "r.pdf")])
    assert 1 == run.exit_code
    assert "run 'cotour build' first" in run.output
