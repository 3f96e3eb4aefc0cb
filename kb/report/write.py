"""The public database -> the report's files: the PDF (WeasyPrint), its HTML edition and its
editable editions (ODT and DOCX, :mod:`kb.editions`)."""

from __future__ import annotations

import ctypes
import gc
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from ..diagnostics import CotourError
from ..domain.dictionary import TABLES
from ..outputs import AtomicOutputs, Progress, _noop, output_lock, remove_scratch
from ..release.tables import write_table_csvs
from ..store.public import public_path_for, require_public
from . import pdf
from .chapters import report
from .corpus import Corpus
from .editions import write_editions
from .pydyf_patch import page_references_listed_once
from .render import TEMPLATES, render_editable, render_editions
from .volumes import Volume, VolumeResult, VolumeWriter, page_data


class ReportError(CotourError):
    pass


@dataclass
class ReportResult:
    pdf_path: Path
    html_path: Path
    edition_paths: list[Path]
    pages: int
    seconds: float
    attachments: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    volumes: list[Path] = field(default_factory=list)  # the stops' notes, past the budget
    volume_results: list[VolumeResult] = field(default_factory=list)


# The notes of the stops (annex A) past this many printed pages leave the report: one volume
# per stop beside it, so the report stays a readable size and each volume's layout is
# bounded by its own stop (at M the annex alone was 5,300 pages).
ANNEX_PAGES = 150


def report_data(db_path: Path | str, data_dir: Path | str | None = None,
                progress: Progress = _noop, annex_budget: float | None = ANNEX_PAGES,
                report_stem: str = "cotour-report") -> tuple[dict, list[str]]:
    """The templates' data from the public database for ``--db``, and the warnings."""
    data, corpus = _report_data(db_path, data_dir, progress, annex_budget, report_stem)
    return data, corpus.warnings


def _report_data(db_path, data_dir, progress, annex_budget, report_stem) -> tuple[dict, Corpus]:
    public = require_public(public_path_for(db_path))
    from weasyprint import __version__ as weasyprint_version

    corpus = Corpus(public, Path(data_dir) if data_dir else None, progress, annex_budget,
                    report_stem)
    data = report(corpus)
    # The colophon's typesetting: what the stylesheet asks for; write_report checks it against
    # the fonts the PDF embeds.
    data["appendici"]["colophon"].update(typesetter=f"WeasyPrint {weasyprint_version}",
                                         fonts=list(EXPECTED_FONTS))
    return data, corpus


# The fonts the stylesheet asks for (the colophon's first guess; the PDF has the last word).
EXPECTED_FONTS = ("DejaVu Sans Mono", "Noto Sans", "Noto Serif")


class _WarningCollector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def write_report(db_path: Path | str, out_pdf: Path | str, data_dir: Path | str | None = None,
                 archival: bool = False, progress: Progress = _noop,
                 annex_budget: float | None = ANNEX_PAGES) -> ReportResult:
    """Write the PDF at ``out_pdf``, its HTML edition and its editable editions beside it (same
    name, ``.html``, ``.odt``, ``.docx``).

    ``archival``: PDF/A-3a with the open dataset's CSV files attached (and the PDF/UA
    identification kept); otherwise a tagged PDF/UA-1. The same public database gives the same
    bytes (dates come from the data).

    All or nothing: every file is written to a temporary file beside its target and the
    targets are replaced only once all are complete, so a failure, a full disk or a kill
    leaves the previous report as it was; scratch files of a killed run are removed by the
    next one. One run at a time per output (a second is refused).

    ``annex_budget``: when the notes of the stops would pass this many pages (estimated), each
    stop's notes become a volume beside the PDF (``<name>-<event>.pdf``), laid out by one worker
    process per core (:mod:`kb.report.volumes`) while this one lays out the body, each worker's
    memory bounded by the largest stop; ``None``: never.
    """
    start = time.perf_counter()
    out_pdf = Path(out_pdf)
    html_path = out_pdf.with_suffix(".html")
    editions = [out_pdf.with_suffix(".odt"), out_pdf.with_suffix(".docx")]
    _check_target(out_pdf)
    public = require_public(public_path_for(db_path))
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(out_pdf, "another 'cotour report' is writing this report; wait for it "
                              "to end"):
        for target in (out_pdf, html_path, *editions):
            remove_scratch(target)
        data, corpus = _report_data(public, data_dir, progress, annex_budget, out_pdf.stem)
        warnings, assets = corpus.warnings, corpus.assets
        # The whole corpus (1.9 GB at 500,000 findings) is not read past the templates' data:
        # its memory goes to the body's layout, not beside it.
        del corpus
        _give_back_memory()
        stops = data["tappe"]["chapters"] if data["tappe"]["volumes"] else []
        volumes = [out_pdf.with_name(stop["file"]) for stop in stops]
        for target in volumes:
            remove_scratch(target)
        with AtomicOutputs([out_pdf, html_path, *editions, *volumes]) as outputs, \
                VolumeWriter(public, page_data(data), out_pdf.name, assets) as writer:
            # the volumes are laid out by the workers while this process lays out the body
            writer.submit([Volume(stop["event_id"], stop["number"], outputs.temporary(target))
                           for stop, target in zip(stops, volumes)])
            pages, attached, logged = _write_pdf_and_html(
                data, public, outputs.temporary(out_pdf), outputs.temporary(html_path),
                archival, progress)
            _give_back_memory()  # the body's layout
            meta, cover = data["meta"], data["cover"]
            warnings += write_editions(render_editable(data), *map(outputs.temporary, editions),
                           title=meta["title"], subtitle=meta["subtitle"],
                           authors=meta["authors"], lang="it-IT", date=cover["date"],
                           created=meta["created"], keywords=meta["keywords"],
                           description=meta["description"], progress=progress)
            written = writer.results(progress)
            outputs.commit()
    warnings += [f"weasyprint: {m}" for m in logged] + [m for r in written for m in r.warnings]
    return ReportResult(out_pdf, html_path, editions, pages, time.perf_counter() - start,
                        attached, warnings, volumes,
                        [replace(r, path=target) for r, target in zip(written, volumes)])


def _give_back_memory() -> None:
    """Collect what is no longer referenced and hand the freed pages back to the system
    (glibc keeps them in the process otherwise, and the peak stays where it was)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _check_target(out_pdf: Path) -> None:
    if out_pdf.is_dir():
        raise ReportError("is a folder: give the PDF's file name (e.g. report/cotour-report.pdf)",
                          out_pdf)
    for parent in out_pdf.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ReportError(f"{parent} is a file, not a folder", out_pdf)
            break


def _write_pdf_and_html(data: dict, public: Path, pdf_tmp: Path, html_tmp: Path,
                        archival: bool, progress: Progress) -> tuple[int, list[str], list[str]]:
    """Render the two editions into their temporary files. The colophon names the fonts the
    PDF embeds, read back from it: when they are not the ones it named, the report is
    rendered again with them (the second time is the last: it embeds what it names)."""
    colophon = data["appendici"]["colophon"]
    for attempt in range(2):
        html, screen_html = render_editions(data)
        pages, attached, logged, embedded = _render_pdf(html, data, public, pdf_tmp, archival,
                                                        progress)
        if embedded == colophon["fonts"]:
            break
        colophon["fonts"] = embedded
    html_tmp.write_text(screen_html, encoding="utf-8")
    return pages, attached, logged


def _render_pdf(html: str, data: dict, public: Path, out: Path, archival: bool,
                progress: Progress) -> tuple[int, list[str], list[str], list[str]]:
    """The PDF into ``out``: its pages, attachments, WeasyPrint's warnings, embedded fonts."""
    from weasyprint import HTML, Attachment

    created = data["meta"]["created"]
    stamp = (datetime.fromisoformat(created).replace(tzinfo=timezone.utc) if created
             else datetime(2000, 1, 1, tzinfo=timezone.utc))
    options = {"pdf_variant": "pdf/ua-1", "custom_metadata": True}
    attached: list[str] = []
    workdir = None
    handler = _WarningCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        if archival:
            workdir = Path(tempfile.mkdtemp(prefix="cotour-report-"))
            csvs = _table_csvs(public, workdir)
            titles = {t.name: t.title_it for t in TABLES}
            options = {"pdf_variant": "pdf/a-3a", "custom_metadata": True, "attachments": [
                Attachment(filename=str(path), name=path.name,
                           description=titles.get(path.stem, path.stem),
                           created=stamp, modified=stamp, relationship="Data")
                for path in csvs]}
            attached = [p.name for p in csvs]
        progress("impaginazione", 0, 1)
        document = HTML(string=html, base_url=str(TEMPLATES)).render()
        progress("impaginazione", 1, 1)
        with page_references_listed_once():
            document.write_pdf(out, **options)
        fonts = pdf.finish(out, archival=archival)
    finally:
        logger.removeHandler(handler)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return len(document.pages), attached, handler.messages, fonts


def _table_csvs(public: Path, out_dir: Path) -> list[Path]:
    """The open dataset's CSV files, written by the publisher's own writer."""
    return sorted(write_table_csvs(public, out_dir))
