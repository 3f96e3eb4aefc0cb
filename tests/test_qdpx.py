"""cotour export qdpx: the REFI-QDA project and codebook, validated against the official schemas."""

import shutil
import sqlite3
import unicodedata
import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, strategies as st
import xmlschema
from click.testing import CliRunner

from kb.cli import cli
from kb.pipeline import build
from kb.store.public import NotPublicError
from kb.release.check import check_release
from kb.release.publish import publish
from kb.export.qdpx import CASE_VARIABLES, CODEBOOK_SCHEMA, PROJECT_SCHEMA, SOURCE_VARIABLES, QdpxError, export_qdpx, source_form, source_text
from kb.outputs import BusyError, output_lock

from conftest import CANARIES, plant_canaries

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini"
P = "{urn:QDA-XML:project:1.0}"
C = "{urn:QDA-XML:codebook:1.0}"


# ---- reading an export back --------------------------------------------------------------------

class Project:
    """An exported .qdpx read back: the XML, the files of Sources/, and indexes by GUID."""

    def __init__(self, path: Path):
        with zipfile.ZipFile(path) as zf:
            self.names = zf.namelist()
            self.infos = zf.infolist()
            self.files = {n: zf.read(n) for n in self.names}
        self.xml = self.files["project.qde"]
        self.root = ET.fromstring(self.xml)
        self.by_guid = {}
        for el in self.root.iter():
            if el.get("guid"):
                self.by_guid.setdefault(el.get("guid"), []).append(el)

    def all(self, tag: str) -> list[ET.Element]:
        return list(self.root.iter(P + tag))

    def source_text(self, source: ET.Element) -> str:
        path = source.get("plainTextPath")
        assert path.startswith("internal://")
        return self.files["Sources/" + path.removeprefix("internal://")].decode("utf-8")

    def code_names(self, selection: ET.Element) -> list[str]:
        names = []
        for ref in selection.iter(P + "CodeRef"):
            names.append(self.by_guid[ref.get("targetGUID")][0].get("name"))
        return names

    def selections(self) -> dict[str, tuple[str, list[str]]]:
        """Selection name (the finding's id) -> (its text in the source, its codes' names)."""
        out = {}
        for source in self.all("TextSource"):
            text = self.source_text(source)
            for sel in source.iter(P + "PlainTextSelection"):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                out[sel.get("name")] = (text[start:end], self.code_names(sel))
        return out


def public_rows(public: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(public) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def mini_export(mini_build, tmp_path_factory):
    kb_path, _ = mini_build
    out = tmp_path_factory.mktemp("qdpx") / "cotour.qdpx"
    return export_qdpx(kb_path, out)


@pytest.fixture(scope="module")
def sample_export(sample_build, tmp_path_factory):
    kb_path, _ = sample_build
    return export_qdpx(kb_path, tmp_path_factory.mktemp("qdpx-sample") / "cotour.qdpx")


# ---- the notes' text and the spans, by hand ----------------------------------------------------

def test_source_text_puts_the_narrative_first_then_the_findings_under_their_kind():
    text, spans = source_text("Narrativa.\n\n## Clima\nDisteso.\n",
                              [("Problemi", "Uno.\nseconda riga"), ("Problemi", "Due."),
                               ("Minacce", "Tre.")])
    assert ("Narrativa.\n\n## Clima\nDisteso.\n"
            "\n## Problemi\n"
            "\n- Uno.\nseconda riga\n"
            "\n- Due.\n"
            "\n## Minacce\n"
            "\n- Tre.\n") == text
    # the narrative is 30 code points, "\n## Problemi\n" 13, "\n- " 3, "\n## Minacce\n" 12
    assert [(46, 63), (67, 71), (87, 91)] == spans
    assert ["Uno.\nseconda riga", "Due.", "Tre."] == [text[s:e] for s, e in spans]


def test_source_text_without_narrative_starts_with_the_first_heading():
    text, spans = source_text(None, [("Proposte", "Una.")])
    assert "## Proposte\n\n- Una.\n" == text
    assert [(15, 19)] == spans


def test_source_text_drops_a_bom_and_carriage_returns_and_composes_accents():
    nfd = unicodedata.normalize("NFD", "Città già più")
    text, spans = source_text("\ufeffPrima riga\r\nseconda\r", [("Opportunità", f"{nfd}\r\nfine")])
    assert "Prima riga\nseconda\n\n## Opportunità\n\n- Città già più\nfine\n" == text
    assert [(38, 56)] == spans
    assert "Città già più\nfine" == text[38:56]
    assert 18 == len("Città già più\nfine")  # code points of the NFC text, not bytes


# ---- validation against the official schemas ---------------------------------------------------

def test_the_vendored_schemas_are_the_official_ones():
    project = xmlschema.XMLSchema(str(PROJECT_SCHEMA))
    codebook = xmlschema.XMLSchema(str(CODEBOOK_SCHEMA))
    assert "urn:QDA-XML:project:1.0" == project.target_namespace
    assert "urn:QDA-XML:codebook:1.0" == codebook.target_namespace
    assert "Copyright 2019 REFI www.qdasoftware.org." in PROJECT_SCHEMA.read_text()
    assert "MIT" in (PROJECT_SCHEMA.parent / "README.md").read_text()


@pytest.mark.parametrize("which", ["mini_export", "sample_export"])
def test_project_and_codebook_validate_against_the_refi_qda_schemas(which, request):
    result = request.getfixturevalue(which)
    project = Project(result.qdpx_path)
    assert [] == [str(e) for e in xmlschema.XMLSchema(str(PROJECT_SCHEMA))
                  .iter_errors(project.xml.decode("utf-8"))]
    assert [] == [str(e) for e in xmlschema.XMLSchema(str(CODEBOOK_SCHEMA))
                  .iter_errors(result.qdc_path.read_text(encoding="utf-8"))]


def test_a_broken_project_does_not_validate(mini_export):
    """The validation can fail: a selection without its end is refused."""
    xml = Project(mini_export.qdpx_path).xml.decode("utf-8")
    broken = xml.replace('endPosition="', 'endPositio="', 1)
    assert list(xmlschema.XMLSchema(str(PROJECT_SCHEMA)).iter_errors(broken))


@pytest.mark.parametrize("which", ["mini_export", "sample_export"])
def test_every_reference_points_to_an_element_of_the_right_kind(which, request):
    project = Project(request.getfixturevalue(which).qdpx_path)
    duplicated = [g for g, els in project.by_guid.items() if len(els) > 1]
    assert [] == duplicated
    expected = {"CodeRef": "Code", "MemberCode": "Code", "SelectionRef": "PlainTextSelection",
                "VariableRef": "Variable", "NoteRef": "Note", "MemberNote": "Note"}
    wrong = []
    for ref, tag in expected.items():
        for el in project.all(ref):
            target = project.by_guid.get(el.get("targetGUID"), [None])[0]
            if target is None or target.tag != P + tag:
                wrong.append((ref, el.get("targetGUID")))
    for tag, attribute, target in (("Link", "originGUID", "Case"), ("Link", "targetGUID", "Case"),
                                   ("Vertex", "representedGUID", "Case"),
                                   ("Edge", "representedGUID", "Link"),
                                   ("Edge", "sourceVertex", "Vertex"),
                                   ("Edge", "targetVertex", "Vertex")):
        for el in project.all(tag):
            found = project.by_guid.get(el.get(attribute), [None])[0]
            if found is None or found.tag != P + target:
                wrong.append((tag, attribute, el.get(attribute)))
    assert [] == wrong
    user = project.all("User")
    assert 1 == len(user)
    users = {el.get(a) for el in project.root.iter() for a in ("creatingUser", "creatingUserGUID")
             if el.get(a)}
    assert {user[0].get("guid")} == users


# ---- what the mini fixture gives, worked out by hand -------------------------------------------

def test_mini_sources_hold_the_notes_as_written(mini_export):
    project = Project(mini_export.qdpx_path)
    sources = {s.get("name"): project.source_text(s) for s in project.all("TextSource")}
    assert {
        "Plenaria di apertura":
            "In plenaria si è parlato di cooperazione e di spazi.\n"
            "\n## Problemi\n"
            "\n- Mancano spazi a costi accessibili per chi comincia. #spazi-condivisi #coworking\n"
            "\n- Il [[!kilowatt]] segnala che il credito cooperativo non conosce le startup. "
            "#finanza-mutualistica\n"
            "\n## Opportunità\n"
            "\n- Il Tavolo #2 propone di mappare i locali sfitti "
            "(vedi https://example.org/mappa#sfitti).\n",
        "Tavolo 1 — Welfare e spazi":
            "Il tavolo si è aperto con un giro di presentazioni.\n\n"
            "## Clima dell'incontro\nClima disteso, molte domande.\n"
            "\n## Buone pratiche\n"
            "\n- [[!Mosaico]] apre la sua sede alle associazioni del quartiere. #spazi-condivisi\n"
            "Il venerdì la sala è gestita da [[orti-ribelli|gli Orti]].\n"
            "\n- Le cooperative sociali fanno rete sul welfare di comunità. #welfare-di-comunita\n"
            "\n## Minacce\n"
            "\n- [[!Orti Ribelli APS]] teme che i bandi premino solo chi ha già un bilancio. "
            "#finanza-mutualistica\n",
    } == sources


def test_mini_findings_are_coded_with_kind_themes_and_organisations_named(mini_export):
    project = Project(mini_export.qdpx_path)
    coded = sorted((text.split(" ")[0:3], codes) for text, codes in project.selections().values())
    assert sorted([
        (["Mancano", "spazi", "a"], ["Problemi", "Coworking", "Spazi condivisi"]),
        (["Il", "[[!kilowatt]]", "segnala"], ["Problemi", "Finanza mutualistica"]),
        (["Il", "Tavolo", "#2"], ["Opportunità"]),
        (["[[!Mosaico]]", "apre", "la"], ["Buone pratiche", "Spazi condivisi", "Orti Ribelli APS"]),
        (["Le", "cooperative", "sociali"], ["Buone pratiche", "Welfare di comunità"]),
        (["[[!Orti", "Ribelli", "APS]]"], ["Minacce", "Finanza mutualistica"]),
    ]) == coded


def test_mini_codebook_is_kinds_themes_as_a_tree_and_organisations_named(mini_export):
    root = ET.fromstring(mini_export.qdc_path.read_bytes())

    def tree(el):
        return [(c.get("name"), c.get("isCodable"), tree(c)) for c in el.findall(C + "Code")]

    kinds = [(k, "true", []) for k in ("Buone pratiche", "Problemi", "Opportunità", "Minacce",
                                       "Strategie", "Frustrazioni", "Soddisfazioni", "Proposte",
                                       "Sinergie")]
    assert [
        ("Tipi di risultato", "false", kinds),
        ("Temi", "false", [("Finanza mutualistica", "true", []),
                           ("Spazi condivisi", "true", [("Coworking", "true", [])]),
                           ("Welfare di comunità", "true", [])]),
        ("Organizzazioni citate", "false", [("Orti Ribelli APS", "true", [])]),
    ] == tree(root.find(C + "Codes"))
    colours = [c.get("color") for c in root.iter(C + "Code") if c.get("isCodable") == "true"]
    assert 14 == len(colours)
    assert all(len(c) == 7 and c[0] == "#" and int(c[1:], 16) >= 0 for c in colours)
    sets = {s.get("name"): len(s.findall(C + "MemberCode")) for s in root.iter(C + "Set")}
    assert {"Tipi di risultato": 9, "Temi": 4, "Organizzazioni citate": 1} == sets


def test_a_theme_in_a_cycle_is_still_a_code(mini_build, tmp_path):
    _, public = mini_build
    looped = tmp_path / "looped-public.db"
    shutil.copyfile(public, looped)
    with sqlite3.connect(looped) as conn:  # kb.ingest refuses this; the export still drops nothing
        conn.execute("update themes set parent_id = id where id = 'coworking'")
    result = export_qdpx(looped, tmp_path / "cotour.qdpx")
    themes = [c for c in ET.fromstring(result.qdc_path.read_bytes()).iter(C + "Code")
              if c.get("name") == "Temi"][0]
    assert ["Finanza mutualistica", "Spazi condivisi", "Welfare di comunità", "Coworking"] == [
        c.get("name") for c in themes.findall(C + "Code")]


def test_mini_codebook_codes_are_the_projects_codes(mini_export):
    project = Project(mini_export.qdpx_path)
    codebook = ET.fromstring(mini_export.qdc_path.read_bytes())
    in_project = [(c.get("guid"), c.get("name"), c.get("color")) for c in project.all("Code")]
    in_codebook = [(c.get("guid"), c.get("name"), c.get("color"))
                   for c in codebook.iter(C + "Code")]
    assert in_project == in_codebook


def test_mini_cases_carry_variables_and_the_findings_each_organisation_raised(mini_export):
    project = Project(mini_export.qdpx_path)
    variables = {v.get("guid"): v.get("name") for v in project.all("Variable")}
    selections = {s.get("guid"): s for s in project.all("PlainTextSelection")}
    texts = {name: text for name, (text, _) in project.selections().items()}
    cases = {}
    for case in project.all("Case"):
        values = {}
        for vv in case.findall(P + "VariableValue"):
            ref, value = list(vv)
            values[variables[ref.get("targetGUID")]] = value.text
        raised = [texts[selections[r.get("targetGUID")].get("name")][:20]
                  for r in case.findall(P + "SelectionRef")]
        cases[case.get("name")] = (values, raised)
    assert {
        "Cooperativa Sociale Il Mosaico Onlus": (
            {"Forma giuridica": "cooperativa sociale", "Cooperativa": "true",
             "Profilo": "tradizionale", "Provincia": "Parma (PR)", "Settore": "welfare"},
            ["[[!Mosaico]] apre la"]),
        "Kilowatt Soc. Coop": (
            {"Forma giuridica": "cooperativa", "Cooperativa": "true", "Profilo": "emergente",
             "Provincia": "Bologna (BO)", "Settore": "cultura"},
            ["Il [[!kilowatt]] seg"]),
        "Orti Ribelli APS": (
            {"Forma giuridica": "associazione", "Cooperativa": "false", "Profilo": "emergente",
             "Provincia": "Parma (PR)", "Settore": "agricoltura"},
            ["[[!Orti Ribelli APS]"]),
    } == cases


def test_mini_sources_carry_event_date_city_and_kind(mini_export):
    project = Project(mini_export.qdpx_path)
    variables = {v.get("guid"): v.get("name") for v in project.all("Variable")}
    got = {}
    for source in project.all("TextSource"):
        got[source.get("name")] = {
            variables[vv[0].get("targetGUID")]: (vv[1].tag[len(P):], vv[1].text)
            for vv in source.findall(P + "VariableValue")}
    assert {
        "Tavolo 1 — Welfare e spazi": {"Tappa": ("TextValue", "Parma"),
                                       "Data": ("DateValue", "2015-12-09"),
                                       "Città": ("TextValue", "Parma"),
                                       "Tipo di sessione": ("TextValue", "tavolo")},
        "Plenaria di apertura": {"Tappa": ("TextValue", "Bologna"),
                                 "Data": ("DateValue", "2015-12-10"),
                                 "Città": ("TextValue", "Bologna"),
                                 "Tipo di sessione": ("TextValue", "plenaria")},
    } == got
    # QualCoder keeps one list of variable names for files and cases
    assert set() == {n for n, _, _ in SOURCE_VARIABLES} & {n for n, _, _ in CASE_VARIABLES}


def test_mini_hybrid_pairs_are_links_between_cases_with_a_note_each(mini_export):
    project = Project(mini_export.qdpx_path)
    name = {c.get("guid"): c.get("name") for c in project.all("Case")}
    links = sorted((name[l.get("originGUID")], name[l.get("targetGUID")], l.get("direction"))
                   for l in project.all("Link"))
    # (Kilowatt's initiative with the Mosaico is no pair: Kilowatt is one of the organisers)
    assert [("Orti Ribelli APS", "Cooperativa Sociale Il Mosaico Onlus", "Associative")] == links
    notes = project.all("Note")
    pair_set = [s for s in project.all("Set") if s.get("name") == "Ibridazioni possibili"]
    assert sorted(n.get("guid") for n in notes) == sorted(
        m.get("targetGUID") for m in pair_set[0].findall(P + "MemberNote"))
    texts = sorted(project.source_text(n) for n in notes)
    assert texts[0].startswith("Ibridazioni possibili: Orti Ribelli APS × Cooperativa Sociale "
                               "Il Mosaico Onlus\n\nCondividono il tema Spazi condivisi")
    # QualCoder reads a note's date and fails without one
    assert all(n.get("creationDateTime") for n in notes)


def test_mini_hybrid_pairs_are_drawn_as_a_graph_emerging_left_traditional_right(mini_export):
    project = Project(mini_export.qdpx_path)
    graph = project.all("Graph")
    assert ["Ibridazioni possibili"] == [g.get("name") for g in graph]
    vertices = [(v.get("name"), v.get("firstX"), v.get("firstY"), v.get("secondX"),
                 v.get("secondY"), v.get("shape"), project.by_guid[v.get("representedGUID")][0].tag)
                for v in project.all("Vertex")]
    case = P + "Case"
    # left: Orti Ribelli (Kilowatt, an organiser, is in no pair); right: Il Mosaico; boxes
    # 240 x 40, rows 60 apart
    assert [("Orti Ribelli APS", "0", "0", "240", "40", "Oval", case),
            ("Cooperativa Sociale Il Mosaico Onlus", "560", "0", "800", "40", "RoundedRectangle",
             case)] == vertices
    vertex_name = {v.get("guid"): v.get("name") for v in project.all("Vertex")}
    edges = sorted((vertex_name[e.get("sourceVertex")], vertex_name[e.get("targetVertex")],
                    project.by_guid[e.get("representedGUID")][0].tag[len(P):])
                   for e in project.all("Edge"))
    assert [("Orti Ribelli APS", "Cooperativa Sociale Il Mosaico Onlus", "Link")] == edges


# ---- spans and counts on the sample ------------------------------------------------------------

def test_every_selection_spans_exactly_its_findings_text(sample_build, sample_export):
    _, public = sample_build
    project = Project(sample_export.qdpx_path)
    expected = {fid: source_form(text)
                for fid, text in public_rows(public, "select id, text from findings")}
    got = {fid: text for fid, (text, _) in project.selections().items()}
    assert expected == got


def test_sources_are_utf8_without_bom_with_lf_in_nfc(sample_export):
    project = Project(sample_export.qdpx_path)
    texts = [project.files[n] for n in project.names if n.startswith("Sources/")]
    assert texts
    assert [] == [t[:20] for t in texts if t.startswith(b"\xef\xbb\xbf") or b"\r" in t
                  or unicodedata.normalize("NFC", t.decode("utf-8")) != t.decode("utf-8")]


def test_counts_equal_the_public_databases(sample_build, sample_export):
    _, public = sample_build
    project = Project(sample_export.qdpx_path)

    def one(sql):
        return public_rows(public, sql)[0][0]

    expected = {
        "sources": one("select count(*) from notes"),
        "selections": one("select count(*) from findings"),
        "codings": one("select (select count(*) from findings) + (select count(*) from "
                       "finding_themes) + (select count(*) from finding_organisations "
                       "where role = 'mentioned')"),
        "cases": one("select count(*) from organisations"),
        "selection_refs": one("select count(*) from finding_organisations where role = 'source'"),
        "codes": 3 + one("select count(*) from finding_kinds") + one("select count(*) from themes")
                 + one("select count(distinct organisation_id) from finding_organisations "
                       "where role = 'mentioned'"),
        "links": one("select count(*) from hybrid_pairs"),
        "notes": one("select count(*) from hybrid_pairs"),
        "edges": one("select count(*) from hybrid_pairs"),
        "vertices": one("select count(distinct emerging_id) + count(distinct traditional_id) "
                        "from hybrid_pairs"),
    }
    in_xml = {"sources": len(project.all("TextSource")),
              "selections": len(project.all("PlainTextSelection")),
              "codings": len(project.all("Coding")), "cases": len(project.all("Case")),
              "selection_refs": len(project.all("SelectionRef")), "codes": len(project.all("Code")),
              "links": len(project.all("Link")), "notes": len(project.all("Note")),
              "edges": len(project.all("Edge")), "vertices": len(project.all("Vertex"))}
    assert expected == in_xml
    assert expected == {k: sample_export.counts[k] for k in expected}
    assert 40 == expected["sources"] and 284 == expected["selections"]


def test_sources_with_the_same_title_get_their_event(sample_export):
    names = [s.get("name") for s in Project(sample_export.qdpx_path).all("TextSource")]
    assert len(names) == len(set(names))
    assert "Plenaria (Parma)" in names


# ---- stable GUIDs, same bytes ------------------------------------------------------------------

def test_a_rebuild_gives_the_same_guids_and_the_same_bytes(tmp_path):
    results = []
    for run in ("a", "b"):
        built = build(MINI, tmp_path / run / "cotour.db")
        results.append(export_qdpx(built.db_path, tmp_path / run / "cotour.qdpx"))
    a, b = results
    assert a.qdpx_path.read_bytes() == b.qdpx_path.read_bytes()
    assert a.qdc_path.read_bytes() == b.qdc_path.read_bytes()
    infos = Project(a.qdpx_path).infos
    assert sorted(i.filename for i in infos) == [i.filename for i in infos]
    assert {(2016, 3, 31, 0, 0, 0)} == {i.date_time for i in infos}  # the release date
    # a finding's selection is named by UUID 5 of its id, in the project's namespace
    project = Project(a.qdpx_path)
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cotour:co-tour-viaggio-nella-nuova-mutualita")
    assert sorted(str(uuid.uuid5(namespace, f"selection/{s.get('name')}"))
                  for s in project.all("PlainTextSelection")) == sorted(
        s.get("guid") for s in project.all("PlainTextSelection"))


def test_an_added_finding_leaves_the_other_guids_alone(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    before = Project(export_qdpx(build(data, tmp_path / "1" / "cotour.db").db_path,
                                 tmp_path / "1" / "cotour.qdpx").qdpx_path)
    note = data / "notes" / "bologna-2015" / "plenaria.md"
    note.write_text(note.read_text().replace(
        "## Opportunità\n", "## Opportunità\n- Un nuovo risultato. #coworking\n"))
    after = Project(export_qdpx(build(data, tmp_path / "2" / "cotour.db").db_path,
                                tmp_path / "2" / "cotour.qdpx").qdpx_path)
    guids_before, guids_after = set(before.by_guid), set(after.by_guid)
    assert guids_before < guids_after
    added = {after.by_guid[g][0].tag[len(P):] for g in guids_after - guids_before}
    assert {"PlainTextSelection", "Coding"} == added


# ---- BOM, CRLF, NFD input -----------------------------------------------------------------------

def test_a_note_with_bom_crlf_and_nfd_still_gives_exact_spans(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    note = data / "notes" / "parma-2015" / "tavolo-1.md"
    text = unicodedata.normalize("NFD", note.read_text(encoding="utf-8"))
    assert text != unicodedata.normalize("NFC", text)  # there are accents to decompose
    note.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    built = build(data, tmp_path / "cotour.db")
    stored = public_rows(built.public_path, "select id, text from findings "
                                            "where note_id = 'parma-2015-tavolo-1'")
    assert any(t != unicodedata.normalize("NFC", t) for _, t in stored)  # the base keeps NFD
    project = Project(export_qdpx(built.db_path, tmp_path / "cotour.qdpx").qdpx_path)
    got = {fid: t for fid, (t, _) in project.selections().items()}
    assert {fid: unicodedata.normalize("NFC", t) for fid, t in stored} == {
        fid: got[fid] for fid, _ in stored}
    assert "[[!Mosaico]] apre la sua sede alle associazioni del quartiere. #spazi-condivisi\n" \
           "Il venerdì la sala è gestita da [[orti-ribelli|gli Orti]]." in got.values()
    source = [s for s in project.all("TextSource")
              if s.get("name") == "Tavolo 1 — Welfare e spazi"]
    raw = project.files["Sources/" + source[0].get("plainTextPath")[len("internal://"):]]
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    assert raw.decode("utf-8").startswith("Il tavolo si è aperto")


# ---- privacy -----------------------------------------------------------------------------------

def test_no_personal_name_and_no_internal_note_reaches_the_export(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    plant_canaries(data)
    c = CANARIES
    built = build(data, tmp_path / "build" / "cotour.db")
    with sqlite3.connect(built.db_path) as conn:
        dump = "\n".join(conn.iterdump()).lower()
    assert [] == [name for name, canary in c.items() if canary not in dump]  # planted for real
    result = export_qdpx(built.db_path, tmp_path / "build" / "export" / "cotour.qdpx")
    blobs = dict(Project(result.qdpx_path).files)
    blobs["codebook"] = result.qdc_path.read_bytes()
    assert "Intervista pubblica" in [s.get("name")
                                     for s in Project(result.qdpx_path).all("TextSource")]
    assert [] == [(name, canary) for name, blob in blobs.items() for canary in c.values()
                  if canary.encode() in blob.lower()]
    # the facilitators of the fixture's own notes too
    assert [] == [name for name, blob in blobs.items()
                  for person in (b"maria rossi", b"luca bianchi", b"anna verdi")
                  if person in blob.lower()]


def test_the_export_refuses_the_full_knowledge_base(mini_build, tmp_path):
    kb_path, _ = mini_build
    lone = tmp_path / "cotour.db"
    shutil.copyfile(kb_path, lone)  # no public sibling: the full base must not be read instead
    with pytest.raises(NotPublicError):
        export_qdpx(lone, tmp_path / "out.qdpx")
    assert not (tmp_path / "out.qdpx").exists()


# ---- failures leave the previous export ---------------------------------------------------------

def test_a_failed_export_leaves_the_previous_files_and_no_temporary_ones(mini_build, tmp_path):
    _, public = mini_build
    broken = tmp_path / "broken-public.db"
    shutil.copyfile(public, broken)
    with sqlite3.connect(broken) as conn:
        conn.execute("update notes set title = 'Plenaria\x01' where id = 'bologna-2015-plenaria'")
    out = tmp_path / "export" / "cotour.qdpx"
    first = export_qdpx(public, out)
    before = (out.read_bytes(), first.qdc_path.read_bytes())
    with pytest.raises(QdpxError) as caught:
        export_qdpx(broken, out)
    assert (f"{broken}: error: note bologna-2015-plenaria (data/notes/bologna-2015/plenaria.md): "
            "character U+0001 cannot be written in XML 1.0; remove it from the source file and "
            "run 'cotour build' again") == str(caught.value)
    assert before == (out.read_bytes(), first.qdc_path.read_bytes())
    assert ["cotour-codebook.qdc", "cotour.qdpx"] == sorted(p.name for p in out.parent.iterdir())


def test_an_output_that_is_a_folder_is_refused(mini_build, tmp_path):
    kb_path, _ = mini_build
    (tmp_path / "cotour.qdpx").mkdir()
    with pytest.raises(QdpxError) as caught:
        export_qdpx(kb_path, tmp_path / "cotour.qdpx")
    assert (f"{tmp_path / 'cotour.qdpx'}: error: is a folder; name the file to write"
            == str(caught.value))


def test_what_a_killed_export_left_is_removed_and_a_running_one_is_not_disturbed(mini_build,
                                                                                tmp_path):
    kb_path, _ = mini_build
    out = tmp_path / "cotour.qdpx"
    stale = tmp_path / ".cotour.qdpx.99999.tmp"
    (stale / "project" / "Sources").mkdir(parents=True)
    export_qdpx(kb_path, out)
    assert ["cotour-codebook.qdc", "cotour.qdpx"] == sorted(p.name for p in tmp_path.iterdir())
    with output_lock(out, "busy"):
        with pytest.raises(BusyError):
            export_qdpx(kb_path, out)


# ---- the command line and the release ----------------------------------------------------------

def test_cli_export_qdpx_writes_both_files_and_says_what_they_hold(mini_build, tmp_path):
    kb_path, _ = mini_build
    out = tmp_path / "x" / "progetto.qdpx"
    result = CliRunner().invoke(cli, ["export", "qdpx", "--db", str(kb_path), "--out", str(out)])
    assert 0 == result.exit_code, result.output
    assert [f"{out}: REFI-QDA project — 2 sources, 6 coded selections (13 codings), 17 codes, "
            "3 cases, 1 links",
            f"{out.with_name('progetto-codebook.qdc')}: REFI-QDA codebook — 17 codes, 3 sets"
            ] == result.output.splitlines()


def test_cli_export_without_a_public_database_fails_cleanly(tmp_path):
    result = CliRunner().invoke(cli, ["export", "qdpx", "--db", str(tmp_path / "none.db")])
    assert 1 == result.exit_code
    assert f"{tmp_path / 'none-public.db'}: error: public database not found; run 'cotour build' " \
           "first" == result.output.strip()


def test_the_release_carries_the_project_and_the_codebook(mini_build, tmp_path):
    kb_path, _ = mini_build
    out = publish(kb_path, tmp_path / "opendata").out_dir
    alone = export_qdpx(kb_path, tmp_path / "alone" / "cotour.qdpx")
    assert alone.qdpx_path.read_bytes() == (out / "cotour.qdpx").read_bytes()
    assert alone.qdc_path.read_bytes() == (out / "cotour-codebook.qdc").read_bytes()
    sums = (out / "SHA256SUMS").read_text()
    assert "  cotour.qdpx\n" in sums and "  cotour-codebook.qdc\n" in sums
    assert [] == check_release(out).problems


# ---- the XML escaping is our own (the export's hot path): what the standard parser reads back

@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_escaped_text_and_attributes_read_back_as_written(value):
    from xml.etree import ElementTree

    from kb.export.xml import XmlError, escape_attr, escape_text

    try:
        attr, text = escape_attr(value, "t"), escape_text(value, "t")
    except XmlError:  # only a character XML 1.0 cannot hold is refused
        assert any(c in value for c in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
                   "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\ufffe\uffff")
        return
    element = ElementTree.fromstring(f'<e a="{attr}">{text}</e>')
    assert (value, value) == (element.get("a"), element.text or "")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
       st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_an_element_s_attributes_read_back_as_written(first, second):
    """The writer tests an element's attributes for escaping together: a plain one beside one
    that needs escaping must still be escaped."""
    import io
    from xml.etree import ElementTree

    from kb.export.xml import XmlError, XmlWriter

    out = io.StringIO()
    try:
        XmlWriter(out, "t", depth=0).empty("e", a=first, b=second, c=None, d=7)
    except XmlError:
        assert any(c in first + second for c in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c"
                   "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
                   "\ufffe\uffff")
        return
    element = ElementTree.fromstring(out.getvalue())
    assert {"a": first, "b": second, "d": "7"} == element.attrib


@given(st.lists(st.one_of(st.text(), st.sampled_from(
    [chr(i) for i in range(0x20)] + ["\ufffe", "\uffff", "\ud800", "\udfff", "\ufffd", "\uf000",
                                     "\uefbf", "\U0010ffff", "\x7f", "\x85"]))).map("".join))
def test_xml_bytes_refuses_what_the_checked_regex_refuses(value):
    """The spreadsheet's rows are tested on their UTF-8 bytes: the same verdict as the
    regular expression that names the character."""
    from kb.export.xml import XmlError, checked, xml_bytes

    try:
        checked(value, "t")
        assert value.encode("utf-8") == xml_bytes(value)
    except XmlError:
        assert xml_bytes(value) is None


def test_xml_bytes_by_hand():
    from kb.export.xml import xml_bytes

    assert "tab\tlf\ncr\ré…".encode() == xml_bytes("tab\tlf\ncr\ré…")
    assert [None] * 4 == [xml_bytes(t) for t in ("a\x00", "b\x1f", "c\ufffe", "d\ud800")]
