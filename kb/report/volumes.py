"""The volumes of the stops: past the annex's page budget, each held event's notes are a PDF of
their own beside the report, laid out by worker processes, one per core, while the report's
body is laid out in the calling process.

A worker reads only what its stop needs from the public database (:class:`StopSource`), so
its memory is bounded by the largest stop, whatever the corpus; it never holds the whole
corpus the body reads (1.9 GB at 500,000 findings).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import defaultdict
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from ..outputs import OutputError, Progress, _noop, end_with_run
from ..store.database import connect_read_only
from .chapters.tappe import stop_chapter
from .corpus import Corpus
from .markdown import Markdown
from .render import render_volume


@dataclass(frozen=True)
class Volume:
    """One stop's volume as asked: its event, its number in the annex (A.12), where to write."""
    event_id: str
    number: str
    target: Path


@dataclass(frozen=True)
class VolumeResult:
    """One volume as written: its pages, the seconds it took (and its worker's CPU seconds), the
    worker's memory once it was laid out (MiB) and the warnings (its notes' images,
    WeasyPrint's)."""
    path: Path
    pages: int
    seconds: float
    cpu_seconds: float
    rss_mib: float
    warnings: tuple[str, ...]


class StopSource:
    """What :func:`kb.report.chapters.tappe.stop_chapter` reads of a :class:`Corpus`, for one
    held event at a time, read from the public database: the lookups (organisations, themes,
    kinds, provinces) once, the event's notes, findings, roles and hosts when it is asked."""

    def __init__(self, public_db: Path, assets: Path | None = None):
        self.conn = connect_read_only(public_db)
        self.conn.row_factory = sqlite3.Row
        project = self._rows("select * from project")
        self.base_url = ((project[0]["base_url"] if project else "") or "").rstrip("/")
        self.orgs = {o["id"]: o for o in self._rows("select * from organisations")}
        self.themes = {t["id"]: t for t in self._rows("select * from themes")}
        self.provinces = {p["id"]: p for p in self._rows("select * from provinces")}
        self.kinds = sorted(self._rows("select * from finding_kinds"),
                            key=lambda k: k["position"] or 0)
        self.warnings: list[str] = []
        self.markdown = Markdown(self.orgs, self.themes, assets, self.warnings, self.base_url)
        self.events = {e["id"]: e for e in self._rows("select * from events")}

    def _rows(self, sql: str, *params) -> list[dict]:
        return [dict(r) for r in self.conn.execute(sql, params)]

    def load(self, event_id: str) -> dict:
        """Read the event's rows; return the event."""
        notes = self._rows("select * from notes where event_id = ?", event_id)
        findings = sorted(self._rows("select * from findings where event_id = ?", event_id),
                          key=lambda f: (f["note_id"], f["position"] or 0, f["id"]))
        roles = defaultdict(list)
        for r in self._rows("select fo.* from finding_organisations fo join findings f "
                            "on f.id = fo.finding_id where f.event_id = ?", event_id):
            roles[r["finding_id"]].append(r)
        self.notes_of = {event_id: notes}
        self.notes_by_id = {n["id"]: n for n in notes}
        self.findings_of = {event_id: findings}
        self.roles_by_finding = roles
        self.hosts_of = {event_id: [r["organisation_id"] for r in self.conn.execute(
            "select organisation_id from event_hosts where event_id = ?", (event_id,))]}
        return self.events[event_id]

    # the Corpus's own helpers, on this source's lookups
    org_name = Corpus.org_name
    province_name = Corpus.province_name
    finding_url = Corpus.finding_url


_source: StopSource | None = None
_page: dict = {}


def _start_worker(public_db: Path, page: dict, assets: Path | None, parent: int) -> None:
    global _source, _page
    end_with_run(parent)
    _source, _page = StopSource(public_db, assets), page


def _write_volume(volume: Volume, report_file: str) -> VolumeResult:
    """In a worker: one stop's chapter, its HTML and its PDF (the layout let go on return)."""
    from .write import _render_pdf

    start, cpu, said = time.perf_counter(), time.process_time(), len(_source.warnings)
    event = _source.load(volume.event_id)
    chapter = stop_chapter(_source, event, links=False)
    chapter.update(number=volume.number, lookup=f"{_source.base_url}/cotour/findings/")
    html = render_volume(_page, chapter, report_file)
    pages, _, logged, _ = _render_pdf(html, _page, None, volume.target, False, _noop)
    return VolumeResult(volume.target, pages, time.perf_counter() - start,
                        time.process_time() - cpu, _rss_mib(),
                        (*_source.warnings[said:], *(f"weasyprint: {m}" for m in logged)))


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:
        return 0.0


def workers() -> int:
    """One worker per core this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


class VolumeWriter:
    """The volumes, laid out by worker processes from the moment they are submitted, while the
    caller goes on with the report's body: ``submit``, then ``results`` (in the volumes'
    order; the first failure is raised, and the volumes not yet begun are cancelled)."""

    def __init__(self, public_db: Path, page: dict, report_file: str,
                 assets: Path | None = None, processes: int | None = None):
        self.report_file = report_file
        self.start = (public_db, page, assets, os.getpid())
        self.processes = processes
        self.pool: ProcessPoolExecutor | None = None  # started by the first volume
        self.futures = []

    def submit(self, volumes: list[Volume]) -> None:
        if volumes and self.pool is None:
            self.pool = ProcessPoolExecutor(
                min(self.processes or workers(), len(volumes)), mp_context=get_context("spawn"),
                initializer=_start_worker, initargs=self.start)
        self.futures += [self.pool.submit(_write_volume, v, self.report_file) for v in volumes]

    def results(self, progress: Progress = _noop) -> list[VolumeResult]:
        pending, total = set(self.futures), len(self.futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                if isinstance(future.exception(), BrokenProcessPool):
                    raise OutputError("a process laying out the volumes of the stops ended "
                                      "abruptly (out of memory or disk space, or killed)")
                if future.exception() is not None:
                    raise future.exception()
            progress("allegati delle tappe", total - len(pending), total)
        return [f.result() for f in self.futures]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def page_data(data: dict) -> dict:
    """What a volume's page needs of the report's data (its head): little, for the workers."""
    return {"lang": data["lang"], "meta": data["meta"]}
