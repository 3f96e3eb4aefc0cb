"""Readers: YAML with lines, encodings, the spreadsheet mapping."""

import shutil

import openpyxl
import pytest

from kb.diagnostics import Diagnostics
from kb.pipeline import build, check
from kb.ingest.files import decode
from kb.ingest.yaml_lines import load_yaml

from conftest import MINI


@pytest.mark.parametrize("raw,expected", [
    (b"uno\ndue\n", "uno\ndue\n"),
    (b"\xef\xbb\xbfuno\r\ndue\r\n", "uno\ndue\n"),
    ("citt\u00e0\r".encode(), "citt\u00e0\n"),
])
def test_decode_accepts_bom_and_crlf(raw, expected):
    assert expected == decode(raw, "f", Diagnostics())


def test_decode_reports_line_of_first_bad_byte():
    diags = Diagnostics()
    assert None is decode(b"uno\ndue\ntr\xe8\n", "f.md", diags)
    assert ["f.md:3: error: not UTF-8 (byte 0xe8); save the file as UTF-8"] == [str(d) for d in diags.items]


def test_yaml_lines_of_keys_and_items():
    data = load_yaml("- id: a\n  hosts:\n    - x\n    - y\n- id: b\n", "f", Diagnostics())
    assert [1, 5] == data.lines
    assert (1, 2) == (data[0].line_of("id"), data[0].line_of("hosts"))
    assert [3, 4] == data[0]["hosts"].lines


def test_yaml_duplicate_key_and_dates_stay_text():
    diags = Diagnostics()
    data = load_yaml("date: 2015-12-09\ndate: 2015-12-10\n", "f", diags)
    assert "2015-12-10" == data["date"]
    assert ["f:2: error: duplicate key 'date'"] == [str(d) for d in diags.items]


def test_yaml_control_character_reported_with_its_line():
    diags = Diagnostics()
    assert None is load_yaml("a: 1\nb: \x1f\n", "f.yaml", diags)
    assert ["f.yaml:2: error: YAML syntax error: character #x001f is not allowed"] == [
        str(d) for d in diags.items]


def write_xlsx(path, rows, title="Mappatura"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)


HEADER = ["id", "name", "aliases", "legal_form", "profile", "sector", "province", "municipality",
          "website", "founded", "lat", "lon", "themes", "description", "mapped"]


@pytest.fixture
def xlsx_data(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    (data / "organisations.csv").unlink()
    return data


def test_xlsx_mapping_builds_like_the_csv(xlsx_data, tmp_path, mini_build):
    import csv
    with open(MINI / "organisations.csv", encoding="utf-8") as fp:
        rows = list(csv.reader(fp))
    # Numbers typed as numbers, as a spreadsheet holds them.
    typed = [rows[0]] + [[float(v) if v.replace(".", "").isdigit() and "." in v
                          else int(v) if v.isdigit() else (v or None) for v in r] for r in rows[1:]]
    write_xlsx(xlsx_data / "organisations.xlsx", typed)
    result = build(xlsx_data, tmp_path / "x.db")
    import sqlite_utils
    expected = list(sqlite_utils.Database(mini_build[0])["organisations"].rows)
    assert expected == list(sqlite_utils.Database(result.db_path)["organisations"].rows)


def test_xlsx_diagnostics_name_the_row(xlsx_data):
    write_xlsx(xlsx_data / "organisations.xlsx", [
        HEADER,
        ["kilowatt", "Kilowatt Soc. Coop", None, "cooperativa", "emergente", None, "BO"],
        ["il-mosaico", "Il Mosaico", "Mosaico", "cooperativa sociale", "tradizionale", None, "PR"],
        ["orti-ribelli", "Orti Ribelli", None, "associazione", "emergente", None, "Parma"],
        ["kilowatt", "Kilowatt bis", None, "impresa", "emergente", None, "BO"],
    ])
    path = xlsx_data / "organisations.xlsx"
    assert [
        f"{path}:4: error: invalid province 'Parma' (one of: PC, PR, RE, MO, BO, FE, RA, FC, RN) (Mappatura!R4)",
        f"{path}:5: error: duplicate organisation id 'kilowatt' (first at line 2)",
    ] == [str(d) for d in check(xlsx_data).diagnostics.errors]


def test_csv_and_xlsx_together_is_an_error(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    write_xlsx(data / "organisations.xlsx", [HEADER])
    assert [f"{data}/organisations.xlsx:1: error: both organisations.csv and organisations.xlsx exist: keep one"] == [
        str(d) for d in check(data).diagnostics.errors if "organisations.xlsx" in d.path]


@pytest.mark.parametrize("line,expected", [
    ("licence: CC-BY-4.0", []),
    ("licence: IODL-2.0", ["project.yaml:5: error: licence 'IODL-2.0' is not one of the SPDX identifiers "
                           "with a code in the EU licence table; did you mean 'ODbL-1.0'? (one of: CC-BY-4.0, CC-BY-SA-4.0, "
                           "CC0-1.0, ODC-By-1.0, ODbL-1.0, PDDL-1.0)"]),
    ("licence: CC-BY-4", ["project.yaml:5: error: licence 'CC-BY-4' is not one of the SPDX identifiers "
                          "with a code in the EU licence table; did you mean 'CC-BY-4.0'? (one of: "
                          "CC-BY-4.0, CC-BY-SA-4.0, CC0-1.0, ODC-By-1.0, ODbL-1.0, PDDL-1.0)"]),
    ("frequency: SOMETIMES", ["project.yaml:5: error: invalid frequency 'SOMETIMES'"]),
    ("eu_theme: [SOCI, SOCIAL]", ["project.yaml:5: error: unknown EU data theme 'SOCIAL'; did you mean 'SOCI'?"]),
])
def test_project_codes(tmp_path, line, expected):
    text = (MINI / "project.yaml").read_text().splitlines()
    key = line.split(":")[0]
    text = [l for l in text if not l.startswith(key + ":")]
    text.insert(4, line)
    (tmp_path / "project.yaml").write_text("\n".join(text) + "\n")
    from kb.ingest.project import read_project
    diags = Diagnostics()
    read_project(tmp_path, diags)
    got = [str(d).replace(f"{tmp_path}/", "") for d in diags.items]
    assert expected == [g[:len(e)] for g, e in zip(got, expected)] and len(expected) == len(got)
