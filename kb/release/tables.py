"""The published tables: their CSV files, Table Schemas, the Data Package and Datasette's metadata."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Callable

from ..diagnostics import CotourError
from ..domain.dictionary import FRICTIONLESS_TYPES, TABLES, Table
from ..domain.vocabulary import LICENCES
from ..store.database import connect_read_only
from . import dcat
from .dcat import RECORDS
from .zip import FileDigest
from ..serve.metadata import metadata

RECORD_NAME = RECORDS["2.1.1"]  # the DCAT-AP_IT record, the one Italian portals harvest

CSV_DIR = "data"

WORKBOOK_NAME = "cotour.xlsx"  # the spreadsheet edition

QDPX_NAME, CODEBOOK_NAME = "cotour.qdpx", "cotour-codebook.qdc"  # REFI-QDA (kb.qdpx)


class PublishError(CotourError):
    pass


def published_tables() -> list[Table]:
    """The dictionary's tables that belong to the open dataset, in dictionary order."""
    return [t for t in TABLES if not t.internal]


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


_CSV_PLAIN = (str, int, float, type(None))  # what the csv module writes as _csv_value does


def csv_writer(fp):
    """The CSV files' writer on the text file ``fp`` (opened with ``newline=""``)."""
    return csv.writer(fp, lineterminator="\r\n")


def csv_header(table: Table) -> bytes:
    """The first line of ``table``'s CSV file: its public column names."""
    line = io.StringIO(newline="")
    csv_writer(line).writerow([c.name for c in table.public_columns])
    return line.getvalue().encode("utf-8")


def write_csv_rows(writer, batch: list[tuple]) -> None:
    """Rows as SQLite returns them into a :func:`csv_writer` (see :func:`write_table_csv`)."""
    if not all(type(v) in _CSV_PLAIN for row in batch for v in row):
        batch = [[_csv_value(v) for v in row] for row in batch]
    writer.writerows(batch)


def _needs_quotes(text: str) -> bool:
    return '"' in text or "," in text or "\n" in text or "\r" in text


def csv_lines(batch: list[tuple]) -> str:
    """The lines :func:`csv_writer` writes for ``batch`` (rows as SQLite returns them), made
    a column at a time: a column with nothing to quote in the whole batch is taken as it is,
    and the lines are joined in C: half the csv module's time, which scans every field a
    character at a time. ``tests/test_publish.py`` holds the two to the same bytes for any
    rows."""
    if not batch:
        return ""
    if len(batch[0]) < 2:  # a lone empty field is quoted: the csv module's rule
        out = io.StringIO(newline="")
        write_csv_rows(csv_writer(out), batch)
        return out.getvalue()
    columns = []
    for values in zip(*batch):
        texts = [v if type(v) is str else "" if v is None else _csv_value(v) for v in values]
        if _needs_quotes("".join(texts)):
            texts = ['"' + t.replace('"', '""') + '"' if _needs_quotes(t) else t
                     for t in texts]
        columns.append(texts)
    return "\r\n".join(map(",".join, zip(*columns))) + "\r\n"


def write_table_csvs(public_db: Path, out_dir: Path,
                     written: Callable[[Path, int], None] | None = None) -> list[Path]:
    """One CSV per published table of ``public_db`` in ``out_dir`` (:func:`write_table_csv`);
    the paths in dictionary order. ``written(path, rows)`` is called after each file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in published_tables():
        path = out_dir / f"{table.name}.csv"
        rows = write_table_csv(public_db, table, path)
        paths.append(path)
        if written is not None:
            written(path, rows)
    return paths


def write_table_csv(public_db: Path, table: Table, path: Path) -> int:
    """``table`` of ``public_db`` as the CSV file ``path``; how many rows.

    The format: UTF-8 without BOM, a header row of the dictionary's public column names, RFC 4180
    quoting with ``\r\n`` line endings (the csv module's default; a line break inside a quoted
    value stays ``\n``), rows in primary-key order. Null is an empty field; booleans are ``1``
    and ``0``; dates are ISO 8601 (``YYYY-MM-DD``) as stored; JSON columns are their JSON text.

    The csv module already writes what :func:`_csv_value` spells out (``None`` as an empty field,
    numbers as ``str``, which for a float is its ``repr``), so rows go to it as SQLite returns
    them; a value of any other type is converted explicitly.
    """
    public_db = Path(public_db)
    conn = connect_read_only(public_db)
    try:
        columns = [c.name for c in table.public_columns]
        select = ", ".join(f"[{c}]" for c in columns)
        order = ", ".join(f"[{c}]" for c in table.pk)
        rows = conn.execute(f"select {select} from [{table.name}] order by {order}")
        n = 0
        with open(path, "w", encoding="utf-8", newline="") as fp:
            writer = csv_writer(fp)
            writer.writerow(columns)
            while batch := rows.fetchmany(4096):
                write_csv_rows(writer, batch)
                n += len(batch)
        return n
    except sqlite3.Error as exc:
        raise PublishError(f"{public_db}: cannot read the public database: {exc}") from exc
    finally:
        conn.close()


def project_row(public_db: Path) -> dict:
    """The ``project`` row of the public database, JSON columns decoded."""
    conn = connect_read_only(public_db)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("select * from project").fetchone()
    except sqlite3.Error as exc:
        raise PublishError(f"{public_db}: cannot read the project table: {exc}") from exc
    finally:
        conn.close()
    if row is None:
        raise PublishError(f"{public_db}: the project table is empty; is data/project.yaml there?")
    project = dict(row)
    table = next(t for t in TABLES if t.name == "project")
    for column in table.columns:
        if column.type == "json" and project.get(column.name) is not None:
            project[column.name] = json.loads(project[column.name])
    return project


def package_name(project: dict) -> str:
    """A Data Package name (lower-case letters, digits, ``-``, ``.``, ``_``) from the project id."""
    return re.sub(r"[^a-z0-9._-]+", "-", str(project["id"]).lower()).strip("-") or "cotour"


def zip_name(project: dict) -> str:
    version = project.get("version")
    return f"{package_name(project)}-{version}.zip" if version else f"{package_name(project)}.zip"


def table_schema(table: Table) -> dict:
    """A Frictionless Table Schema for ``table``, from the dictionary."""
    fields = []
    for column in table.public_columns:
        spec: dict = {"name": column.name, "type": FRICTIONLESS_TYPES[column.type],
                      "description": column.it, "description_en": column.en}
        if column.type == "boolean":
            spec.update({"trueValues": ["1"], "falseValues": ["0"]})
        constraints = {}
        if column.required or column.name in table.pk:
            constraints["required"] = True
        if column.values:
            constraints["enum"] = list(column.values)
        if constraints:
            spec["constraints"] = constraints
        fields.append(spec)
    schema: dict = {"fields": fields, "missingValues": [""], "primaryKey": list(table.pk)}
    # A reference to the table's own rows leaves out "resource" (Data Package v2).
    fks = [{"fields": [name], "reference": ({"fields": [ref_col]} if ref == table.name
                                            else {"resource": ref, "fields": [ref_col]})}
           for name, ref, ref_col in table.foreign_keys]
    if fks:
        schema["foreignKeys"] = fks
    return schema


def data_package(project: dict, files: dict[str, FileDigest] | None = None) -> dict:
    """The ``datapackage.json`` descriptor (Data Package v2) of a release; ``files`` gives each
    CSV's size and checksum (``bytes``, ``hash``) where known.

    ``id`` is there only when the dataset has a global identifier (its DOI): v2 wants one
    that stays the dataset's wherever it goes, which a web address of ours is not.
    """
    licence = LICENCES[project["licence"]]
    files = files or {}
    package: dict = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": package_name(project),
    }
    if project.get("doi"):
        package["id"] = f"https://doi.org/{project['doi']}"
    package["title"] = project["title"]
    if project.get("title_en"):
        package["title_en"] = project["title_en"]
    package["description"] = project["description"]
    if project.get("description_en"):
        package["description_en"] = project["description_en"]
    if project.get("version"):
        package["version"] = project["version"]
    package["created"] = f"{project['release_date']}T00:00:00Z"
    package["homepage"] = dcat.uris(project)["database"]
    package["licenses"] = [{"name": project["licence"], "path": licence.url,
                            "title": licence.title}]
    contributors = [{"title": name, "roles": ["creator"]} for name in project["organisers"] or []]
    contributors.append({"title": project["publisher_name"],
                         "roles": ["publisher", "rightsHolder"]})
    package["contributors"] = contributors
    if project.get("sources"):
        package["sources"] = [{k: v for k, v in s.items() if v} for s in project["sources"]]
    if project.get("keywords"):
        package["keywords"] = project["keywords"]
    if project.get("temporal_start") or project.get("temporal_end"):
        package["temporal"] = {k: project[f"temporal_{k}"] for k in ("start", "end")
                               if project.get(f"temporal_{k}")}
    if project.get("spatial"):
        package["spatial"] = project["spatial"]
    package["illustrative"] = bool(project.get("illustrative"))
    package["resources"] = [{
        "name": table.name,
        "type": "table",
        "path": f"{CSV_DIR}/{table.name}.csv",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "title": table.title_it,
        "title_en": table.title_en,
        "description": table.it,
        "description_en": table.en,
        "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"',
                    "doubleQuote": True, "header": True},
        "schema": table_schema(table),
    } for table in published_tables()]
    for resource in package["resources"]:
        digest = files.get(resource["path"])
        if digest is not None:
            resource["bytes"] = digest.size
            resource["hash"] = f"sha256:{digest.sha256}"
    return package


def datasette_metadata(public_db: Path) -> dict:
    """The public Datasette's own metadata (:func:`kb.serve.metadata.metadata`), for ``cotour.db``."""

    return metadata(public_db)
