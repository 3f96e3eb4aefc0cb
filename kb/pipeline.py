"""The whole way: data/ -> knowledge base -> public database, written atomically."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import sqlite_utils

from . import __version__
from .diagnostics import CotourError, Diagnostics, InputError
from .domain.dictionary import TABLES
from .hybrid import compute_in_batches, import_scikit_learn
from .hybrid.pairs import EVIDENCE_COLUMNS, PAIR_COLUMNS
from .ingest.files import read_bytes
from .ingest.source import input_files, read_source
from .normalise import normalise
from .normalise.model import Model, NoteSink
from .normalise.notes import NOTE_TABLES
from .outputs import AtomicOutputs, Progress, _noop, output_lock, remove_scratch
from .store.database import table_counts
from .store.indicators import indicator_values, write_indicator_values
from .store.public import derive_public, file_digest, restamp, sibling_public
from .store.writer import Writer, copy_rows, gather_statistics, write_rows


@dataclass
class CheckResult:
    model: Model
    diagnostics: Diagnostics

    @property
    def counts(self) -> dict[str, int]:
        return self.model.counts()


@dataclass
class BuildResult:
    db_path: Path
    public_path: Path
    counts: dict[str, int]
    public_counts: dict[str, int]
    diagnostics: Diagnostics


def check(data_dir: Path | str, progress: Progress = _noop, sink: NoteSink | None = None,
          stem_columns: dict[str, tuple[str, ...]] | None = None) -> CheckResult:
    """Read and normalise ``data_dir``; every problem is in the result's diagnostics.

    ``sink`` and ``stem_columns``: see :func:`kb.normalise.normalise`.
    """
    diags = Diagnostics()
    progress("lettura", 0, 2)
    # The notes are only listed here: normalise reads and parses them, on every core.
    source = read_source(Path(data_dir), diags, notes=False)
    progress("normalizzazione", 1, 2)
    model = normalise(source, diags, sink=sink, stem_columns=stem_columns)
    progress("normalizzazione", 2, 2)
    return CheckResult(model, diags)


def input_digest(data_dir: Path | str) -> str:
    data_dir = Path(data_dir)
    h = hashlib.sha256()
    for path in input_files(data_dir):
        h.update(path.relative_to(data_dir).as_posix().encode() + b"\0")
        raw = read_bytes(path, Diagnostics())
        h.update((raw or b"") + b"\0")
    return h.hexdigest()


def _writable_target(path: Path, what: str) -> None:
    """Refuse a target that is there but is not a file (a folder, a FIFO...) before any work."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise CotourError(f"cannot write the {what}: a folder of its path is a file", path) from None
    if stat.S_ISDIR(mode):
        raise CotourError(f"is a folder: --db names the {what} file to write", path)
    if not stat.S_ISREG(mode):
        raise CotourError(f"is not a regular file: cannot write the {what} there", path)


def add_hybrid(kb_path: Path, public_path: Path, progress: Progress = _noop,
               before_writing: Callable[[], object] = lambda: None,
               source: Path | None = None) -> dict[str, int]:
    """Compute the hybridisation's tables from the freshly derived public database
    (:mod:`kb.hybrid`) and write them into both the knowledge base and the public database,
    then record the knowledge base's final digest in the public one (:func:`kb.public.restamp`).
    Returns the number of rows of each table. ``before_writing`` is called once the
    computation is done, just before the knowledge base is opened (the build waits there for
    its indexes). ``source``: a copy of the public database's tables to compute from, while
    the public file itself is still being indexed.

    Writing the same rows into the public file is safe without passing them through
    :func:`kb.public.derive_public` again: they are computed from the public database alone
    (no internal note, finding or personal field is ever read), so they are public by
    construction — and the public file's copy equals the knowledge base's.
    """
    tables = compute_in_batches(source or public_path, progress)
    evidence: list[tuple] = []
    before_writing()
    db = sqlite_utils.Database(kb_path)
    try:
        with db.atomic():
            for rows, cites in tables.pair_batches():
                write_rows(db, "hybrid_pairs", rows, public=False, columns=PAIR_COLUMNS)
                evidence += cites
            write_rows(db, "hybrid_evidence", evidence, public=False, columns=EVIDENCE_COLUMNS)
            write_rows(db, "organisation_network", tables.organisation_network, public=False)
    finally:
        db.close()
    counts = {"hybrid_pairs": tables.pairs, "hybrid_evidence": len(evidence),
              "organisation_network": len(tables.organisation_network)}
    # The knowledge base is final: hashed on a second thread while SQLite copies the rows
    # (both work outside the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(file_digest, kb_path)
        db = sqlite_utils.Database(public_path)
        try:
            db.execute("attach database ? as src", [str(kb_path)])
            with db.atomic():  # the same rows, copied by SQLite
                for name in counts:
                    copy_rows(db, name, None, public=True)
            db.execute("detach database src")
            for name in counts:  # the query planner's statistics of the new rows
                db.execute(f"analyze [{name}]")
        finally:
            db.close()
        restamp(public_path, kb_path, digest.result())
    progress("ibridazioni", 2, 2)
    return counts


def build(data_dir: Path | str, db_path: Path | str, progress: Progress = _noop) -> BuildResult:
    """Build the knowledge base and its public database; on any error the old files stay."""
    data_dir, db_path = Path(data_dir), Path(db_path)
    public_path = sibling_public(db_path)
    _writable_target(db_path, "knowledge base")
    _writable_target(public_path, "public database")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise CotourError("cannot write the knowledge base: a folder of its path is a file",
                          db_path) from None
    # Two builds on the same --db could leave a knowledge base from one and a public
    # database from the other.
    with output_lock(db_path, "another 'cotour build' is writing this knowledge base; run "
                              "this one when it has finished"):
        # Scratch files a killed build left behind: no other build can be writing them now.
        remove_scratch(db_path)
        remove_scratch(public_path)
        return _build(data_dir, db_path, public_path, progress)


def _build(data_dir: Path, db_path: Path, public_path: Path, progress: Progress) -> BuildResult:
    # Written beside the targets, then renamed together: a reader never sees a half-written
    # file, nor a knowledge base and a public database of two builds. The stemmed text of the
    # full-text index is kept from the knowledge base for the public one (scratch).
    with AtomicOutputs([db_path, public_path], scratch=("stems", "hybrid")) as outputs:
        tmp_kb, tmp_public = outputs.temporary(db_path), outputs.temporary(public_path)
        tmp_stems = outputs.scratch_path("stems")
        writer = Writer(tmp_kb, public=False, stems=tmp_stems)
        try:
            # The notes' rows are written as they are normalised, with their stemmed text;
            # the file is thrown away if the input has errors.
            result = check(data_dir, progress, sink=writer.append, stem_columns={
                t.name: t.fts for t in TABLES if t.fts and t.name in NOTE_TABLES})
            if result.diagnostics.errors:
                raise InputError(result.diagnostics)
            info = {"tool": "cotour-kb", "tool_version": __version__,
                    "input_digest": input_digest(data_dir), "public": "0"}
            model, counts = result.model, result.counts
            result.model = None
            writer.write_all({name: (model.columns[name], rows)
                              for name, rows in model.rows.items() if name not in NOTE_TABLES},
                             info, progress=progress)
            del model
            # Stamped with the knowledge base's digest once the hybridisation has written
            # into it; its full-text index and statistics come later. The hybridisation's
            # libraries are imported meanwhile, on a second thread (SQLite works outside
            # the GIL).
            with ThreadPoolExecutor(max_workers=1) as pool:
                imported = pool.submit(import_scikit_learn)
                public = derive_public(tmp_kb, tmp_public, progress=progress, stems=tmp_stems,
                                       stamp=False, search_later=True)
                imported.result()
            # The hybridisation computes from a copy of the public tables and their indexes,
            # with the statistics the public file will have (so the same query plans), while
            # a second thread builds the public full-text index, then the knowledge base's
            # indexes (one after the other: the first reads the knowledge base). The
            # hybridisation writes into both files once they are done.
            hybrid_source = outputs.scratch_path("hybrid")
            try:
                shutil.copyfile(tmp_public, hybrid_source)
                copy = sqlite_utils.Database(hybrid_source)
                try:
                    gather_statistics(copy)
                finally:
                    copy.close()
                # The results framework's measures, computed from the public rows alone (so
                # public by construction) and written into both files.
                indicators = indicator_values(hybrid_source)

                def index_both():
                    try:
                        public.index_search()
                    finally:
                        public.close()
                    writer.index()
                with ThreadPoolExecutor(max_workers=1) as pool:
                    indexing = pool.submit(index_both)

                    def before_writing():
                        indexing.result()
                        write_indicator_values(tmp_public, indicators)
                        write_indicator_values(tmp_kb, indicators)
                    try:
                        add_hybrid(tmp_kb, tmp_public, progress=progress,
                                   before_writing=before_writing, source=hybrid_source)
                    finally:
                        indexing.result()
            finally:
                public.close()  # already, unless something failed before its indexing
            hybrid_source.unlink()
            progress("indici e ricerca", 1, 1)
        finally:
            writer.close()
        tmp_stems.unlink()
        outputs.commit()
    return BuildResult(db_path, public_path, counts,
                       table_counts(public_path),
                       result.diagnostics)
