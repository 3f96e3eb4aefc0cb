"""The open dataset's spreadsheet edition: one ``.xlsx`` workbook, a sheet per table.

Opened in a spreadsheet with the Italian locale, the CSV files lose data silently (``44.796``
read as 44796, the ISTAT code ``040`` as 40); the workbook carries types instead: numbers as
numbers, codes, ids and every other text as text (never a formula: a text that starts with
``=`` stays text), dates as dates. The first sheet describes the dataset and its licence; every
other sheet has the dictionary's Italian labels in its first row and the column names (those of
the CSV files and of the database) in the second, frozen above the data.

The link tables (who raised a finding, who hosted an event, the themes of an initiative…) have
their sheets of ids, and are also folded into their main table's sheet as readable columns after
the table's own (:data:`FOLDS`): names joined by "; ", so a researcher who opens only the
workbook reads who raised what without matching ids across sheets.

How it is written: XlsxWriter makes the workbook with everything but the data rows (the first
sheet, styles, widths, frozen headers, properties); the rows of each sheet are then written as
sheet XML straight from the database, a sheet at a time on any core (``submit``), and spliced
in. At 500,000 findings a workbook is some 13 million cells: openpyxl writes about 120,000
cells a second here, XlsxWriter's constant-memory mode and PyExcelerate 160,000-180,000
(figures: docs/developers/benchmarks.md); the rows written here, a cell as a string,
about a million.
"""

from __future__ import annotations

import datetime
import io
import re
import shutil
import tempfile
import zipfile
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import xlsxwriter

from ..archive import Deflater, Part, joined, write_zip
from ..diagnostics import CotourError
from ..domain.dictionary import Table
from ..domain.vocabulary import LICENCES
from ..export.xml import xml_bytes
from ..store.database import connect_read_only
from .tables import csv_header, csv_lines

HEADER_ROWS = 2  # Italian labels, then column names
MAX_WIDTH = 60  # characters: wider columns wrap their cells instead
CELL_LIMIT = 32767  # characters in one cell (Excel's limit; LibreOffice's too when saving)
SHEET_ROWS = 1_048_576  # rows in a sheet (Excel and LibreOffice)
BATCH = 4096
BOLD = {"bold": True}
WRAP = {"text_wrap": True, "valign": "top"}
NAMES = {"italic": True, "font_color": "#666666"}
DATE_FORMAT = {"num_format": "yyyy-mm-dd"}
_EXCEL_EPOCH = datetime.date(1899, 12, 30).toordinal()  # day 0 of a date as a number


class SpreadsheetError(CotourError):
    pass


@dataclass(frozen=True)
class Fold:
    """A link table folded into its main table's sheet: one column of names per row."""

    label: str  # the column's Italian label (first header row)
    link: str  # the link table it comes from (second header row: "← link")
    sql: str  # its value for the main table's row ``m``: the names, sorted, joined by "; "


def _names(link: str, key: str, other: str, target: str, name: str, where: str = "") -> str:
    return (f"(select group_concat(n, '; ') from (select t.[{name}] as n from [{link}] l "
            f"join [{target}] t on t.id = l.[{other}] where l.[{key}] = m.id {where} "
            f"order by t.[{name}]))")


FOLDS: dict[str, tuple[Fold, ...]] = {
    "findings": (
        Fold("Sollevato da", "finding_organisations",
             _names("finding_organisations", "finding_id", "organisation_id", "organisations",
                    "name", "and l.role = 'source'")),
        Fold("Altre organizzazioni citate", "finding_organisations",
             _names("finding_organisations", "finding_id", "organisation_id", "organisations",
                    "name", "and l.role = 'mentioned'")),
        Fold("Temi (nomi)", "finding_themes",
             _names("finding_themes", "finding_id", "theme_id", "themes", "label")),
    ),
    "events": (
        Fold("Ospitanti (nomi)", "event_hosts",
             _names("event_hosts", "event_id", "organisation_id", "organisations", "name")),
    ),
    "notes": (
        Fold("Partecipanti (nomi)", "note_participants",
             _names("note_participants", "note_id", "organisation_id", "organisations", "name")),
    ),
    "organisations": (
        Fold("Temi (nomi)", "organisation_themes",
             _names("organisation_themes", "organisation_id", "theme_id", "themes", "label")),
    ),
    "initiatives": (
        Fold("Organizzazioni (nomi)", "initiative_organisations",
             _names("initiative_organisations", "initiative_id", "organisation_id",
                    "organisations", "name")),
        Fold("Temi (nomi)", "initiative_themes",
             _names("initiative_themes", "initiative_id", "theme_id", "themes", "label")),
        Fold("Nata dalle tappe", "initiative_events",
             _names("initiative_events", "initiative_id", "event_id", "events", "name")),
    ),
    "hybrid_pairs": (
        Fold("Risultati a sostegno (tipo, tappa)", "hybrid_evidence",
             "(select group_concat(n, '; ') from (select k.label || ', ' || ev.name as n "
             "from hybrid_evidence e join findings f on f.id = e.finding_id "
             "join finding_kinds k on k.id = f.kind join events ev on ev.id = f.event_id "
             "where e.pair_id = m.id order by f.date, f.id))"),
    ),
}


def sheet_headers(table: Table) -> list[tuple[str, str]]:
    """(Italian label, name) of each column of the table's sheet: the table's columns, then
    its folded link tables (named "← <link table>")."""
    return [(c.it, c.name) for c in table.public_columns] + [
        (fold.label, f"← {fold.link}") for fold in FOLDS.get(table.name, ())]


def sheet_select(table: Table) -> str:
    """The select list of a table's sheet (the main table is ``m``): its columns, its folds."""
    return ", ".join([f"m.[{c.name}]" for c in table.public_columns]
                     + [fold.sql for fold in FOLDS.get(table.name, ())])


def sheet_title(table: Table, taken: set[str]) -> str:
    """The sheet's name: the table's Italian title in letters, digits, spaces and ``'()-`` (at
    most 31 characters), its name when two titles would clash."""
    title = re.sub(r"[^\w '’()-]+", " ", table.title_it)  # also safe as part of a file name
    title = re.sub(r" +", " ", title).strip()[:31]
    if title.casefold() in taken:
        title = table.name[:31]
    taken.add(title.casefold())
    return title


@dataclass(frozen=True)
class Sheet:
    """One sheet of a table's rows, ``rows`` of them in primary-key order, in ``chunks``: the
    primary keys each chunk starts from (the first ``None``: from the table's first row) and
    stops before (the last ``None``: to its end)."""

    title: str
    table: Table
    rows: int
    widths: tuple[int, ...]
    chunks: tuple[tuple[tuple | None, tuple | None], ...]


Submit = Callable[..., Future]
CHUNK = 50_000  # rows written as one piece (about a second's work at 15 columns)


def write_workbook(public_db: Path, path: Path, project: dict, tables: list[Table],
                   submit: Submit | None = None, csv_dir: Path | None = None,
                   written: Callable[[Path, int], None] | None = None) -> dict[str, int]:
    """The workbook of ``tables`` (rows in primary-key order, as the CSV files) at ``path``;
    the rows of each table.

    A table longer than a sheet (1,048,576 rows) goes on over further sheets, "Risultati (2)"
    and so on, each with the same header rows. ``submit`` (an executor's ``submit``) writes
    the rows elsewhere, chunks of them at the same time; by default they are written here.

    With ``csv_dir``, each table's CSV file is written there too, from the same rows read
    once (the bytes :func:`kb.release.tables.write_table_csv` writes), and ``written(path,
    rows)`` is called as each is whole, in the tables' order.
    """
    path = Path(path)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        sheets = _plan(public_db, tables)
        skeleton = io.BytesIO()  # small: held, never half-written on a full disk
        created = datetime.datetime.fromisoformat(str(project["release_date"])[:10])
        _skeleton(skeleton, project, tables, sheets, created)
        members: list[tuple[str, list[Part | Future]]] = []
        csvs: dict[str, list[tuple[Part | Future, Path]]] = {t.name: [] for t in tables}
        with zipfile.ZipFile(skeleton) as zf:
            for n, info in enumerate(zf.infolist()):
                xml = zf.read(info)
                sheet = _sheet_of(info.filename, sheets)
                if sheet is None or sheet.rows == 0:
                    pieces = [_deflated(xml, work / f"{n}", last=True)]
                else:
                    head, tail = _split(xml.decode("utf-8"), sheet)
                    pieces = [_deflated(head, work / f"{n}.head", last=False)]
                    for i, (start, stop) in enumerate(sheet.chunks):
                        csv_part = work / f"{n}.{i}.csv" if csv_dir is not None else None
                        args = (public_db, sheet.table, start, stop, _date_style(xml),
                                work / f"{n}.{i}", csv_part)
                        pieces.append(submit(write_rows, *args) if submit
                                      else write_rows(*args))
                        csvs[sheet.table.name].append((pieces[-1], csv_part))
                    pieces.append(_deflated(tail, work / f"{n}.tail", last=True))
                members.append((info.filename, pieces))
        counts = {t.name: sum(s.rows for s in sheets if s.table.name == t.name) for t in tables}
        if csv_dir is not None:
            for table in tables:
                _join_csv(Path(csv_dir) / f"{table.name}.csv", table, csvs[table.name])
                if written is not None:
                    written(Path(csv_dir) / f"{table.name}.csv", counts[table.name])
        write_zip(path, [(name, joined([p.result() if isinstance(p, Future) else p
                                        for p in pieces])) for name, pieces in members],
                  created.date().isoformat())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return counts


def _join_csv(path: Path, table: Table, pieces: list[tuple[Part | Future, Path]]) -> None:
    """A table's CSV file: its header line, then its chunks' rows in order."""
    with open(path, "wb") as out:
        out.write(csv_header(table))
        for piece, rows in pieces:
            if isinstance(piece, Future):
                piece.result()  # its rows are written
            with open(rows, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)


def _deflated(data: bytes, path: Path, last: bool) -> Part:
    out = Deflater(path, last=last)
    out.write(data)
    return out.close()


def _plan(public_db: Path, tables: list[Table]) -> list[Sheet]:
    """The sheets: each table's rows cut at the sheet's size and in chunks, the columns'
    widths from its first 200 rows."""
    taken = {"dataset"}
    sheets = []
    per_sheet = SHEET_ROWS - HEADER_ROWS
    conn = connect_read_only(public_db)
    try:
        for table in tables:
            title = sheet_title(table, taken)
            select = sheet_select(table)
            order = ", ".join(f"[{c}]" for c in table.pk)
            widths = [max(len(label), len(name)) for label, name in sheet_headers(table)]
            for row in conn.execute(f"select {select} from [{table.name}] m order by {order} "
                                    "limit 200"):
                for i, value in enumerate(row):
                    if value is not None:
                        widths[i] = max(widths[i], len(str(value)))
            starts, total = _starts(conn, table, per_sheet)
            for part, first in enumerate(range(0, max(total, 1), per_sheet), 1):
                mine = [key for at, key in starts if first <= at < first + per_sheet]
                after = next((key for at, key in starts if at >= first + per_sheet), None)
                bounds = list(zip(mine, mine[1:] + [after]))
                if bounds:
                    bounds[0] = (None if first == 0 else bounds[0][0], bounds[0][1])
                sheets.append(Sheet(title if part == 1 else f"{title[:26]} ({part})", table,
                                    min(per_sheet, total - first), tuple(widths),
                                    tuple(bounds)))
    finally:
        conn.close()
    return sheets


def _starts(conn, table: Table, per_sheet: int) -> tuple[list[tuple[int, tuple]], int]:
    """Where each sheet and chunk of ``table`` starts (its row's position and key), and how
    many rows it has: each key found from the one before by SQLite stepping over the rows
    between them in the key's index (not a Python loop over every key)."""
    order = ", ".join(f"[{c}]" for c in table.pk)
    marks = ", ".join("?" * len(table.pk))
    total = conn.execute(f"select count(*) from [{table.name}]").fetchone()[0]
    starts: list[tuple[int, tuple]] = []
    for at in [at for first in range(0, total, per_sheet)
               for at in range(first, min(first + per_sheet, total), CHUNK)]:
        if starts:
            before, key = starts[-1]
            found = conn.execute(f"select {order} from [{table.name}] where ({order}) >= "
                                 f"({marks}) order by {order} limit 1 offset ?",
                                 (*key, at - before)).fetchone()
        else:
            found = conn.execute(f"select {order} from [{table.name}] order by {order} "
                                 "limit 1 offset ?", (at,)).fetchone()
        starts.append((at, tuple(found)))
    return starts, total


def _skeleton(path: io.BytesIO, project: dict, tables: list[Table], sheets: list[Sheet],
              created: datetime.datetime) -> None:
    """Everything but the data rows, by XlsxWriter: the first sheet, and each table's sheet
    with its widths, header rows and frozen panes."""
    wb = xlsxwriter.Workbook(path, {"strings_to_numbers": False,
                                         "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"created": created})
    formats = {"label": wb.add_format({**BOLD, **WRAP}), "names": wb.add_format(NAMES),
               "wrap": wb.add_format(WRAP), "bold": wb.add_format({**BOLD, **WRAP}),
               "key": wb.add_format(BOLD), "date": wb.add_format(DATE_FORMAT)}
    _about_sheet(wb, formats, project, tables)
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.title)
        types = [c.type for c in sheet.table.public_columns]
        for i, ((label, name), width) in enumerate(zip(sheet_headers(sheet.table),
                                                       sheet.widths)):
            ws.set_column(i, i, min(width, MAX_WIDTH) + 1,
                          formats["date"] if i < len(types) and types[i] == "date" else None)
            ws.write_string(0, i, label, formats["label"])
            ws.write_string(1, i, name, formats["names"])
        ws.freeze_panes(HEADER_ROWS, 0)
    wb.close()


def _about_sheet(wb, formats: dict, project: dict, tables: list[Table]) -> None:
    """The first sheet: what the dataset is, its licence, how the other sheets read."""
    ws = wb.add_worksheet("Dataset")
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 100)
    licence = LICENCES[project["licence"]]
    row = 0

    def line(label: str, value, bold: bool = False) -> None:
        nonlocal row
        ws.write_string(row, 0, label, formats["key"])
        style = formats["bold" if bold else "wrap"]
        if value is None:
            ws.write_blank(row, 1, None, style)
        else:
            ws.write_string(row, 1, str(value), style)
        row += 1

    line("Dataset", project["title"], bold=True)
    if project.get("illustrative"):
        line("Attenzione", "Dati illustrativi: questo dataset è un esempio, i suoi dati non "
                           "vanno usati come fonte.")
    line("Descrizione", project["description"])
    line("Editore", project["publisher_name"])
    line("Organizzatori", ", ".join(project.get("organisers") or []))
    line("Data di rilascio", project["release_date"])
    line("Versione", project.get("version"))
    line("Licenza", f"{licence.title_it} ({project['licence']}): {licence.url}")
    line("Come si legge", "Un foglio per tabella. Nella prima riga l'etichetta italiana di "
                          "ogni colonna, nella seconda il suo nome (lo stesso dei file CSV e del "
                          "database). Numeri e date sono numeri e date; codici e identificativi "
                          "sono testo (gli zeri iniziali restano). Le liste sono testo JSON. "
                          f"Un testo di più di {CELL_LIMIT:,} caratteri (il limite di una cella) "
                          "finisce con «…»: intero è nei file CSV e nel database."
                          .replace(",", "."))
    titles = {t.name: t.title_it for t in tables}
    folds = [(titles[name], fold) for name, fs in FOLDS.items() for fold in fs
             if name in titles]
    if folds:
        line("Tabelle di collegamento", "Ogni tabella di collegamento (chi ha sollevato un "
             "risultato, chi ha ospitato una tappa, i temi e le organizzazioni di un'iniziativa…) "
             "ha il suo foglio di identificativi, ed è anche riportata, con i nomi, in colonne "
             "aggiunte in fondo al foglio della tabella principale (nomi separati da \"; \"; "
             "nella seconda riga \"← \" e la tabella da cui vengono): "
             + "; ".join(f"{title}: «{fold.label}» ({fold.link})" for title, fold in folds)
             + ".")
    row += 1
    line("Foglio", "Contenuto", bold=True)
    taken = {"dataset"}
    for table in tables:
        line(sheet_title(table, taken), f"{table.it} ({table.name}.csv)")


def _sheet_of(name: str, sheets: list[Sheet]) -> Sheet | None:
    """The table's sheet that the skeleton's part ``name`` is (sheet1.xml is the first sheet)."""
    found = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", name)
    return sheets[int(found.group(1)) - 2] if found and int(found.group(1)) > 1 else None


def _split(xml: str, sheet: Sheet) -> tuple[bytes, bytes]:
    """The skeleton's sheet around where its data rows go; its dimension made the whole's."""
    last = xlsxwriter.utility.xl_rowcol_to_cell(HEADER_ROWS + sheet.rows - 1,
                                                len(sheet_headers(sheet.table)) - 1)
    xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', xml, count=1)
    head, tail = xml.split("</sheetData>")
    return head.encode("utf-8"), ("</sheetData>" + tail).encode("utf-8")


def _date_style(xml: bytes) -> str | None:
    """The style of the date columns (set on their columns in the skeleton)."""
    found = re.search(rb'<col [^>]*style="(\d+)"', xml)
    return found.group(1).decode() if found else None


# ---- the rows ----------------------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def shown(text: str) -> str:
    """A text as its cell holds it: cut to the cell's limit, with "…", when longer."""
    return text if len(text) <= CELL_LIMIT else text[:CELL_LIMIT - 1] + "…"


def _text(value) -> str:
    text = value if type(value) is str else str(value)
    if len(text) > CELL_LIMIT:
        text = shown(text)
    # four searches for one character each: a third less time than one for a class of them
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;"))
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _number(value) -> str:
    if type(value) is float:
        return f"<c><v>{value!r}</v></c>"
    if type(value) is int:
        return f"<c><v>{value}</v></c>"
    return _text(value)  # a number column holding something else: as written


def _cells(column_type: str, date_style: str | None) -> Callable[[object], str]:
    if column_type in ("integer", "real", "boolean"):
        return _number
    if column_type == "date":
        def date(value) -> str:  # a number of days, shown as yyyy-mm-dd
            days = datetime.date.fromisoformat(str(value)[:10]).toordinal() - _EXCEL_EPOCH
            return f'<c s="{date_style}"><v>{days}</v></c>'
        return date
    return _text


def write_rows(public_db: Path, table: Table, start: tuple | None, stop: tuple | None,
               date_style: str | None, part: Path, csv_part: Path | None = None) -> Part:
    """The rows of ``table`` from the key ``start`` to before ``stop`` as sheet XML, deflated
    into ``part`` (a piece of the sheet's stream); with ``csv_part``, the same rows as the
    lines of its CSV file there.

    A row is ``<row>`` and its cells in order (an empty one for a null), each a string: the
    positions are implied, as the format allows."""
    columns = table.public_columns
    cells = [_cells(c.type, date_style) for c in columns] + [_text] * len(
        FOLDS.get(table.name, ()))
    select = sheet_select(table)
    key = f"({', '.join(f'm.[{c}]' for c in table.pk)})"
    marks = f"({', '.join('?' * len(table.pk))})"
    where = " and ".join([f"{key} >= {marks}"] * (start is not None)
                         + [f"{key} < {marks}"] * (stop is not None)) or "1"
    out = Deflater(part, last=False)
    conn = connect_read_only(public_db)
    csv_file = open(csv_part, "w", encoding="utf-8", newline="") if csv_part else None
    own = len(columns)  # the CSV's columns: the table's own, before its folds
    try:
        rows = conn.execute(f"select {select} from [{table.name}] m where {where} "
                            f"order by {key[1:-1]}", (*(start or ()), *(stop or ())))
        while batch := rows.fetchmany(BATCH):
            try:
                xml = "".join(["<row>" + "".join(["<c/>" if v is None else cell(v)
                                                  for cell, v in zip(cells, row)]) + "</row>"
                               for row in batch])
            except ValueError as exc:
                raise SpreadsheetError(f"{table.name}: {_culprit(batch, cells)}: {exc}") from None
            data = xml_bytes(xml)
            if data is None:
                bad = _NOT_XML.search(xml)
                raise SpreadsheetError(f"{table.name}: {_culprit(batch, cells)}: character "
                                       f"U+{ord(bad.group()):04X} cannot be written in a "
                                       "spreadsheet cell")
            out.write(data)
            if csv_file is not None:
                csv_file.write(csv_lines([row[:own] for row in batch] if len(cells) > own
                                         else batch))
    finally:
        conn.close()
        if csv_file is not None:
            csv_file.close()
    return out.close()


def _culprit(batch: list[tuple], cells) -> str:
    """The first row of ``batch`` that cannot be written, named by its first column."""
    for row in batch:
        try:
            if _NOT_XML.search("".join("" if v is None else c(v) for c, v in zip(cells, row))):
                return f"row {row[0]}"
        except ValueError:
            return f"row {row[0]}"
    return "a row"

def workbook_differences(path: Path, public_db: Path, tables: list[Table]) -> list[str]:
    """Where the workbook at ``path`` differs from ``public_db``: its sheets, header rows and
    every value (the first difference of each table); empty when it is the same data."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    problems = []
    taken = {"dataset"}
    conn = connect_read_only(public_db)
    try:
        for table in tables:
            title = sheet_title(table, taken)
            parts = [title] + [n for n in wb.sheetnames if n.startswith(f"{title[:26]} (")]
            if title not in wb.sheetnames:
                problems.append(f"no sheet '{title}' for the table {table.name}")
                continue
            headers = sheet_headers(table)
            order = ", ".join(f"[{k}]" for k in table.pk)
            expected = conn.execute(f"select {sheet_select(table)} from [{table.name}] m "
                                    f"order by {order}")
            for part in parts:
                values = wb[part].iter_rows(values_only=True)
                header = [next(values, ()), next(values, ())]
                if [list(h) for h in header] != [[label for label, _ in headers],
                                                 [name for _, name in headers]]:
                    problems.append(f"sheet '{part}': its header rows are not the table's")
                for n, row in enumerate(values, HEADER_ROWS + 1):
                    want = expected.fetchone()
                    row = tuple(row) + (None,) * (len(headers) - len(row))  # trailing blanks
                    have = tuple(v.date().isoformat() if isinstance(v, datetime.datetime) else v
                                 for v in row)
                    if want is not None:
                        want = tuple(shown(v) if isinstance(v, str) else v for v in want)
                    if want is None or have != want:
                        problems.append(f"sheet '{part}', row {n}: {have!r} is not the "
                                        f"database's {want!r}")
                        break
                else:
                    continue
                break
            else:
                if expected.fetchone() is not None:
                    problems.append(f"sheet '{title}': rows of {table.name} are missing")
    finally:
        conn.close()
        wb.close()
    return problems
