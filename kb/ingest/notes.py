"""Meeting notes: ``data/notes/<event>/*.md``, their front matter and body."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..diagnostics import Diagnostics
from .files import _unreadable, decode, is_hidden, read_bytes
from .records import NoteFile, RawNote
from .yaml_lines import LineDict, load_yaml

FRONT_MATTER_END = re.compile(r"^---[ \t]*$", re.M)


def split_front_matter(text: str, path: str, diags: Diagnostics) -> tuple[LineDict, str, int] | None:
    """``(front matter, body, line where the body starts)``, or ``None`` after a diagnostic.

    Not python-frontmatter: it loses line numbers, and every diagnostic needs the key's line.
    """
    if not re.match(r"---[ \t]*\n", text):
        diags.error(path, 1, "missing front matter: a note starts with '---', its YAML keys, then '---'")
        return None
    first = text.index("\n") + 1
    end = FRONT_MATTER_END.search(text, first)
    if end is None:
        diags.error(path, 1, "unterminated front matter: no closing '---' line")
        return None
    # A leading newline stands for the opening '---', so YAML's line numbers are the file's.
    errors_before = len(diags.errors)
    meta = load_yaml("\n" + text[first:end.start()], path, diags)
    if len(diags.errors) > errors_before:
        return None  # a syntax error, reported: its keys would only add noise
    if meta is None:
        meta = LineDict()
    if not isinstance(meta, LineDict):
        diags.error(path, 2, "front matter must be a mapping of keys")
        meta = LineDict()
    body_start = text.find("\n", end.start())
    body = text[body_start + 1:] if body_start != -1 else ""
    body_line = text.count("\n", 0, body_start) + 2 if body_start != -1 else text.count("\n") + 2
    return meta, body, body_line


def _listing(folder: Path, diags: Diagnostics) -> list[os.DirEntry]:
    """The entries of ``folder``, sorted by name, hidden ones left out."""
    try:
        with os.scandir(folder) as entries:
            return sorted((e for e in entries if not is_hidden(e.name)), key=lambda e: e.name)
    except OSError as exc:
        diags.error(str(folder), 1, _unreadable(folder, exc).replace("file", "folder"))
        return []


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # a link to a folder counts: it is followed one level only
    except OSError:
        return False


def note_files(data_dir: Path, diags: Diagnostics) -> list[NoteFile]:
    """The note files of ``data_dir``, sorted; files that cannot be notes are reported.

    Exactly two levels, ``notes/<event-id>/<name>.md``: nothing deeper is walked (so a loop
    of links cannot make the walk endless); hidden files and folders are not notes.
    """
    notes_dir = data_dir / "notes"
    files: list[NoteFile] = []
    if not os.path.lexists(notes_dir):
        return files
    if not notes_dir.is_dir():
        diags.error(str(notes_dir), 1, "'notes' must be a folder (of one folder per event)")
        return files
    for folder in _listing(notes_dir, diags):
        path = Path(folder.path)
        if not _is_dir(folder):
            if path.suffix == ".md":
                diags.error(str(path), 1, "a note lives in data/notes/<event-id>/<name>.md")
            else:
                diags.warning(str(path), 1, "not a note (notes are .md files in a folder per "
                                            "event): file ignored")
            continue
        for entry in _listing(path, diags):
            note = Path(entry.path)
            if _is_dir(entry):
                diags.error(str(note), 1, "a folder inside an event's folder: a note lives in "
                                          "data/notes/<event-id>/<name>.md")
                continue
            if note.suffix != ".md":
                diags.warning(str(note), 1, "not a note (notes are .md files): file ignored")
                continue
            files.append(NoteFile(note, note.relative_to(data_dir).as_posix(), folder.name))
    return files


def read_note(file: NoteFile, diags: Diagnostics, keep_body: bool = True) -> RawNote | None:
    """One note file split into front matter and body, or ``None`` after a diagnostic.

    ``keep_body=False`` keeps only the front matter (the body is left empty)."""
    raw = read_bytes(file.path, diags)
    text = None if raw is None else decode(raw, str(file.path), diags)
    if text is None:
        return None
    split = split_front_matter(text, str(file.path), diags)
    if split is None:
        return None
    meta, body, body_line = split
    return RawNote(file.rel_path, str(file.path), file.folder, meta,
                   body if keep_body else "", body_line)


def read_notes(data_dir: Path, diags: Diagnostics) -> list[RawNote]:
    notes = (read_note(file, diags) for file in note_files(data_dir, diags))
    return [note for note in notes if note is not None]
