"""Valid-looking input that would lose or change data is reported, at its path and line.

Each case edits one file of the mini fixture and lists every diagnostic ``check`` must give
(paths relative to the data folder); everything else of the fixture is clean.
"""

import shutil
import time
from pathlib import Path

import openpyxl
import pytest

from kb.diagnostics import MESSAGE
from kb.pipeline import check
from kb.ingest.files import MAX_UNPACKED_BYTES, zip_problem
from kb.ingest.source import input_files

from conftest import MINI


def _edit(data: Path, name: str, old: str, new: str) -> None:
    path = data / name
    text = path.read_text()
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1))


def diagnostics(data: Path, only: str | None = None) -> list[str]:
    """``check``'s diagnostics, paths relative to ``data``; with ``only``, those of that file
    (the others follow from it: rows of a file that cannot be read are unknown elsewhere)."""
    lines = [str(d).replace(f"{data}/", "") for d in check(data).diagnostics.sorted()]
    return [line for line in lines if only is None or line.startswith(only + ":")]


@pytest.fixture
def data(tmp_path):
    shutil.copytree(MINI, tmp_path / "data")
    return tmp_path / "data"


CASES = {
    "a list written as a text": (
        "project.yaml", "keywords: [mutualità, cooperazione]", "keywords: mutualita",
        ["project.yaml:4: error: 'keywords' must be a list: write it as a list: [mutualita]"]),
    "organisers written as a text": (
        "project.yaml", 'organisers: [{name: Confcooperative Emilia Romagna, id: "12345678903"}, '
                        '{name: Irecoop Emilia Romagna, id: "01234567897"}, '
                        '{name: Kilowatt Soc. Coop, id: "02543210377"}]',
        "organisers: Confcooperative",
        ["project.yaml:5: error: 'organisers' must be a list: write it as a list: "
         "[Confcooperative]"]),
    "a mapping where a text goes": (
        "project.yaml", "subtitle: Rapporto finale dei risultati", "subtitle: {a: 1}",
        ["project.yaml:2: error: 'subtitle' must be a text, not a mapping"]),
    "a mapping inside a list": (
        "project.yaml", "keywords: [mutualità, cooperazione]", "keywords: [mutualità, {a: 1}]",
        ["project.yaml:4: error: each item of 'keywords' must be a text, not a mapping"]),
    "yes read as true": (
        "project.yaml", "subtitle: Rapporto finale dei risultati", "subtitle: yes",
        ["project.yaml:2: error: 'subtitle' is read as a yes/no value, not a text: put it in "
         "quotes (subtitle: \"...\")"]),
    "a version read as a number": (
        "project.yaml", "licence: CC-BY-4.0", "licence: CC-BY-4.0\nversion: 1.10",
        ["project.yaml:8: error: 'version' is read as a number (1.1), which may change how it "
         "is written: put it in quotes (version: \"...\")"]),
    "a version that cannot name a file": (
        "project.yaml", "licence: CC-BY-4.0", "licence: CC-BY-4.0\nversion: \"2016/03\"",
        ["project.yaml:8: error: version '2016/03' is not a version: use digits, letters, '.', "
         "'-' or '_' (e.g. 1.0.0), at most 40 characters; it names the open dataset's files"]),
    "no EU theme": (
        "project.yaml", "eu_theme: SOCI", "eu_theme: []",
        ["project.yaml:10: error: 'eu_theme' must give at least one EU data theme (one of: "
         "AGRI, ECON, EDUC, ENER, ENVI, GOVE, HEAL, INTR, JUST, REGI, SOCI, TECH, TRAN)"]),
    "a source without a text title": (
        "project.yaml", "licence: CC-BY-4.0",
        "licence: CC-BY-4.0\nsources: [{title: Programma, path: {x: 1}}]",
        ["project.yaml:8: error: 'path' must be a text, not a mapping"]),
    "a huge attendance": (
        "events.yaml", "persons: 30", "persons: 99999999999999999999999",
        ["events.yaml:7: error: 'persons' must be a whole number from 0 to 1,000,000, not "
         "'99999999999999999999999'"]),
    "a fractional attendance": (
        "events.yaml", "persons: 30", "persons: 30.5",
        ["events.yaml:7: error: 'persons' must be a whole number from 0 to 1,000,000, not "
         "'30.5'"]),
    "a venue read as a number": (
        "events.yaml", "  kind: tappa\n  status: svolto\n  attendance",
        "  kind: tappa\n  status: svolto\n  venue: 1.50\n  attendance",
        ["events.yaml:7: error: 'venue' is read as a number (1.5), which may change how it is "
         "written: put it in quotes (venue: \"...\")"]),
    "a misspelt optional file": (
        "initiatives.yaml", None, "iniziative.yaml",
        ["iniziative.yaml:1: error: unknown file in the data folder; did you mean "
         "'initiatives.yaml'? (known: project.yaml, themes.yaml, organisations.csv, "
         "organisations.xlsx, events.yaml, initiatives.yaml, and the folders notes, report, "
         "assets)"]),
    "a column named twice": (
        "organisations.csv", "themes,description,mapped", "themes,description,description",
        ["organisations.csv:1: error: column 'description' appears twice: keep one (the "
         "values of one would be lost)"]),
    "nan coordinates": (
        "organisations.csv", "44.49,11.34", "nan,11.34",
        ["organisations.csv:2: error: lat 'nan' is not a coordinate: give decimal degrees from "
         "-90 to 90"]),
    "infinite coordinates": (
        "organisations.csv", "44.49,11.34", "44.49,-inf",
        ["organisations.csv:2: error: lon '-inf' is not a coordinate: give decimal degrees "
         "from -180 to 180"]),
    "an overflowing coordinate": (
        "organisations.csv", "44.49,11.34", "1e400,11.34",
        ["organisations.csv:2: error: lat '1e400' is not a coordinate: give decimal degrees "
         "from -90 to 90"]),
    "a formula in a text cell": (
        "organisations.csv", '"Spazi, servizi e progetti"', '"=HYPERLINK(""http://x"")"',
        ["organisations.csv:2: warning: description '=HYPERLINK(\"http://x\")' starts with "
         "'=': a spreadsheet opening the open dataset's CSV would run it as a formula; kept as "
         "written"]),
    "a NUL byte in the CSV": (
        "organisations.csv", "Mosaico,cooperativa", "Mosaico\x00,cooperativa",
        ["organisations.csv:3: error: aliases 'Mosaico\\x00' holds the control character "
         "U+0000: remove it"]),
    "a field over the csv module's default limit, kept": (
        "organisations.csv", '"Spazi, servizi e progetti"', '"' + "x" * 140_000 + '"', []),
    "an interviewee given as a mapping": (
        "notes/parma-2015/tavolo-1.md", "facilitator: Maria Rossi",
        "facilitator: Maria Rossi\ninterviewees: [{name: Ugo}]",
        ["notes/parma-2015/tavolo-1.md:6: error: each item of 'interviewees' must be a text, "
         "not a mapping"]),
    "a participant given as a list": (
        "notes/parma-2015/tavolo-1.md", "participants: [il-mosaico, Orti Ribelli]",
        "participants: [il-mosaico, [Orti Ribelli]]",
        ["notes/parma-2015/tavolo-1.md:6: error: each item of 'participants' must be a text, "
         "not a list"]),
    "a YAML alias bomb": (
        "themes.yaml", None,
        "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")),
        [f"themes.yaml:{n}: error: YAML alias '*{p}': aliases are not accepted here; write "
         "the value out in full" for n, p in zip(range(2, 10), "abcdefgh")]),
    "front matter nested thousands deep": (
        "notes/parma-2015/tavolo-1.md", "kind: tavolo", "kind: " + "[" * 5000 + "]" * 5000,
        ["notes/parma-2015/tavolo-1.md:1: error: YAML values nested more than 16 levels deep: "
         "no file of the data folder has that shape"]),
    "a tag making a Python set": (
        "events.yaml", "hosts: [il-mosaico]", "hosts: !!set {il-mosaico}",
        ["events.yaml:8: error: YAML syntax error: could not determine a constructor for the "
         "tag 'tag:yaml.org,2002:set'"]),
    "a list as a key": (
        "events.yaml", "  hosts: [il-mosaico]", "  ? [il-mosaico]\n  : 1",
        ["events.yaml:8: error: YAML syntax error: a key must be a plain word, not a list or a "
         "mapping"]),
}


@pytest.mark.parametrize("case", CASES)
def test_input_that_would_lose_data_is_reported(data, case):
    name, old, new, expected = CASES[case]
    if old is None and name.endswith(".yaml") and new.endswith(".yaml"):
        (data / name).rename(data / new)  # a file renamed
        name = new
    elif old is None:
        (data / name).write_text(new)  # a file replaced
    else:
        _edit(data, name, old, new)
    assert expected == diagnostics(data, only=name)


def test_an_empty_project_file_is_reported_like_a_missing_one(data):
    (data / "project.yaml").write_text("")
    assert [f"project.yaml:1: error: missing required key '{key}'" for key in (
        "base_url", "description", "eu_theme", "frequency", "licence", "organisers",
        "publisher", "release_date", "title")] + [
        "project.yaml:1: error: the publisher has no id, which the catalogue record gives its "
        "agents: write 'publisher' as {name: ..., id: <IPA code, codice fiscale or partita "
        "IVA>} (or set 'illustrative: true')"] == diagnostics(data)


def test_a_long_value_is_quoted_short(data):
    _edit(data, "events.yaml", "status: programmato", "status: " + "x" * 100_000)
    [line] = [d for d in diagnostics(data) if "status" in d]
    assert line.startswith("events.yaml:19: error: invalid status 'xxxxxxx")
    assert len(line) < MESSAGE + 40
    assert "x" * 60 not in line


def _workbook(path: Path, rows, merge=None, formula=None) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Mappatura"
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    if formula:
        ws[formula[0]] = formula[1]
    wb.save(path)  # openpyxl saves no computed value: a formula has none cached


def test_spreadsheet_formulas_without_a_value_and_merged_cells(data):
    rows = [line.split(",") for line in
            (data / "organisations.csv").read_text().splitlines()[:1]]
    rows += [["kilowatt", "Kilowatt Soc. Coop", "", "cooperativa", "emergente", "cultura", "BO"],
             ["il-mosaico", "Il Mosaico", "", "cooperativa sociale", "tradizionale", "", "PR"],
             ["orti-ribelli", "Orti Ribelli APS", "", "associazione", "emergente", "", "PR"]]
    (data / "organisations.csv").unlink()
    _workbook(data / "organisations.xlsx", rows, merge="F3:F4", formula=("H2", "=A1&\"x\""))
    assert [
        "organisations.xlsx:2: error: cell H2: a formula without a saved value (=A1&\"x\"); "
        "open the file in a spreadsheet and save it, or paste the values (Mappatura!R2)",
        "organisations.xlsx:3: error: merged cells F3:F4: only the first holds the value, the "
        "others would be empty; unmerge them (Mappatura!R3)",
    ] == diagnostics(data, only="organisations.xlsx")


def test_a_spreadsheet_zip_bomb_is_refused_quickly(data, tmp_path):
    import zipfile
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fp:
            block = b"\0" * (1 << 20)
            for _ in range(MAX_UNPACKED_BYTES // len(block) + 2):
                fp.write(block)
    assert bomb.stat().st_size < 2 << 20
    (data / "organisations.csv").unlink()
    shutil.copy(bomb, data / "organisations.xlsx")
    start = time.perf_counter()
    lines = diagnostics(data, only="organisations.xlsx")
    assert time.perf_counter() - start < 30
    assert lines[0] == ("organisations.xlsx:1: error: cannot read the spreadsheet: the archive "
                        f"unpacks to {MAX_UNPACKED_BYTES + 2 * (1 << 20):,} bytes (at most "
                        f"{MAX_UNPACKED_BYTES:,}): refused, it may be a zip bomb")


def test_a_zip_whose_sizes_lie_is_measured_by_what_it_gives():
    import io
    import struct
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.xml", b"\0" * (4 << 20))
    raw = bytearray(buffer.getvalue())
    # Declare 100 bytes in both headers: the member still inflates to 4 MiB.
    local = raw.find(b"PK\x03\x04")
    raw[local + 22:local + 26] = struct.pack("<I", 100)
    central = raw.find(b"PK\x01\x02")
    raw[central + 24:central + 28] = struct.pack("<I", 100)
    problem = zip_problem(bytes(raw), limit=1 << 20)
    assert problem is not None and problem.startswith("a damaged archive"), problem


def test_hidden_files_are_not_input(data):
    (data / "notes" / "parma-2015" / ".bozza.md").write_text("---\ntitle: [\n---\n")
    (data / ".DS_Store").write_bytes(b"\0\1")
    assert [] == diagnostics(data)
    assert ".bozza.md" not in {p.name for p in input_files(data)}
    assert sorted(p.relative_to(data).as_posix() for p in input_files(data)) == [
        "events.yaml", "initiatives.yaml", "notes/bologna-2015/debriefing.md",
        "notes/bologna-2015/plenaria.md", "notes/parma-2015/tavolo-1.md",
        "organisations.csv", "project.yaml", "themes.yaml"]


def test_a_long_cell_is_kept_whole(data):
    _edit(data, "organisations.csv", '"Spazi, servizi e progetti"', '"' + "x" * 140_000 + '"')
    model = check(data).model
    assert ["x" * 140_000] == [o["description"] for o in model["organisations"]
                               if o["id"] == "kilowatt"]
