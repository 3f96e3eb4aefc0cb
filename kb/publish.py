"""Public database -> the open dataset.

It reads the public database and nothing else. Everything descriptive comes from
:mod:`kb.dictionary` (tables, columns, types, Italian and English descriptions, keys) and from
the database's ``project`` table (title, publisher, licence, dates, EU codes): no value of the
release is written in this module. The catalogue record is :mod:`kb.dcat`'s.

A release folder holds::

    data/<table>.csv      one per published table of the dictionary
    cotour.xlsx           the spreadsheet edition (:mod:`kb.spreadsheet`)
    cotour.db             the public SQLite file (``datasette cotour.db -m metadata.yml``)
    cotour.qdpx, cotour-codebook.qdc   REFI-QDA project and codebook (:mod:`kb.qdpx`)
    datapackage.json      Frictionless Data Package (v2) with a Table Schema per CSV
    dcat-ap_it.ttl        DCAT-AP_IT record (Turtle), conforming to the DCAT-AP 2.1.1 shapes
    dcat-ap.ttl           the same record for DCAT-AP 3.0.1 (conforming to its shapes)
    CITATION.cff, .zenodo.json, dataset.jsonld, index.html   citation files (:mod:`kb.citation`)
    metadata.yml          Datasette metadata for cotour.db
    README.md, LICENSE    generated for the dataset
    SHA256SUMS            checksums of every file above
    <name>-<version>.zip  all of the above (the zip leaves itself out)

Two publishes of the same public database are byte-identical: nothing reads the clock, zip
entries carry the release date and are written in sorted order.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from . import citation, dcat
from .citation import citation_text
from .dcat import RECORDS, ReleaseFile, dataset_identifier
from .diagnostics import CotourError
from .dictionary import FRICTIONLESS_TYPES, TABLES, Table
from .public import PUBLIC_NAME, public_path_for, require_public
from .qdpx import export_qdpx
from .read import LICENCES, placeholders
from .spreadsheet import SpreadsheetError, workbook_differences, write_workbook
from .store import Progress, _noop, connect_read_only, output_lock, remove_scratch


RECORD_NAME = RECORDS["2.1.1"]  # the DCAT-AP_IT record, the one Italian portals harvest
CSV_DIR = "data"
WORKBOOK_NAME = "cotour.xlsx"  # the spreadsheet edition
QDPX_NAME, CODEBOOK_NAME = "cotour.qdpx", "cotour-codebook.qdc"  # REFI-QDA (kb.qdpx)


class PublishError(CotourError):
    pass


def published_tables() -> list[Table]:
    """The dictionary's tables that belong to the open dataset, in dictionary order."""
    return [t for t in TABLES if not t.internal]


# ---- CSV ---------------------------------------------------------------------------------------

def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


_CSV_PLAIN = (str, int, float, type(None))  # what the csv module writes as _csv_value does


def write_table_csvs(public_db: Path, out_dir: Path,
                     written: Callable[[Path, int], None] | None = None) -> list[Path]:
    """One CSV per published table of ``public_db`` in ``out_dir``; the paths in dictionary order.

    The format: UTF-8 without BOM, a header row of the dictionary's public column names, RFC 4180
    quoting with ``\\r\\n`` line endings (the csv module's default; a line break inside a quoted
    value stays ``\\n``), rows in primary-key order. Null is an empty field; booleans are ``1``
    and ``0``; dates are ISO 8601 (``YYYY-MM-DD``) as stored; JSON columns are their JSON text.
    ``written(path, rows)`` is called after each file.

    The csv module already writes what :func:`_csv_value` spells out (``None`` as an empty field,
    numbers as ``str``, which for a float is its ``repr``), so rows go to it as SQLite returns
    them; a value of any other type is converted explicitly.
    """
    public_db, out_dir = Path(public_db), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    conn = connect_read_only(public_db)
    try:
        paths = []
        for table in published_tables():
            columns = [c.name for c in table.public_columns]
            select = ", ".join(f"[{c}]" for c in columns)
            order = ", ".join(f"[{c}]" for c in table.pk)
            rows = conn.execute(f"select {select} from [{table.name}] order by {order}")
            path = out_dir / f"{table.name}.csv"
            n = 0
            with open(path, "w", encoding="utf-8", newline="") as fp:
                writer = csv.writer(fp, lineterminator="\r\n")
                writer.writerow(columns)
                while batch := rows.fetchmany(4096):
                    if not all(type(v) in _CSV_PLAIN for row in batch for v in row):
                        batch = [[_csv_value(v) for v in row] for row in batch]
                    writer.writerows(batch)
                    n += len(batch)
            paths.append(path)
            if written is not None:
                written(path, n)
        return paths
    except sqlite3.Error as exc:
        raise PublishError(f"{public_db}: cannot read the public database: {exc}") from exc
    finally:
        conn.close()


# ---- the project's metadata --------------------------------------------------------------------

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


# ---- datapackage.json --------------------------------------------------------------------------

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


# ---- Datasette metadata, README, LICENSE -------------------------------------------------------

def datasette_metadata(public_db: Path) -> dict:
    """The public Datasette's own metadata (:func:`kb.serve.metadata`), for ``cotour.db``."""
    from .serve import metadata  # imports Datasette: only when a release is written

    return metadata(public_db)


def dataset_readme(project: dict, counts: dict[str, int]) -> str:
    """README.md of the release: what it is, its files, tables and columns, licence, citation."""
    licence = LICENCES[project["licence"]]
    lines = [f"# {project['title']}", ""]
    if project.get("title_en"):
        lines += [f"*{project['title_en']}*", ""]
    if project.get("illustrative"):
        lines += ["> **Dati illustrativi.** Questo dataset è un esempio: i suoi dati non vanno "
                  "usati come fonte.", ">",
                  "> **Illustrative data.** This dataset is an example: do not use its data as a "
                  "source.", ""]
    lines += [project["description"], ""]
    if project.get("description_en"):
        lines += [project["description_en"], ""]
    facts = [("Identificativo / Identifier", dataset_identifier(project)),
             ("Versione / Version", project.get("version")),
             ("Data di rilascio / Release date", project["release_date"]),
             ("Editore / Publisher", project["publisher_name"]),
             ("Organizzatori / Organisers", ", ".join(project.get("organisers") or [])),
             ("Periodo / Period", " – ".join(str(project[k]) for k in ("temporal_start",
                                                                         "temporal_end")
                                               if project.get(k))),
             ("Copertura geografica / Spatial coverage", project.get("spatial")),
             ("Parole chiave / Keywords", ", ".join(project.get("keywords") or [])),
             ("Contatto / Contact", project.get("contact")),
             ("Licenza / Licence", f"{licence.title} ({project['licence']})"),
             ("Consultazione / Browse online", dcat.uris(project)["database"])]
    lines += [f"- **{k}:** {v}" for k, v in facts if v]
    lines += ["", "## File / Files", "",
              "| file | contenuto / content |", "|---|---|",
              f"| `{CSV_DIR}/<tabella>.csv` | una tabella per file: UTF-8, intestazione, "
              "virgolette RFC 4180, date ISO 8601, righe in ordine di chiave primaria, liste "
              "come testo JSON / one table per file: UTF-8, header row, RFC 4180 quoting, ISO "
              "8601 dates, rows in primary-key order, lists as JSON text |",
              f"| `{WORKBOOK_NAME}` | **da aprire con Excel o LibreOffice**: un foglio per "
              "tabella, con numeri, date e codici già tipizzati (i CSV, aperti con un foglio "
              "di calcolo in italiano, perdono i decimali e gli zeri iniziali) / **open this one "
              "in a spreadsheet**: a sheet per table, numbers, dates and codes already typed |",
              "| `cotour.db` | lo stesso contenuto come database SQLite, con ricerca a testo "
              "libero / the same data as a SQLite database, with full-text search |",
              "| `datapackage.json` | descrizione Frictionless Data Package, con tipi e chiavi "
              "/ Frictionless Data Package descriptor, with types and keys |",
              f"| `{RECORD_NAME}` | scheda DCAT-AP_IT (Turtle) per i portali italiani / "
              "DCAT-AP_IT record (Turtle) for Italian data portals |",
              f"| `{RECORDS['3.0.1']}` | la stessa scheda per DCAT-AP 3.0.1 (portale europeo) / "
              "the same record for DCAT-AP 3.0.1 (European data portal) |",
              "| `metadata.yml` | metadati per Datasette / Datasette metadata |",
              "| `index.html` | pagina di presentazione, con la descrizione schema.org "
              "(`dataset.jsonld`) per i motori di ricerca / landing page, with the schema.org "
              "description (`dataset.jsonld`) for search engines |",
              "| `CITATION.cff`, `.zenodo.json` | come citare il dataset (Citation File Format "
              "1.2) e i metadati per un deposito su Zenodo / how to cite the dataset (Citation "
              "File Format 1.2) and the metadata of a Zenodo deposit |",
              "| `cotour.qdpx`, `cotour-codebook.qdc` | le note codificate, progetto e codebook "
              "REFI-QDA per ATLAS.ti, NVivo, MAXQDA, QualCoder / the coded notes, REFI-QDA "
              "project and codebook |",
              "| `LICENSE` | licenza / licence |",
              "| `SHA256SUMS` | impronte SHA-256 dei file / SHA-256 checksums of the files |",
              f"| `{zip_name(project)}` | tutti i file in un archivio / every file in one "
              "archive |", ""]
    lines += ["## Tabelle / Tables", ""]
    for table in published_tables():
        n = counts.get(table.name, 0)
        lines += [f"### `{table.name}` — {table.title_it} / {table.title_en}", "",
                  f"{table.it} *{table.en}*", "",
                  f"Righe / Rows: {n}. Chiave primaria / Primary key: "
                  f"{', '.join(f'`{k}`' for k in table.pk)}.", "",
                  "| colonna / column | tipo / type | descrizione | description |",
                  "|---|---|---|---|"]
        for c in table.public_columns:
            note = f" → `{c.fk[0]}.{c.fk[1]}`" if c.fk else ""
            values = f" ({', '.join(c.values)})" if c.values else ""
            lines.append(f"| `{c.name}` | {FRICTIONLESS_TYPES[c.type]} | {c.it}{values}{note} "
                         f"| {c.en} |")
        lines.append("")
    lines += ["## Aprire i dati con Datasette / Open the data with Datasette", "",
              "```sh", "pip install datasette", "datasette cotour.db -m metadata.yml", "```", "",
              f"Il database si chiama `{PUBLIC_NAME}` e una riga ha l'indirizzo "
              f"`/{PUBLIC_NAME}/<tabella>/<id>`, come nella versione online "
              f"({dcat.uris(project)['database']}). / The database is named `{PUBLIC_NAME}` and "
              "a row's address is the same as online.", "",
              "## Verificare / Validate", "",
              "```sh", "sha256sum -c SHA256SUMS", "frictionless validate datapackage.json", "```",
              "", "## Licenza / Licence", "",
              f"{licence.title} ({project['licence']}): {licence.url}", "",
              f"Titolare dei diritti / Rights holder: {project['publisher_name']}.", "",
              "## Come citare / How to cite", "", citation_text(project), ""]
    return "\n".join(lines)


def licence_text(project: dict) -> str:
    licence = LICENCES[project["licence"]]
    year = str(project["release_date"])[:4]
    return "\n".join([
        f"{project['title']}",
        f"Copyright (c) {year} {project['publisher_name']}",
        "",
        f"I dati di questo dataset sono distribuiti con licenza {licence.title} "
        f"({project['licence']}).",
        f"The data of this dataset are released under the {licence.title} licence "
        f"({project['licence']}).",
        "",
        f"Testo della licenza / Licence text: {licence.url}",
        "",
        "Attribuzione richiesta / Required attribution:",
        citation_text(project),
        "",
    ])


# ---- the release -------------------------------------------------------------------------------

@dataclass
class PublishResult:
    out_dir: Path
    files: dict[str, int]  # relative path -> size in bytes, sorted
    counts: dict[str, int]  # rows per published table
    warnings: list[str] = field(default_factory=list)  # placeholders an illustrative release keeps


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _release_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@dataclass(frozen=True)
class FileDigest:
    """What the release says of one of its files: size and checksums; and, for the zip, its
    raw deflate stream (``part``) with the CRC-32."""

    size: int
    sha256: str
    sha1: str
    crc: int
    part: Path
    compressed_size: int


class ReleaseZip:
    """The release's zip archive, filled as the release is written: each file is compressed
    and hashed on a second thread as soon as it is written (:meth:`add`), and the archive is
    assembled from the compressed parts at the end (:meth:`write`).

    Why not :mod:`zipfile`: it compresses one member at a time on the calling thread and reads
    each file again for its checksums, which made it most of the time of a large publish (the
    README's Prestazioni section has the figures). zlib and hashlib release the GIL on large
    blocks, so here compressing overlaps writing the next file. :mod:`zipfile` reads the result
    back (``cotour publish --check``); ZIP64 records appear only where a size or offset needs them.
    """

    LEVEL = 6  # zlib's default: level 9 took 2.5x the time for 1 % less

    def __init__(self, folder: Path, parts: Path):
        self.folder, self.parts = folder, parts
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.pending: dict[str, Future] = {}

    def add(self, path: Path) -> None:
        name = path.relative_to(self.folder).as_posix()
        part = self.parts / str(len(self.pending))
        self.pending[name] = self.pool.submit(self._deflate, path, part)

    def digest(self, name: str) -> FileDigest:
        return self.pending[name].result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    @classmethod
    def _deflate(cls, path: Path, part: Path) -> FileDigest:
        """Read ``path`` once: size, SHA-256, SHA-1, CRC-32 and raw deflate stream (to ``part``)."""
        sha256, sha1, crc, size = hashlib.sha256(), hashlib.sha1(), 0, 0
        compressor = zlib.compressobj(cls.LEVEL, zlib.DEFLATED, -15)
        with open(path, "rb") as src, open(part, "wb") as dst:
            for block in iter(lambda: src.read(1 << 22), b""):
                sha256.update(block)
                sha1.update(block)
                crc = zlib.crc32(block, crc)
                size += len(block)
                dst.write(compressor.compress(block))
            dst.write(compressor.flush())
            compressed = dst.tell()
        return FileDigest(size, sha256.hexdigest(), sha1.hexdigest(), crc, part, compressed)

    def write(self, zip_path: Path, names: list[str], release_date: str) -> None:
        """The archive of ``names`` (all added), in sorted order, every entry dated
        ``release_date`` (00:00), mode 0644, made on unix: the same files give the same bytes."""
        year, month, day = (int(x) for x in str(release_date)[:10].split("-"))
        dos_date, dos_time = (max(year, 1980) - 1980) << 9 | month << 5 | day, 0
        big = 0xFFFFFFFF
        central = []
        with open(zip_path, "wb") as out:
            for name in sorted(names):
                m = self.digest(name)
                encoded = name.encode("utf-8")
                flags = 0 if encoded.isascii() else 0x800
                offset = out.tell()
                sizes64 = m.size >= big or m.compressed_size >= big
                extra = struct.pack("<HHQQ", 1, 16, m.size, m.compressed_size) if sizes64 else b""
                version = 45 if sizes64 else 20
                out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, version, flags, 8, dos_time,
                                      dos_date, m.crc, big if sizes64 else m.compressed_size,
                                      big if sizes64 else m.size, len(encoded), len(extra)))
                out.write(encoded + extra)
                with open(m.part, "rb") as part:
                    shutil.copyfileobj(part, out, 1 << 22)
                central.append((encoded, flags, m, offset))
            cd_start = out.tell()
            for encoded, flags, m, offset in central:
                values = [v for v in (m.size, m.compressed_size, offset) if v >= big]
                extra = (struct.pack(f"<HH{len(values)}Q", 1, 8 * len(values), *values)
                         if values else b"")
                version = 45 if values else 20
                out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 3 << 8 | version,
                                      version, flags, 8, dos_time, dos_date, m.crc,
                                      min(m.compressed_size, big), min(m.size, big),
                                      len(encoded), len(extra), 0, 0, 0, 0o644 << 16,
                                      min(offset, big)))
                out.write(encoded + extra)
            cd_end = out.tell()
            count, cd_size = len(central), cd_end - cd_start
            if count >= 0xFFFF or cd_start >= big or cd_size >= big:
                out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 3 << 8 | 45, 45, 0, 0,
                                      count, count, cd_size, cd_start))
                out.write(struct.pack("<IIQI", 0x07064B50, 0, cd_end, 1))
            out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF),
                                  min(count, 0xFFFF), min(cd_size, big), min(cd_start, big), 0))


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def placeholder_warnings(project: dict) -> list[str]:
    """The placeholders of an illustrative release, as warnings; for a real release they are
    errors (``cotour check`` reports them at their lines, and a release is not written)."""
    found = [f"project.yaml: {message}" for _, message in placeholders(project)]
    if found and not project.get("illustrative"):
        raise PublishError("cannot publish placeholder metadata:\n  " + "\n  ".join(found))
    return found


def write_release(public_db: Path, folder: Path, progress: Progress = _noop) -> PublishResult:
    """Write the whole release into the empty or new ``folder``."""
    project = project_row(public_db)
    warnings = placeholder_warnings(project)
    steps = 8
    folder.mkdir(parents=True, exist_ok=True)
    parts = Path(tempfile.mkdtemp(prefix=f".{folder.name}.zip-", dir=folder.parent))
    archive = ReleaseZip(folder, parts)
    counts: dict[str, int] = {}

    def done(path: Path, rows: int | None = None) -> None:
        archive.add(path)
        if rows is not None:
            counts[path.stem] = rows

    try:
        progress("pubblicazione", 0, steps)
        shutil.copyfile(public_db, folder / "cotour.db")
        done(folder / "cotour.db")
        progress("pubblicazione", 1, steps)
        write_table_csvs(public_db, folder / CSV_DIR, written=done)
        try:
            write_workbook(public_db, folder / WORKBOOK_NAME, project, published_tables())
        except SpreadsheetError as exc:
            raise PublishError(f"{WORKBOOK_NAME}: {exc}") from exc
        done(folder / WORKBOOK_NAME)
        progress("pubblicazione", 2, steps)
        export_qdpx(public_db, folder / QDPX_NAME)  # and its codebook, cotour-codebook.qdc
        archive.add(folder / QDPX_NAME)
        archive.add(folder / CODEBOOK_NAME)
        _write_rest(public_db, folder, project, counts, archive, progress, steps)
        members = _release_files(folder)
        for name in members:
            if name not in archive.pending:  # written by a step that did not say so
                archive.add(folder / name)
        _write_text(folder / "SHA256SUMS", "".join(f"{archive.digest(name).sha256}  {name}\n"
                                                   for name in members))
        archive.add(folder / "SHA256SUMS")
        progress("pubblicazione", 6, steps)
        archive.write(folder / zip_name(project), members + ["SHA256SUMS"],
                      project["release_date"])
        progress("pubblicazione", 7, steps)
    finally:
        archive.close()
        shutil.rmtree(parts, ignore_errors=True)
    files = {name: (folder / name).stat().st_size for name in _release_files(folder)}
    progress("pubblicazione", 8, steps)
    return PublishResult(folder, files, counts, warnings)


def release_files(project: dict, archive: ReleaseZip | None = None) -> list[ReleaseFile]:
    """The files of the release that the catalogue record describes as distributions, with
    their size and checksum from ``archive`` (the zip itself has none: it holds the record)."""
    def digest(path: str) -> tuple[int | None, str | None, str | None]:
        if archive is None or path not in archive.pending:
            return None, None, None
        d = archive.digest(path)
        return d.size, d.sha1, d.sha256

    database = dcat.uris(project)["database"]
    files = []
    for path, it, en, d_it, d_en, access in (
            (WORKBOOK_NAME, "Edizione per fogli di calcolo", "Spreadsheet edition",
             "Tutte le tabelle in una cartella di lavoro Excel/LibreOffice, un foglio per "
             "tabella, con numeri, date e codici già tipizzati.",
             "Every table in one Excel/LibreOffice workbook, a sheet per table, with numbers, "
             "dates and codes already typed.", None),
            ("cotour.db", "Database SQLite", "SQLite database",
             "Tutte le tabelle in un file SQLite, con la ricerca a testo libero; si apre con "
             "Datasette.", "Every table in one SQLite file, with full-text search; opens in "
             "Datasette.", database),
            ("datapackage.json", "Descrizione Frictionless Data Package",
             "Frictionless Data Package descriptor",
             "Tabelle, colonne, tipi e chiavi delle tabelle CSV.",
             "The CSV tables' columns, types and keys.", None),
            (QDPX_NAME, "Progetto REFI-QDA", "REFI-QDA project",
             "Le note pubbliche codificate, per ATLAS.ti, NVivo, MAXQDA e QualCoder.",
             "The public notes, coded, for ATLAS.ti, NVivo, MAXQDA and QualCoder.", None),
            (CODEBOOK_NAME, "Codebook REFI-QDA", "REFI-QDA codebook",
             "I codici (tipi di risultato, temi) in formato REFI-QDA.",
             "The codes (finding kinds, themes) in REFI-QDA format.", None),
            (zip_name(project), "Archivio completo", "Complete archive",
             "Tutti i file dell'edizione in un archivio ZIP.",
             "Every file of the release in one ZIP archive.", None)):
        files.append(ReleaseFile(path, it, en, d_it, d_en, *digest(path), access_url=access))
    for table in published_tables():
        path = f"{CSV_DIR}/{table.name}.csv"
        files.append(ReleaseFile(path, f"{table.title_it} (CSV)", f"{table.title_en} (CSV)",
                                 table.it, table.en, *digest(path),
                                 access_url=f"{database}/{table.name}"))
    return files


def _write_rest(public_db: Path, folder: Path, project: dict, counts: dict[str, int],
                archive: ReleaseZip, progress: Progress, steps: int) -> None:
    """The descriptive files of a release: Data Package, catalogue records, metadata, README,
    LICENSE."""
    csvs = {f"{CSV_DIR}/{t.name}.csv": archive.digest(f"{CSV_DIR}/{t.name}.csv")
            for t in published_tables()}
    _write_text(folder / "datapackage.json",
                json.dumps(data_package(project, csvs), ensure_ascii=False, indent=2) + "\n")
    archive.add(folder / "datapackage.json")
    progress("pubblicazione", 3, steps)
    files = release_files(project, archive)
    for version, name in RECORDS.items():
        graph = dcat.record(project, files, version)
        conforms, report = dcat.shacl_report(graph, version)
        if not conforms:  # a bug of this module, not of the input: say so plainly
            raise PublishError(f"the catalogue record does not conform to DCAT-AP {version}:\n"
                               f"{report}")
        _write_text(folder / name, graph.serialize(format="turtle"))
        archive.add(folder / name)
    _write_text(folder / "CITATION.cff", citation.cff(project))
    _write_text(folder / ".zenodo.json", citation.json_ld(citation.zenodo(project)))
    schema_org = citation.schema_org(project, published_tables(), files)
    _write_text(folder / "dataset.jsonld", citation.json_ld(schema_org))
    _write_text(folder / "index.html", citation.landing_page(project, schema_org, files))
    progress("pubblicazione", 4, steps)
    _write_text(folder / "metadata.yml",
                yaml.safe_dump(datasette_metadata(public_db), allow_unicode=True, sort_keys=False,
                               width=100))
    _write_text(folder / "README.md", dataset_readme(project, counts))
    _write_text(folder / "LICENSE", licence_text(project))
    progress("pubblicazione", 5, steps)


def publish(db_path: Path | str, out_dir: Path | str = Path("build/opendata"),
            progress: Progress = _noop) -> PublishResult:
    """The public database of ``db_path`` -> the open dataset in ``out_dir``.

    The release is written beside ``out_dir`` and then put in its place, so a failed publish
    leaves the previous release whole. ``out_dir`` must be empty, missing or a previous release.
    """
    public_db = require_public(public_path_for(db_path))
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / "datapackage.json").exists():
        raise PublishError(f"{out_dir} exists and is not a release of the open dataset; "
                           "choose an empty folder with --out")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(out_dir, "another 'cotour publish' is writing this release; run this one "
                              "when it has finished"):
        _recover(out_dir)
        tmp = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
        old = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.old")
        try:
            result = write_release(public_db, tmp, progress)
            if out_dir.exists():
                os.replace(out_dir, old)
            os.replace(tmp, out_dir)
        finally:
            for path in (tmp, old):
                shutil.rmtree(path, ignore_errors=True)
    result.out_dir = out_dir
    return result


def _recover(out_dir: Path) -> None:
    """Undo what a killed publish left: its scratch release, and the previous release put
    aside (put back when the kill came between the two renames)."""
    remove_scratch(out_dir)
    # The zip's parts, beside the scratch release (see write_release).
    remove_scratch(out_dir.with_name(f".{out_dir.name}"), ("tmp.zip-*",))
    if not out_dir.exists():
        for aside in sorted(out_dir.parent.glob(f".{out_dir.name}.*.old")):
            if (aside / "datapackage.json").exists():
                os.replace(aside, out_dir)
                break
    remove_scratch(out_dir, ("old",))


# ---- checking a release ------------------------------------------------------------------------

@dataclass
class CheckReport:
    folder: Path
    problems: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # rows per resource, from frictionless

    @property
    def valid(self) -> bool:
        return not self.problems


def check_release(folder: Path | str, progress: Progress = _noop) -> CheckReport:
    """Validate a release: checksums, the zip, Frictionless (types, keys), the DCAT record."""
    from frictionless import validate

    folder = Path(folder)
    report = CheckReport(folder)
    if not (folder / "datapackage.json").is_file():
        report.problems.append(f"{folder}: no datapackage.json; is this a release folder?")
        return report
    progress("verifica", 0, 4)
    # checksums: every listed file matches, every file is listed
    sums_path = folder / "SHA256SUMS"
    zips = sorted(p.name for p in folder.glob("*.zip"))
    listed = {}
    if not sums_path.is_file():
        report.problems.append("SHA256SUMS: missing")
    else:
        for n, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), 1):
            m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
            if not m:
                report.problems.append(f"SHA256SUMS:{n}: not a checksum line")
                continue
            listed[m.group(2)] = m.group(1)
            path = folder / m.group(2)
            if not path.is_file():
                report.problems.append(f"{m.group(2)}: listed in SHA256SUMS but missing")
            elif _sha256(path) != m.group(1):
                report.problems.append(f"{m.group(2)}: checksum does not match SHA256SUMS")
        for name in _release_files(folder):
            if name not in listed and name != "SHA256SUMS" and name not in zips:
                report.problems.append(f"{name}: not listed in SHA256SUMS")
    progress("verifica", 1, 4)
    # the zip holds exactly the other files, byte for byte
    if len(zips) != 1:
        report.problems.append(f"{folder}: expected one zip archive, found {len(zips)}")
    else:
        expected = [n for n in _release_files(folder) if n != zips[0]]
        try:
            with zipfile.ZipFile(folder / zips[0]) as zf:
                names = sorted(zf.namelist())
                if names != expected:
                    report.problems.append(f"{zips[0]}: its files differ from the release's "
                                           f"(missing {sorted(set(expected) - set(names))}, "
                                           f"extra {sorted(set(names) - set(expected))})")
                for name in set(names) & set(expected):
                    if zf.read(name) != (folder / name).read_bytes():
                        report.problems.append(f"{zips[0]}: {name} differs from the file")
        except zipfile.BadZipFile as exc:
            report.problems.append(f"{zips[0]}: {exc}")
    progress("verifica", 2, 4)
    # frictionless: the schema, types, constraints, primary and foreign keys
    result = validate(str(folder / "datapackage.json"))
    for error in result.errors:
        report.problems.append(f"datapackage.json: {error.message}")
    for task in result.tasks:
        report.rows[task.name] = task.stats.get("rows") or 0
        for error in task.errors:
            row = getattr(error, "row_number", None)
            where = f"{task.place}:{row}" if row else task.place
            report.problems.append(f"{where}: {error.type}: {error.message}")
    progress("verifica", 3, 4)
    # the catalogue records: mandatory properties, the official shapes, the files as they are
    for version, name in RECORDS.items():
        report.problems += [f"{name}: {p}" for p in check_record(folder, name, version)]
    report.problems += check_citation(folder)
    # the spreadsheet edition holds the database's values, typed
    if (folder / WORKBOOK_NAME).is_file() and (folder / "cotour.db").is_file():
        try:
            report.problems += [f"{WORKBOOK_NAME}: {p}" for p in workbook_differences(
                folder / WORKBOOK_NAME, folder / "cotour.db", published_tables())]
        except (OSError, zipfile.BadZipFile, KeyError, ValueError, sqlite3.Error) as exc:
            report.problems.append(f"{WORKBOOK_NAME}: cannot be read: {exc}")
    else:
        report.problems.append(f"{WORKBOOK_NAME}: missing")
    progress("verifica", 4, 4)
    return report


def check_record(folder: Path, name: str, version: str) -> list[str]:
    """What is wrong with the catalogue record ``name`` of the release in ``folder``."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import DCAT

    record = folder / name
    if not record.is_file():
        return ["missing"]
    graph = Graph()
    try:
        graph.parse(record, format="turtle")
    except Exception as exc:  # rdflib raises many kinds of parser errors
        return [f"does not parse: {exc}"]
    problems = dcat.missing_mandatory(graph) + dcat.subjects_outside_themes(graph)
    conforms, text = dcat.shacl_report(graph, version)
    if not conforms:
        problems.append(f"does not conform to DCAT-AP {version}:\n{text}")
    base = None  # the catalogue's home page, base_url: the release is under base/opendata/
    for catalog in graph.subjects(DCAT.dataset, None):
        base = str(graph.value(catalog, URIRef("http://xmlns.com/foaf/0.1/homepage")))
    for dist in sorted(graph.subjects(DCAT.downloadURL, None)):
        url = str(graph.value(dist, DCAT.downloadURL))
        path = url.split("/opendata/", 1)[-1]
        if base is None or not url.startswith(f"{base}/opendata/"):
            problems.append(f"<{dist}>: download address {url} is not in the release")
        elif not (folder / path).is_file():
            problems.append(f"<{dist}>: {path} is not in the release")
        else:
            size = graph.value(dist, DCAT.byteSize)
            if size is not None and float(size) != (folder / path).stat().st_size:
                problems.append(f"<{dist}>: dcat:byteSize {size} is not the size of {path}")
            checksum = graph.value(dist, dcat.SPDX.checksum)
            if checksum is not None:
                algorithm = str(graph.value(checksum, dcat.SPDX.algorithm)).rsplit("_", 1)[-1]
                value = str(graph.value(checksum, dcat.SPDX.checksumValue))
                if algorithm not in ("sha1", "sha256") \
                        or value != _digest(folder / path, algorithm):
                    problems.append(f"<{dist}>: spdx:checksum is not the {algorithm} of {path}")
    return problems


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_citation(folder: Path) -> list[str]:
    """CITATION.cff against the CFF 1.2.0 schema; dataset.jsonld a schema.org Dataset whose
    downloads are files of the release, embedded as it is in index.html; .zenodo.json JSON."""
    import jsonschema
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF

    problems = []
    path = folder / "CITATION.cff"
    try:
        # YAML dates as text, as the schema asks of tools
        data = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")),
                                     default=str))
        schema = json.loads(citation.CFF_SCHEMA.read_text(encoding="utf-8"))
        problems += [f"CITATION.cff: {'/'.join(map(str, e.path)) or 'file'}: {e.message}"
                     for e in jsonschema.Draft7Validator(schema).iter_errors(data)]
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"CITATION.cff: {exc}")
    for name in (".zenodo.json", "dataset.jsonld"):
        try:
            json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        return problems
    text = (folder / "dataset.jsonld").read_text(encoding="utf-8")
    data = json.loads(text)
    # schema.org's context, offline: every term is a schema.org term
    if data.pop("@context", None) != "https://schema.org/":
        problems.append("dataset.jsonld: its @context is not https://schema.org/")
    graph = Graph().parse(data=json.dumps(data), format="json-ld",
                          context={"@vocab": "https://schema.org/"})
    datasets = list(graph.subjects(RDF.type, URIRef("https://schema.org/Dataset")))
    if len(datasets) != 1:
        problems.append(f"dataset.jsonld: {len(datasets)} schema.org Datasets, not 1")
    for url in graph.objects(None, URIRef("https://schema.org/contentUrl")):
        relative = str(url).split("/opendata/", 1)[-1]
        if not (folder / relative).is_file():
            problems.append(f"dataset.jsonld: {url} is not a file of the release")
    landing = folder / "index.html"
    page = landing.read_text(encoding="utf-8") if landing.is_file() else ""
    found = re.search(r'<script type="application/ld\+json">\n(.*?)\n</script>', page, re.S)
    if not found or json.loads(found.group(1)) != json.loads(text):
        problems.append("index.html: does not embed dataset.jsonld")
    return problems
