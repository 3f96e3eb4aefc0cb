"""A note's body -> its narrative and findings, and a note's rows (in worker processes on large corpora)."""

from __future__ import annotations

import multiprocessing
import os
import re
from dataclasses import dataclass, field
from typing import Iterator

from ..diagnostics import Diagnostic, Diagnostics, did_you_mean
from ..domain.dictionary import TABLES_BY_NAME
from ..domain.syntax import (
    EXTERNAL_IMAGE,
    LIST_MARKER,
    _markdown,
    finding_id,
    heading_kind,
    mentions_in,
    near_heading,
    slugify,
    tags_in,
)
from ..domain.text import stem_text
from ..domain.vocabulary import (
    MENTIONED,
    NOTE_KIND_IDS,
    PERSONAL_FIELDS,
    PUBLIC,
    SOURCE,
    VISIBILITY_IDS,
)
from ..ingest.fields import Fields, text_problem
from ..ingest.notes import NoteFile, read_note
from ..ingest.records import RawNote, Source
from ..ingest.yaml_lines import LineDict, LineList
from .model import Model, OrganisationIndex, _json
from .privacy import PARALLEL_NOTES, Names, _check_personal_names, _people


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


@dataclass(frozen=True)
class Block:
    """A block at the top level of a note's body, as much of it as :func:`parse_body` reads:
    ``kind`` "heading" (``tag`` h1...h6 and its ``text``), "list" (each item's ``(first line,
    line after it)``) or "other"; ``start`` is its first line (0-based)."""

    kind: str
    start: int
    tag: str = ""
    text: str = ""
    items: tuple[tuple[int, int], ...] = ()


def markdown_blocks(body: str) -> list[Block]:
    """The top-level blocks of ``body`` (its line breaks ``\\n`` only) by markdown-it's
    CommonMark parser."""
    tokens = _markdown.parse(body)
    blocks = []
    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start = token.map[0]
        if token.type == "heading_open":
            text = tokens[i + 1].content if i + 1 < len(tokens) else ""
            blocks.append(Block("heading", start, token.tag, text))
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            items, depth = [], 0
            for item in tokens[i + 1:]:
                if item.type in ("bullet_list_open", "ordered_list_open"):
                    depth += 1
                elif item.type in ("bullet_list_close", "ordered_list_close"):
                    if depth == 0:
                        break
                    depth -= 1
                elif item.type == "list_item_open" and depth == 0:
                    items.append(tuple(item.map))
            blocks.append(Block("list", start, items=tuple(items)))
        else:
            blocks.append(Block("other", start))
    return blocks


# The few shapes of line simple_blocks knows; a line's content must begin with a character
# that begins no block of CommonMark (a letter, a mention, a tag, a number that is not a
# list marker, an opening quote or bracket).
_SIMPLE_ITEM = re.compile(r"(?:[-+*]|[0-9]{1,9}[.)])( {1,4})(?! )")
_SIMPLE_HEADING = re.compile(r"(#{1,6}) ([^ #](?:.*[^ #])?)\Z")
_ORDERED_MARKER = re.compile(r"[0-9]{1,9}[.)](?: |\Z)")
_OPENING = frozenset("\"«“‘'(¿¡")


def _plain_start(text: str) -> bool:
    if not text:
        return False
    first = text[0]
    if first.isalpha() or first in _OPENING:
        return True
    if first == "[":
        return text.startswith("[[")  # a mention: a link reference definition cannot begin so
    if first == "#":
        return text[1:2].isalpha()  # a tag, not a heading
    if first in "0123456789":
        return _ORDERED_MARKER.match(text) is None
    return False


def simple_blocks(body: str) -> list[Block] | None:
    """What :func:`markdown_blocks` gives, for a body of the shapes notes are written in, about
    ten times faster; ``None`` for any other body, which is then parsed by markdown-it.

    Its lines, with no tab: empty; an ATX heading; a paragraph's line at the margin; a list
    item (``-``, ``*``, ``+``, ``1.``, ``1)``) at the margin, its continuation lines indented
    to its text. Any other line, and the cases where CommonMark's rules get subtle (a list
    right under a paragraph, a lazy continuation line, a second paragraph in an item, another
    marker in the same list), give ``None``. ``tests/test_normalise.py`` compares the two.

    Long on purpose: one pass over the lines, a state machine whose cases read best together.
    """
    if "\t" in body or "\0" in body:
        return None
    lines = body.split("\n")
    # markdown-it counts no line after a final line break
    count = len(lines) - 1 if body.endswith("\n") else len(lines)
    blocks: list[Block] = []
    items: list[list[int]] = []
    # state: "", "paragraph", "item", "sub-item" (an item of a list inside one), "after item"
    state, marker, width, sub_marker, sub_width = "", "", 0, "", 0

    def close_list(at: int) -> None:
        items[-1][1] = at
        blocks.append(Block("list", items[0][0], items=tuple(map(tuple, items))))
        items.clear()

    for n in range(count):
        line = lines[n]
        if not line:
            state = "after item" if state in ("item", "sub-item", "after item") else ""
            continue
        if line[0] == " ":  # an item's continuation, or a bulleted list inside it
            if state not in ("item", "sub-item"):
                return None
            text = line.lstrip(" ")
            indent = len(line) - len(text)
            sub = _SIMPLE_ITEM.match(text) if indent == width else None
            if sub and text[0] in "-+*" and (state == "item" or text[0] == sub_marker):
                if not _plain_start(text[sub.end():]):
                    return None
                state, sub_marker, sub_width = "sub-item", text[0], width + sub.end()
            elif indent != (sub_width if state == "sub-item" else width) or sub or (
                    not _plain_start(text)):
                return None
            continue
        item = _SIMPLE_ITEM.match(line)
        if item:
            if state == "paragraph" or not _plain_start(line[item.end():]):
                return None
            this = line[item.start(1) - 1]  # the bullet, or the number's delimiter
            if state in ("item", "sub-item", "after item"):
                if this != marker:
                    return None
                items[-1][1] = n
            else:
                marker = this
            items.append([n, 0])
            state, width = "item", item.end()
            continue
        if state in ("item", "sub-item"):
            # at the margin right under an item: a heading closes it, anything else is lazy
            if line[0] != "#" or not _SIMPLE_HEADING.match(line):
                return None
        heading = _SIMPLE_HEADING.match(line) if line[0] == "#" else None
        if heading is None and not _plain_start(line):
            return None
        if state in ("item", "sub-item", "after item"):
            close_list(n)
            state = ""
        if heading is not None:
            blocks.append(Block("heading", n, f"h{len(heading.group(1))}", heading.group(2)))
            state = ""
        elif state != "paragraph":
            blocks.append(Block("other", n))
            state = "paragraph"
    if state in ("item", "sub-item", "after item"):
        close_list(count)
    return blocks


def parse_body(body: str, body_line: int) -> ParsedBody:
    """Split a note's Markdown into narrative and findings: a level-2 heading of a finding kind
    (:data:`kb.vocabulary.FINDING_KINDS`) opens a section whose list items are findings."""
    # markdown-it counts a lone CR as a line break: so must the line list its map points into.
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    lines = body.split("\n")
    blocks = simple_blocks(body)
    if blocks is None:
        blocks = markdown_blocks(body)
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

    for block in blocks:
        if block.kind == "heading" and block.tag in ("h1", "h2"):
            close_section()
            kind = heading_kind(block.text) if block.tag == "h2" else None
            heading_start, section_has_prose = block.start, False
            if block.tag == "h2" and kind is None:
                suggestion = near_heading(block.text)
                if suggestion:
                    near_misses.append((body_line + block.start, block.text, suggestion))
            continue
        if kind is None:
            continue
        if block.kind == "list":
            for s, e in block.items:
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


# allow_names: the personal names the note publishes on purpose (kb.normalise.privacy).
NOTE_KEYS = ["event", "title", "kind", "date", "participants", "visibility", "allow_names",
             *PERSONAL_FIELDS]


def _normalise_note(raw: RawNote, context: _NoteContext) -> NoteRows:
    """A note's rows and diagnostics, from the note alone and ``context``.

    Whether its id is already taken by another note is for the caller to say: the diagnostics
    of ``late`` and the rows count only if it is not.
    """
    events, event_ids, orgs = context.events, context.event_ids, context.orgs
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
    _body_warnings(raw, body, diags)

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

    _add_findings(model, body.findings, note_id, event, note_date, raw, context, diags)
    for table, columns in model.columns.items():
        if columns != NOTE_TABLES[table]:
            raise AssertionError(f"{table}: columns {columns} differ from NOTE_TABLES")
    result.rows = model.rows
    # Stemmed here, in the worker, rather than by the writer: the one step of the full-text
    # index that is pure Python, spread over every core.
    result.stems = {table: [tuple(stem_text(row[i]) for i in at) for row in model.rows[table]]
                    for table, at in context.stem_at.items() if table in model.rows}
    return result


def _body_warnings(raw: RawNote, body: ParsedBody, diags: Diagnostics) -> None:
    """What in a note's body is kept but probably not as meant: near-miss headings, empty
    items, images from outside addresses."""
    path = raw.path
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


def _add_findings(model: Model, findings: list[RawFinding], note_id: str, event, note_date,
                  raw: RawNote, context: _NoteContext, diags: Diagnostics) -> None:
    """A note's findings with their organisations (and role) and themes, as rows of ``model``."""
    path, orgs, profiles, theme_ids = raw.path, context.orgs, context.profiles, context.theme_ids
    seen_ids: dict[str, int] = {}
    for position, finding in enumerate(findings, 1):
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
            "id": fid, "note_id": note_id, "event_id": event.id if event else None,
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
