"""The public database -> the report's files: the PDF (WeasyPrint), its HTML edition and its
editable editions (ODT and DOCX, :mod:`kb.editions`)."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..diagnostics import CotourError
from ..dictionary import TABLES
from ..editions import write_editions
from ..public import public_path_for, require_public
from ..store import Progress, _noop
from .chapters import report
from .corpus import Corpus
from .pydyf_patch import page_references_listed_once
from .render import TEMPLATES, render_editable, render_editions


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


def report_data(db_path: Path | str, data_dir: Path | str | None = None,
                progress: Progress = _noop) -> tuple[dict, list[str]]:
    """The templates' data from the public database for ``--db``, and the warnings."""
    public = require_public(public_path_for(db_path))
    corpus = Corpus(public, Path(data_dir) if data_dir else None, progress)
    data = report(corpus)
    return data, corpus.warnings


class _WarningCollector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def write_report(db_path: Path | str, out_pdf: Path | str, data_dir: Path | str | None = None,
                 archival: bool = False, progress: Progress = _noop) -> ReportResult:
    """Write the PDF at ``out_pdf``, its HTML edition and its editable editions beside it (same
    name, ``.html``, ``.odt``, ``.docx``).

    ``archival``: PDF/A-3a with the open dataset's CSV files attached; otherwise a tagged
    PDF/UA-1. The same public database gives the same bytes (dates come from the data).
    """
    start = time.perf_counter()
    out_pdf = Path(out_pdf)
    public = require_public(public_path_for(db_path))
    data, warnings = report_data(public, data_dir, progress)
    html, screen_html = render_editions(data)
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    html_path = out_pdf.with_suffix(".html")
    html_path.write_text(screen_html, encoding="utf-8")
    editions = [out_pdf.with_suffix(".odt"), out_pdf.with_suffix(".docx")]
    meta, cover = data["meta"], data["cover"]
    write_editions(render_editable(data), *editions, title=meta["title"],
                   subtitle=meta["subtitle"], authors=meta["authors"], lang="it-IT",
                   date=cover["date"], created=meta["created"], keywords=meta["keywords"],
                   description=meta["description"], progress=progress)

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
        tmp = out_pdf.with_name(f".{out_pdf.name}.tmp")
        with page_references_listed_once():
            document.write_pdf(tmp, **options)
        tmp.replace(out_pdf)
    finally:
        logger.removeHandler(handler)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    warnings += [f"weasyprint: {m}" for m in handler.messages]
    return ReportResult(out_pdf, html_path, editions, len(document.pages),
                        time.perf_counter() - start, attached, warnings)


def _table_csvs(public: Path, out_dir: Path) -> list[Path]:
    """The open dataset's CSV files, written by the publisher's own writer."""
    try:
        from ..publish import write_table_csvs
    except ImportError as exc:  # pragma: no cover - publish ships with the package
        raise ReportError(f"--archival needs the open dataset's CSV writer (kb.publish): {exc}")
    return sorted(write_table_csvs(public, out_dir))
