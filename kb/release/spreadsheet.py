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
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..diagnostics import CotourError
from ..domain.dictionary import Table
from ..domain.vocabulary import LICENCES
from ..store.database import connect_read_only

HEADER_ROWS = 2  # Italian labels, then column names
MAX_WIDTH = 60  # characters: wider columns wrap their cells instead
CELL_LIMIT = 32767  # characters in one cell (Excel's limit; LibreOffice's too when saving)
BOLD = Font(bold=True)
NAMES = Font(italic=True, color="666666")
SHEET_ROWS = 1_048_576  # rows in a sheet (Excel and LibreOffice)


@dataclass(frozen=True)
class Fold:
    """A link table folded into its main table's sheet: one column of names per row."""

    label: str  # the column's Italian label (first header row)
    link: str  # the link table it comes from (second header row: "← link")
    sql: str  # (key, name) of every link, the key being the main table's primary key


def _names(link: str, key: str, other: str, target: str, name: str, where: str = "") -> str:
    return (f"select l.[{key}], t.[{name}] from [{link}] l join [{target}] t on t.id = "
            f"l.[{other}] {where} order by l.[{key}], t.[{name}]")


FOLDS: dict[str, tuple[Fold, ...]] = {
    "findings": (
        Fold("Sollevato da", "finding_organisations",
             _names("finding_organisations", "finding_id", "organisation_id", "organisations",
                    "name", "where l.role = 'source'")),
        Fold("Altre organizzazioni citate", "finding_organisations",
             _names("finding_organisations", "finding_id", "organisation_id", "organisations",
                    "name", "where l.role = 'mentioned'")),
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
             "select e.pair_id, k.label || ', ' || ev.name from hybrid_evidence e "
             "join findings f on f.id = e.finding_id join finding_kinds k on k.id = f.kind "
             "join events ev on ev.id = f.event_id order by e.pair_id, f.date, f.id"),
    ),
}


def folded(conn, table: Table) -> list[tuple[Fold, dict]]:
    """The folds of ``table`` with their text per row key ("A; B"), read once each."""
    out = []
    for fold in FOLDS.get(table.name, ()):
        texts: dict = {}
        for key, name in conn.execute(fold.sql):
            texts[key] = f"{texts[key]}; {name}" if key in texts else name
        out.append((fold, texts))
    return out


class SpreadsheetError(CotourError):
    pass


def sheet_title(table: Table, taken: set[str]) -> str:
    """The sheet's name: the table's Italian title in letters, digits, spaces and ``'()-`` (at
    most 31 characters), its name when two titles would clash."""
    title = re.sub(r"[^\w '’()-]+", " ", table.title_it)  # also safe as part of a file name
    title = re.sub(r" +", " ", title).strip()[:31]
    if title.casefold() in taken:
        title = table.name[:31]
    taken.add(title.casefold())
    return title


def _value(ws, value, column_type: str):
    """One data cell's value, typed by the dictionary's column type. Plain values go to
    openpyxl as they are (it types numbers, dates and text itself, and a cell object per value
    would cost twice the time); only a text that openpyxl would take for a formula is wrapped
    as a text cell."""
    if value is None or column_type in ("integer", "real", "boolean"):
        return value
    if column_type == "date":
        return datetime.date.fromisoformat(str(value)[:10])  # shown as yyyy-mm-dd
    text = str(value)
    if len(text) > CELL_LIMIT:
        raise SpreadsheetError(f"a value of {len(text):,} characters does not fit in a "
                               f"spreadsheet cell (at most {CELL_LIMIT:,})")
    if text.startswith("="):
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"  # text, never a formula
        return cell
    return text


def write_workbook(public_db: Path, path: Path, project: dict, tables: list[Table]) -> None:
    """The workbook of ``tables`` (rows in primary-key order, as the CSV files) at ``path``.

    A table longer than a sheet (1,048,576 rows) goes on over further sheets, "Risultati (2)"
    and so on, each with the same header rows.
    """
    path = Path(path)
    wb = Workbook(write_only=True)
    _about_sheet(wb, project, tables)
    taken = {"dataset"}
    conn = connect_read_only(public_db)
    try:
        for table in tables:
            title = sheet_title(table, taken)
            columns = table.public_columns
            names = [c.name for c in columns]
            folds = folded(conn, table)
            key = names.index(table.pk[0])
            headers = sheet_headers(table)
            select = ", ".join(f"[{c}]" for c in names)
            order = ", ".join(f"[{c}]" for c in table.pk)
            widths = [max(len(label), len(name)) for label, name in headers]
            # widths from the first rows: write-only sheets take them before any row
            for row in conn.execute(f"select {select} from [{table.name}] order by {order} "
                                    "limit 200"):
                row = list(row) + [texts.get(row[key]) for _, texts in folds]
                for i, value in enumerate(row):
                    if value is not None:
                        widths[i] = max(widths[i], len(str(value)))
            ws, part, written = _table_sheet(wb, title, headers, widths), 1, 0
            rows = conn.execute(f"select {select} from [{table.name}] order by {order}")
            while batch := rows.fetchmany(4096):
                for row in batch:
                    if written == SHEET_ROWS - HEADER_ROWS:
                        part += 1
                        ws = _table_sheet(wb, f"{title[:26]} ({part})", headers, widths)
                        written = 0
                    ws.append([_value(ws, v, c.type) for v, c in zip(row, columns)]
                              + [_value(ws, texts.get(row[key]), "text") for _, texts in folds])
                    written += 1
    finally:
        conn.close()
    created = datetime.datetime.fromisoformat(str(project["release_date"])[:10])
    wb.properties.created = created
    wb.save(path)
    _dated(path, created)


def sheet_headers(table: Table) -> list[tuple[str, str]]:
    """(Italian label, name) of each column of the table's sheet: the table's columns, then
    its folded link tables (named "← <link table>")."""
    return [(c.it, c.name) for c in table.public_columns] + [
        (fold.label, f"← {fold.link}") for fold in FOLDS.get(table.name, ())]


def _table_sheet(wb: Workbook, title: str, headers: list[tuple[str, str]], widths: list[int]):
    """A table's sheet: widths, the two header rows (Italian labels, column names), frozen."""
    ws = wb.create_sheet(title)
    for i, width in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = min(width, MAX_WIDTH) + 2
    ws.freeze_panes = f"A{HEADER_ROWS + 1}"
    labels = []
    for label, _ in headers:
        cell = WriteOnlyCell(ws, value=label)
        cell.font, cell.data_type = BOLD, "s"
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        labels.append(cell)
    ws.append(labels)
    header = []
    for _, name in headers:
        cell = WriteOnlyCell(ws, value=name)
        cell.font, cell.data_type = NAMES, "s"
        header.append(cell)
    ws.append(header)
    return ws


def _dated(path: Path, when: datetime.datetime) -> None:
    """Rewrite the workbook with every zip entry and the document's 'modified' property dated
    ``when``: openpyxl stamps both with the clock, and a release is the same bytes every time."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == "docProps/core.xml":
                xml = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp,
                             src.read(info))
                dst.writestr(entry, xml)
                continue
            with src.open(info) as fin, dst.open(entry, "w") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
    os.replace(tmp, path)


def _about_sheet(wb: Workbook, project: dict, tables: list[Table]) -> None:
    """The first sheet: what the dataset is, its licence, how the other sheets read."""
    ws = wb.create_sheet("Dataset")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100
    licence = LICENCES[project["licence"]]

    def line(label: str, value, bold: bool = False) -> None:
        a = WriteOnlyCell(ws, value=label)
        a.font, a.data_type = BOLD, "s"
        b = WriteOnlyCell(ws, value=None if value is None else str(value))
        b.alignment = Alignment(wrap_text=True, vertical="top")
        if value is not None:
            b.data_type = "s"
        if bold:
            b.font = BOLD
        ws.append([a, b])

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
                          "sono testo (gli zeri iniziali restano). Le liste sono testo JSON.")
    titles = {t.name: t.title_it for t in tables}
    folds = [(titles[name], fold) for name, fs in FOLDS.items() for fold in fs
             if name in titles]
    if folds:
        line("Tabelle di collegamento", "Ogni tabella di collegamento (chi ha sollevato un "
             "risultato, chi ha ospitato una tappa, i temi e le organizzazioni di un'iniziativa…) "
             "ha il suo foglio di identificativi, ed è anche riportata, con i nomi, in colonne "
             "aggiunte in fondo al foglio della tabella principale (nomi separati da \"; \"; "
             "nella seconda riga \"← \" e la tabella da cui vengono): "
             + "; ".join(f"{title}: «{fold.label}» ({fold.link})"
                         for title, fold in folds) + ".")
    ws.append([])
    line("Foglio", "Contenuto", bold=True)
    taken = {"dataset"}
    for table in tables:
        line(sheet_title(table, taken), f"{table.it} ({table.name}.csv)")


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
            columns = table.public_columns
            parts = [title] + [n for n in wb.sheetnames if n.startswith(f"{title[:26]} (")]
            if title not in wb.sheetnames:
                problems.append(f"no sheet '{title}' for the table {table.name}")
                continue
            names = ", ".join(f"[{c.name}]" for c in columns)
            order = ", ".join(f"[{k}]" for k in table.pk)
            expected = conn.execute(f"select {names} from [{table.name}] order by {order}")
            headers = sheet_headers(table)
            folds = folded(conn, table)
            key = [c.name for c in columns].index(table.pk[0])
            for part in parts:
                values = wb[part].iter_rows(values_only=True)
                header = [next(values, ()), next(values, ())]
                if [list(h) for h in header] != [[label for label, _ in headers],
                                                 [name for _, name in headers]]:
                    problems.append(f"sheet '{part}': its header rows are not the table's")
                for n, row in enumerate(values, HEADER_ROWS + 1):
                    want = expected.fetchone()
                    if want is not None:
                        want = tuple(want) + tuple(texts.get(want[key]) for _, texts in folds)
                    row = tuple(row) + (None,) * (len(headers) - len(row))  # trailing blanks
                    have = tuple(v.date().isoformat() if isinstance(v, datetime.datetime) else v
                                 for v in row)
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
