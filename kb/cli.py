"""The ``cotour`` command: a thin layer over the library (the only module that knows click)."""

from __future__ import annotations

import errno
import functools
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import click

from . import __version__
from .diagnostics import CotourError, Diagnostics, InputError
from .domain.vocabulary import (
    NOTE_KIND_IDS,
    PUBLIC,
    SOURCE,
    VISIBILITY_IDS,
    WORKING_TABLE,
)
from .importer import ImportResult
from .importer import import_docx as import_docx_files
from .pipeline import build as build_kb
from .pipeline import check as check_data
from .store.database import checked_database
from .store.public import public_path_for, require_public
from .store.search import search as search_kb


class ProgressBar:
    """Adapts the library's ``progress(label, done, total)`` callback to click's bars."""

    def __init__(self):
        self.bar = None
        self.label = None
        self.done = 0

    def __call__(self, label: str, done: int, total: int) -> None:
        if not sys.stderr.isatty():  # bars in a log or a pipe are noise
            return
        if label != self.label:
            self.close()
            self.bar = click.progressbar(length=total, label=label.ljust(20), file=sys.stderr)
            self.bar.__enter__()
            self.label, self.done = label, 0
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def data_option(fn):
    return click.option("--data", "data_dir", type=click.Path(path_type=Path), default="data",
                        show_default=True, help="The source material folder.")(fn)


def db_option(fn):
    return click.option("--db", "db_path", type=click.Path(path_type=Path),
                        default="build/cotour.db", show_default=True,
                        help="The full knowledge base; the public one is its -public sibling.")(fn)


class Failure(click.ClickException):
    """A failure the user can cause, printed as it is (``path[:line]: error: message``)."""

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True)


def library_errors(fn):
    """Turn every failure a user can cause into ``path[:line]: error: message`` and a non-zero
    exit, never a traceback: the library's own errors, and the system's (permissions, a full
    disk, a folder where a file should be, a damaged database)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            _print_diagnostics(exc.diagnostics)
            raise click.ClickException(_summary(exc.diagnostics) + "; nothing was written")
        except CotourError as exc:
            if exc.path is not None:
                raise Failure(str(exc)) from None
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise Failure(_os_error(exc, kwargs)) from None
        except sqlite3.Error as exc:
            where = kwargs.get("db_path") or "database"
            if "full" in str(exc) or "disk I/O" in str(exc):
                # SQLITE_FULL, or a write refused by the file system (its file size limit)
                raise Failure(f"{where}: error: writing failed ({exc}): {DISK_FULL}") from None
            raise Failure(f"{where}: error: the database cannot be used ({exc}); if it is "
                          "damaged, run 'cotour build' again") from None
        except RecursionError:
            raise Failure("error: the input is nested too deeply to read") from None

    return wrapper


DISK_FULL = ("is the disk full? free some space and run the command again; the previous "
             "outputs are unchanged")


def _os_error(exc: OSError, options: dict) -> str:
    """``path: error: reason`` for a failed system call, with what to do where it is clear."""
    output = options.get("out") or options.get("out_dir") or options.get("db_path")
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) and output:
        where = output  # what could not be written, rather than the scratch file of the moment
    else:
        where = exc.filename or output or "cotour"
    reason = exc.strerror or str(exc)
    hints = {
        errno.ENOSPC: "the disk is full: free some space and run the command again; the "
                      "previous outputs are unchanged",
        errno.EFBIG: "the file is larger than the file system allows (or the disk is full); "
                     "the previous outputs are unchanged",
        errno.EDQUOT: "the disk quota is exhausted: free some space and run the command again",
        errno.EACCES: "permission denied: check who may read or write it",
        errno.EPERM: "operation not permitted: check who may read or write it",
        errno.EROFS: "the file system is read-only: choose another place to write",
        errno.EISDIR: "is a folder, where a file was expected",
        errno.ENOTDIR: "a folder of the path is a file",
    }
    return f"{where}: error: {hints.get(exc.errno, reason)}"


def _print_diagnostics(diags: Diagnostics) -> None:
    for d in diags.sorted():
        click.echo(str(d), err=True)


def _summary(diags: Diagnostics) -> str:
    e, w = len(diags.errors), len(diags.warnings)
    return f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"


@click.group()
@click.version_option(__version__, prog_name="cotour")
def cli():
    """Co?Tour – Viaggio nella nuova mutualità: knowledge base, report and open dataset.

    Run the commands from the project's folder: they read data/ and write build/.
    """


@cli.command()
@data_option
@library_errors
def check(data_dir: Path):
    """Validate data/ and print every problem (path:line: error|warning: message)."""
    result = check_data(data_dir)
    _print_diagnostics(result.diagnostics)
    counts = result.counts
    line = (f"{data_dir}: {_summary(result.diagnostics)} — {counts.get('events', 0)} events, "
            f"{counts.get('organisations', 0)} organisations, {counts.get('notes', 0)} notes, "
            f"{counts.get('findings', 0)} findings")
    if result.diagnostics.errors:
        raise click.ClickException(line)
    click.echo(line)


def _build(data_dir: Path, db_path: Path) -> None:
    start = time.perf_counter()
    bar = ProgressBar()
    try:
        result = build_kb(data_dir, db_path, progress=bar)
    finally:
        bar.close()
    _print_diagnostics(result.diagnostics)
    c, p = result.counts, result.public_counts
    click.echo(f"{result.db_path}: knowledge base — {c.get('events', 0)} events, "
               f"{c.get('organisations', 0)} organisations, {c.get('notes', 0)} notes, "
               f"{c.get('findings', 0)} findings")
    click.echo(f"{result.public_path}: public database — {p.get('notes', 0)} notes, "
               f"{p.get('findings', 0)} findings (personal data and internal notes left out)")
    click.echo(f"built in {time.perf_counter() - start:.1f} s")


@cli.command()
@data_option
@db_option
@library_errors
def build(data_dir: Path, db_path: Path):
    """data/ -> the knowledge base and its public database (atomic: old files stay on error)."""
    _build(data_dir, db_path)


@cli.command()
@click.argument("query")
@db_option
@click.option("--public", is_flag=True, help="Search the public database instead of the full one.")
@click.option("--limit", default=20, show_default=True, help="How many results at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@library_errors
def search(query: str, db_path: Path, public: bool, limit: int, as_json: bool):
    """Italian full-text search over findings and notes ('cooperativa' finds 'cooperative')."""
    path = (require_public(public_path_for(db_path)) if public
            else checked_database(db_path, "knowledge base"))
    hits = search_kb(path, query, limit=limit)
    if as_json:
        click.echo(json.dumps([h.__dict__ for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo(f"nessun risultato per «{query}»")
        return
    for hit in hits:
        what = "nota" if hit.table == "notes" else hit.kind
        text = " ".join(hit.text.split())
        click.echo(f"[{what}] {hit.city or '-'} · {hit.title}  ({hit.id})")
        click.echo(f"    {text[:200]}{'…' if len(text) > 200 else ''}")
        click.echo(f"    {hit.source_path}:{hit.source_line}")


# ---- publish: the open dataset ----

def _publish(db_path: Path, out_dir: Path) -> None:
    from .release.publish import publish as publish_release

    bar = ProgressBar()
    try:
        result = publish_release(db_path, out_dir, progress=bar)
    finally:
        bar.close()
    for warning in result.warnings:
        click.echo(f"{result.out_dir}: warning: {warning}", err=True)
    for name, size in result.files.items():
        click.echo(f"{size:>10,}  {result.out_dir / name}")
    click.echo(f"{result.out_dir}: open dataset — {len(result.counts)} tables, "
               f"{sum(result.counts.values())} rows")


@cli.command()
@db_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default="build/opendata",
              show_default=True, help="The release folder to write (replaced as a whole).")
@click.option("--check", "check_dir", type=click.Path(path_type=Path, exists=True,
                                                       file_okay=False),
              metavar="DIR",
              help="Validate the release in DIR instead of publishing (frictionless, "
                   "checksums, zip, DCAT-AP).")
@library_errors
def publish(db_path: Path, out_dir: Path, check_dir: Path | None):
    """build/cotour-public.db -> build/opendata/, the open dataset (CSV, DCAT-AP_IT, zip)."""
    if check_dir is None:
        _publish(db_path, out_dir)
        return
    from .release.check import check_release

    report = check_release(check_dir)
    for problem in report.problems:
        click.echo(f"{check_dir}: error: {problem}", err=True)
    rows = sum(report.rows.values())
    line = f"{check_dir}: {len(report.rows)} tables, {rows} rows"
    if not report.valid:
        raise click.ClickException(f"{line}; {len(report.problems)} problems")
    click.echo(f"{line}; valid (frictionless, SHA256SUMS, zip, DCAT-AP 2.1.1 and 3.0.1, "
               "CITATION.cff, schema.org, workbook)")


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 makes it reachable from other machines).")
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
@click.option("--staff", is_flag=True,
              help="Also serve the full knowledge base (as cotour_staff), only after signing in.")
@click.option("--workers", type=click.IntRange(1, 64),
              help="Server processes (default: one per core; one with --staff, whose sign-in "
                   "limits live in its memory).")
@click.option("--metadata-out", type=click.Path(path_type=Path),
              help="Write the generated Datasette metadata (JSON) to this file and exit.")
@library_errors
def serve(db_path: Path, host: str, port: int, staff: bool, workers: int | None,
          metadata_out: Path | None):
    """Datasette on the public database (as 'cotour'), with the generated metadata."""
    from .serve import app as serving
    from .store.public import is_stale

    public_path = require_public(public_path_for(db_path))
    if staff:
        checked_database(db_path, "knowledge base")
    if metadata_out is not None:
        meta = serving.metadata(public_path, staff=staff)
        metadata_out.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
        click.echo(f"{metadata_out}: Datasette metadata for {public_path}")
        return
    if is_stale(public_path, db_path):
        click.echo(f"warning: {public_path} is older than {db_path}; run 'cotour build'", err=True)
    if staff and workers not in (None, 1):
        raise click.UsageError("--staff runs one worker process (its sign-in limits and "
                               "one-time link live in its memory); leave out --workers")
    workers = workers or serving.default_workers(staff)
    ds = serving.make_datasette(public_path, staff_path=db_path if staff else None)
    click.echo(f"Co?Tour: http://{host}:{port}/{serving.PUBLIC_NAME} ({public_path})"
               + (f", {workers} worker processes" if workers > 1 else ""))
    if staff:
        click.echo(f"staff: the full knowledge base is /{serving.STAFF_NAME}, after signing in")
        if serving.PASSWORD_HASH_ENV in os.environ:
            click.echo(f"  sign in as 'staff' at http://{host}:{port}/-/login")
        else:
            click.echo(f"  (set {serving.PASSWORD_HASH_ENV} to enable the 'staff' password; "
                       "make one with: datasette hash-password)")
        click.echo(f"  one-time root sign-in: {serving.root_login_url(ds, host, port)}")
    serving.run(ds, host, port, workers)


# ---- report: the final results report ----

def _report(db_path: Path, out: Path, data_dir: Path, archival: bool = False) -> None:
    from .report import write_report

    bar = ProgressBar()
    try:
        result = write_report(db_path, out, data_dir=data_dir, archival=archival, progress=bar)
    finally:
        bar.close()
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{result.pdf_path}: report, {result.pages} pages"
               + (f", PDF/A-3 with {len(result.attachments)} CSV files attached"
                  if archival else "")
               + f" (HTML edition: {result.html_path}; editable: "
               + ", ".join(str(p) for p in result.edition_paths)
               + (f"; the notes of the stops in {len(result.volumes)} volumes beside it"
                  if result.volumes else "")
               + f") in {result.seconds:.1f} s")


@cli.command()
@data_option
@db_option
@click.option("--out", type=click.Path(path_type=Path),
              default="build/report/cotour-report.pdf", show_default=True,
              help="The PDF to write; the HTML edition is written beside it (.html).")
@click.option("--archival", is_flag=True,
              help="PDF/A-3 with the open dataset's CSV files attached, for archiving.")
@library_errors
def report(data_dir: Path, db_path: Path, out: Path, archival: bool):
    """The final results report: the public database -> a typeset PDF (and its HTML).

    Reads only the public database (and images in DATA/assets/); staff prose comes from
    data/report/*.md through the build."""
    _report(db_path, out, data_dir, archival)


# ---- export: research formats ----

def _export_qdpx(db_path: Path, out: Path) -> None:
    from .export.qdpx import export_qdpx

    bar = ProgressBar()
    try:
        result = export_qdpx(db_path, out, progress=bar)
    finally:
        bar.close()
    c = result.counts
    click.echo(f"{result.qdpx_path}: REFI-QDA project — {c['sources']} sources, "
               f"{c['selections']} coded selections ({c['codings']} codings), {c['codes']} codes, "
               f"{c['cases']} cases, {c['links']} links")
    click.echo(f"{result.qdc_path}: REFI-QDA codebook — {c['codes']} codes, "
               f"{c['codebook_sets']} sets")


@cli.group()
def export():
    """The public database -> research formats (qdpx: REFI-QDA for ATLAS.ti, NVivo, MAXQDA,
    QualCoder)."""


@export.command(name="qdpx")
@db_option
@click.option("--out", type=click.Path(path_type=Path),
              default="build/export/cotour.qdpx", show_default=True,
              help="The project to write; the codebook is written beside it "
                   "(<name>-codebook.qdc).")
@library_errors
def export_qdpx(db_path: Path, out: Path):
    """A REFI-QDA project (.qdpx) with every public note coded, and its codebook (.qdc).

    Reads only the public database. Opens in ATLAS.ti, NVivo, MAXQDA and QualCoder: see the
    guide, docs/ricerca/qdpx.md."""
    _export_qdpx(db_path, out)


@cli.command(name="all")
@data_option
@db_option
@library_errors
def all_(data_dir: Path, db_path: Path):
    """check, build, report, publish and export: the whole pipeline on data/, in one go."""
    _build(data_dir, db_path)
    _report(db_path, db_path.parent / "report" / "cotour-report.pdf", data_dir)
    _publish(db_path, db_path.parent / "opendata")
    _export_qdpx(db_path, db_path.parent / "export" / "cotour.qdpx")


@cli.group(name="import")
def import_():
    """Bring staff material into data/ (e.g. a Word note)."""


@import_.command(name="docx")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--event", required=True, help="The event the notes belong to (an id of events.yaml).")
@click.option("--kind", type=click.Choice(NOTE_KIND_IDS),
              default=WORKING_TABLE, show_default=True, help="The kind of session the notes record.")
@click.option("--visibility", type=click.Choice(VISIBILITY_IDS), default=PUBLIC,
              show_default=True, help="internal: kept out of the public outputs.")
@data_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="The note to write (default: <data>/notes/<event>/<slug of the title>.md); "
                   "a folder when importing several documents.")
@library_errors
def import_docx(files: tuple[Path, ...], event: str, kind: str, visibility: str, data_dir: Path,
                out: Path | None):
    """Word documents (.docx) -> notes of data/notes/<event>/, never overwriting one.

    Prints what each note holds as 'cotour check' reads it: findings by kind, organisations
    mentioned, names to fix and organisations named without [[ ]]."""
    bar = ProgressBar()
    try:
        results = import_docx_files(files, event, data_dir, kind=kind, visibility=visibility,
                                    out=out, progress=bar)
    finally:
        bar.close()
    for result in results:
        _print_import(result)
    imported = [r for r in results if r.error is None]
    errors = sum(len(r.errors) for r in imported)
    warnings = sum(len(r.warnings) for r in imported)
    line = (f"{len(imported)} of {len(results)} document{'s' * (len(results) != 1)} imported; "
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
            "in the new notes")
    if len(imported) < len(results):
        raise click.ClickException(line)
    click.echo(line + ("; fix them, then run 'cotour check'" if errors or warnings
                       else "; next: 'cotour check', then 'cotour build'"))


def _print_import(result: ImportResult) -> None:
    if result.error is not None:
        message = str(result.error)
        if message.startswith(f"{result.source}: "):  # the library's messages name the file
            message = message[len(f"{result.source}: "):]
        click.echo(f"{result.source}: error: {message}", err=True)
        return
    meta = result.meta
    click.echo(f"{result.source} -> {result.path}")
    people = meta.get("rapporteur")
    if isinstance(people, list):
        people = ", ".join(people)
    click.echo(f"  {meta['title']} · {meta['kind']} · {meta['visibility']}"
               + (f" · rapporteur: {people} (personal, never published)" if people else ""))
    findings = ", ".join(f"{n} {kind}" for kind, n in result.findings.items())
    click.echo(f"  findings: {findings or 'none (no list under a finding heading)'}")
    mentions = ", ".join(f"{org} ({SOURCE})" if role == SOURCE else org
                         for org, role in result.mentions.items())
    click.echo(f"  mentions: {mentions or 'none'}")
    if result.possible_mentions:
        named = ", ".join(f"{org} (line {line})" for org, line in result.possible_mentions)
        click.echo(f"  named without [[ ]]: {named}")
    for diagnostic in result.diagnostics:
        click.echo(str(diagnostic), err=True)
