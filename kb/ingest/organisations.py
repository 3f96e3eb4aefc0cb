"""``organisations.csv`` (or ``.xlsx``): the phase-1 mapping, one row per organisation."""

from __future__ import annotations

import csv
import io
import math
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostics, did_you_mean, excerpt
from ..domain.dictionary import TABLES_BY_NAME
from ..domain.vocabulary import (
    LEGAL_FORM_IDS,
    PROFILE_IDS,
    PROVINCE_IDS,
    REGION,
    REGION_BOX,
)
from .fields import SLUG
from .files import MAX_FILE_BYTES, _duplicates, _read_text, read_bytes, zip_problem
from .records import Organisation

# organisations.csv's columns, required or not: the table's, but for those the build adds.
ORGANISATION_COLUMNS = {c.name: c.required for c in TABLES_BY_NAME["organisations"].columns
                        if c.name not in ("is_cooperative", "province_istat", "source_line")}

# Free-text columns of organisations.csv: a cell starting with one of FORMULA_STARTS would
# run as a formula in a spreadsheet that opens the open dataset (CSV injection).
FORMULA_COLUMNS = ["name", "aliases", "sector", "municipality", "description"]

FORMULA_STARTS = ("=", "+", "-", "@")

# Control characters have no place in a cell (tab and line breaks aside): YAML refuses them too.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Located:
    """Diagnostics that name a spreadsheet cell range too: ``... (Mappatura!R12)``."""

    def __init__(self, diags: Diagnostics, where: str):
        self.diags, self.where = diags, where

    def error(self, path: str, line: int, message: str) -> None:
        self.diags.error(path, line, f"{message}{self.where}")

    def warning(self, path: str, line: int, message: str) -> None:
        self.diags.warning(path, line, f"{message}{self.where}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return str(int(value))  # a year typed in a number cell
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


def _csv_rows(text: str, path: str, diags: Diagnostics) -> list[tuple[int, list[str]]]:
    """``(line, values)`` for each record of a CSV text; a quoted field may span lines.

    A record the csv module cannot read is an error at its line, and nothing after it is
    read: its fields cannot be told apart.
    """
    # A cell may be as long as a file may be: the csv module's default limit (128 KiB, which
    # some libraries raise at import) would refuse a long description, or not, by accident.
    if csv.field_size_limit() < MAX_FILE_BYTES:
        csv.field_size_limit(MAX_FILE_BYTES)
    reader = csv.reader(io.StringIO(text))
    rows, start = [], 1
    try:
        for values in reader:
            rows.append((start, values))
            start = reader.line_num + 1
    except csv.Error as exc:
        diags.error(path, start, f"unreadable CSV record ({excerpt(str(exc))}); the rows after it "
                                 "are not read")
    return rows


XLSX_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"}


def _xlsx_rows(path: Path, shown: str, diags: Diagnostics):
    """``(row number, values, sheet name)`` for each row of the first sheet of a workbook.

    What a spreadsheet can hide is an error, at its cell: a formula saved without its value
    (a file written by a program, never opened in a spreadsheet), an error value, merged
    cells (the value is in the first cell only, the others read as empty).
    """
    import openpyxl  # only needed for spreadsheets
    from openpyxl.utils import get_column_letter

    raw = read_bytes(path, diags, shown)
    if raw is None:
        return []
    problem = zip_problem(raw)
    if problem:
        diags.error(shown, 1, f"cannot read the spreadsheet: {problem}")
        return []
    try:
        values = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(raw), data_only=False)
    except Exception as exc:  # openpyxl raises many types for a broken file
        diags.error(shown, 1, f"cannot read the spreadsheet: {excerpt(str(exc))}")
        return []
    if not values.worksheets:
        return []
    sheet, formula_sheet = values.worksheets[0], formulas.worksheets[0]
    for merged in sorted(formula_sheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        diags.error(shown, merged.min_row, f"merged cells {merged.coord}: only the first holds "
                                           f"the value, the others would be empty; unmerge them "
                                           f"({sheet.title}!R{merged.min_row})")
    rows = []
    for n, (cells, formula_cells) in enumerate(zip(sheet.iter_rows(),
                                                   formula_sheet.iter_rows()), 1):
        for cell, formula in zip(cells, formula_cells):
            where = f"{get_column_letter(formula.column)}{n}"
            if formula.data_type == "f" and cell.value is None:
                diags.error(shown, n, f"cell {where}: a formula without a saved value "
                                      f"({excerpt(str(formula.value))}); open the file in a "
                                      f"spreadsheet and save it, or paste the values "
                                      f"({sheet.title}!R{n})")
            elif cell.data_type == "e" or cell.value in XLSX_ERRORS:
                diags.error(shown, n, f"cell {where}: the error value {cell.value}: fix the "
                                      f"formula or write the value ({sheet.title}!R{n})")
        rows.append((n, [_cell(c.value) for c in cells], sheet.title))
    return rows


def read_organisations(data_dir: Path, diags: Diagnostics) -> list[Organisation]:
    """The phase-1 mapping from organisations.csv, or from organisations.xlsx (first sheet)."""
    csv_path, xlsx_path = data_dir / "organisations.csv", data_dir / "organisations.xlsx"
    if os.path.lexists(csv_path) and os.path.lexists(xlsx_path):
        diags.error(str(xlsx_path), 1, "both organisations.csv and organisations.xlsx exist: keep one")
        return []
    if os.path.lexists(xlsx_path):
        path = str(xlsx_path)
        records = _xlsx_rows(xlsx_path, path, diags)
    else:
        path = str(csv_path)
        text = _read_text(data_dir, "organisations.csv", diags)
        if text is None:
            return []
        records = [(line, values, None) for line, values in _csv_rows(text, path, diags)]
    if not records:
        diags.error(path, 1, "empty file: a header row is required")
        return []
    _, header, sheet = records[0]
    header = [h.strip() for h in header]
    while header and not header[-1]:
        header.pop()  # spreadsheets often carry empty trailing columns
    where = (lambda n: f" ({sheet}!R{n})") if sheet else (lambda n: "")
    for n, column in enumerate(header):
        if column not in ORGANISATION_COLUMNS:
            diags.error(path, 1, f"unknown column '{excerpt(column)}'"
                                 f"{did_you_mean(column[:100], ORGANISATION_COLUMNS)}{where(1)}")
        elif column in header[:n]:
            diags.error(path, 1, f"column '{column}' appears twice: keep one (the values of one "
                                 f"would be lost){where(1)}")
    for column, required in ORGANISATION_COLUMNS.items():
        if required and column not in header:
            diags.error(path, 1, f"missing required column '{column}'{where(1)}")
    organisations = []
    for line, values, _ in records[1:]:
        if not any(v.strip() for v in values):
            continue
        located = _Located(diags, where(line)) if sheet else diags
        extra = values[len(header):]
        if len(values) < len(header) and not sheet or any(v.strip() for v in extra):
            located.error(path, line, f"row has {len(values)} fields, the header has {len(header)}")
            continue
        row = {h: v.strip() for h, v in zip(header, values + [""] * len(header))}
        org = _organisation(row, path, line, located)
        if org:
            organisations.append(org)
    _duplicates(organisations, path, diags, "organisation")
    return organisations


def _organisation(row: dict, path: str, line: int, diags) -> Organisation | None:
    def choice(column, choices):
        value = row.get(column) or None
        if value is None:
            if ORGANISATION_COLUMNS[column]:
                diags.error(path, line, f"missing {column}")
            return None
        if value not in choices:
            diags.error(path, line, f"invalid {column} '{excerpt(value)}'"
                                    f"{did_you_mean(value[:100], choices)} "
                                    f"(one of: {', '.join(choices)})")
            return None
        return value

    org_id = row.get("id") or ""
    if not SLUG.match(org_id):
        diags.error(path, line, f"'{excerpt(org_id)}' is not a valid id: use lower-case letters, "
                                "digits and hyphens")
        return None
    _check_cells(row, path, line, diags)
    name = row.get("name") or None
    if not name:
        diags.error(path, line, f"organisation '{org_id}' has no name")
    website = row.get("website") or None
    if website and not re.match(r"https?://[^\s/]+\.[^\s]+$", website):
        diags.error(path, line, f"website '{excerpt(website)}' is not an http(s) URL")
        website = None
    founded = None
    if row.get("founded"):
        if re.fullmatch(r"\d{4}", row["founded"]) and 1800 <= int(row["founded"]) <= date.today().year:
            founded = int(row["founded"])
        else:
            diags.error(path, line, f"founded '{excerpt(row['founded'])}' is not a year")
    coords = _coordinates(row, path, line, diags)
    mapped_raw = (row.get("mapped") or "yes").lower()
    if mapped_raw not in ("yes", "no"):
        diags.error(path, line, f"mapped must be 'yes' or 'no', not '{excerpt(row['mapped'])}'")
    return Organisation(
        id=org_id,
        name=name or org_id,
        aliases=[a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()],
        legal_form=choice("legal_form", LEGAL_FORM_IDS),
        profile=choice("profile", PROFILE_IDS),
        sector=row.get("sector") or None,
        province=choice("province", PROVINCE_IDS),
        municipality=row.get("municipality") or None,
        website=website,
        founded=founded,
        lat=coords["lat"],
        lon=coords["lon"],
        themes=[t.strip() for t in (row.get("themes") or "").split(";") if t.strip()],
        description=row.get("description") or None,
        mapped=mapped_raw != "no",
        line=line,
    )


def _check_cells(row: dict, path: str, line: int, diags) -> None:
    """Control characters are errors (and dropped); a text that a spreadsheet would run as a
    formula is a warning, kept as written."""
    for column, value in row.items():
        control = CONTROL.search(value)
        if control:
            diags.error(path, line, f"{column} '{excerpt(value)}' holds the control character "
                                    f"U+{ord(control.group()):04X}: remove it")
            row[column] = CONTROL.sub("", value)
    for column in FORMULA_COLUMNS:
        value = row.get(column) or ""
        if value[:1] in FORMULA_STARTS:
            diags.warning(path, line, f"{column} '{excerpt(value)}' starts with '{value[0]}': a "
                                      "spreadsheet opening the open dataset's CSV would run it "
                                      "as a formula; kept as written")


def _coordinates(row: dict, path: str, line: int, diags) -> dict[str, float | None]:
    """``lat`` and ``lon`` as decimal degrees, both or neither."""
    coords: dict[str, float | None] = {"lat": None, "lon": None}
    for axis in coords:
        raw = row.get(axis) or ""
        if raw:
            try:
                coords[axis] = float(raw.replace(",", "."))
            except ValueError:
                diags.error(path, line, f"{axis} '{excerpt(raw)}' is not a decimal number")
                continue
            limit = 90 if axis == "lat" else 180
            if not math.isfinite(coords[axis]) or abs(coords[axis]) > limit:
                diags.error(path, line, f"{axis} '{excerpt(raw)}' is not a coordinate: give "
                                        f"decimal degrees from -{limit} to {limit}")
                coords[axis] = None
    if (row.get("lat") and coords["lat"] is None) or (row.get("lon") and coords["lon"] is None):
        coords = {"lat": None, "lon": None}  # an error above: the pair goes with it
    elif bool(row.get("lat")) != bool(row.get("lon")):
        diags.warning(path, line, "lat and lon go together: give both or neither (coordinates ignored)")
        coords = {"lat": None, "lon": None}
    elif coords["lat"] is not None and coords["lon"] is not None:
        if any(not lo <= coords[axis] <= hi for axis, (lo, hi) in REGION_BOX.items()):
            diags.warning(path, line, f"coordinates {coords['lat']}, {coords['lon']} lie outside "
                                      f"{REGION[0]} (lat and lon swapped?)")
    return coords
