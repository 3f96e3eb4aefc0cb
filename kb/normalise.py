"""Turn the records of :mod:`kb.read` into the rows of the knowledge base.

Headings become finding kinds, list items become findings, ``[[mentions]]``, participants and
``#tags`` are resolved against the organisations and themes, and every reference between files
is checked. The result, :class:`Model`, holds one list of plain rows per table.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import multiprocessing
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from markdown_it import MarkdownIt

from .diagnostics import Diagnostic, Diagnostics, did_you_mean, excerpt
from .dictionary import TABLES_BY_NAME
from .read import (
    PERSONAL_FIELDS, Fields, LineDict, LineList, NoteFile, RawNote, Source, read_bytes,
    read_note, split_front_matter, text_problem,
)
from .read import REPORT_DOCUMENTS, Document
from .search import fold, stem_text
from .vocabulary import (
    COOPERATIVE_FORMS, EVENT_KINDS, FINAL, FINDING_KINDS, MENTIONED, NOTE_KIND_IDS, PROVINCE,
    PROVINCES, PUBLIC, SOURCE, VISIBILITY_IDS,
)

# Legal suffixes dropped when matching organisation names, longest first so that
# "società cooperativa sociale" goes before "società cooperativa".
LEGAL_SUFFIXES = sorted([
    "societa cooperativa sociale", "societa cooperativa", "soc coop sociale", "soc coop soc",
    "soc coop", "coop soc", "coop sociale", "cooperativa sociale onlus", "scs", "s c s", "sc",
    "s c", "scrl", "s c r l", "scarl", "s c a r l", "a r l", "arl", "srl", "s r l", "srls",
    "s r l s", "spa", "s p a", "snc", "s n c", "sas", "s a s", "onlus", "aps", "odv", "ets",
    "impresa sociale", "societa benefit", "sb",
], key=lambda s: -len(s))

# An image whose address is another site's: Markdown ![alt](https://…) or HTML <img src=…>.
EXTERNAL_IMAGE = re.compile(
    r"!\[[^\]]*\]\(\s*<?(?P<md>(?:https?:)?//[^)\s>]+)"
    r"|<img\b[^>]*?\bsrc\s*=\s*[\"']?(?P<html>(?:https?:)?//[^\"'\s>]+)", re.I)
MENTION = re.compile(r"\[\[(!?)([^\[\]|]+?)(?:\|([^\[\]]*))?\]\]")
# A tag is '#' and a letter, not glued to a word (C#, a&#39;), a path or another '#'.
TAG = re.compile(r"(?<![\w#&/])#([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)")
# Places where a '#' is not a tag: links' targets, bare URLs, inline code, mentions.
NOT_TAG_SPANS = re.compile(r"\]\([^)]*\)|<[^>\s]+>|https?://\S+|www\.\S+|`[^`]*`|\[\[[^\]]*\]\]")
LIST_MARKER = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])([ \t]+|$)")

# Only the block structure matters here (headings, lists and their lines): inline parsing off.
_markdown = MarkdownIt("commonmark").disable("inline")


_PUNCTUATION = re.compile(r"[^\w\s]|_")


def match_key(text: str) -> str:
    """The key names and headings are matched by: :func:`kb.search.fold` (case, accents), then
    punctuation as spaces and single spaces."""
    text = _PUNCTUATION.sub(" ", fold(text))
    return " ".join(text.split())


# Combining marks (accents once NFKD has split them off): the blocks Latin, Greek and
# Cyrillic names use.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NOT_WORD = re.compile(r"[\W_]+")


def name_key(text: str) -> str:
    """``text`` as names are matched: invisible format characters dropped (Unicode Cf: the
    soft hyphen Word inserts, zero-width spaces and joiners, direction marks), case and
    accents folded, punctuation, line breaks and every kind of space as one space.

    Written for speed, since every public text goes through it: the invisible characters are
    looked for among the text's distinct characters, not character by character."""
    if text.isascii():
        text = text.lower()
    else:
        invisible = {ord(c): None for c in set(text)
                     if c > "\x7f" and unicodedata.category(c) == "Cf"}
        if invisible:
            text = text.translate(invisible)
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    return " ".join(_NOT_WORD.sub(" ", text).split())


@dataclass
class NameHit:
    name: str  # as written in the personal field
    field: str  # facilitator, rapporteur, interviewees
    line: int  # line of the text where it starts (1 for a one-line text)


class Names:
    """The people named in personal fields, found in any text however it is broken or spelt.

    A text is folded once (:func:`name_key`); the names whose first word it holds are then
    looked for as whole words, so that the cost does not grow with the number of names.
    """

    def __init__(self, people: Iterable[tuple[str, str]] = ()) -> None:
        self.by_key: dict[str, tuple[str, str]] = {}  # folded name -> (name, field)
        self.by_first: dict[str, list[str]] = {}
        for field_name, name in people:
            self.add(field_name, name)

    def add(self, field_name: str, name: str) -> None:
        key = name_key(name)
        if key and key not in self.by_key:
            self.by_key[key] = (name, field_name)
            self.by_first.setdefault(key.split(" ", 1)[0], []).append(key)

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def keys_in(self, text: str) -> list[str]:
        """The folded names that ``text`` holds, as whole words."""
        if not self.by_key or not text:
            return []
        folded = name_key(text)
        padded = f" {folded} "
        found = []
        for word in set(folded.split()) & self.by_first.keys():
            found += [key for key in self.by_first[word] if f" {key} " in padded]
        return sorted(found)

    def find(self, text: str, first_line: int = 1,
             allowed: Iterable[str] = ()) -> list[NameHit]:
        """Each name of ``text`` (not in ``allowed``) with the line where it starts; a name
        broken across lines is found at its first line."""
        allowed_keys = {name_key(a) for a in allowed}
        keys = [k for k in self.keys_in(text) if k not in allowed_keys]
        if not keys:
            return []
        lines = text.split("\n")
        folded = [f" {name_key(text_line)} " for text_line in lines]
        hits = []
        for key in keys:
            line = 0
            for n in range(len(lines)):
                # On this line, or begun on it and ended on the next (hard-wrapped).
                if f" {key} " in folded[n] or (
                        n + 1 < len(lines) and f" {key} " not in folded[n + 1]
                        and f" {key} " in f"{folded[n]}{folded[n + 1]}".replace("  ", " ")):
                    line = n
                    break
            name, field_name = self.by_key[key]
            hits.append(NameHit(name, field_name, first_line + line))
        return sorted(hits, key=lambda h: (h.line, h.name))


HEADINGS = {match_key(h): k.id for k in FINDING_KINDS for h in k.headings}
_HEADING_SHOWN = {match_key(h): h for k in FINDING_KINDS for h in k.headings}


def heading_kind(heading: str) -> str | None:
    """The finding kind a level-2 heading opens, or ``None`` for a narrative heading."""
    return HEADINGS.get(match_key(heading))


def near_heading(heading: str) -> str | None:
    """The kind heading that ``heading`` nearly spells ("Minaccie" -> "Minacce")."""
    key = match_key(heading)
    if not key or key in HEADINGS:
        return None
    close = difflib.get_close_matches(key, list(HEADINGS), n=1, cutoff=0.8)
    return _HEADING_SHOWN[close[0]] if close else None


def organisation_key(name: str) -> str:
    """A name folded for matching, without its legal suffixes ("Kilowatt Soc. Coop" -> "kilowatt")."""
    key = match_key(name)
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if key.endswith(" " + suffix):
                key = key[: -len(suffix) - 1].rstrip()
                changed = True
    return key


def slugify(text: str) -> str:
    return "-".join(match_key(text).replace("_", " ").split()) or "nota"


def id_text(text: str) -> str:
    """A finding's text as its id hashes it: NFC, case folded, runs of white space as one space
    (accents and punctuation count: they can change what a finding says)."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def finding_id(note_id: str, kind: str, text: str) -> str:
    """Stable: depends only on the note, the kind and the normalised text."""
    digest = hashlib.sha256(f"{note_id}\n{kind}\n{id_text(text)}".encode()).hexdigest()
    return digest[:12]


def tags_in(text: str) -> list[tuple[str, int]]:
    """``(tag, offset)`` for each ``#tag`` of a finding."""
    masked = NOT_TAG_SPANS.sub(lambda m: " " * len(m.group()), text)
    return [(m.group(1), m.start()) for m in TAG.finditer(masked)]


def mentions_in(text: str) -> list[tuple[str, bool, str | None, int]]:
    """``(name, raised_by, shown_text, offset)`` for each ``[[mention]]``."""
    return [(m.group(2).strip(), m.group(1) == "!", m.group(3), m.start())
            for m in MENTION.finditer(text)]


# --------------------------------------------------------------------------- note bodies


@dataclass
class RawFinding:
    kind: str
    text: str
    line: int  # line in the file


@dataclass
class ParsedBody:
    narrative: str
    findings: list[RawFinding]
    # (line, heading, suggested kind heading) for headings that nearly name a kind
    near_misses: list[tuple[int, str, str]]
    empty_items: list[int]


def _item_text(lines: list[str]) -> str:
    """A list item's source without its marker, continuation lines dedented to match."""
    first = LIST_MARKER.match(lines[0])
    width = len(first.group(0)) if first else 0
    out = [lines[0][width:]]
    for line in lines[1:]:
        indent = len(line) - len(line.lstrip(" "))
        out.append(line[min(indent, width):])
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out).strip("\n")


def parse_body(body: str, body_line: int) -> ParsedBody:
    """Split a note's Markdown into narrative and findings: a level-2 heading of a finding kind
    (:data:`kb.vocabulary.FINDING_KINDS`) opens a section whose list items are findings."""
    # markdown-it counts a lone CR as a line break: so must the line list its map points into.
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    lines = body.split("\n")
    tokens = _markdown.parse(body)
    consumed = [False] * len(lines)
    findings: list[RawFinding] = []
    near_misses: list[tuple[int, str, str]] = []
    empty_items: list[int] = []
    kind = None
    heading_start = None
    section_has_prose = False

    def close_section():
        # A kind heading goes to the narrative too when its section holds prose, for context.
        if kind is not None and heading_start is not None and not section_has_prose:
            consumed[heading_start] = True

    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        if token.type == "heading_open" and token.tag in ("h1", "h2"):
            close_section()
            text = tokens[i + 1].content if i + 1 < len(tokens) else ""
            kind = heading_kind(text) if token.tag == "h2" else None
            heading_start, section_has_prose = start, False
            if token.tag == "h2" and kind is None:
                suggestion = near_heading(text)
                if suggestion:
                    near_misses.append((body_line + start, text, suggestion))
            continue
        if kind is None:
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth = 0
            for item in tokens[i + 1:]:
                if item.type in ("bullet_list_open", "ordered_list_open"):
                    depth += 1
                elif item.type in ("bullet_list_close", "ordered_list_close"):
                    if depth == 0:
                        break
                    depth -= 1
                elif item.type == "list_item_open" and depth == 0:
                    s, e = item.map
                    text = _item_text(lines[s:e])
                    for n in range(s, e):
                        consumed[n] = True
                    if text.strip():
                        findings.append(RawFinding(kind, text, body_line + s))
                    else:
                        empty_items.append(body_line + s)
        else:
            section_has_prose = True
    close_section()

    kept = [line for n, line in enumerate(lines) if not consumed[n]]
    narrative = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return ParsedBody(narrative, findings, near_misses, empty_items)


# --------------------------------------------------------------------------- the model


class Model:
    """The rows of the knowledge base (see :mod:`kb.dictionary`), per table.

    A row is stored as a tuple, with the table's column names once in :attr:`columns`: a dict
    per row would take more memory than the rest of a large build together. :meth:`add`
    takes a dict and keeps its values; :meth:`extend` takes rows already made as tuples.
    ``model[table]`` gives the rows as dicts (a new list each time), for tests and tools.
    """

    def __init__(self) -> None:
        self.columns: dict[str, tuple[str, ...]] = {}
        self.rows: dict[str, list[tuple]] = {}
        self.streamed: dict[str, int] = {}  # rows handed to a sink instead (see normalise())

    def add(self, table: str, row: dict) -> None:
        """Add a row; every row of a table has the same keys, in the same order."""
        rows = self.rows.get(table)
        if rows is None:
            self.columns[table] = tuple(row)
            rows = self.rows[table] = []
        rows.append(tuple(row.values()))

    def extend(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Add rows given as tuples of ``columns`` (the same columns as the table's other rows)."""
        if table not in self.rows:
            self.columns[table] = columns
            self.rows[table] = []
        self.rows[table].extend(rows)

    def __getitem__(self, table: str) -> list[dict]:
        columns = self.columns.get(table, ())
        return [dict(zip(columns, row)) for row in self.rows.get(table, [])]

    @property
    def tables(self) -> dict[str, list[dict]]:
        return {table: self[table] for table in self.rows}

    def counts(self) -> dict[str, int]:
        return {table: len(rows) + self.streamed.get(table, 0)
                for table, rows in self.rows.items()}


_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def _json(value) -> str:
    """``json.dumps(value, ensure_ascii=False)``; a list of plain strings (ids) is written
    directly, in the same form, since there are several per finding."""
    if type(value) is list and all(type(v) is str and not _JSON_ESCAPED.search(v) for v in value):
        return '["' + '", "'.join(value) + '"]' if value else "[]"
    return json.dumps(value, ensure_ascii=False)


class OrganisationIndex:
    """Resolves an id, name or alias to an organisation id; finds shared names."""

    def __init__(self, source: Source, diags: Diagnostics):
        self.ids = {o.id for o in source.organisations}
        self.by_key: dict[str, str] = {}
        self._resolved: dict[str, str | None] = {}
        lines: dict[str, int] = {}
        for org in source.organisations:
            if org.id in lines:  # a duplicate id, already reported
                continue
            lines[org.id] = org.line
            clashes = set()
            for name in [org.name, *org.aliases, org.id]:
                key = organisation_key(name)
                if not key:
                    continue
                other = self.by_key.setdefault(key, org.id)
                if other != org.id and other not in clashes:
                    clashes.add(other)
                    diags.error(
                        source.organisations_path, org.line,
                        f"name or alias '{name}' of '{org.id}' is also a name or alias of "
                        f"'{other}' (line {lines[other]}); make it unique",
                    )

    def resolve(self, name: str) -> str | None:
        if name in self.ids:
            return name
        try:
            return self._resolved[name]
        except KeyError:  # the same names come back in note after note: fold each once
            org_id = self._resolved[name] = self.by_key.get(organisation_key(name))
            return org_id

    def suggestion(self, name: str) -> str:
        close = difflib.get_close_matches(organisation_key(name), list(self.by_key), n=1, cutoff=0.6)
        return f"; did you mean '{self.by_key[close[0]]}'?" if close else ""


# Receives each note's rows as it is normalised: table -> rows (tuples of NOTE_TABLES[table]),
# and table -> the stemmed text of those rows' STEM_COLUMNS, in the same order.
NoteSink = Callable[[dict[str, list[tuple]], dict[str, list[tuple]]], None]


def normalise(source: Source, diags: Diagnostics, sink: NoteSink | None = None,
              stem_columns: dict[str, tuple[str, ...]] | None = None) -> Model:
    """Every table's rows, and every problem in ``diags``.

    With ``sink``, the rows of the notes' tables (``NOTE_TABLES``) go to ``sink`` note by note
    instead of the model, which only counts them: a build writes them to the file while the
    other notes are still being parsed, and never holds them all. ``stem_columns`` (table ->
    columns) asks for those columns' stemmed text too, computed beside the parsing.
    """
    model = Model()
    theme_ids = [t.id for t in source.themes]
    event_ids = [e.id for e in source.events]
    events = {e.id: e for e in source.events}
    orgs = OrganisationIndex(source, diags)

    def check_ref(ref: str, known, path: str, line: int, what: str) -> bool:
        if ref in known:
            return True
        diags.error(path, line, f"unknown {what} '{ref}'{did_you_mean(ref, known)}")
        return False

    # ---- project, provinces, kinds
    project = dict(source.project)
    if project:
        project["id"] = project.get("dataset_id") or slugify(project.get("title") or "cotour")
        for key in ("keywords", "sources", "organisers", "organiser_ids", "eu_theme", "subjects"):
            project[key] = _json(project.get(key) or [])
        project["illustrative"] = int(bool(project.get("illustrative")))
        project = {k: project.get(k) for k in TABLES_BY_NAME["project"].column_names}
        model.add("project", project)
    for position, p in enumerate(PROVINCES, 1):
        model.add("provinces", {"id": p.id, "name": p.name, "istat_code": p.istat,
                                   "position": position})
    for position, k in enumerate(FINDING_KINDS, 1):
        model.add("finding_kinds", {"id": k.id, "label": k.label, "label_en": k.label_en,
                                       "position": position})

    # ---- themes
    parents = {t.id: t.parent_id for t in source.themes}
    for theme in source.themes:
        if theme.parent_id and check_ref(theme.parent_id, theme_ids, source.themes_path,
                                         theme.parent_line, "parent theme"):
            seen, cursor = {theme.id}, theme.parent_id
            while cursor:
                if cursor in seen:
                    diags.error(source.themes_path, theme.parent_line,
                                f"theme '{theme.id}' is its own ancestor (a cycle of parents)")
                    break
                seen.add(cursor)
                cursor = parents.get(cursor)
        model.add("themes", {
            "id": theme.id, "label": theme.label, "label_en": theme.label_en,
            "description": theme.description, "description_en": theme.description_en,
            "parent_id": theme.parent_id if theme.parent_id in parents else None,
        })

    # ---- organisations
    for org in source.organisations:
        themes = [t for t in org.themes
                  if check_ref(t, theme_ids, source.organisations_path, org.line, "theme")]
        model.add("organisations", {
            "id": org.id, "name": org.name, "aliases": _json(org.aliases),
            "legal_form": org.legal_form,
            "is_cooperative": None if org.legal_form is None else int(org.legal_form in COOPERATIVE_FORMS),
            "profile": org.profile, "sector": org.sector, "province": org.province,
            "province_istat": PROVINCE[org.province].istat if org.province else None,
            "municipality": org.municipality, "website": org.website, "founded": org.founded,
            "lat": org.lat, "lon": org.lon, "themes": _json(themes),
            "description": org.description, "mapped": int(org.mapped),
            "source_line": org.line,
        })
        for theme in themes:
            model.add("organisation_themes", {"organisation_id": org.id, "theme_id": theme})

    # ---- events
    finales = [e for e in source.events if e.kind == FINAL]
    for extra in finales[1:]:
        diags.error(source.events_path, extra.line,
                    f"a second finale '{extra.id}': only one event closes the tour "
                    f"(first: '{finales[0].id}')")
    # A unique, readable name: Datasette shows it wherever a row points to an event.
    final = next(k.it for k in EVENT_KINDS if k.id == FINAL)
    names = [f"{e.city} ({final})" if e.kind == FINAL else e.city for e in source.events]
    for event, name in zip(source.events, list(names)):
        if names.count(name) > 1:
            name = f"{name} {event.date or event.id}"
        for host, line in event.hosts:
            if orgs.resolve(host) is None:
                diags.error(source.events_path, line,
                            f"unknown organisation '{host}'{orgs.suggestion(host)}")
        model.add("events", {
            "id": event.id, "name": name, "city": event.city, "province": event.province,
            "province_istat": PROVINCE[event.province].istat if event.province else None,
            "date": event.date, "kind": event.kind, "status": event.status, "venue": event.venue,
            "attendance_persons": event.attendance_persons,
            "attendance_organisations": event.attendance_organisations,
            "programme": event.programme, "source_line": event.line,
        })
        for host, _ in event.hosts:
            host_id = orgs.resolve(host)
            if host_id:
                model.add("event_hosts", {"event_id": event.id, "organisation_id": host_id})

    # ---- notes and findings
    note_ids: dict[str, str] = {}
    stem_at = {table: tuple(NOTE_TABLES[table].index(c) for c in columns)
               for table, columns in (stem_columns or {}).items()}
    names = personal_names(source)
    context = _NoteContext(events, event_ids, theme_ids, set(theme_ids), orgs,
                           {o.id: o.profile for o in source.organisations}, stem_at, names)
    for table, columns in NOTE_TABLES.items():  # the tables in the same order either way
        model.extend(table, columns, [])
    for note in _normalised_notes(source, context):
        diags.items.extend(note.early)
        if note.note_id is None:
            continue
        if note.note_id in note_ids:
            diags.error(note.path, 1, f"note id '{note.note_id}' is also the id of "
                                      f"{note_ids[note.note_id]}: rename one file")
            continue
        note_ids[note.note_id] = note.path
        diags.items.extend(note.late)
        if sink is not None:
            sink(note.rows, note.stems)
            for table, rows in note.rows.items():
                model.streamed[table] = model.streamed.get(table, 0) + len(rows)
            continue
        for table, rows in note.rows.items():
            model.extend(table, NOTE_TABLES[table], rows)

    # ---- initiatives
    for initiative in source.initiatives:
        path = source.initiatives_path
        model.add("initiatives", {
            "id": initiative.id, "title": initiative.title, "description": initiative.description,
            "status": initiative.status, "source_line": initiative.line,
        })
        for ref, line in initiative.organisations:
            org_id = orgs.resolve(ref)
            if org_id is None:
                diags.error(path, line, f"unknown organisation '{ref}'{orgs.suggestion(ref)}")
            else:
                model.add("initiative_organisations", {"initiative_id": initiative.id,
                                                          "organisation_id": org_id})
        for ref, line in initiative.themes:
            if check_ref(ref, theme_ids, path, line, "theme"):
                model.add("initiative_themes", {"initiative_id": initiative.id, "theme_id": ref})
        for ref, line in initiative.born_from:
            if check_ref(ref, event_ids, path, line, "event"):
                model.add("initiative_events", {"initiative_id": initiative.id, "event_id": ref})

    for doc in source.documents:
        check_document(doc, source.display(doc.rel_path), source.data_dir, diags)
        model.add("documents", {"id": doc.name, "text": doc.text, "source_path": doc.rel_path})

    check_public_texts(source, names, diags)

    for rows in model.rows.values():
        _dedupe_links(rows)
    return model


def _dedupe_links(rows: list[tuple]) -> None:
    """Identical rows kept once, the first time they appear."""
    kept = list(dict.fromkeys(rows))
    if len(kept) != len(rows):
        rows[:] = kept


# --------------------------------------------------------------------------- notes, in parallel

# Below this many notes, normalising them in worker processes costs more than it saves.
PARALLEL_NOTES = 200

# The columns of the rows a note yields, in the data dictionary's order.
# The tables a note's rows go to; a row is a tuple of the table's columns, in the dictionary's
# order (the build inserts them as they are).
NOTE_TABLES = {name: TABLES_BY_NAME[name].column_names for name in (
    "notes", "note_participants", "findings", "finding_organisations", "finding_themes")}


@dataclass
class _NoteContext:
    """What normalising one note needs to know of the rest of the input."""

    events: dict
    event_ids: list[str]
    theme_ids: list[str]
    theme_set: set[str]
    orgs: "OrganisationIndex"
    profiles: dict[str, str | None]
    stem_at: dict[str, tuple[int, ...]] = field(default_factory=dict)  # table -> columns
    names: Names = field(default_factory=Names)  # every personal field of every note


@dataclass
class NoteRows:
    """One note normalised on its own (in a worker process when there are many)."""

    path: str
    note_id: str | None  # None: the file could not be read as a note
    early: list[Diagnostic]  # reported in any case
    late: list[Diagnostic] = field(default_factory=list)  # only if its id is not taken
    rows: dict[str, list[tuple]] = field(default_factory=dict)  # table -> NOTE_TABLES rows
    stems: dict[str, list[tuple]] = field(default_factory=dict)  # table -> stemmed columns


_CONTEXT: _NoteContext | None = None  # set in each worker process


def _set_context(context: _NoteContext) -> None:
    global _CONTEXT
    _CONTEXT = context


def _read_and_normalise(file: NoteFile) -> NoteRows:
    """In a worker: read, parse and normalise one note file; its text is not kept."""
    diags = Diagnostics()
    raw = read_note(file, diags)
    if raw is None:
        return NoteRows(str(file.path), None, diags.items)
    note = _normalise_note(raw, _CONTEXT)
    note.early[:0] = diags.items
    return note


def _normalised_notes(source: Source, context: _NoteContext) -> Iterator[NoteRows]:
    """The notes of ``source`` normalised, in order: from ``source.notes`` as read, then from
    ``source.note_files`` (read and normalised on every core when there are many)."""
    yield from (_normalise_note(raw, context) for raw in source.notes)
    files = source.note_files
    workers = min(os.cpu_count() or 1, 8)
    if len(files) < PARALLEL_NOTES or workers < 2:
        _set_context(context)
        try:
            yield from map(_read_and_normalise, files)
        finally:
            _set_context(None)
        return
    methods = multiprocessing.get_all_start_methods()
    mp = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = mp.Pool(workers, initializer=_set_context, initargs=(context,))
    try:
        # imap keeps the files' order, so ids and diagnostics do not depend on the workers.
        yield from pool.imap(_read_and_normalise, files, chunksize=16)
    finally:
        pool.terminate()
        pool.join()


NOTE_KEYS = ["event", "title", "kind", "date", "participants", "visibility", *PERSONAL_FIELDS]


def _people(meta: LineDict, path: str, diags: Diagnostics) -> dict[str, list[str]]:
    """The names of a note's personal fields (a name, or a list of names)."""
    f = Fields(meta, path, diags)
    return {key: f.text_list(key, one=True) for key in PERSONAL_FIELDS if meta.get(key) is not None}


def _normalise_note(raw: RawNote, context: _NoteContext) -> NoteRows:
    """A note's rows and diagnostics, from the note alone and ``context``.

    Whether its id is already taken by another note is for the caller to say: the diagnostics
    of ``late`` and the rows count only if it is not.
    """
    events, event_ids, theme_ids = context.events, context.event_ids, context.theme_ids
    orgs, profiles = context.orgs, context.profiles
    path = raw.path
    diags = Diagnostics()
    result = NoteRows(path, None, diags.items)
    f = Fields(raw.meta, path, diags)
    f.unknown_keys(NOTE_KEYS, "a note's front matter")
    event_id = f.text("event") or raw.folder
    if raw.folder not in events:
        diags.error(path, 1, f"the folder '{raw.folder}' is not an event id"
                             f"{did_you_mean(raw.folder, event_ids)}")
    if "event" in raw.meta and event_id != raw.folder:
        if event_id in events:
            f.error("event", f"event '{event_id}' differs from the note's folder '{raw.folder}'")
        else:
            f.error("event", f"unknown event '{event_id}'{did_you_mean(event_id, event_ids)}")
    event = events.get(event_id)
    title = f.text("title", required=True)
    kind = f.choice("kind", NOTE_KIND_IDS, required=True)
    visibility = f.choice("visibility", VISIBILITY_IDS) or PUBLIC
    note_date = f.date("date") or (event.date if event else None)

    people = _people(raw.meta, path, diags)

    stem = raw.rel_path.rsplit("/", 1)[-1][:-3]
    note_id = f"{raw.folder}-{slugify(stem)}"
    result.note_id = note_id
    diags = Diagnostics()  # from here on: reported only if the note is kept
    result.late = diags.items
    model = Model()

    participants = []
    for ref, line in _names(raw.meta, "participants", path, diags):
        org_id = orgs.resolve(ref)
        if org_id is None:
            diags.error(path, line, f"unknown organisation '{ref}'{orgs.suggestion(ref)}")
        elif org_id not in participants:
            participants.append(org_id)

    body = parse_body(raw.body, raw.body_line)
    for line, heading, suggestion in body.near_misses:
        diags.warning(path, line, f"heading '{heading}' is not a finding section; did you mean "
                                  f"'{suggestion}'? its items are kept as narrative")
    for line in body.empty_items:
        diags.warning(path, line, "empty list item: no finding made")
    for match in EXTERNAL_IMAGE.finditer(raw.body):
        line = raw.body_line + raw.body.count("\n", 0, match.start())
        address = match["md"] or match["html"]
        diags.warning(path, line, f"image from an external address ({address[:80]}): readers' "
                                  "browsers would fetch it from that site, which then sees who "
                                  "reads the note (Datasette blocks it); put the image in "
                                  "data/assets/ or remove it")

    if visibility == PUBLIC:
        _check_personal_names(raw, title, context.names, path, diags)

    model.add("notes", {
        "id": note_id, "event_id": event_id if event else None, "title": title, "kind": kind,
        "date": note_date, "visibility": visibility,
        "facilitator": ", ".join(people.get("facilitator", [])) or None,
        "rapporteur": ", ".join(people.get("rapporteur", [])) or None,
        "interviewees": _json(people["interviewees"]) if "interviewees" in people else None,
        "participants": _json(participants), "text": body.narrative,
        "source_path": raw.rel_path, "source_line": 1,
    })
    for org_id in participants:
        model.add("note_participants", {"note_id": note_id, "organisation_id": org_id})

    seen_ids: dict[str, int] = {}
    for position, finding in enumerate(body.findings, 1):
        fid = finding_id(note_id, finding.kind, finding.text)
        if fid in seen_ids:
            diags.warning(path, finding.line, f"the same finding is already at line {seen_ids[fid]}: "
                                              "kept once")
            continue
        seen_ids[fid] = finding.line
        roles: dict[str, str] = {}
        for name, raised, _, offset in mentions_in(finding.text):
            line = finding.line + finding.text.count("\n", 0, offset)
            org_id = orgs.resolve(name)
            if org_id is None:
                diags.error(path, line, f"unknown organisation '{name}'{orgs.suggestion(name)}")
            elif raised or org_id not in roles:
                roles[org_id] = SOURCE if raised else roles.get(org_id, MENTIONED)
        themes = []
        for tag, offset in tags_in(finding.text):
            line = finding.line + finding.text.count("\n", 0, offset)
            if tag not in context.theme_set:
                diags.error(path, line, f"unknown theme '#{tag}'{did_you_mean(tag, theme_ids)}")
            elif tag not in themes:
                themes.append(tag)
        model.add("findings", {
            "id": fid, "note_id": note_id, "event_id": event_id if event else None,
            "kind": finding.kind, "position": position, "text": finding.text,
            "date": note_date,
            "province": event.province if event else None,
            "city": event.city if event else None,
            "themes": _json(themes),
            "organisations": _json(list(roles)),
            "source_organisations": _json([o for o, r in roles.items() if r == SOURCE]),
            "source_profiles": _json(sorted({profiles.get(o) for o, r in roles.items()
                                             if r == SOURCE and profiles.get(o)})),
            "source_path": raw.rel_path, "source_line": finding.line,
        })
        for org_id, role in roles.items():
            model.add("finding_organisations", {"finding_id": fid, "organisation_id": org_id,
                                                   "role": role})
        for theme in themes:
            model.add("finding_themes", {"finding_id": fid, "theme_id": theme})
    for table, columns in model.columns.items():
        if columns != NOTE_TABLES[table]:
            raise AssertionError(f"{table}: columns {columns} differ from NOTE_TABLES")
    result.rows = model.rows
    # Stemmed here, in the worker, rather than by the writer: the one step of the full-text
    # index that is pure Python, spread over every core.
    result.stems = {table: [tuple(stem_text(row[i]) for i in at) for row in model.rows[table]]
                    for table, at in context.stem_at.items() if table in model.rows}
    return result


def _names(meta: LineDict, key: str, path: str, diags: Diagnostics) -> list[tuple[str, int]]:
    """Organisation references of a front-matter list: ids, names or aliases, each with its line."""
    value = meta.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        value = LineList([value])
        value.lines = [meta.line_of(key)]
    names = []
    for i, item in enumerate(value):
        line = value.line_of(i) if isinstance(value, LineList) else meta.line_of(key)
        problem = text_problem(key, item)
        if problem:
            diags.error(path, line, problem.replace(f"'{key}' must be",
                                                    f"each item of '{key}' must be"))
        elif str(item).strip():
            names.append((str(item).strip(), line))
    return names


_PERSONAL_KEYS = re.compile(rb"^(?:%s)[ \t]*:" % b"|".join(k.encode() for k in PERSONAL_FIELDS),
                            re.M)


_PERSONAL_LINE = re.compile(rb"^(%s)[ \t]*:(.*)$" % b"|".join(k.encode() for k in PERSONAL_FIELDS),
                            re.M)
# A value YAML reads as plain text, as written: none of its indicators, no comment.
_PLAIN = re.compile(rb"[^\s\[\]{}\"#&*!|>%@`,?:'-][^\[\]{}\"#&*!|>%@`,:]*")


# Plain words YAML reads as something else than text (yes/no, null, numbers): left to YAML.
_NOT_TEXT = re.compile(rb"(?i:y|n|yes|no|true|false|on|off|null|~)|[-+.\d_:eE]+")


def _simple_people(head: bytes) -> list[tuple[str, str]] | None:
    """The personal fields of a front matter that writes them the usual way (``key: Name`` or
    ``key: [Name, Name]``, plain words), without YAML; ``None`` for any other shape."""
    people = []
    for match in _PERSONAL_LINE.finditer(head):
        value = match.group(2).strip()
        items = [value]
        if value.startswith(b"[") and value.endswith(b"]"):
            items = [v.strip() for v in value[1:-1].split(b",")]
        for item in items:
            if not _PLAIN.fullmatch(item) or _NOT_TEXT.fullmatch(item):
                return None
            try:
                name = item.decode("utf-8")
            except UnicodeDecodeError:
                return None
            people.append((match.group(1).decode(), name))
    return people


def _people_of(file: NoteFile) -> list[tuple[str, str]]:
    """``(field, name)`` of a note file's personal fields (problems are the main pass's to
    report). Only the front matter is decoded, and parsed only if it has a personal key."""
    raw = read_bytes(file.path, Diagnostics())
    if not raw:
        return []
    end = re.search(rb"\n---[ \t]*\r?(?:\n|$)", raw)
    head = raw[:end.end()] if end else raw
    if not _PERSONAL_KEYS.search(head):
        return []
    simple = _simple_people(head)
    if simple is not None:
        return simple
    text = head.decode("utf-8-sig", "replace").replace("\r\n", "\n").replace("\r", "\n")
    split = split_front_matter(text, str(file.path), Diagnostics())
    if split is None:
        return []
    people = _people(split[0], str(file.path), Diagnostics())
    return [(key, name) for key, names in people.items() for name in names]


def personal_names(source: Source) -> Names:
    """Every name of every note's personal fields, internal notes' included: a person named in
    one note must not appear in any public text."""
    names = Names()
    for raw in source.notes:
        for key, found in _people(raw.meta, raw.path, Diagnostics()).items():
            for name in found:
                names.add(key, name)
    files = source.note_files
    workers = min(os.cpu_count() or 1, 8)
    if len(files) < PARALLEL_NOTES or workers < 2:
        found = map(_people_of, files)
    else:
        methods = multiprocessing.get_all_start_methods()
        mp = multiprocessing.get_context("fork" if "fork" in methods else None)
        with mp.Pool(workers) as pool:
            found = pool.map(_people_of, files, chunksize=64)
    for people in found:
        for key, name in people:
            names.add(key, name)
    return names


_PERSON = {"facilitator": "facilitator", "rapporteur": "rapporteur",
           "interviewees": "interviewee"}


def _named(hit: NameHit, where: str, then: str = "personal names stay out of public outputs"
           ) -> str:
    return f"the {_PERSON.get(hit.field, hit.field)} '{hit.name}' is named in {where}: {then}"


def _check_personal_names(raw: RawNote, title: str | None, names: Names, path: str,
                          diags: Diagnostics) -> None:
    """No person's name from a personal field (of any note) in a public note's title, text,
    file name or folder name."""
    if not names:
        return
    internal = "personal names stay out of public outputs (or mark the note visibility: internal)"
    for hit in names.find(title or "", raw.meta.line_of("title")):
        diags.error(path, hit.line, _named(hit, "the title of a public note", internal))
    for hit in names.find(raw.body, raw.body_line):
        diags.error(path, hit.line, _named(hit, "a public note", internal))
    stem = raw.rel_path.rsplit("/", 1)[-1][:-3]
    for hit in names.find(stem):
        kept = [w for w in slugify(stem).split("-") if w not in name_key(hit.name).split()]
        diags.error(path, 1, _named(hit, "the file name, which becomes the note's public id "
                                         "and path", f"rename the file, e.g. to "
                                                     f"'{'-'.join(kept) or 'nota'}.md'"))
    for hit in names.find(raw.folder):
        diags.error(path, 1, _named(hit, f"the folder name '{raw.folder}'", "rename the event"))


def _file_lines(path: str) -> str:
    """The text of a data file, to find the line of a name (empty if it cannot be read)."""
    try:
        return Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return ""


def check_public_texts(source: Source, names: Names, diags: Diagnostics) -> None:
    """No person's name in a text of the project, themes, organisations, events, initiatives
    or staff prose: all of them reach the public outputs. A staff text may name someone on
    purpose with ``allow_names`` in its front matter: said as a warning, never silently."""
    if not names:
        return
    p = source.project
    files = {
        source.project_path: [p.get(k) for k in (
            "title", "title_en", "subtitle", "description", "description_en", "spatial",
            "publisher_name", "publisher_id", "contact", "dataset_id", "version", "base_url")]
        + list(p.get("keywords") or []) + list(p.get("organisers") or [])
        + [str(s.get(k) or "") for s in p.get("sources") or [] for k in ("title", "path")],
        source.themes_path: [x for t in source.themes for x in (
            t.id, t.label, t.label_en, t.description, t.description_en)],
        source.organisations_path: [x for o in source.organisations for x in (
            o.id, o.name, *o.aliases, o.sector, o.municipality, o.website, o.description)],
        source.events_path: [x for e in source.events for x in (
            e.id, e.city, e.venue, e.programme)],
        source.initiatives_path: [x for i in source.initiatives for x in (
            i.id, i.title, i.description)],
    }
    for path, texts in files.items():
        text = "\n".join(str(t) for t in texts if t)
        keys = names.keys_in(text)
        if not keys:
            continue
        # The line: where the name is in the file as written.
        shown = _file_lines(path)
        for key in keys:
            name, field_name = names.by_key[key]
            hits = names.find(shown) if shown else []
            line = next((h.line for h in hits if name_key(h.name) == key), 1)
            diags.error(path, line, _named(NameHit(name, field_name, line),
                                           "a text that is published"))
    for doc in source.documents:
        path = source.display(doc.rel_path)
        for hit in names.find(doc.name):
            diags.error(path, 1, _named(hit, "the name of a staff text", "rename the file"))
        for hit in names.find(doc.text, doc.body_line,
                              allowed=[name for name, _ in doc.allow_names]):
            diags.error(path, hit.line, _named(
                hit, "a staff text, which is published", "to name this person on purpose, list "
                "the name under 'allow_names:' in the text's front matter (see the README)"))
        allowed = {name_key(a): (a, line) for a, line in doc.allow_names}
        present = set(names.keys_in(doc.text))
        for key, (name, line) in allowed.items():
            if key in present:
                person = names.by_key[key]
                diags.warning(path, line, f"the {_PERSON.get(person[1], person[1])} "
                                          f"'{person[0]}' is named on purpose (allow_names): "
                                          "this text publishes the name")
            else:
                diags.warning(path, line, f"allow_names: '{excerpt(name)}' is not a name from a "
                                          "personal field named in this text; remove it")


# --------------------------------------------------------------------------- staff prose


def staff_markdown(html: bool = False) -> MarkdownIt:
    """The Markdown the report prints (notes and ``data/report/*.md``): CommonMark with GFM
    tables and strikethrough, footnotes (``[^1]``), and images from ``data/assets/`` (a
    paragraph of one image with a title, ``![descrizione](foto.jpg "Didascalia")``, is a figure
    with its caption). Raw HTML is shown as text (``html=True`` only to find it)."""
    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt("commonmark", {"html": html})
    md.enable(["table", "strikethrough"])
    return md.use(footnote_plugin)


_LOOKS_LIKE_TABLE = re.compile(r"^\s*\|.*\|\s*$")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")


def check_document(doc: Document, path: str, data_dir: Path, diags: Diagnostics) -> None:
    """Warn, at its line, about what the report cannot print of a staff text as it was meant:
    raw HTML, images that are not files of ``data/assets/``, a table that does not parse,
    a footnote without its text, a file name the report does not know."""
    if doc.name not in REPORT_DOCUMENTS:
        diags.warning(path, doc.body_line, f"'{doc.name}' is not a text the report uses: it is left out "
                      f"(known names: {', '.join(REPORT_DOCUMENTS)})")
    tokens = staff_markdown(html=True).parse(doc.text, {})

    def line(token) -> int:
        return doc.body_line + (token.map[0] if token.map else 0)

    block_line = doc.body_line
    for token in tokens:
        if token.map:
            block_line = line(token)
        if token.type == "html_block":
            diags.warning(path, block_line, "HTML is not printed as HTML: the report shows it as "
                          "text; write it in Markdown")
        if token.type == "paragraph_open":
            text_lines = doc.text.splitlines()[token.map[0]:token.map[1]]
            if sum(1 for t in text_lines if _LOOKS_LIKE_TABLE.match(t)) >= 2:
                diags.warning(path, block_line, "these lines look like a table but are not one: "
                              "a table needs a header row, then a line like |---|---|")
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type == "html_inline":
                diags.warning(path, block_line, f"HTML {child.content!r} is shown as text, not "
                              "as HTML; write it in Markdown")
            elif child.type == "image":
                src = child.attrGet("src") or ""
                if "://" in src or src.startswith("data:"):
                    diags.warning(path, block_line, f"image '{src}' is not a file of data/assets/: "
                                  "the report shows its description instead")
                elif not (Path(data_dir) / "assets" / Path(src).name).is_file():
                    diags.warning(path, block_line, f"image '{src}' is not in data/assets/: the "
                                  "report shows its description instead")
            elif child.type == "text" and _FOOTNOTE_REF.search(child.content):
                ref = _FOOTNOTE_REF.search(child.content).group(0)
                diags.warning(path, block_line, f"footnote {ref} has no text: add a line "
                              f"'{ref}: …' at the end")
