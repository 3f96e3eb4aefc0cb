"""The report's editable editions: write the real ODT and DOCX, read them back with odfpy and
python-docx, and open them in headless LibreOffice."""

import base64
import html
import io
import re
import shutil
import sqlite3
import subprocess
import uuid
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from odf import dc, draw, meta, table, teletype, text
from odf.namespaces import SVGNS, TABLENS, XLINKNS
from odf.opendocument import load
from PIL import Image
from pypdf import PdfReader

from kb.report.editions import EditionsError, write_editions
from kb.report import report_data, write_report
from kb.report.render import render_editable

from conftest import MINI

PERSONAL_NAMES = ["Maria Rossi", "Luca Bianchi", "Anna Verdi"]
INTERNAL = ["Debriefing dello staff", "Segreto interno", "Troppi interventi lunghi"]
ROWS = "https://dati.example.org/cotour/cotour/findings"  # the mini project's base_url + table


@pytest.fixture(scope="module")
def editions(mini_build, tmp_path_factory):
    kb_path, public_path = mini_build
    out = tmp_path_factory.mktemp("editions") / "cotour-report.pdf"
    result = write_report(kb_path, out, data_dir=MINI)
    odt, docx_path = result.edition_paths
    data, _ = report_data(kb_path, MINI)
    return result, odt, docx_path, render_editable(data), public_path


def pdf_outline(path) -> list[tuple[int, str]]:
    found = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                found.append((level, " ".join(item.title.split())))
    walk(PdfReader(path).outline, 1)
    return found


def as_outline(headings: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Heading levels -> depths in an outline, as PDF viewers, Word's navigation pane and
    LibreOffice's navigator nest them (an h5 right under an h3 sits one step below it)."""
    open_levels: list[int] = []
    nested = []
    for level, title in headings:
        while open_levels and open_levels[-1] >= level:
            open_levels.pop()
        open_levels.append(level)
        nested.append((len(open_levels), title))
    return nested


def html_headings(source: str) -> list[tuple[int, str]]:
    found = re.findall(r"<h([1-6])\b[^>]*>(.*?)</h\1>", source, re.S)
    return [(int(level), " ".join(html.unescape(re.sub(r"<[^>]+>", "", inner)).split()))
            for level, inner in found]


def docx_headings(path) -> list[tuple[int, str]]:
    """Every heading in reading order, those inside content controls (the contents') too."""
    from docx.text.paragraph import Paragraph

    document = docx.Document(path)
    paragraphs = (Paragraph(p, document.part) for p in document.element.body.iter(qn("w:p")))
    return [(int(p.style.name.removeprefix("Heading ")), " ".join(p.text.split()))
            for p in paragraphs if p.style.name.startswith("Heading ")]


def odt_headings(path) -> list[tuple[int, str]]:
    return [(int(h.getAttribute("outlinelevel")), " ".join(teletype.extractText(h).split()))
            for h in load(str(path)).getElementsByType(text.H)]


def docx_links(path) -> dict[str, str]:
    """Link text -> target, for every external link of the document."""
    document = docx.Document(path)
    rels = document.part.rels
    links = [link for link in document.element.body.iter(qn("w:hyperlink")) if link.get(qn("r:id"))]
    return {"".join(t.text or "" for t in link.iter(qn("w:t"))):
            rels[link.get(qn("r:id"))].target_ref for link in links}


def odt_links(path) -> dict[str, str]:
    return {teletype.extractText(a): a.getAttrNS(XLINKNS, "href")
            for a in load(str(path)).getElementsByType(text.A)}


def html_tables(source: str) -> int:
    return len(re.findall(r"<table\b", source))


def html_alts(source: str) -> list[str]:
    return [html.unescape(m.group(1)) if (m := re.search(r'\balt="([^"]*)"', tag)) else ""
            for tag in re.findall(r"<img\b[^>]*>", source)]


def all_text(path) -> str:
    """Every XML part of the package, as text (properties and styles included)."""
    with zipfile.ZipFile(path) as package:
        return "\n".join(package.read(n).decode("utf-8") for n in package.namelist()
                         if n.endswith((".xml", ".rels", ".rdf")))


# ---- the files


def test_written_beside_the_pdf(editions):
    result, odt, docx_path, _, _ = editions
    assert [result.pdf_path.with_suffix(".odt"), result.pdf_path.with_suffix(".docx")] \
        == result.edition_paths
    with zipfile.ZipFile(odt) as package:
        assert "mimetype" == package.namelist()[0]
        assert b"application/vnd.oasis.opendocument.text" == package.read("mimetype")
    with zipfile.ZipFile(docx_path) as package:
        assert "word/document.xml" in package.namelist()


def test_headings_and_levels_match_the_pdf_outline(editions):
    result, odt, docx_path, source, _ = editions
    outline = pdf_outline(result.pdf_path)
    assert (1, "Indice") == outline[0] and len(outline) > 10
    levels = html_headings(source)
    assert {1, 2, 3} <= {level for level, _ in levels} and max(levels)[0] >= 4  # a note's own
    assert levels == docx_headings(docx_path)
    assert levels == odt_headings(odt)
    assert outline == as_outline(docx_headings(docx_path))
    assert outline == as_outline(odt_headings(odt))


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def test_every_word_of_the_report_reaches_both(editions):
    """Nothing dropped on the way (pandoc once turned a table into loose paragraphs, and its
    ODT writer drops row headers and totals): every word of the HTML is in each document."""
    from lxml import html as lxml_html
    _, odt, docx_path, source, _ = editions
    body = lxml_html.document_fromstring(source).body
    expected = words(" ".join(body.itertext()))
    assert len(expected) > 300
    with zipfile.ZipFile(docx_path) as package:
        docx_words = words(" ".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>",
                                               package.read("word/document.xml").decode())))
    document = load(str(odt))
    odt_words = words(" ".join(teletype.extractText(p) for kind in (text.P, text.H)
                               for p in document.getElementsByType(kind)))
    assert set() == expected - docx_words
    assert set() == expected - odt_words


def test_every_finding_id_links_to_its_row(editions):
    _, odt, docx_path, _, public_path = editions
    conn = sqlite3.connect(public_path)
    ids = [row[0] for row in conn.execute("select id from findings order by id")]
    conn.close()
    assert len(ids) > 5
    expected = {i: f"{ROWS}/{i}" for i in ids}
    for links in (docx_links(docx_path), odt_links(odt)):
        assert expected == {i: links.get(i) for i in ids}


def test_contents_link_to_the_chapters(editions):
    _, odt, docx_path, _, _ = editions
    document = docx.Document(docx_path)
    body = document.element.body
    anchors = {link.get(qn("w:anchor")) for link in body.iter(qn("w:hyperlink"))}
    bookmarks = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    assert {"progetto", "mappatura", "tour", "sintesi", "organizzazioni"} <= anchors
    assert anchors - {None} <= bookmarks
    odt_targets = {v for v in odt_links(odt).values() if v.startswith("#")}
    assert {"#progetto", "#tour", "#sintesi"} <= odt_targets


def test_findings_stay_in_their_lists_and_links_to_them_land(editions):
    """An id on a finding made pandoc write an ODT section inside a list item, which
    LibreOffice drops with the finding: the ids become bookmarks."""
    _, odt, docx_path, source, _ = editions
    findings = set(re.findall(r'<li class="finding" id="([^"]+)"', source))
    assert len(findings) > 5
    targets = findings | set(re.findall(r'href="#([^"]+)"', source))
    with zipfile.ZipFile(odt) as package:
        content = package.read("content.xml").decode("utf-8")
    assert "<text:section" not in content
    marks = set(re.findall(r'<text:bookmark(?:-start)? text:name="([^"]+)"', content))
    assert set() == targets - marks
    body = docx.Document(docx_path).element.body
    assert set() == targets - {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}


# ---- tables and images


def test_tables_are_tables_with_a_repeating_header_row(editions):
    _, odt, docx_path, source, _ = editions
    expected = html_tables(source)
    assert expected >= 5
    tables = docx.Document(docx_path).tables
    assert expected == len(tables)
    for t in tables:
        header = t.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}")
        assert header is not None
    odt_tables = load(str(odt)).getElementsByType(table.Table)
    assert expected == len(odt_tables)
    for t in odt_tables:
        heads = [c for c in t.childNodes
                 if getattr(c, "qname", None) == (TABLENS, "table-header-rows")]
        assert 1 == len(heads)
    with zipfile.ZipFile(odt) as package:  # with the reference document's rules, not pandoc's none
        content = package.read("content.xml").decode("utf-8")
    for name in ("TableHeaderRowCell", "TableRowCell"):
        cell = re.search(rf'<style:style[^>]*style:name="{name}".*?</style:style>', content, re.S)
        assert "fo:border-bottom=" in cell.group(0), name


def test_row_headers_and_totals_survive_in_both(editions):
    """pandoc 2.17's ODT writer drops <th scope="row"> cells and <tfoot> rows (editions.lua)."""
    _, odt, docx_path, _, _ = editions
    odt_text = "\n".join(teletype.extractText(c)
                         for c in load(str(odt)).getElementsByType(table.TableCell))
    docx_text = "\n".join(c.text for t in docx.Document(docx_path).tables
                          for row in t.rows for c in row.cells)
    for words in ("Totale degli incontri svolti", "Buone pratiche", "Kilowatt Soc. Coop"):
        assert words in docx_text
        assert words in odt_text


def test_a_findings_themes_are_in_its_line_of_plain_words(editions):
    # a finding's themes follow its text in the line that says who raised it (FindingMeta)
    _, odt, docx_path, source, _ = editions
    metas = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", m)).split())
             for m in re.findall(r'<p class="finding-meta">(.*?)</p>', source, re.S)]
    themes = [re.search(r"Temi: (.*?) ·", m).group(1) for m in metas if "Temi: " in m]
    assert themes
    document = docx.Document(docx_path)
    in_docx = [" ".join(p.text.split()) for p in document.paragraphs
               if p.style is not None and p.style.name == "FindingMeta"]
    in_odt = [" ".join(teletype.extractText(p).split())
              for p in load(str(odt)).getElementsByType(text.P)
              if "FindingMeta" in (p.getAttribute("stylename") or "")]
    for shown in (in_docx, in_odt):
        assert sorted(themes) == sorted(re.search(r"Temi: (.*?) ·", m).group(1)
                                        for m in shown if "Temi: " in m)


def test_images_carry_their_alt_text(editions):
    _, odt, docx_path, source, _ = editions
    alts = html_alts(source)
    assert len([a for a in alts if a]) >= 3
    document = docx.Document(docx_path)
    assert alts == [shape._inline.docPr.get("descr") for shape in document.inline_shapes]
    frames = [f for f in load(str(odt)).getElementsByType(draw.Frame)
              if f.getElementsByType(draw.Image)]
    titles = [next((teletype.extractText(c) for c in f.childNodes
                    if getattr(c, "qname", None) == (SVGNS, "title")), "") for f in frames]
    assert alts == titles


def test_charts_are_png_at_print_resolution(editions):
    _, _, docx_path, _, _ = editions
    document = docx.Document(docx_path)
    charts = [s for s in document.inline_shapes if s._inline.docPr.get("descr")]
    assert charts
    for shape in charts:
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        image = Image.open(io.BytesIO(document.part.related_parts[blip.embed].blob))
        assert "PNG" == image.format
        inches = shape.width / 914400  # a figure wider than the page is shown smaller
        assert 300 <= round(image.width / inches), image.width / inches


# ---- properties, footer, privacy, determinism


def test_title_authors_language_and_keywords_in_the_properties(editions):
    _, odt, docx_path, _, _ = editions
    title = "Co?Tour – Viaggio nella nuova mutualità"
    authors = "Confcooperative Emilia Romagna; Irecoop Emilia Romagna; Kilowatt Soc. Coop"
    props = docx.Document(docx_path).core_properties
    assert (title, authors, "it-IT", "mutualità, cooperazione") \
        == (props.title, props.author, props.language, props.keywords)
    assert "2016-03-31T00:00:00+00:00" == props.created.isoformat()
    document = load(str(odt))

    def field(element):
        return [teletype.extractText(e) for e in document.meta.getElementsByType(element)]
    assert ([title], [authors], ["it-IT"], ["mutualità, cooperazione"],
            ["2016-03-31T00:00:00Z"]) == (field(dc.Title), field(meta.InitialCreator),
                                          field(dc.Language), field(meta.Keyword),
                                          field(meta.CreationDate))


def test_page_numbers_in_the_footer(editions):
    _, odt, docx_path, _, _ = editions
    footer = docx.Document(docx_path).sections[0].footer
    instructions = [i.text.strip() for i in footer._element.iter(qn("w:instrText"))]
    assert ["PAGE", "NUMPAGES"] == instructions
    with zipfile.ZipFile(odt) as package:
        styles = package.read("styles.xml").decode("utf-8")
    footer = re.search(r"<style:footer>.*?</style:footer>", styles, re.S).group(0)
    assert "<text:page-number" in footer and "<text:page-count" in footer


def test_no_personal_name_or_internal_note(editions):
    _, odt, docx_path, _, _ = editions
    for path in (odt, docx_path):
        everything = all_text(path)
        for name in PERSONAL_NAMES + INTERNAL:
            assert name not in everything, (path.name, name)


def test_same_database_same_bytes(mini_build, editions, tmp_path):
    _, odt, docx_path, _, _ = editions
    again = write_report(mini_build[0], tmp_path / "again.pdf", data_dir=MINI)
    assert odt.read_bytes() == again.edition_paths[0].read_bytes()
    assert docx_path.read_bytes() == again.edition_paths[1].read_bytes()


def test_a_missing_tool_leaves_the_previous_editions(editions, tmp_path, monkeypatch):
    _, odt, docx_path, source, _ = editions
    old_odt, old_docx = tmp_path / "r.odt", tmp_path / "r.docx"
    old_odt.write_bytes(b"previous"), old_docx.write_bytes(b"previous")
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "rsvg-convert"
                        else real_which(tool))
    with pytest.raises(EditionsError, match="librsvg2-bin"):
        write_editions(source, old_odt, old_docx, title="t", authors=["a"])
    assert b"previous" == old_odt.read_bytes() == old_docx.read_bytes()


def test_contents_left_to_the_word_processor_when_libreoffice_takes_too_long(
        editions, tmp_path, monkeypatch):
    # past its time LibreOffice is ended whole (it went on laying out on its own), and the
    # editions are written with their contents empty and a warning saying so
    from kb.report import contents

    _, odt, docx_path, source, _ = editions
    monkeypatch.setattr(contents, "LAYOUT_SECONDS", 0.5)
    before = set(_office_processes())
    warnings = write_editions(source, tmp_path / "r.odt", tmp_path / "r.docx", title="t",
                              authors=["a"])
    assert 1 == len(warnings) and "more than 0.5 s" in warnings[0], warnings
    assert "Aggiorna indice" in warnings[0]
    assert (tmp_path / "r.odt").stat().st_size and (tmp_path / "r.docx").stat().st_size
    entries = [p for p in docx.Document(tmp_path / "r.docx").paragraphs
               if p.style is not None and p.style.name.startswith("TOC")]
    assert [] == entries
    assert set() == set(_office_processes()) - before


def _office_processes() -> list[int]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if b"soffice" in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def test_a_broken_chart_is_an_error_and_nothing_is_written(tmp_path):
    svg = base64.b64encode(b"<svg><rect").decode()
    broken = f'<p><img src="data:image/svg+xml;base64,{svg}" alt="x"></p>'
    with pytest.raises(EditionsError, match="rsvg-convert could not convert a chart"):
        write_editions(broken, tmp_path / "r.odt", tmp_path / "r.docx", title="t", authors=["a"])
    assert [] == list(tmp_path.iterdir())


# ---- LibreOffice opens them


def test_libreoffice_opens_both_with_the_chapters_in_the_navigator(editions, tmp_path):
    result, odt, docx_path, _, public_path = editions
    conn = sqlite3.connect(public_path)
    ids = [row[0] for row in conn.execute("select id from findings order by id")]
    conn.close()
    shutil.copy(odt, tmp_path / "from-odt.odt")
    shutil.copy(docx_path, tmp_path / "from-docx.docx")
    profile = f"file:///tmp/lo-editions-test-{uuid.uuid4().hex}"
    try:
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation={profile}",
                        "--convert-to", "pdf", "--outdir", str(tmp_path),
                        str(tmp_path / "from-odt.odt"), str(tmp_path / "from-docx.docx")],
                       check=True, capture_output=True, timeout=240)
    finally:
        shutil.rmtree(profile.removeprefix("file://"), ignore_errors=True)
    outline = pdf_outline(result.pdf_path)
    for name in ("from-odt.pdf", "from-docx.pdf"):
        converted = tmp_path / name
        # LibreOffice exports its navigator's headings as the PDF's bookmarks
        assert outline == pdf_outline(converted), name
        pages = [p.extract_text() for p in PdfReader(converted).pages]
        assert len(pages) >= 10
        assert re.search(r"pagina 2 di \d+", pages[1]), name
        shown = " ".join(pages)  # what LibreOffice lays out, not only what the file holds
        assert [] == [i for i in ids if i not in shown], name
        # the contents: every chapter listed, each entry with the page LibreOffice lays its
        # heading on (pandoc writes no page numbers; kb.report.contents fills them)
        flat = [" ".join(page.split()) for page in pages]
        entries = [(" ".join(m[1].split()), int(m[2])) for page in pages[:8]
                   for m in re.finditer(r"(?m)^(\S.*?)\s?\.{4,}\s*(\d+)\s*$", page)]
        titles = {title for title, _ in entries}
        numbered = [" ".join(t.split()) for level, t in outline if level == 1 and t[:1].isdigit()]
        assert len(numbered) >= 5 and [] == [t for t in numbered if t not in titles], name
        assert [] == [(t, n) for t, n in entries if t not in flat[n - 1]], name


# The synthesis' cross table of the sample, as the template writes it for the editable editions:
# ten narrow columns of city names, where Word and LibreOffice split a word that does not fit.
CROSS = ("<table><colgroup><col width=\"20%\">" + "<col width=\"8%\">" * 10 + "</colgroup><thead>"
         "<tr><th>Tipo</th>" + "".join(f"<th>{c}</th>" for c in (
             "Piacenza", "Reggio Emilia", "Modena", "Parma", "Ravenna", "Bologna", "Ferrara",
             "Forlì", "Bologna (finale)", "Totale")) + "</tr></thead><tbody>"
         "<tr><td>Soddisfazioni</td>" + "<td>1</td>" * 10 + "</tr></tbody></table>")


@pytest.mark.parametrize("kind", ["odt", "docx"])
def test_narrow_columns_keep_their_words_whole(tmp_path, kind):
    from kb.report.editions import FILTER, REFERENCE

    (tmp_path / "t.html").write_text(CROSS, encoding="utf-8")
    subprocess.run(["pandoc", "t.html", "--from", "html", "--to", kind, "--output", f"t.{kind}",
                    "--reference-doc", str(REFERENCE[kind]), "--lua-filter", str(FILTER)],
                   cwd=tmp_path, check=True, capture_output=True, timeout=60)
    profile = f"file:///tmp/lo-columns-test-{uuid.uuid4().hex}"
    try:
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation={profile}",
                        "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / f"t.{kind}")],
                       check=True, capture_output=True, timeout=240)
    finally:
        shutil.rmtree(profile.removeprefix("file://"), ignore_errors=True)
    laid_out = subprocess.run(["pdftotext", str(tmp_path / "t.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout.split()
    for word in ("Piacenza", "Reggio", "Emilia", "Modena", "Ravenna", "Bologna", "Ferrara",
                 "(finale)", "Totale", "Soddisfazioni"):
        assert word in laid_out, (kind, word, laid_out)
