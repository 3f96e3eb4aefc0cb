"""The spreadsheet edition: read back with openpyxl, and opened by LibreOffice in Italian.

LibreOffice (headless, a profile of its own, the Italian locale) converts every sheet to CSV
with the cells' contents as shown; every value is compared with the public database. That is
what an Italian user sees: a latitude 44.796 shows as 44,796 (not 44796), the ISTAT code 040
as 040 (not 40), a text that starts with "=" as itself (not a formula's result).
"""

import csv
import datetime
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import openpyxl
import pytest

from kb.pipeline import build
from kb.release.tables import WORKBOOK_NAME, published_tables
from kb.release.publish import publish
from kb.release.spreadsheet import HEADER_ROWS, sheet_title

from conftest import MINI

FORMULA = "=SOMMA(1;2)"  # what a spreadsheet would compute, if it took it as a formula


@pytest.fixture(scope="module")
def sample_release(sample_build, tmp_path_factory) -> Path:
    kb_path, _ = sample_build
    return publish(kb_path, tmp_path_factory.mktemp("xlsx") / "opendata").out_dir


@pytest.fixture(scope="module")
def formula_release(tmp_path_factory) -> Path:
    """The small fixture with an organisation's description that looks like a formula."""
    root = tmp_path_factory.mktemp("formula")
    data = root / "data"
    shutil.copytree(MINI, data)
    path = data / "organisations.csv"
    path.write_text(path.read_text(encoding="utf-8").replace('"Spazi, servizi e progetti"',
                                                             f'"{FORMULA}"'), encoding="utf-8")
    result = build(data, root / "build" / "cotour.db")
    return publish(result.db_path, root / "build" / "opendata").out_dir


def rows(release: Path, table) -> list[tuple]:
    columns = ", ".join(f"[{c.name}]" for c in table.public_columns)
    order = ", ".join(f"[{k}]" for k in table.pk)
    with sqlite3.connect(release / "cotour.db") as conn:
        return conn.execute(f"select {columns} from [{table.name}] order by {order}").fetchall()


def sheets() -> list[tuple[str, object]]:
    taken = {"dataset"}
    return [(sheet_title(t, taken), t) for t in published_tables()]


# The link tables folded into their main sheets, after the table's own columns (by hand).
FOLDED = {
    "Risultati": [("Sollevato da", "← finding_organisations"),
                  ("Altre organizzazioni citate", "← finding_organisations"),
                  ("Temi (nomi)", "← finding_themes")],
    "Tappe": [("Ospitanti (nomi)", "← event_hosts")],
    "Note": [("Partecipanti (nomi)", "← note_participants")],
    "Organizzazioni": [("Temi (nomi)", "← organisation_themes")],
    "Nuove iniziative": [("Organizzazioni (nomi)", "← initiative_organisations"),
                         ("Temi (nomi)", "← initiative_themes"),
                         ("Nata dalle tappe", "← initiative_events")],
    "Ibridazioni possibili": [("Risultati a sostegno (tipo, tappa)", "← hybrid_evidence")],
}


# ---- openpyxl ----------------------------------------------------------------------------------

def test_first_sheet_describes_the_dataset_and_its_licence(sample_release):
    wb = openpyxl.load_workbook(sample_release / WORKBOOK_NAME, read_only=True)
    assert ["Dataset"] + [name for name, _ in sheets()] == wb.sheetnames
    about = {r[0]: r[1] for r in wb["Dataset"].iter_rows(values_only=True) if r and r[0]}
    assert "Co?Tour – Viaggio nella nuova mutualità" == about["Dataset"]
    # it says where the link tables are: their sheets, and folded with names
    links = about["Tabelle di collegamento"]
    assert links.startswith("Ogni tabella di collegamento (chi ha sollevato un risultato")
    for sheet, folds in FOLDED.items():
        for label, source in folds:
            assert f"{sheet}: «{label}» ({source[2:]})" in links
    assert ("Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0) (CC-BY-4.0): "
            "https://creativecommons.org/licenses/by/4.0/") == about["Licenza"]
    assert about["Attenzione"].startswith("Dati illustrativi")


def test_every_sheet_holds_its_table_typed_with_both_headers(sample_release):
    wb = openpyxl.load_workbook(sample_release / WORKBOOK_NAME)
    for name, table in sheets():
        ws = wb[name]
        values = list(ws.iter_rows(values_only=True))
        width = len(table.public_columns)
        assert [c.it for c in table.public_columns] + [
            label for label, _ in FOLDED.get(name, [])] == list(values[0]), name
        assert [c.name for c in table.public_columns] + [
            source for _, source in FOLDED.get(name, [])] == list(values[1]), name
        assert f"A{HEADER_ROWS + 1}" == ws.freeze_panes
        expected = []
        for row in rows(sample_release, table):
            typed = []
            for value, column in zip(row, table.public_columns):
                if value is not None and column.type == "date":
                    value = datetime.datetime.fromisoformat(value)
                typed.append(value)
            expected.append(tuple(typed))
        assert expected == [tuple(r[:width]) for r in values[HEADER_ROWS:]], name
        # no cell is a formula; text is text
        assert set() == {c.coordinate for r in ws.iter_rows() for c in r if c.data_type == "f"}


def test_codes_are_text_and_coordinates_numbers(sample_release):
    wb = openpyxl.load_workbook(sample_release / WORKBOOK_NAME)
    ws = wb["Organizzazioni"]
    names = [c.value for c in ws[HEADER_ROWS]]
    first = ws[HEADER_ROWS + 1]
    istat = first[names.index("province_istat")]
    lat = first[names.index("lat")]
    assert ("s", "034") == (istat.data_type, istat.value)
    assert "n" == lat.data_type and isinstance(lat.value, float)
    widths = [ws.column_dimensions[c.column_letter].width for c in first]
    assert all(4 <= w <= 62 for w in widths), widths


def test_a_text_that_starts_with_equals_stays_text(formula_release):
    wb = openpyxl.load_workbook(formula_release / WORKBOOK_NAME)
    ws = wb["Organizzazioni"]
    cells = [c for r in ws.iter_rows() for c in r if c.value == FORMULA]
    assert [("s", FORMULA)] == [(c.data_type, c.value) for c in cells]


# ---- LibreOffice, Italian ----------------------------------------------------------------------

def libreoffice_csvs(workbook: Path, out: Path) -> dict[str, list[list[str]]]:
    """Every sheet of ``workbook`` as LibreOffice in the Italian locale shows it, via CSV."""
    profile = out / "profile"
    env = dict(os.environ, LC_ALL="it_IT.UTF-8", LANG="it_IT.UTF-8")
    # tokens: separator ",", quote '"', UTF-8, from line 1, no column formats, language
    # it-IT (1040), …, contents as shown, every sheet to its own file (-1)
    options = "44,34,76,1,,1040,false,true,true,false,false,-1"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={profile.as_uri()}",
                    "--convert-to", f"csv:Text - txt - csv (StarCalc):{options}",
                    "--outdir", str(out), str(workbook)],
                   check=True, capture_output=True, timeout=180, env=env)
    found = {}
    for path in out.glob(f"{workbook.stem}-*.csv"):
        with open(path, encoding="utf-8", newline="") as fp:
            found[path.stem[len(workbook.stem) + 1:]] = list(csv.reader(fp))
    return found


def shown_in_italian(value, column) -> str:
    """How the Italian locale shows a value; a real number as its value (compared below)."""
    if value is None:
        return ""
    if column.type == "real":
        return float(value)
    return str(value)


def read_italian(text: str, column):
    """A shown real number back to its value: decimal comma, no thousands separator."""
    if column.type != "real" or text == "":
        return text
    assert "." not in text, text  # a dot would be a thousands separator: 44.796 -> 44796
    return float(text.replace(",", "."))


def test_libreoffice_in_italian_shows_every_value_of_the_database(sample_release, tmp_path):
    shown = libreoffice_csvs(sample_release / WORKBOOK_NAME, tmp_path)
    assert {"Dataset"} | {name for name, _ in sheets()} == set(shown)
    compared = 0
    for name, table in sheets():
        width = len(table.public_columns)
        expected = [[c.it for c in table.public_columns], [c.name for c in table.public_columns]]
        expected += [[shown_in_italian(v, c) for v, c in zip(row, table.public_columns)]
                     for row in rows(sample_release, table)]
        got = [r[:width] for r in shown[name][:HEADER_ROWS]] + [
            [read_italian(v, c) for v, c in zip(row, table.public_columns)]
            for row in shown[name][HEADER_ROWS:]]
        assert [label for label, _ in FOLDED.get(name, [])] == shown[name][0][width:], name
        assert expected == got, name
        compared += sum(len(r) for r in expected[HEADER_ROWS:])
    print(f"LibreOffice (it-IT): {compared} values in {len(sheets())} sheets, all equal to "
          "the database")
    organisations = shown["Organizzazioni"]
    names = organisations[1]
    lats = [r[names.index("lat")] for r in organisations[HEADER_ROWS:] if r[names.index("lat")]]
    assert lats and all("," in lat and 40 < float(lat.replace(",", ".")) < 46 for lat in lats)
    istat = {r[names.index("province_istat")] for r in organisations[HEADER_ROWS:]}
    assert {"033", "034"} <= istat


def test_libreoffice_keeps_a_text_that_looks_like_a_formula(formula_release, tmp_path):
    shown = libreoffice_csvs(formula_release / WORKBOOK_NAME, tmp_path)
    organisations = shown["Organizzazioni"]
    description = organisations[1].index("description")
    assert FORMULA in [r[description] for r in organisations[HEADER_ROWS:]]


def test_a_table_longer_than_a_sheet_goes_on_over_further_sheets(mini_build, tmp_path,
                                                                 monkeypatch):
    import kb.release.spreadsheet
    from kb.release.tables import project_row
    from kb.release.spreadsheet import write_workbook

    _, public = mini_build
    monkeypatch.setattr(kb.release.spreadsheet, "SHEET_ROWS", HEADER_ROWS + 2)  # two rows a sheet
    findings = next(t for t in published_tables() if t.name == "findings")
    write_workbook(public, tmp_path / "w.xlsx", project_row(public), [findings])
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx")
    with sqlite3.connect(public) as conn:
        n = conn.execute("select count(*) from findings").fetchone()[0]
    parts = ["Risultati"] + [f"Risultati ({i})" for i in range(2, (n + 1) // 2 + 1)]
    assert ["Dataset"] + parts == wb.sheetnames
    got = []
    width = len(findings.public_columns)
    for name in parts:
        values = list(wb[name].iter_rows(values_only=True))
        assert [c.name for c in findings.public_columns] == list(values[1])[:width]
        got += [tuple(v.date().isoformat() if isinstance(v, datetime.datetime) else v
                      for v in r[:width]) for r in values[HEADER_ROWS:]]
    columns = ", ".join(f"[{c.name}]" for c in findings.public_columns)
    with sqlite3.connect(public) as conn:
        assert conn.execute(f"select {columns} from findings order by id").fetchall() == got


def test_check_release_compares_the_workbook_with_the_database(formula_release, tmp_path):
    from kb.release.check import check_release

    broken = tmp_path / "broken"
    shutil.copytree(formula_release, broken)
    wb = openpyxl.load_workbook(broken / WORKBOOK_NAME)
    ws = wb["Tappe"]
    status = [c.value for c in ws[HEADER_ROWS]].index("status") + 1
    ws.cell(row=HEADER_ROWS + 1, column=status, value="annullato?")
    wb.save(broken / WORKBOOK_NAME)
    problems = [p for p in check_release(broken).problems if p.startswith(WORKBOOK_NAME)]
    assert 2 == len(problems), problems
    assert "cotour.xlsx: checksum does not match SHA256SUMS" == problems[0]
    assert problems[1].startswith("cotour.xlsx: sheet 'Tappe', row 3: ")


def test_the_link_tables_are_folded_into_their_main_sheets_as_names(mini_build, tmp_path):
    """Who raised a finding, who else it names, its themes; an event's hosts; a note's
    participants; an initiative's organisations, themes and events: by hand, from the notes of
    tests/fixtures/mini (names sorted, joined by "; ")."""
    from kb.release.publish import publish

    release = publish(mini_build[0], tmp_path / "opendata").out_dir
    wb = openpyxl.load_workbook(release / WORKBOOK_NAME)

    def folded(sheet):
        values = list(wb[sheet].iter_rows(values_only=True))
        n = len(FOLDED[sheet])
        return {r[0]: tuple(r[-n:]) for r in values[HEADER_ROWS:]}

    mosaico, kilowatt, orti = ("Cooperativa Sociale Il Mosaico Onlus", "Kilowatt Soc. Coop",
                               "Orti Ribelli APS")
    assert {
        "141c8229c27a": (None, None, "Coworking; Spazi condivisi"),
        "15c8969d5630": (None, None, None),
        "1d22223ee0e1": (kilowatt, None, "Finanza mutualistica"),
        "7be3f479b483": (None, None, "Welfare di comunità"),
        "9b3e15974335": (orti, None, "Finanza mutualistica"),
        "eb75e9d25fc3": (mosaico, orti, "Spazi condivisi"),
    } == folded("Risultati")
    assert {"bologna-2015": (None,), "finale-2016": (None,), "parma-2015": (mosaico,)} \
        == folded("Tappe")
    assert {"rete-spazi": (f"{mosaico}; {kilowatt}", "Spazi condivisi", "Bologna; Parma")} \
        == folded("Nuove iniziative")
    assert {(kilowatt,), (f"{mosaico}; {orti}",)} == set(folded("Note").values())


def test_a_cell_s_text_is_escaped_only_where_it_must_be():
    from kb.release.spreadsheet import _text

    cell = '<c t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>'.format
    assert cell("piano") == _text("piano")
    assert cell("a &amp; b") == _text("a & b")
    assert cell("&lt;x&gt;") == _text("<x>")
    assert cell("riga&#13;\nfine") == _text("riga\r\nfine")
    assert cell("&amp;lt;") == _text("&lt;")
    assert cell("40") == _text(40)
