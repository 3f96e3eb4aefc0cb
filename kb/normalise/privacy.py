"""People's names: collected from the notes' personal fields and looked for in every text that
reaches a public output.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..diagnostics import Diagnostics, excerpt
from ..domain.syntax import name_key, slugify
from ..domain.vocabulary import PERSONAL_FIELDS
from ..ingest.fields import Fields
from ..ingest.files import read_bytes
from ..ingest.notes import NoteFile, split_front_matter
from ..ingest.records import RawNote, Source
from ..ingest.yaml_lines import LineDict


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
                "the name under 'allow_names:' in the text's front matter "
                "(see docs/staff/privacy.md)"))
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


# Below this many notes, normalising them in worker processes costs more than it saves.
PARALLEL_NOTES = 200


def _people(meta: LineDict, path: str, diags: Diagnostics) -> dict[str, list[str]]:
    """The names of a note's personal fields (a name, or a list of names)."""
    f = Fields(meta, path, diags)
    return {key: f.text_list(key, one=True) for key in PERSONAL_FIELDS if meta.get(key) is not None}
