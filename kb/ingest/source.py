"""A whole data folder read at once, and the list of the files a build reads (its digest's input)."""

from __future__ import annotations

import os
from pathlib import Path

from ..diagnostics import Diagnostics, did_you_mean
from .documents import document_files, read_documents
from .entries import read_events, read_initiatives, read_themes
from .notes import _is_dir, _listing, note_files, read_notes
from .organisations import read_organisations
from .project import read_project
from .records import Source

# What a data folder may hold: a misspelt optional file would otherwise be ignored.
DATA_FILES = ["project.yaml", "themes.yaml", "organisations.csv", "organisations.xlsx",
              "events.yaml", "initiatives.yaml"]

DATA_FOLDERS = ["notes", "report", "assets"]


def _unknown_entries(data_dir: Path, diags: Diagnostics) -> None:
    known = DATA_FILES + DATA_FOLDERS
    for entry in _listing(data_dir, diags):
        if entry.name not in known:
            diags.error(entry.path, 1, f"unknown {'folder' if _is_dir(entry) else 'file'} in the "
                                       f"data folder{did_you_mean(entry.name, known)} (known: "
                                       f"{', '.join(DATA_FILES)}, and the folders "
                                       f"{', '.join(DATA_FOLDERS)})")


def read_source(data_dir: Path | str, diags: Diagnostics, notes: bool = True) -> Source:
    """Everything in ``data_dir``. With ``notes=False`` the notes are only listed
    (``source.note_files``): :func:`kb.normalise.normalise` reads and parses them one by one, in
    parallel, without holding every note's text at once."""
    data_dir = Path(data_dir)
    source = Source(data_dir=data_dir)
    if not data_dir.is_dir():
        diags.error(str(data_dir), 1, "data folder not found" if not os.path.lexists(data_dir)
                    else "not a folder: --data names the folder of the source material")
        return source
    _unknown_entries(data_dir, diags)
    source.project_path = str(data_dir / "project.yaml")
    source.themes_path = str(data_dir / "themes.yaml")
    xlsx = data_dir / "organisations.xlsx"
    source.organisations_path = str(xlsx if os.path.lexists(xlsx) else data_dir / "organisations.csv")
    source.events_path = str(data_dir / "events.yaml")
    source.initiatives_path = str(data_dir / "initiatives.yaml")
    source.project = read_project(data_dir, diags)
    source.themes = read_themes(data_dir, diags)
    source.organisations = read_organisations(data_dir, diags)
    source.events = read_events(data_dir, diags)
    if notes:
        source.notes = read_notes(data_dir, diags)
    else:
        source.note_files = note_files(data_dir, diags)
    source.initiatives = read_initiatives(data_dir, diags)
    source.documents = read_documents(data_dir, diags)
    return source


def input_files(data_dir: Path | str) -> list[Path]:
    """The files a build reads, in a fixed order (for the input digest): the known files of
    the data folder, the notes and the staff texts; not the assets (the report reads those),
    nor hidden files, nor the files that ``check`` reports as ignored."""
    data_dir = Path(data_dir)
    ignored = Diagnostics()
    files = [data_dir / name for name in DATA_FILES if (data_dir / name).is_file()]
    files += [f.path for f in note_files(data_dir, ignored)]
    files += document_files(data_dir, ignored)
    return sorted(files)
