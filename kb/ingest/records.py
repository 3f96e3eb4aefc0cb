"""The plain records the readers return, each remembering its source path and lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .yaml_lines import LineDict


@dataclass
class Theme:
    id: str
    label: str
    label_en: str | None
    description: str | None
    description_en: str | None
    parent_id: str | None
    line: int
    parent_line: int


@dataclass
class Organisation:
    id: str
    name: str
    aliases: list[str]
    legal_form: str | None
    profile: str | None
    sector: str | None
    province: str | None
    municipality: str | None
    website: str | None
    founded: int | None
    lat: float | None
    lon: float | None
    themes: list[str]
    description: str | None
    mapped: bool
    line: int


@dataclass
class Event:
    id: str
    city: str | None
    province: str | None
    date: str | None
    kind: str | None
    status: str | None
    venue: str | None
    attendance_persons: int | None
    attendance_organisations: int | None
    programme: str | None
    hosts: list[tuple[str, int]]
    line: int


@dataclass
class RawNote:
    """A note file split into its front matter and its Markdown body."""

    rel_path: str  # relative to the data folder, with forward slashes
    path: str  # as shown in diagnostics
    folder: str  # the event folder it lives in
    meta: LineDict
    body: str
    body_line: int  # line of the file where the body starts


@dataclass
class Initiative:
    id: str
    title: str | None
    description: str | None
    status: str | None
    organisations: list[tuple[str, int]]
    themes: list[tuple[str, int]]
    born_from: list[tuple[str, int]]
    line: int
    status_date: str | None = None  # since when it has its status
    lead: tuple[str, int] | None = None  # the lead organisation as written, with its line
    next_step: str | None = None


@dataclass
class Document:
    """Staff's own prose for the report (``data/report/<name>.md``)."""

    name: str
    text: str
    rel_path: str
    body_line: int = 1  # line of the file where ``text`` starts (after a front matter)
    # Personal names this text may publish on purpose, each with its line (see docs/staff/privacy.md).
    allow_names: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Source:
    """Everything read from a data folder, before names and references are resolved."""

    data_dir: Path
    project: dict = field(default_factory=dict)
    project_path: str = ""
    themes: list[Theme] = field(default_factory=list)
    themes_path: str = ""
    organisations: list[Organisation] = field(default_factory=list)
    organisations_path: str = ""
    events: list[Event] = field(default_factory=list)
    events_path: str = ""
    notes: list[RawNote] = field(default_factory=list)
    # With read_source(..., notes=False): the note files, read by kb.normalise as it goes.
    note_files: list[NoteFile] = field(default_factory=list)
    initiatives: list[Initiative] = field(default_factory=list)
    initiatives_path: str = ""
    documents: list[Document] = field(default_factory=list)

    def display(self, rel: str) -> str:
        return str(self.data_dir / rel)


@dataclass(frozen=True)
class NoteFile:
    """A note file found in ``data/notes/<event-id>/``, not read yet."""

    path: Path
    rel_path: str  # relative to the data folder, with forward slashes
    folder: str  # the event folder it lives in
