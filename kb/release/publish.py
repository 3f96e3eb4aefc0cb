"""Public database -> the open dataset.

It reads the public database and nothing else. Everything descriptive comes from
:mod:`kb.domain.dictionary` (tables, columns, types, Italian and English descriptions, keys) and from
the database's ``project`` table (title, publisher, licence, dates, EU codes): no value of the
release is written in this module. The catalogue record is :mod:`kb.release.dcat`'s.

A release folder holds::

    data/<table>.csv      one per published table of the dictionary
    cotour.xlsx           the spreadsheet edition (:mod:`kb.release.spreadsheet`)
    cotour.db             the public SQLite file (``datasette cotour.db -m metadata.yml``)
    cotour.qdpx, cotour-codebook.qdc   REFI-QDA project and codebook (:mod:`kb.export.qdpx`)
    datapackage.json      Frictionless Data Package (v2) with a Table Schema per CSV
    dcat-ap_it.ttl        DCAT-AP_IT record (Turtle), conforming to the DCAT-AP 2.1.1 shapes
    dcat-ap.ttl           the same record for DCAT-AP 3.0.1 (conforming to its shapes)
    CITATION.cff, .zenodo.json, dataset.jsonld, index.html   citation files (:mod:`kb.release.citation`)
    metadata.yml          Datasette metadata for cotour.db
    README.md, LICENSE    generated for the dataset
    SHA256SUMS            checksums of every file above, and of the zip
    <name>-<version>.zip  all of the above (the zip leaves itself out)

The zip cannot hold its own size and checksum, so the two catalogue records and SHA256SUMS
exist twice: inside the zip as they were written before it (the zip's distribution without
``dcat:byteSize`` and ``spdx:checksum``, SHA256SUMS without the zip), beside it complete (the
same graph plus those triples; SHA256SUMS listing the zip and the complete records). The records
a portal harvests are the ones beside the zip; every other file is the same bytes in both places.

Two publishes of the same public database are byte-identical: nothing reads the clock, zip
entries carry the release date and are written in sorted order.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

import yaml

from ..export.qdpx import export_qdpx
from ..ingest.project import placeholders
from ..outputs import (AtomicOutputs, Progress, _noop, end_with_run, output_lock, recover,
                       remove_scratch)
from ..store.database import connect_read_only
from ..store.public import public_path_for, require_public
from . import citation, dcat
from .coverage import release_project
from .dcat import RECORDS, ReleaseFile
from .spreadsheet import SpreadsheetError, write_workbook
from .tables import (
    CODEBOOK_NAME,
    CSV_DIR,
    QDPX_NAME,
    WORKBOOK_NAME,
    PublishError,
    data_package,
    datasette_metadata,
    project_row,
    published_tables,
    zip_name,
)
from .texts import dataset_readme, licence_text
from .zip import ReleaseZip


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


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def placeholder_warnings(project: dict) -> list[str]:
    """The placeholders of an illustrative release, as warnings; for a real release they are
    errors (``cotour check`` reports them at their lines, and a release is not written)."""
    found = [f"project.yaml: {p.message}" for p in placeholders(project)]
    if found and not project.get("illustrative"):
        raise PublishError("cannot publish placeholder metadata:\n  " + "\n  ".join(found))
    return found


# Below this many findings the worker processes cost more (starting, importing) than they save.
PARALLEL_FROM = 20_000


def _workers(public_db: Path) -> ProcessPoolExecutor | None:
    """Worker processes, one per core, for a corpus large enough to be worth them."""
    conn = connect_read_only(public_db)
    try:
        findings = conn.execute("select count(*) from findings").fetchone()[0]
    except sqlite3.Error:
        return None  # the steps themselves will say what is wrong with the file
    finally:
        conn.close()
    if findings < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return None
    return ProcessPoolExecutor(os.cpu_count(), mp_context=get_context("forkserver"),
                               initializer=end_with_run, initargs=(os.getpid(),))


def _now(fn, *args) -> Future:
    """``fn(*args)`` run here, as a finished future (no worker processes)."""
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except BaseException as exc:  # handed on, raised where the result is asked for
        future.set_exception(exc)
    return future


def write_release(public_db: Path, folder: Path, progress: Progress = _noop) -> PublishResult:
    """Write the whole release into the empty or new ``folder``.

    The steps that do not need each other run at the same time: the workbook's rows, the
    REFI-QDA project's pieces, the CSV files and the Datasette metadata go to worker
    processes, each reading the (read-only) public database itself, while this process copies
    the database and compresses each file into the zip as soon as it is written. The catalogue
    records, which describe every file, come last; their two validations run side by side.
    """
    project = release_project(public_db, project_row(public_db))
    warnings = placeholder_warnings(project)
    steps = 8
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CSV_DIR).mkdir()
    parts = Path(tempfile.mkdtemp(prefix=f".{folder.name}.zip-", dir=folder.parent))
    archive = ReleaseZip(folder, parts)
    counts: dict[str, int] = {}
    workers = _workers(public_db)
    submit = workers.submit if workers is not None else _now
    # The workbook and the project wait on their pieces from threads of their own.
    waiting = ThreadPoolExecutor(max_workers=2)

    def csv_written(path: Path, rows: int) -> None:  # on the workbook's thread, in table order
        counts[path.stem] = rows
        archive.add(path)

    try:
        progress("pubblicazione", 0, steps)
        # The CSV files are written from the workbook's rows, read once for both.
        workbook = waiting.submit(write_workbook, public_db, folder / WORKBOOK_NAME, project,
                                  published_tables(), workers and workers.submit,
                                  folder / CSV_DIR, csv_written)
        qdpx = waiting.submit(export_qdpx, public_db, folder / QDPX_NAME, None, _noop,
                              workers.submit if workers is not None else (lambda fn, *a: fn(*a)))
        metadata = submit(metadata_yaml, public_db)
        shutil.copyfile(public_db, folder / "cotour.db")
        archive.add(folder / "cotour.db")
        progress("pubblicazione", 1, steps)
        try:
            workbook.result()
        except SpreadsheetError as exc:
            raise PublishError(f"{WORKBOOK_NAME}: {exc}") from exc
        archive.add(folder / WORKBOOK_NAME, stored=True)
        progress("pubblicazione", 2, steps)
        qdpx.result()  # and its codebook, cotour-codebook.qdc
        archive.add(folder / QDPX_NAME, stored=True)
        archive.add(folder / CODEBOOK_NAME)
        _write_text(folder / "metadata.yml", metadata.result())
        files = _write_rest(folder, project, counts, archive, progress, steps)
        members = _release_files(folder)
        for name in members:
            if name not in archive.pending:  # written by a step that did not say so
                archive.add(folder / name)
        sums = {name: archive.digest(name).sha256 for name in members}
        _write_sums(folder, sums)
        archive.add(folder / "SHA256SUMS")
        progress("pubblicazione", 6, steps)
        archive.write(folder / zip_name(project), members + ["SHA256SUMS"],
                      project["release_date"])
        _describe_zip(folder, project, files, sums, submit)
        progress("pubblicazione", 7, steps)
    finally:
        waiting.shutdown(wait=True, cancel_futures=True)
        if workers is not None:
            workers.shutdown(wait=True, cancel_futures=True)
        archive.close()
        shutil.rmtree(parts, ignore_errors=True)
    files = {name: (folder / name).stat().st_size for name in _release_files(folder)}
    progress("pubblicazione", 8, steps)
    return PublishResult(folder, files, counts, warnings)


def metadata_yaml(public_db: Path) -> str:
    """metadata.yml: the public Datasette's metadata (importing Datasette takes seconds: in a
    worker, at the same time as the rest)."""
    return yaml.safe_dump(datasette_metadata(public_db), allow_unicode=True, sort_keys=False,
                          width=100)


def _write_sums(folder: Path, sums: dict[str, str]) -> None:
    _write_text(folder / "SHA256SUMS", "".join(f"{sums[name]}  {name}\n"
                                               for name in sorted(sums)))


def _describe_zip(folder: Path, project: dict, files: list[ReleaseFile],
                  sums: dict[str, str], submit=None) -> None:
    """Beside the zip, once it is written: the records with its size and checksums, and
    SHA256SUMS with the zip and those records (the zip keeps the versions written before it)."""
    name = zip_name(project)
    size, sha1, sha256 = _digests(folder / name)
    files = [replace(f, size=size, sha1=sha1, sha256=sha256) if f.path == name else f
             for f in files]
    _write_records(folder, project, files, check=True, submit=submit or _now)
    sums = dict(sums, **{record: _sha256(folder / record) for record in RECORDS.values()})
    sums[name] = sha256
    _write_sums(folder, sums)


def _digests(path: Path) -> tuple[int, str, str]:
    """Size, SHA-1 and SHA-256 of ``path``: the two digests on two threads (hashlib lets go of
    the GIL), since the release waits for them."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        sha1, sha256 = (pool.submit(_digest, path, algorithm) for algorithm in ("sha1", "sha256"))
        return path.stat().st_size, sha1.result(), sha256.result()


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _write_records(folder: Path, project: dict, files: list[ReleaseFile], check: bool,
                   submit=None) -> None:
    """The two catalogue records; with ``check``, each is validated against its shapes first
    (the two side by side, by ``submit``). The records inside the zip are not checked: they
    are the checked ones less two optional properties of one distribution."""
    turtles = {name: (submit or _now)(record_turtle, project, files, version, check)
               for version, name in RECORDS.items()}
    for name, turtle in turtles.items():
        _write_text(folder / name, turtle.result())


def record_turtle(project: dict, files: list[ReleaseFile], version: str, check: bool) -> str:
    """The catalogue record for DCAT-AP ``version`` in Turtle; with ``check``, validated
    against its shapes."""
    graph = dcat.record(project, files, version)
    if check:
        conforms, report = dcat.shacl_report(graph, version)
        if not conforms:  # a bug of this module, not of the input: say so plainly
            raise PublishError(f"the catalogue record does not conform to DCAT-AP "
                               f"{version}:\n{report}")
    return graph.serialize(format="turtle")


def release_files(project: dict, archive: ReleaseZip | None = None) -> list[ReleaseFile]:
    """The files of the release that the catalogue record describes as distributions, with
    their size and checksum from ``archive`` (the zip's are not known yet: it holds the
    record; :func:`_describe_zip` adds them to the records beside it)."""
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


def _write_rest(folder: Path, project: dict, counts: dict[str, int], archive: ReleaseZip,
                progress: Progress, steps: int) -> list[ReleaseFile]:
    """The descriptive files of a release: Data Package, catalogue records, citation files,
    README, LICENSE; the distributions the records describe."""
    csvs = {f"{CSV_DIR}/{t.name}.csv": archive.digest(f"{CSV_DIR}/{t.name}.csv")
            for t in published_tables()}
    _write_text(folder / "datapackage.json",
                json.dumps(data_package(project, csvs), ensure_ascii=False, indent=2) + "\n")
    archive.add(folder / "datapackage.json")
    progress("pubblicazione", 3, steps)
    files = release_files(project, archive)
    _write_records(folder, project, files, check=False)
    for name in RECORDS.values():
        archive.add(folder / name)
    _write_text(folder / "CITATION.cff", citation.cff(project))
    _write_text(folder / ".zenodo.json", citation.json_ld(citation.zenodo(project)))
    schema_org = citation.schema_org(project, published_tables(), files)
    _write_text(folder / "dataset.jsonld", citation.json_ld(schema_org))
    _write_text(folder / "index.html", citation.landing_page(project, schema_org, files))
    progress("pubblicazione", 4, steps)
    _write_text(folder / "README.md", dataset_readme(project, counts))
    _write_text(folder / "LICENSE", licence_text(project))
    progress("pubblicazione", 5, steps)
    return files


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
        with AtomicOutputs([out_dir]) as outputs:
            result = write_release(public_db, outputs.temporary(out_dir), progress)
            outputs.commit()
    result.out_dir = out_dir
    return result


def _recover(out_dir: Path) -> None:
    """Undo what a killed publish left: its scratch release with the zip's parts beside it,
    and the previous release put aside (put back when the kill came between the two renames)."""
    recover(out_dir)
    remove_scratch(out_dir.with_name(f".{out_dir.name}"), ("tmp.zip-*",))
