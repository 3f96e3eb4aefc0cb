"""People's names: collected from the notes' personal fields and looked for in every text that
reaches a public output.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..diagnostics import Diagnostics, excerpt
from ..domain.syntax import _COMBINING, name_key, slugify
from ..domain.vocabulary import PERSONAL_FIELDS, PROVINCES
from ..ingest.fields import Fields
from ..ingest.files import read_bytes
from ..ingest.notes import NoteFile, split_front_matter
from ..ingest.records import RawNote, Source
from ..ingest.yaml_lines import LineDict, LineList


# ------------------------------------------------------------------ how people write names
#
# A personal field holds "Nome Cognome". Texts write the same person as "Ermes Pelagatti",
# "Pelagatti Ermes" (registers and sign-in sheets), "E. Pelagatti", "Pelagatti E." or, once
# introduced, "Pelagatti". The surname is the field's last word with the particles before it
# ("Maria De Luca", "Gian Luca Dalla Chiesa"); a field that starts with a particle is written
# surname first ("D'Angelo Ugo"). A one-word field ("Anna") is matched whole, as a full name.
#
# Full name, given names as initials, in either order: an error. The surname alone: an error
# when it is distinctive, a warning when it is also something else the texts name (see
# :meth:`Names.judge`), and then only when written with a capital ("la costa" is the word).
# A given name alone is no match: it names too many people to tell anyone.

# Words that begin a surname of more than one word.
SURNAME_PARTICLES = frozenset(
    "d da dal dall dalla dalle de degli dei del dell della delle dello di la le li lo "
    "san sant santa santo van von der den".split())
# A word, or an initial: one letter and a full stop, not inside a word ("E.", "É.Pelagatti").
_TOKEN = re.compile(r"(?<![^\W_])[^\W\d_]\.|[^\W_]+")

FULL, INITIALS, SURNAME = "full", "initials", "surname"
_RANK = {FULL: 0, INITIALS: 1, SURNAME: 2}


def _plain(text: str) -> str:
    """``text`` without invisible format characters (soft hyphens, zero-width spaces) and
    accents, its case and line breaks kept (see :func:`~kb.domain.syntax.name_key`)."""
    if text.isascii():
        return text
    invisible = {ord(c): None for c in set(text) if c > "\x7f" and unicodedata.category(c) == "Cf"}
    if invisible:
        text = text.translate(invisible)
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def _tokens(plain: str) -> list[tuple[str, int, int, bool]]:
    """``(word, start, end, capitalised)`` for each word of ``plain``: folded; a capital
    letter with a full stop is an initial, kept as ``"e."``; a small one is a word ("e.")."""
    out = []
    for match in _TOKEN.finditer(plain):
        word = match.group()
        capital = word[0].isupper()
        if word.endswith(".") and not capital:
            word = word[:-1]
        out.append((word.casefold(), match.start(), match.end(), capital))
    return out


@dataclass(frozen=True)
class Person:
    name: str  # as written in the personal field
    field: str  # facilitator, rapporteur, interviewees
    given: tuple[str, ...]  # folded words
    surname: tuple[str, ...]  # folded words

    @classmethod
    def of(cls, field_name: str, name: str) -> Person | None:
        words = [w.rstrip(".") for w, *_ in _tokens(_plain(name))]
        if not words:
            return None
        if len(words) == 1:
            return cls(name, field_name, (), tuple(words))
        if words[0] in SURNAME_PARTICLES:  # "D'Angelo Ugo", "De Luca Anna"
            return cls(name, field_name, tuple(words[2:]), tuple(words[:2]))
        start = len(words) - 1
        while start > 1 and words[start - 1] in SURNAME_PARTICLES:
            start -= 1
        return cls(name, field_name, tuple(words[:start]), tuple(words[start:]))

    @property
    def key(self) -> str:
        return " ".join(self.given + self.surname)

    @property
    def words(self) -> tuple[str, ...]:
        """Its words in any order: how an ``allow_names`` entry is matched to it."""
        return tuple(sorted(self.given + self.surname))

    @property
    def shown_field(self) -> str:
        return _PERSON.get(self.field, self.field)


@dataclass
class NameHit:
    name: str  # as written in the personal field
    field: str  # facilitator, rapporteur, interviewees
    line: int  # line of the text where it starts (1 for a one-line text)
    written: str = ""  # the words as the text has them
    form: str = FULL  # FULL: with a given name; INITIALS: with initials only; SURNAME: alone
    ambiguous: str = ""  # for the surname alone: what else it is ("" when distinctive)
    key: str = ""  # the person's (Person.key)

    @property
    def is_error(self) -> bool:
        return self.form != SURNAME or not self.ambiguous


# Pieces of text whose folding Names keeps (a few MB at most).
_PIECES_KEPT = 1 << 18


class Names:
    """The people named in personal fields, found in any text however it is broken, spelt or
    ordered.

    A text's words, folded (:func:`name_key`), are compared with the surnames': only a text
    that holds one is read word by word, so the cost hardly grows with the number of names,
    and most texts hold none.
    """

    def __init__(self, people: Iterable[tuple[str, str]] = ()) -> None:
        self.people: dict[str, Person] = {}  # Person.key -> person
        self.by_word: dict[str, list[Person]] = {}  # a surname's last word -> people
        # a surname (folded) -> what else it is, when it is not only a surname
        self.ambiguous: dict[str, str] = {}
        self.dictionary_missing = ""  # why the Italian dictionary could not be asked
        # Whether a piece of text between white space holds a surname's word once folded:
        # the pieces of notes repeat, so each is folded once (see _holds_surname).
        self._pieces: dict[str, bool] = {}
        for field_name, name in people:
            self.add(field_name, name)

    def add(self, field_name: str, name: str) -> None:
        person = Person.of(field_name, name)
        if person and person.key not in self.people:
            self.people[person.key] = person
            self.by_word.setdefault(person.surname[-1], []).append(person)
            self._pieces.clear()

    def _holds_surname(self, text: str) -> bool:
        """``not by_word.keys().isdisjoint(name_key(text).split())``, a piece of ``text`` at a
        time: :func:`name_key` folds every character on its own but for the accents it takes
        off the letter before them, and turns white space into breaks, so the words of a text
        are those of its pieces between white space, in order (``tests/test_privacy.py``)."""
        known = self._pieces
        pieces = set(text.split())
        new = pieces.difference(known)
        if new:
            if len(known) + len(new) > _PIECES_KEPT:
                known.clear()
                new = pieces
            surnames = self.by_word.keys()
            for piece in new:
                known[piece] = not surnames.isdisjoint(name_key(piece).split())
        return any(map(known.__getitem__, pieces))

    def __bool__(self) -> bool:
        return bool(self.people)

    def person(self, name: str) -> Person | None:
        """The person an ``allow_names`` entry means: the same words, in any order."""
        words = tuple(sorted(w.rstrip(".") for w, *_ in _tokens(_plain(name))))
        return next((p for p in self.people.values() if p.words == words), None)

    def judge(self, organisations: Iterable[str] = (), places: Iterable[str] = ()) -> None:
        """Decide which surnames are ambiguous: also a word of an organisation's name or alias
        (``organisations``), of a place's name (``places``: cities, venues, municipalities,
        provinces), or of the Italian dictionary (words, and the places, given names and
        well-known people it lists). Every word of a surname but its particles must be."""
        words: dict[str, str] = {}
        for kind, texts in (("organisation", organisations), ("place", places)):
            for text in texts:
                for word in name_key(text or "").split():
                    if word not in SURNAME_PARTICLES:
                        words.setdefault(word, f"also in the {kind} name '{text}'")
        asked = sorted({w for p in self.people.values() if p.given
                        for w in p.surname if w not in SURNAME_PARTICLES} - words.keys())
        known, self.dictionary_missing = italian_words(asked)
        for word in known:
            words.setdefault(word, "also in the Italian dictionary")
        self.ambiguous = {}
        for person in self.people.values():
            if not person.given:
                continue  # a one-word name is matched as a full name
            core = [w for w in person.surname if w not in SURNAME_PARTICLES] or [person.surname[-1]]
            if all(w in words for w in core):
                self.ambiguous[" ".join(person.surname)] = words[core[-1]]

    def find(self, text: str, first_line: int = 1,
             allowed: Iterable[str] = ()) -> list[NameHit]:
        """Each person ``text`` names (but those of ``allowed``), once a line, with the line
        where the words start (a name broken across lines is found at its first line) and the
        strongest form found on it."""
        if not self.people or not text:
            return []
        if not self._holds_surname(text):
            return []
        plain = _plain(text)
        words = _tokens(plain)
        folded = [w for w, *_ in words]
        newlines = [i for i, c in enumerate(plain) if c == "\n"]
        skip = {p.key for a in allowed if (p := self.person(a))}
        spans: list[tuple[NameHit, int, int]] = []  # with its words' range
        for i, word in enumerate(folded):
            for person in self.by_word.get(word, ()):
                start = i - len(person.surname) + 1
                if start < 0 or person.key in skip or tuple(folded[start:i + 1]) != person.surname:
                    continue
                # Given names or their initials next to the surname, each at most once.
                near = set(person.given) | {g[0] + "." for g in person.given}
                left, right, used = start, i + 1, set()
                while left > 0 and folded[left - 1] in near and folded[left - 1] not in used:
                    left -= 1
                    used.add(folded[left])
                used = set()
                while right < len(folded) and folded[right] in near and folded[right] not in used:
                    used.add(folded[right])
                    right += 1
                around = folded[left:start] + folded[i + 1:right]
                if not person.given or set(around) & set(person.given):
                    form = FULL
                else:
                    form = INITIALS if around else SURNAME
                why = self.ambiguous.get(" ".join(person.surname), "") if form == SURNAME else ""
                if why and not words[i][3]:
                    continue  # "la costa", "in fornace": the word, not the person
                line = first_line + bisect_left(newlines, words[left][1])
                hit = NameHit(person.name, person.field, line,
                              " ".join(plain[words[left][1]:words[right - 1][2]].split()),
                              form, why, person.key)
                spans.append((hit, left, right))
        # "Mario Rossi" names Mario, not Maria Rossi by her surname alone.
        named = [(left, right) for hit, left, right in spans if hit.form != SURNAME]
        found: dict[tuple[str, int], NameHit] = {}
        for hit, left, right in spans:
            if hit.form == SURNAME and any(a <= left and right <= b and (a, b) != (left, right)
                                           for a, b in named):
                continue
            seen = found.get((hit.key, hit.line))
            if seen is None or _RANK[hit.form] < _RANK[seen.form]:
                found[(hit.key, hit.line)] = hit
        return sorted(found.values(), key=lambda h: (h.line, h.name))


def italian_words(words: list[str]) -> tuple[set[str], str]:
    """The ``words`` the Italian Hunspell dictionary knows (LibreOffice's, Debian's
    ``hunspell-it``), and ``""``; or no words and why the dictionary could not be asked."""
    if not words:
        return set(), ""
    hunspell = shutil.which("hunspell")
    if hunspell is None:
        return set(), "hunspell is not installed"
    try:
        run = subprocess.run([hunspell, "-d", "it_IT", "-i", "utf-8", "-G"],
                             input="\n".join(w.capitalize() for w in words).encode(),
                             capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return set(), f"hunspell failed ({exc})"
    if run.returncode != 0 and not run.stdout:
        return set(), "the Italian dictionary of hunspell (hunspell-it) is not installed"
    return {name_key(w) for w in run.stdout.decode("utf-8", "replace").split()}, ""


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
    one note must not appear in any public text. Their surnames are judged against the
    organisations, the places and the Italian dictionary (:meth:`Names.judge`)."""
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
    if names:
        names.judge(
            [n for o in source.organisations for n in (o.name, *o.aliases)],
            [p for e in source.events for p in (e.city, e.venue)]
            + [o.municipality for o in source.organisations] + [p.name for p in PROVINCES])
    return names


_PERSON = {"facilitator": "facilitator", "rapporteur": "rapporteur",
           "interviewees": "interviewee"}
PUBLISHED = "personal names stay out of public outputs"


def _said(hit: NameHit, where: str, then: str = PUBLISHED) -> str:
    """What a hit is, in words: the full name as in the field, another shape of it, or the
    surname alone (distinctive, or ambiguous and then a warning)."""
    who = f"the {_PERSON.get(hit.field, hit.field)} '{hit.name}'"
    if hit.form == SURNAME and hit.ambiguous:
        return (f"'{hit.written}' in {where} may be {who} (the surname alone, {hit.ambiguous}): "
                "if it means the person, take it out or list the name under 'allow_names:'")
    if hit.form == SURNAME:
        return (f"{who} is named in {where} by the surname alone ('{hit.written}'), which is "
                f"enough to tell who it is: {then}")
    if name_key(hit.written) == name_key(hit.name):
        return f"{who} is named in {where}: {then}"
    return f"{who} is named in {where} as '{hit.written}': {then}"


def _report(diags: Diagnostics, path: str, hit: NameHit, where: str, then: str = PUBLISHED,
            line: int | None = None) -> None:
    line = hit.line if line is None else line
    if hit.is_error:
        diags.error(path, line, _said(hit, where, then))
    else:
        diags.warning(path, line, _said(hit, where, then))


def allowed_names(meta: LineDict, path: str, diags: Diagnostics) -> list[tuple[str, int]]:
    """A front matter's ``allow_names``: the personal names its text publishes on purpose,
    each with its line."""
    f = Fields(meta, path, diags)
    value = meta.get("allow_names")
    names = f.text_list("allow_names")
    return [(name, value.line_of(i) if isinstance(value, LineList) else f.line("allow_names"))
            for i, name in enumerate(names)]


def _check_allowed(names: Names, allowed: list[tuple[str, int]], texts: list[tuple[str, int]],
                   path: str, diags: Diagnostics, what: str) -> None:
    """A warning for each ``allow_names`` entry, every run: the name it publishes, or that it
    names no one of ``texts``."""
    for entry, line in allowed:
        person = names.person(entry)
        present = person is not None and any(
            h.key == person.key for text, first in texts for h in names.find(text, first))
        if present:
            diags.warning(path, line, f"the {person.shown_field} '{person.name}' is named on "
                                      f"purpose (allow_names): {what} publishes the name")
        else:
            diags.warning(path, line, f"allow_names: '{excerpt(entry)}' is not a name from a "
                                      f"personal field named in {what}; remove it")


def _check_personal_names(raw: RawNote, title: str | None, names: Names, path: str,
                          diags: Diagnostics) -> None:
    """No person's name from a personal field (of any note) in a public note's title, text,
    file name or folder name; the title and text may name on purpose those listed under
    ``allow_names`` (a warning each run)."""
    allowed = allowed_names(raw.meta, path, diags)
    if not names:
        return
    internal = f"{PUBLISHED} (or mark the note visibility: internal)"
    entries = [name for name, _ in allowed]
    title_line = raw.meta.line_of("title")
    for hit in names.find(title or "", title_line, entries):
        _report(diags, path, hit, "the title of a public note", internal)
    for hit in names.find(raw.body, raw.body_line, entries):
        _report(diags, path, hit, "a public note", internal)
    _check_allowed(names, allowed, [(title or "", title_line), (raw.body, raw.body_line)],
                   path, diags, "this note")
    stem = raw.rel_path.rsplit("/", 1)[-1][:-3]
    for hit in names.find(stem):
        person = names.people[hit.key]
        kept = [w for w in slugify(stem).split("-") if w not in person.given + person.surname]
        _report(diags, path, hit, "the file name, which becomes the note's public id and path",
                f"rename the file, e.g. to '{'-'.join(kept) or 'nota'}.md'", line=1)
    for hit in names.find(raw.folder):
        _report(diags, path, hit, f"the folder name '{raw.folder}'", "rename the event", line=1)


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
    if names.dictionary_missing:
        diags.warning(source.display("notes"), 1, "every surname found alone counts as "
                      f"distinctive, since the Italian dictionary cannot be read "
                      f"({names.dictionary_missing}): install the Debian packages hunspell and "
                      "hunspell-it (make system-deps)")
    p = source.project
    files = {
        source.project_path: [p.get(k) for k in (
            "title", "title_en", "subtitle", "description", "description_en", "spatial",
            "publisher_name", "publisher_id", "contact", "dataset_id", "version", "base_url")]
        + list(p.get("keywords") or []) + list(p.get("organisers") or [])
        + [str(s.get(k) or "") for s in p.get("sources") or [] for k in ("title", "path")]
        + [p.get(k) for k in ("funder_name", "funder_programme")]
        + [i.get(k) for i in p.get("objectives") or []
           for k in ("objective", "label", "source", "note")],
        source.themes_path: [x for t in source.themes for x in (
            t.id, t.label, t.label_en, t.description, t.description_en)],
        source.organisations_path: [x for o in source.organisations for x in (
            o.id, o.sector, o.website, o.description)],
        source.events_path: [x for e in source.events for x in (e.id, e.programme)],
        source.initiatives_path: [x for i in source.initiatives for x in (
            i.id, i.title, i.description, i.next_step)],
    }
    # The names of organisations and places: what makes a surname ambiguous is no warning
    # there, but a full name or a distinctive surname is an error as anywhere.
    places = {
        source.organisations_path: [x for o in source.organisations
                                    for x in (o.name, *o.aliases, o.municipality)],
        source.events_path: [x for e in source.events for x in (e.city, e.venue)],
    }
    for path, texts in files.items():
        # What is published, one text a line, so that a name never spans two texts.
        found: dict[str, NameHit] = {}
        hits = names.find("\n".join(" ".join(str(t).split()) for t in texts if t))
        hits += [h for h in names.find("\n".join(" ".join(str(t).split())
                                                 for t in places.get(path, []) if t))
                 if h.is_error]
        for hit in hits:
            if hit.key not in found or _RANK[hit.form] < _RANK[found[hit.key].form]:
                found[hit.key] = hit
        if not found:
            continue
        # The line: where the name is in the file as written.
        shown = names.find(_file_lines(path))
        for hit in found.values():
            line = next((h.line for h in shown if h.key == hit.key and h.form == hit.form),
                        next((h.line for h in shown if h.key == hit.key), 1))
            _report(diags, path, hit, "a text that is published", line=line)
    for doc in source.documents:
        path = source.display(doc.rel_path)
        for hit in names.find(doc.name):
            _report(diags, path, hit, "the name of a staff text", "rename the file", line=1)
        for hit in names.find(doc.text, doc.body_line, [name for name, _ in doc.allow_names]):
            _report(diags, path, hit, "a staff text, which is published", "to name this person "
                    "on purpose, list the name under 'allow_names:' in the text's front matter "
                    "(see docs/staff/privacy.md)")
        _check_allowed(names, doc.allow_names, [(doc.text, doc.body_line)], path, diags,
                       "this text")


# Below this many notes, normalising them in worker processes costs more than it saves.
PARALLEL_NOTES = 200


def _people(meta: LineDict, path: str, diags: Diagnostics) -> dict[str, list[str]]:
    """The names of a note's personal fields (a name, or a list of names)."""
    f = Fields(meta, path, diags)
    return {key: f.text_list(key, one=True) for key in PERSONAL_FIELDS if meta.get(key) is not None}
