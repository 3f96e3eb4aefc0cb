"""cotour import docx: Word documents -> notes that read like hand-written ones."""

import shutil
from datetime import datetime
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

import kb.importer as importer
from kb.cli import cli
from kb.importer import DocxError, ImportFailed, PandocMissingError, TargetExistsError, UnknownEventError, convert, import_docx
from kb.pipeline import check

from conftest import MINI

pytestmark = pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed")

TITLE = "Tavolo 3 — Spazi e welfare"
NOTE = "data/notes/parma-2015/tavolo-3-spazi-e-welfare.md"

# The same note, written by hand in the canonical Markdown the importer writes.
HAND_WRITTEN = """\
---
event: parma-2015
title: Tavolo 3 — Spazi e welfare
kind: tavolo
rapporteur: Giulia Neri
---
Il tavolo si è aperto con un giro di presentazioni, in un clima **disteso** e *partecipato*.

## Buone pratiche
- [[!Mosaico]] apre la sua sede alle associazioni del quartiere, **con successo**. #spazi-condivisi
  - Il venerdì la sala è gestita da [[orti-ribelli|gli Orti]].
- Le cooperative sociali fanno rete sul *welfare di comunità*. #welfare-di-comunita

## Problems
1. Mancano spazi a costi accessibili per chi comincia.
2. Il [[!kilowatt]] segnala che il credito cooperativo non conosce le startup. #finanza-mutualistica

### Una nota a margine
Se ne riparlerà alla prossima tappa.

## Minacce
1. [[!Orti Ribelli APS]] teme che i bandi premino solo chi ha già un bilancio.

## Opportunities
- Mappare i locali sfitti insieme a Kilowatt.

## Clima dell'incontro
Chi c'era:
"""


def make_docx(path, bold_heading=True, title=TITLE, author="Giulia Neri"):
    """The Word version of HAND_WRITTEN, as a facilitator would type it."""
    doc = docx.Document()
    doc.core_properties.title = title
    doc.core_properties.author = author
    doc.core_properties.created = datetime(2015, 12, 11, 9, 30)
    p = doc.add_paragraph("Il tavolo si è aperto con un giro di presentazioni, in un clima ")
    p.add_run("disteso").bold = True
    p.add_run(" e ")
    p.add_run("partecipato").italic = True
    p.add_run(".")

    doc.add_heading("Buone pratiche", 1)
    p = doc.add_paragraph("[[!Mosaico]] apre la sua sede alle associazioni del quartiere, ",
                          style="List Bullet")
    p.add_run("con successo").bold = True
    p.add_run(". #spazi-condivisi")
    doc.add_paragraph("Il venerdì la sala è gestita da [[orti-ribelli|gli Orti]].", style="List Bullet 2")
    p = doc.add_paragraph("Le cooperative sociali fanno rete sul ", style="List Bullet")
    p.add_run("welfare di comunità").italic = True
    p.add_run(". #welfare-di-comunita")

    doc.add_heading("Problems", 1)
    doc.add_paragraph("Mancano spazi a costi accessibili per chi comincia.", style="List Number")
    doc.add_paragraph("Il [[!kilowatt]] segnala che il credito cooperativo non conosce le startup. "
                      "#finanza-mutualistica", style="List Number")
    doc.add_heading("Una nota a margine", 2)
    doc.add_paragraph("Se ne riparlerà alla prossima tappa.")

    if bold_heading:  # typed as bold text, not with the Heading style
        doc.add_paragraph().add_run("Minacce").bold = True
    else:
        doc.add_heading("Minacce", 1)
    doc.add_paragraph("[[!Orti Ribelli APS]] teme che i bandi premino solo chi ha già un bilancio.",
                      style="List Number")

    doc.add_heading("Opportunities", 1)
    doc.add_paragraph("Mappare i locali sfitti insieme a Kilowatt.", style="List Bullet")

    doc.add_heading("Clima dell'incontro", 1)
    doc.add_paragraph("Chi c'era:")
    table = doc.add_table(rows=3, cols=2)
    for r, row in enumerate([("Organizzazione", "Persone"), ("Kilowatt", "2"), ("Il Mosaico", "3")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    doc.save(path)
    return path


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A copy of the mini fixture as ./data, the working folder being tmp_path."""
    shutil.copytree(MINI, tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    return Path("data")


@pytest.fixture
def word(tmp_path):
    return make_docx(tmp_path / "tavolo 3.docx")


def findings_of(data_dir, rel_path):
    result = check(data_dir)
    return [(f["kind"], f["text"]) for f in result.model["findings"] if f["source_path"] == rel_path]


EXPECTED_NOTE = """\
---
event: parma-2015
title: Tavolo 3 — Spazi e welfare
kind: tavolo
rapporteur: Giulia Neri
visibility: public
---
Il tavolo si è aperto con un giro di presentazioni, in un clima **disteso** e *partecipato*.

## Buone pratiche

- [[!Mosaico]] apre la sua sede alle associazioni del quartiere, **con successo**. #spazi-condivisi
  - Il venerdì la sala è gestita da [[orti-ribelli|gli Orti]].
- Le cooperative sociali fanno rete sul *welfare di comunità*. #welfare-di-comunita

## Problems

1. Mancano spazi a costi accessibili per chi comincia.
2. Il [[!kilowatt]] segnala che il credito cooperativo non conosce le startup. #finanza-mutualistica

### Una nota a margine

Se ne riparlerà alla prossima tappa.

## Minacce

3. [[!Orti Ribelli APS]] teme che i bandi premino solo chi ha già un bilancio.

## Opportunities

- Mappare i locali sfitti insieme a Kilowatt.

## Clima dell'incontro

Chi c'era:

| Organizzazione | Persone |
|---|---|
| Kilowatt | 2 |
| Il Mosaico | 3 |
"""


def test_the_note_as_written(data, word):
    """Headings, nested and numbered lists, bold, italics, #tags and [[mentions]] kept; the
    table as a pipe table; the author in the front matter only; Word's numbering kept (3.)."""
    [result] = import_docx([word], "parma-2015", data)
    assert data / "notes/parma-2015/tavolo-3-spazi-e-welfare.md" == result.path
    assert EXPECTED_NOTE == result.path.read_text()


def test_same_findings_as_the_hand_written_note(data, word, tmp_path):
    import_docx([word], "parma-2015", data)
    hand = tmp_path / "hand"
    shutil.copytree(MINI, hand)
    (hand / "notes/parma-2015/tavolo-3.md").write_text(HAND_WRITTEN)
    expected = findings_of(hand, "notes/parma-2015/tavolo-3.md")
    assert 6 == len(expected)
    assert expected == findings_of(data, "notes/parma-2015/tavolo-3-spazi-e-welfare.md")


def test_heading_style_and_bold_heading_give_the_same_findings(data, tmp_path):
    bold = make_docx(tmp_path / "bold.docx", bold_heading=True, title="Grassetto")
    styled = make_docx(tmp_path / "styled.docx", bold_heading=False, title="Stile")
    import_docx([bold, styled], "parma-2015", data)
    assert (findings_of(data, "notes/parma-2015/stile.md")
            == findings_of(data, "notes/parma-2015/grassetto.md"))


def test_bold_paragraph_heading_is_a_clear_warning(data, word):
    [result] = import_docx([word], "parma-2015", data)
    assert [
        f"{NOTE}:25: warning: bold paragraph 'Minacce' is not a Word heading: imported as the "
        "section heading '## Minacce' (it looks like the finding heading 'Minacce'); in Word, "
        "give it a Heading style",
    ] == [str(d) for d in result.diagnostics]
    assert {"threat": 1} == {k: n for k, n in result.findings.items() if k == "threat"}


def test_near_miss_bold_heading_keeps_its_text_and_check_suggests(data, tmp_path):
    doc = docx.Document()
    doc.add_paragraph().add_run("Minaccie:").bold = True
    doc.add_paragraph("Bandi solo per chi ha già un bilancio.", style="List Bullet")
    doc.save(tmp_path / "refuso.docx")
    [result] = import_docx([tmp_path / "refuso.docx"], "parma-2015", data)
    body = result.path.read_text().split("---\n")[-1]
    assert "## Minaccie:\n\n- Bandi solo per chi ha già un bilancio.\n" == body
    assert [
        "the document has no title (neither a Title paragraph nor one in File > Info): the "
        "file's name is used",
        "bold paragraph 'Minaccie:' is not a Word heading: imported as the section heading "
        "'## Minaccie:' (it looks like the finding heading 'Minacce'); in Word, give it a Heading style",
        "heading 'Minaccie:' is not a finding section; did you mean 'Minacce'? its items are kept as narrative",
    ] == [d.message for d in result.diagnostics]
    assert [3, 7, 7] == [d.line for d in result.diagnostics]
    assert "data/notes/parma-2015/refuso.md" == str(result.path)  # no title: the file's name


def test_bold_paragraph_inside_a_section_warns(data, tmp_path):
    doc = docx.Document()
    doc.core_properties.title = "Sottotitoli"
    doc.add_heading("Problemi", 1)
    doc.add_paragraph("Pochi spazi.", style="List Bullet")
    doc.add_paragraph().add_run("Altri temi").bold = True
    doc.add_paragraph("Orari scomodi.", style="List Bullet")
    doc.save(tmp_path / "sotto.docx")
    [result] = import_docx([tmp_path / "sotto.docx"], "parma-2015", data)
    assert [
        "bold paragraph 'Altri temi' inside the section 'Problemi': the list under it is read as "
        "Problemi; if it opens a new section, give it a Heading style in Word",
    ] == [d.message for d in result.warnings]
    assert {"problem": 2} == result.findings


@pytest.mark.parametrize("levels, expected", [
    ((1, 2), ["## Buone pratiche", "### Dettagli"]),        # Heading 1 sections
    ((2, 3), ["## Buone pratiche", "### Dettagli"]),        # Heading 2 sections
])
def test_section_headings_become_level_two(data, tmp_path, levels, expected):
    doc = docx.Document()
    doc.core_properties.title = f"Livelli {levels[0]}"
    doc.add_heading("Buone pratiche", levels[0])
    doc.add_paragraph("Una pratica.", style="List Bullet")
    doc.add_heading("Dettagli", levels[1])
    doc.save(tmp_path / "livelli.docx")
    [result] = import_docx([tmp_path / "livelli.docx"], "parma-2015", data)
    assert expected == [line for line in result.path.read_text().splitlines() if line.startswith("#")]
    assert {"practice": 1} == result.findings


def test_title_heading_above_the_sections_stays_a_heading(data, tmp_path):
    doc = docx.Document()
    doc.add_heading("Tavolo sulla montagna", 1)
    doc.add_heading("Proposte", 2)
    doc.add_paragraph("Una cooperativa di comunità.", style="List Number")
    doc.save(tmp_path / "montagna.docx")
    [result] = import_docx([tmp_path / "montagna.docx"], "parma-2015", data)
    body = result.path.read_text().split("---\n")[-1]
    assert "# Tavolo sulla montagna\n\n## Proposte\n\n1. Una cooperativa di comunità.\n" == body
    assert {"proposal": 1} == result.findings


def test_summary_of_what_was_recognised(data, word):
    [result] = import_docx([word], "parma-2015", data)
    assert {"practice": 2, "problem": 2, "opportunity": 1, "threat": 1} == result.findings
    assert {"il-mosaico": "source", "orti-ribelli": "source", "kilowatt": "source"} == result.mentions
    assert [("kilowatt", 31), ("il-mosaico", 40)] == result.possible_mentions
    assert [] == result.errors


def test_unknown_organisation_is_reported_with_its_suggestion(data, tmp_path):
    doc = docx.Document()
    doc.core_properties.title = "Refusi"
    doc.add_heading("Sinergie", 1)
    doc.add_paragraph("[[Kilowat]] e [[Mosaico]] lavorano insieme.", style="List Bullet")
    doc.save(tmp_path / "refusi.docx")
    [result] = import_docx([tmp_path / "refusi.docx"], "parma-2015", data)
    assert ["data/notes/parma-2015/refusi.md:9: error: unknown organisation 'Kilowat'; "
            "did you mean 'kilowatt'?"] == [str(d) for d in result.unresolved]
    assert {"il-mosaico": "mentioned"} == result.mentions


def test_an_existing_note_is_never_overwritten(data, word):
    target = data / "notes/parma-2015/tavolo-3-spazi-e-welfare.md"
    target.write_text("scritta a mano\n")
    [result] = import_docx([word], "parma-2015", data)
    assert isinstance(result.error, TargetExistsError)
    assert None is result.path
    assert "scritta a mano\n" == target.read_text()
    # nor a note given with --out
    [result] = import_docx([word], "parma-2015", data, out=data / "notes/parma-2015/tavolo-1.md")
    assert isinstance(result.error, TargetExistsError)
    original = (MINI / "notes/parma-2015/tavolo-1.md").read_text()
    assert original == (data / "notes/parma-2015/tavolo-1.md").read_text()


def test_unknown_event_is_a_clear_error(data, word):
    with pytest.raises(UnknownEventError, match=r"^unknown event 'parma-2051'; did you mean 'parma-2015'\?$"):
        import_docx([word], "parma-2051", data)
    with pytest.raises(UnknownEventError, match=r"known events: parma-2015, bologna-2015, finale-2016"):
        import_docx([word], "xyz", data)
    assert [] == list((data / "notes").glob("*/tavolo-3*"))


def test_pandoc_missing_says_how_to_install(data, word, monkeypatch):
    monkeypatch.setattr(importer.shutil, "which", lambda name: None)
    with pytest.raises(PandocMissingError, match="sudo apt-get install pandoc"):
        import_docx([word], "parma-2015", data)


def test_unreadable_docx(data, tmp_path):
    bad = tmp_path / "vecchio.docx"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(DocxError, match=r"vecchio.docx: not a readable Word document .*save it "
                                        r"from Word as .docx"):
        convert(bad)
    [result] = import_docx([bad], "parma-2015", data)
    assert isinstance(result.error, DocxError)


def test_several_files_report_progress(data, tmp_path):
    files = [make_docx(tmp_path / f"{n}.docx", title=f"Tavolo {n}") for n in (5, 6)]
    calls = []
    results = import_docx(files, "parma-2015", data, kind="plenaria",
                          progress=lambda label, done, total: calls.append((label, done, total)))
    assert [("importazione", 0, 2), ("importazione", 1, 2), ("importazione", 2, 2),
            ("controllo", 0, 1), ("controllo", 1, 1)] == calls
    assert ["tavolo-5.md", "tavolo-6.md"] == [r.path.name for r in results]
    assert ["plenaria", "plenaria"] == [r.meta["kind"] for r in results]
    with pytest.raises(ImportFailed, match="--out names one note file"):
        import_docx(files, "parma-2015", data, out=tmp_path / "one.md")


def test_out_outside_data_is_checked_too(data, word, tmp_path):
    [result] = import_docx([word], "parma-2015", data, out=tmp_path / "bozza.md",
                           visibility="internal")
    assert tmp_path / "bozza.md" == result.path
    assert "internal" == result.meta["visibility"]
    assert {"practice": 2, "problem": 2, "opportunity": 1, "threat": 1} == result.findings


def test_author_is_personal_data_never_text(data, word):
    [result] = import_docx([word], "parma-2015", data)
    front, body = result.path.read_text().split("---\n")[1:]
    assert "rapporteur: Giulia Neri\n" in front
    assert "Giulia" not in body


def test_generic_author_is_not_a_rapporteur(data, tmp_path):
    make_docx(tmp_path / "x.docx", author="python-docx")
    [result] = import_docx([tmp_path / "x.docx"], "parma-2015", data)
    assert "rapporteur" not in result.meta


# --------------------------------------------------------------------------- what Word keeps aside

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def reviewed_docx(path: Path) -> Path:
    """A note under review: a tracked insertion, deletion and move, a comment, an embedded
    picture, a picture linked to a file on the author's disk (DrawingML r:link) and one linked
    by an INCLUDEPICTURE field. The changes and the comment carry their authors' names."""
    import copy
    import io

    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn
    from docx.oxml import parse_xml
    from PIL import Image

    doc = docx.Document()
    doc.core_properties.title = "Tavolo 4 — Revisione"
    doc.core_properties.author = "Giulia Neri"
    p = doc.add_paragraph("Il tavolo ha discusso ")
    p._p.append(parse_xml(f'<w:ins {W} w:id="1" w:author="Ermes Pelagatti" w:date="2015-12-10T10:00:00Z">'
                          '<w:r><w:t xml:space="preserve">di spazi condivisi </w:t></w:r></w:ins>'))
    p._p.append(parse_xml(f'<w:del {W} w:id="2" w:author="Ermes Pelagatti" w:date="2015-12-10T10:00:00Z">'
                          '<w:r><w:delText>e di cose riservate</w:delText></w:r></w:del>'))
    p._p.append(parse_xml(f'<w:moveTo {W} w:id="3" w:author="Anna Verdi"><w:r><w:t> a lungo</w:t></w:r></w:moveTo>'))
    run = doc.add_paragraph("Clima disteso.").runs[0]
    doc.add_comment(run, text="Chiedere a Pelagatti se si può citare", author="Anna Verdi",
                    initials="AV")
    picture = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(picture, "PNG")
    picture.seek(0)
    doc.add_picture(picture)
    drawing = doc.paragraphs[-1]._p.xpath(".//w:drawing")[0]
    linked = copy.deepcopy(drawing)
    blip = linked.xpath(".//a:blip")[0]
    del blip.attrib[qn("r:embed")]
    blip.set(qn("r:link"), doc.part.relate_to("file:///C:/Users/ermes/Foto%20tavolo.jpg",
                                              RT.IMAGE, is_external=True))
    doc.add_paragraph().add_run()._r.append(linked)
    field = doc.add_paragraph()._p
    for xml in ('<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
                '<w:r><w:instrText xml:space="preserve"> INCLUDEPICTURE  "C:\\\\Users\\\\ermes\\\\'
                'mappa.png" \\* MERGEFORMATINET </w:instrText></w:r>',
                '<w:r><w:fldChar w:fldCharType="end"/></w:r>'):
        field.append(parse_xml(xml.replace("<w:r>", f"<w:r {W}>", 1)))
    doc.save(path)
    return path


def test_changes_comments_and_linked_images_are_said(data, tmp_path):
    """Tracked changes are imported as accepted, comments are not imported, and each is
    said; so is every picture, embedded or linked, that the note leaves out. No name of a
    change's or comment's author reaches the note."""
    [result] = import_docx([reviewed_docx(tmp_path / "revisione.docx")], "parma-2015", data)
    note = result.path.read_text()
    assert ("Il tavolo ha discusso di spazi condivisi a lungo\n\nClima disteso.\n"
            == note.split("---\n", 2)[2])
    assert "Pelagatti" not in note and "Verdi" not in note and "riservate" not in note
    path = "data/notes/parma-2015/tavolo-4-revisione.md"
    assert [
        f"{path}:1: warning: image 'Foto tavolo.jpg' is linked to the Word document, not "
        "embedded in it: left out of the note (put it in data/assets/ if the report needs it)",
        f"{path}:1: warning: image 'image1.png' of the Word document could not be kept in "
        "the note: copy it by hand if it matters",
        f"{path}:1: warning: image 'mappa.png' is linked to the Word document, not embedded in "
        "it: left out of the note (put it in data/assets/ if the report needs it)",
        f"{path}:1: warning: the Word document has 1 comment: comments and their authors are "
        "not imported; move what matters into the text, delete them in Word and import again",
        f"{path}:1: warning: the Word document has 3 tracked changes not yet accepted or "
        "rejected: imported as if all were accepted (deleted text left out, who made each "
        "change not kept); accept or reject them in Word (Revisione) and import again, so the "
        "note says what its authors agreed",
    ] == [str(d) for d in result.diagnostics]


def test_a_clean_document_has_no_review_warning(data, word):
    [result] = import_docx([word], "parma-2015", data)
    assert [] == [d for d in result.diagnostics if "tracked" in d.message
                  or "comment" in d.message or "linked" in d.message]


# --------------------------------------------------------------------------- the command


def test_cli_output(data, word):
    result = CliRunner().invoke(cli, ["import", "docx", str(word), "--event", "parma-2015"])
    assert 0 == result.exit_code, result.output
    assert (
        f"{word} -> {NOTE}\n"
        "  Tavolo 3 — Spazi e welfare · tavolo · public · rapporteur: Giulia Neri (personal, never published)\n"
        "  findings: 2 practice, 2 problem, 1 opportunity, 1 threat\n"
        "  mentions: il-mosaico (source), orti-ribelli (source), kilowatt (source)\n"
        "  named without [[ ]]: kilowatt (line 31), il-mosaico (line 40)\n"
        "1 of 1 document imported; 0 errors, 1 warning in the new notes; fix them, then run 'cotour check'\n"
    ) == result.stdout
    assert (
        f"{NOTE}:25: warning: bold paragraph 'Minacce' is not a Word heading: imported as the "
        "section heading '## Minacce' (it looks like the finding heading 'Minacce'); in Word, "
        "give it a Heading style\n"
    ) == result.stderr
    # Importing again never overwrites: an error, and a non-zero exit.
    again = CliRunner().invoke(cli, ["import", "docx", str(word), "--event", "parma-2015"])
    assert 1 == again.exit_code
    assert (
        f"{word}: error: {NOTE} already exists: a note is never overwritten; rename or remove it, "
        "or choose another file with --out\n"
        "Error: 0 of 1 document imported; 0 errors, 0 warnings in the new notes\n"
    ) == again.stderr


def test_cli_unknown_event(data, word):
    result = CliRunner().invoke(cli, ["import", "docx", str(word), "--event", "parma-2051"])
    assert 1 == result.exit_code
    assert "Error: unknown event 'parma-2051'; did you mean 'parma-2015'?\n" == result.stderr


def test_cli_help():
    result = CliRunner().invoke(cli, ["import", "docx", "--help"])
    assert 0 == result.exit_code
    for option in ("--event", "--kind", "--visibility", "--data", "--out"):
        assert option in result.output
