"""Public database -> a REFI-QDA project (``.qdpx``) and codebook (``.qdc``), QDA-XML 1.0.

Qualitative researchers go on analysing the notes in ATLAS.ti, NVivo, MAXQDA or QualCoder: the
project opens there with the coding already done. It reads the public database and nothing else.

The project (a zip of ``project.qde`` and ``Sources/``) holds:

- one ``TextSource`` per public note, its text in ``Sources/<guid>.txt`` (see
  :func:`source_text` for how it is assembled), with the event, date, city and kind of session
  as source variables;
- the codebook: a code per finding kind, a code per theme (nested as the themes' tree), a code
  per organisation named in a finding (``Organizzazioni citate``), under three non-codable
  parents, and a ``Set`` for each of the three;
- every public finding as one ``PlainTextSelection`` over its exact span in its note's text,
  coded with its kind, its themes and the organisations it names;
- one ``Case`` per organisation, with its variables and a ``SelectionRef`` to every finding it
  raised;
- the "ibridazioni possibili" (table ``hybrid_pairs``): a ``Link`` from the emerging
  organisation's case to the traditional one's, with a ``Note`` that says why, the notes
  gathered in a ``Set``, and the pairs drawn as a ``Graph`` (emerging left, traditional right).

GUIDs are UUID 5 of the rows' ids (in a namespace of the project's id), so a re-export is the
same project; the same public database gives the same bytes (dates are the release date, zip
entries sorted with fixed times). The one user is the project itself, never a person.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import re
import sqlite3
import unicodedata
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable

from ..archive import Deflater, Fragment, Part, ZipWriter, joined
from ..diagnostics import CotourError
from ..domain.dictionary import TABLES_BY_NAME
from ..domain.vocabulary import (
    EMERGING,
    FINDING_KINDS,
    LEGAL_FORMS,
    MENTIONED,
    SOURCE,
    TRADITIONAL,
    spelled,
    sql_string,
    title,
)
from ..outputs import AtomicOutputs, Progress, _noop, end_with_run, output_lock, remove_scratch
from ..store.database import connect_read_only
from ..store.public import public_path_for, require_public
from ..resources import VALIDATORS
from .codebook import (
    Code,
    code_family_sets,
    origin,
    unique_names,
    walk,
    write_codebook,
    write_codes,
)
from .xml import DeflatedText, XmlError, XmlWriter, escape_attr, escape_text

PROJECT_NS = "urn:QDA-XML:project:1.0"
VALIDATORS = VALIDATORS / "refi-qda"
PROJECT_SCHEMA = VALIDATORS / "refi.xsd"
CODEBOOK_SCHEMA = VALIDATORS / "qdc.xsd"

# The three families of codes: their parent's name, and the Set that gathers them.
KINDS_GROUP = "Tipi di risultato"
THEMES_GROUP = "Temi"
MENTIONS_GROUP = "Organizzazioni citate"
PAIRS_SET = "Ibridazioni possibili"

# Code colours (#RRGGBB): one per finding kind in the kinds' order, the themes' cycling through
# their own palette in the tree's order, one grey for every organisation named.
KIND_COLOURS = ("#1B9E77", "#D95F02", "#1F78B4", "#E7298A", "#66A61E", "#E6AB02", "#A6761D",
                "#7570B3", "#17BECF")
THEME_COLOURS = ("#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2", "#EDC948", "#E15759",
                 "#FF9DA7", "#9C755F", "#BAB0AC")
MENTION_COLOUR = "#8A9AA3"


# Variables: (name shown in the tools, type, description: the dictionary column's where the
# value is the column's). QualCoder keeps one list of names for files and cases, so the two
# sets of names must not meet.
def _described(table: str, column: str) -> str:
    return TABLES_BY_NAME[table].column(column).it


SOURCE_VARIABLES = (("Tappa", "Text", "Tappa del tour (il nome dell'evento)"),
                    ("Data", "Date",
                     "Data della sessione (quella della tappa se la nota non la dice)"),
                    ("Città", "Text", _described("events", "city")),
                    ("Tipo di sessione", "Text", _described("notes", "kind")))
CASE_VARIABLES = (("Forma giuridica", "Text", _described("organisations", "legal_form")),
                  ("Cooperativa", "Boolean", "Vero se la forma giuridica è "
                   + spelled([f.id for f in LEGAL_FORMS if f.cooperative], "o")),
                  ("Profilo", "Text", _described("organisations", "profile")),
                  ("Provincia", "Text", "Provincia (nome e sigla)"),
                  ("Settore", "Text", _described("organisations", "sector")))


class QdpxError(CotourError):
    pass


@dataclass
class QdpxResult:
    qdpx_path: Path
    qdc_path: Path
    counts: dict[str, int] = field(default_factory=dict)


# ---- the notes' text ---------------------------------------------------------------------------

def source_form(text: str | None) -> str:
    """Text as the sources hold it: line endings ``\\n``, NFC (offsets count its code points)."""
    if not text:
        return ""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def source_text(narrative: str | None,
                findings: Iterable[tuple[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """A note's text for its source, and each finding's span in it (start, end: code points).

    The narrative first (the note's text outside its finding sections, as the knowledge base
    holds it), then the findings in note order: a heading ``## <kind>`` each time the kind
    changes, each finding as ``- <its text as written>``, a blank line between blocks. Every
    piece is :func:`source_form`, so ``text[start:end]`` is the finding's text in NFC with ``\\n``
    line endings. ``findings`` are ``(kind heading, text)`` pairs in note order.
    """
    parts: list[str] = []
    size = 0
    spans = []

    def add(piece: str) -> None:
        nonlocal size
        parts.append(piece)
        size += len(piece)

    body = source_form(narrative).lstrip("\ufeff").rstrip()
    if body:
        add(body + "\n")
    heading = None
    for kind, text in findings:
        if kind != heading:
            add(("\n" if size else "") + f"## {source_form(kind)}\n")
            heading = kind
        add("\n- ")
        text = source_form(text)
        spans.append((size, size + len(text)))
        add(text + "\n")
    whole = "".join(parts)
    if unicodedata.normalize("NFC", whole) != whole:  # pieces that compose across a joint
        raise QdpxError("a note's text changes under NFC where its pieces meet; offsets would "
                        "shift")
    return whole, spans


# ---- what the export reads ---------------------------------------------------------------------

_VARIANT = {f"{n:x}": f"{0x8 | n & 0x3:x}" for n in range(16)}  # RFC 4122's variant bits


class Export:
    """The public database, read for the export; GUIDs made from its ids."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        self.conn = conn
        project = conn.execute("select id, title, description, release_date, base_url, "
                               "illustrative from project").fetchone()
        if project is None:
            raise QdpxError("the project table is empty; is data/project.yaml there?")
        self.project = dict(project)
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:cotour:{project['id']}")
        self._namespace_bytes = self.namespace.bytes
        self._prefixes: dict[str, "hashlib._Hash"] = {}
        self._cached: dict[tuple[str, str], str] = {}
        release = str(project["release_date"] or "")[:10]
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", release):
            raise QdpxError("project.yaml: 'release_date' is required to export (it dates the "
                            "project and its zip entries)")
        self.release = release
        self.stamp = f"{release}T00:00:00Z"
        self.user = self.guid("user", "project")
        self.base_url = (project["base_url"] or "").rstrip("/")
        # The vocabulary's kinds, in its order; a kind only the database knows keeps its label.
        self.kinds = [{"id": k.id, "label": title(k.it_plural), "label_en": title(k.en_plural)}
                      for k in FINDING_KINDS]
        known = {k.id for k in FINDING_KINDS}
        self.kinds += [dict(r) for r in conn.execute(
            "select id, label, label_en from finding_kinds order by position, id")
            if r["id"] not in known]
        self.kind_label = {k["id"]: k["label"] for k in self.kinds}

    @functools.cached_property
    def codes(self) -> list[Code]:
        """The codebook (read when asked for: a run of notes needs only its codes' GUIDs)."""
        return self._codebook()

    def guid(self, what: str, key: str) -> str:
        """``str(uuid.uuid5(self.namespace, f"{what}/{key}"))``, spelled out: the uuid module
        took a third of the export's time. The hash of the namespace and ``what/`` is taken
        once and copied (millions of GUIDs share a few prefixes)."""
        prefix = self._prefixes.get(what)
        if prefix is None:
            prefix = self._prefixes[what] = hashlib.sha1(self._namespace_bytes
                                                         + f"{what}/".encode())
        h = prefix.copy()
        h.update((key if type(key) is str else f"{key}").encode())
        h = h.hexdigest()
        return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"

    def code_guid(self, key: str) -> str:
        return self.cached_guid("code", key)

    def cached_guid(self, what: str, key: str) -> str:
        """:meth:`guid`, remembered: for the few thousand GUIDs written many times each (codes,
        cases, variables, the pairs' notes)."""
        found = self._cached.get((what, key))
        if found is None:
            found = self._cached[what, key] = self.guid(what, key)
        return found

    def rows(self, sql: str, *params) -> Iterable[sqlite3.Row]:
        return self.conn.execute(sql, params)

    def _codebook(self) -> list[Code]:
        kinds = Code("group/kinds", KINDS_GROUP, None, False,
                     "Il tipo di ogni risultato, dalla sezione della nota in cui sta.")
        for i, k in enumerate(self.kinds):
            kinds.children.append(Code(f"kind/{k['id']}", k["label"],
                                       KIND_COLOURS[i % len(KIND_COLOURS)], True,
                                       k["label_en"] and f"{k['label']} ({k['label_en']})"))
        themes = Code("group/themes", THEMES_GROUP, None, False,
                      "I temi della nuova mutualità con cui le note etichettano i risultati "
                      "(#tema); un sottotema sta sotto il suo tema.")
        rows = [dict(r) for r in self.rows("select id, label, description, parent_id from themes "
                                           "order by id")]
        known = {r["id"] for r in rows}
        by_parent: dict[str | None, list[dict]] = {}
        for r in rows:
            parent = r["parent_id"] if r["parent_id"] in known else None
            by_parent.setdefault(parent, []).append(r)
        count = 0

        def grow(code: Code, parent: str | None, seen: frozenset) -> None:
            nonlocal count
            for r in by_parent.get(parent, []):
                if r["id"] in seen:  # a cycle in the tree: stop here
                    continue
                child = Code(f"theme/{r['id']}", r["label"],
                             THEME_COLOURS[count % len(THEME_COLOURS)], True, r["description"])
                count += 1
                code.children.append(child)
                grow(child, r["id"], seen | {r["id"]})

        grow(themes, None, frozenset())
        placed = {c.key for c in walk(themes.children)}
        for r in rows:  # a theme only a cycle leads to (kb.read refuses one): at the top
            if f"theme/{r['id']}" not in placed:
                themes.children.append(Code(f"theme/{r['id']}", r["label"],
                                            THEME_COLOURS[count % len(THEME_COLOURS)], True,
                                            r["description"]))
                count += 1
        mentions = Code("group/mentions", MENTIONS_GROUP, None, False,
                        "Le organizzazioni nominate in un risultato senza averlo sollevato "
                        "([[nome]]); chi l'ha sollevato ([[!nome]]) è il caso del risultato.")
        for r in self.rows("select o.id, o.name from organisations o where exists (select 1 "
                           "from finding_organisations fo where fo.organisation_id = o.id and "
                           f"fo.role = {sql_string(MENTIONED)}) order by o.id"):
            mentions.children.append(Code(f"mention/{r['id']}", r["name"], MENTION_COLOUR, True))
        groups = [kinds, themes, mentions]
        unique_names(groups)
        return groups


# ---- the project (.qde and Sources/) -----------------------------------------------------------

def _variables(xml: XmlWriter, ex: Export) -> None:
    xml.start("Variables")
    for name, kind, description in SOURCE_VARIABLES + CASE_VARIABLES:
        xml.start("Variable", guid=ex.cached_guid("variable", name), name=name, typeOfVariable=kind)
        xml.text("Description", description)
        xml.end("Variable")
    xml.end("Variables")


def _value(xml: XmlWriter, ex: Export, name: str, kind: str, value) -> None:
    if value is None or value == "":
        return
    xml.start("VariableValue")
    xml.empty("VariableRef", targetGUID=ex.cached_guid("variable", name))
    if kind == "Boolean":
        xml.text("BooleanValue", "true" if value else "false")
    elif kind == "Date":
        xml.text("DateValue", str(value)[:10])
    else:
        xml.text("TextValue", str(value))
    xml.end("VariableValue")


def _cases(xml: XmlWriter, ex: Export, counts: dict[str, int]) -> None:
    # Who raised which finding, read alongside the organisations in the same order (not held
    # whole: half a million findings at scale).
    raised = ex.conn.execute("select organisation_id, finding_id from finding_organisations "
                             f"where role = {sql_string(SOURCE)} "
                             "order by organisation_id, finding_id")
    raised.row_factory = None
    pending = raised.fetchone()
    organisations = list(ex.rows(
        "select o.id, o.name, o.description, o.legal_form, o.is_cooperative, o.profile, "
        "o.sector, coalesce(p.name || ' (' || o.province || ')', o.province) as province "
        "from organisations o left join provinces p on p.id = o.province order by o.id"))
    if not organisations:
        return
    xml.start("Cases")
    for o in organisations:
        xml.where = f"organisation {o['id']} (data/organisations.csv)"
        xml.start("Case", guid=ex.cached_guid("case", o["id"]), name=o["name"])
        if o["description"]:
            xml.text("Description", source_form(o["description"]))
        values = {"Forma giuridica": o["legal_form"],
                  "Cooperativa": None if o["is_cooperative"] is None else bool(o["is_cooperative"]),
                  "Profilo": o["profile"], "Provincia": o["province"], "Settore": o["sector"]}
        for name, kind, _ in CASE_VARIABLES:
            _value(xml, ex, name, kind, values[name])
        while pending is not None and pending[0] < o["id"]:  # an organisation not listed
            pending = raised.fetchone()
        refs = []
        while pending is not None and pending[0] == o["id"]:
            refs.append(f'{"  " * xml.depth}<SelectionRef '
                        f'targetGUID="{ex.guid("selection", pending[1])}"/>\n')
            pending = raised.fetchone()
        xml.fp.write("".join(refs))  # what xml.empty would write, without its checks: a GUID
        counts["selection_refs"] += len(refs)
        xml.end("Case")
        xml.where = "project"
        counts["cases"] += 1
    xml.end("Cases")


def source_names(notes: list[sqlite3.Row]) -> dict[str, str]:
    """A note's title names its source; a title that several notes share (seven "Plenaria")
    takes its event in brackets, since some tools rename or merge sources of the same name."""
    titles: dict[str, int] = {}
    for n in notes:
        titles[n["title"]] = titles.get(n["title"], 0) + 1
    names = {n["id"]: n["title"] if titles[n["title"]] == 1 else f"{n['title']} ({n['event']})"
             for n in notes}
    taken: dict[str, int] = {}
    for name in names.values():
        taken[name] = taken.get(name, 0) + 1
    return {i: name if taken[name] == 1 else f"{name} [{i}]" for i, name in names.items()}


# The notes in the sources' order.
_NOTES = """
select n.id, n.title, n.kind, coalesce(n.date, e.date) as date, n.source_path,
       e.name as event, e.city, (select count(*) from findings f where f.note_id = n.id) as size
from notes n join events e on e.id = n.event_id
order by e.date is null, e.date, e.id, n.source_path, n.id
"""
# A run's findings, grouped by note in each note's order, each with its themes and the organisations it names
# (ids joined by spaces: slugs have none); the notes' texts read apart (with every finding,
# each would be copied into the sort as many times as its note has findings).
_FINDINGS = f"""
select f.note_id, f.id, f.kind, f.text,
       (select group_concat(t.theme_id, ' ') from finding_themes t
        where t.finding_id = f.id) as themes,
       (select group_concat(m.organisation_id, ' ') from finding_organisations m
        where m.finding_id = f.id and m.role = {sql_string(MENTIONED)}) as mentioned
from findings f where f.note_id in (select value from json_each(?))
order by f.note_id, f.position, f.id
"""
_NARRATIVES = "select id, text from notes where id in (select value from json_each(?))"


def _sources(xml: XmlWriter, ex: Export, notes: list[dict], texts: ZipWriter,
             counts: dict[str, int]) -> None:
    """The ``TextSource`` of each of ``notes`` (rows of ``_NOTES`` with their source's
    ``name``), its text into ``texts``."""
    ids = json.dumps([n["id"] for n in notes])
    narratives = {r[0]: r[1] for r in ex.rows(_NARRATIVES, ids)}
    by_note = {note: [{"id": f["id"], "kind": f["kind"], "text": f["text"],
                       "themes": sorted((f["themes"] or "").split()),
                       "mentioned": sorted((f["mentioned"] or "").split())} for f in group]
               for note, group in itertools.groupby(ex.rows(_FINDINGS, ids), key=lambda r: r[0])}
    for n in notes:
        xml.where = f"note {n['id']} (data/{n['source_path']})"
        findings = by_note.get(n["id"], [])
        try:
            text, spans = source_text(narratives.get(n["id"]),
                                      [(ex.kind_label.get(f["kind"], f["kind"]), f["text"])
                                       for f in findings])
        except (QdpxError, XmlError) as exc:
            raise QdpxError(f"{xml.where}: {exc.message}") from None
        guid = ex.guid("source", n["id"])
        texts.add(f"Sources/{guid}.txt", text.encode("utf-8"))
        xml.start("TextSource", guid=guid, name=n["name"],
                  plainTextPath=f"internal://{guid}.txt", creatingUser=ex.user,
                  creationDateTime=ex.stamp)
        xml.text("Description", f"{n['event']}, {n['kind']}: data/{n['source_path']}"
                 + (f" — {ex.base_url}/cotour/notes/{n['id']}" if ex.base_url else ""))
        for f, (start, end) in zip(findings, spans):
            _selection(xml, ex, f, start, end, counts)
        values = {"Tappa": n["event"], "Data": n["date"], "Città": n["city"],
                  "Tipo di sessione": n["kind"]}
        for name, kind, _ in SOURCE_VARIABLES:
            _value(xml, ex, name, kind, values[name])
        xml.end("TextSource")
        xml.where = "project"
        counts["sources"] += 1


def _selection(xml: XmlWriter, ex: Export, f: dict, start: int, end: int,
               counts: dict[str, int]) -> None:
    """One finding's selection and its codings, written as one string (what
    :class:`XmlWriter` would write, element by element, at a third of the cost: this runs once
    per finding)."""
    fid, where = f["id"], xml.where
    link = f"{ex.base_url}/cotour/findings/{fid}" if ex.base_url else fid
    at = "  " * xml.depth
    who = f'creatingUser="{ex.user}" creationDateTime="{ex.stamp}"'
    parts = [f'{at}<PlainTextSelection guid="{ex.guid("selection", fid)}" '
             f'name="{escape_attr(fid, where)}" startPosition="{start}" endPosition="{end}" {who}>\n'
             f'{at}  <Description>{escape_text(f"Risultato {fid}: {link}", where)}</Description>\n']
    keys = ([f"kind/{f['kind']}"] + [f"theme/{t}" for t in f["themes"]]
            + [f"mention/{o}" for o in f["mentioned"]])
    for key in keys:
        parts.append(f'{at}  <Coding guid="{ex.guid("coding", f"{fid}/{key}")}" {who}>\n'
                     f'{at}    <CodeRef targetGUID="{ex.code_guid(key)}"/>\n'
                     f'{at}  </Coding>\n')
    parts.append(f"{at}</PlainTextSelection>\n")
    xml.fp.write("".join(parts))
    counts["codings"] += len(keys)
    counts["selections"] += 1


# The Graph of the pairs: emerging organisations in the left column, traditional ones in the
# right, each a box of this size, one below the other in name order.
GRAPH_BOX = (240, 40)
GRAPH_COLUMNS = {EMERGING: 0, TRADITIONAL: 560}
GRAPH_ROW = 60


def _graph(xml: XmlWriter, ex: Export, pairs: list[sqlite3.Row], counts: dict[str, int]) -> None:
    """The pairs drawn as a network (ATLAS.ti's networks, NVivo's and MAXQDA's maps): a vertex
    per organisation in a pair, standing for its case, an edge per pair, standing for its Link."""
    if not pairs:
        return
    sides: dict[str, dict[str, str]] = {EMERGING: {}, TRADITIONAL: {}}
    for p in pairs:
        sides[EMERGING][p["emerging_id"]] = p["emerging"]
        sides[TRADITIONAL][p["traditional_id"]] = p["traditional"]
    xml.start("Graphs")
    xml.start("Graph", guid=ex.guid("graph", "hybrid_pairs"), name=PAIRS_SET)
    width, height = GRAPH_BOX
    for profile, organisations in sides.items():
        x = GRAPH_COLUMNS[profile]
        ordered = sorted(organisations.items(), key=lambda item: (item[1].casefold(), item[0]))
        for row, (org, name) in enumerate(ordered):
            y = row * GRAPH_ROW
            xml.empty("Vertex", guid=ex.cached_guid("vertex", f"hybrid_pairs/{org}"),
                      representedGUID=ex.cached_guid("case", org), name=name, firstX=x, firstY=y,
                      secondX=x + width, secondY=y + height,
                      shape="Oval" if profile == EMERGING else "RoundedRectangle")
            counts["vertices"] += 1
    at = "  " * xml.depth
    for p in pairs:  # as xml.empty would write each, at a third of the cost
        xml.fp.write(
            f'{at}<Edge guid="{ex.guid("edge", f"hybrid_pairs/{p[0]}")}" '
            f'representedGUID="{ex.guid("link", p[0])}" '
            f'name="{escape_attr(_pair_name(p), xml.where)}" '
            f'sourceVertex="{ex.cached_guid("vertex", f"hybrid_pairs/{p[6]}")}" '
            f'targetVertex="{ex.cached_guid("vertex", f"hybrid_pairs/{p[7]}")}" '
            'direction="Associative" lineStyle="solid"/>\n')
    counts["edges"] += len(pairs)
    xml.end("Graph")
    xml.end("Graphs")


def _pairs(ex: Export) -> list[sqlite3.Row]:
    """The pairs (their columns read by position where written a pair at a time)."""
    return list(ex.rows(
        "select h.id, h.rank, h.score, h.reason, e.name as emerging, t.name as traditional, "
        "h.emerging_id, h.traditional_id from hybrid_pairs h "
        "join organisations e on e.id = h.emerging_id "
        "join organisations t on t.id = h.traditional_id order by h.rank, h.id"))


def _pair_name(p: sqlite3.Row) -> str:
    return f"{p[4]} × {p[5]}"  # emerging × traditional


def _notes(xml: XmlWriter, ex: Export, pairs: list[sqlite3.Row], texts: ZipWriter,
           counts: dict[str, int]) -> None:
    """A note per pair: why the two could hybridise (a text in Sources/, as the tools' memos)."""
    if not pairs:
        return
    xml.start("Notes")
    for p in pairs:
        guid = ex.cached_guid("note", f"hybrid_pairs/{p['id']}")
        score = f"{p['score']:g}" if p["score"] is not None else "—"
        text = source_form(f"{PAIRS_SET}: {_pair_name(p)}\n\n{p['reason'] or ''}\n\n"
                     f"Punteggio {score}, posizione {p['rank']}."
                     + (f"\n{ex.base_url}/cotour/hybrid_pairs/{p['id']}" if ex.base_url else "")
                     + "\n")
        texts.add(f"Sources/{guid}.txt", text.encode("utf-8"))
        at, where = "  " * xml.depth, xml.where
        xml.fp.write(  # what xml.start, xml.text and xml.end would write, at a third of the cost
            f'{at}<Note guid="{guid}" name="{escape_attr(f"{PAIRS_SET}: {_pair_name(p)}", where)}" '
            f'plainTextPath="internal://{guid}.txt" creatingUser="{ex.user}" '
            f'creationDateTime="{ex.stamp}">\n'
            f'{at}  <Description>'
            f'{escape_text(f"Coppia emergente × tradizionale {p[0]}", where)}</Description>\n'
            f'{at}</Note>\n')
        counts["notes"] += 1
    xml.end("Notes")


def _links(xml: XmlWriter, ex: Export, pairs: list[sqlite3.Row], counts: dict[str, int]) -> None:
    if not pairs:
        return
    xml.start("Links")
    at = "  " * xml.depth
    for p in pairs:  # as xml.start, xml.empty and xml.end would write, at a third of the cost
        xml.fp.write(
            f'{at}<Link guid="{ex.guid("link", p[0])}" '
            f'name="{escape_attr(_pair_name(p), xml.where)}" direction="Associative" '
            f'originGUID="{ex.cached_guid("case", p[6])}" '
            f'targetGUID="{ex.cached_guid("case", p[7])}">\n'
            f'{at}  <NoteRef targetGUID="{ex.cached_guid("note", f"hybrid_pairs/{p[0]}")}"/>\n'
            f'{at}</Link>\n')
    counts["links"] += len(pairs)
    xml.end("Links")


def _sets(xml: XmlWriter, ex: Export, pairs: list[sqlite3.Row], counts: dict[str, int]) -> None:
    xml.start("Sets")
    counts["sets"] += code_family_sets(xml, ex, member_guid="targetGUID")
    if pairs:
        xml.start("Set", guid=ex.guid("set", "hybrid_pairs"), name=PAIRS_SET)
        xml.text("Description", "Coppie di organizzazioni, una emergente e una tradizionale, "
                 "che potrebbero ibridarsi: una nota per coppia, dal punteggio più alto.")
        at = "  " * xml.depth
        xml.fp.write("".join([f'{at}<MemberNote '
                              f'targetGUID="{ex.cached_guid("note", f"hybrid_pairs/{p[0]}")}"/>\n'
                              for p in pairs]))
        xml.end("Set")
        counts["sets"] += 1
    xml.end("Sets")


def _description(ex: Export) -> str:
    lines = [source_form(ex.project["description"] or ex.project["title"]), "",
             "Esportato dalla base di conoscenza pubblica di Co?Tour (cotour export qdpx). "
             "Ogni fonte è una nota: prima il testo narrativo, poi i risultati nell'ordine della "
             "nota, sotto un titolo «## <tipo>» a ogni cambio di tipo, ciascuno come "
             "«- <testo>». "
             "Ogni risultato è una selezione codificata con il suo tipo, i suoi temi e le "
             "organizzazioni che cita; i casi sono le organizzazioni, con i risultati che hanno "
             "sollevato."]
    if ex.project.get("illustrative"):
        lines += ["", "Dati illustrativi: questo progetto è un esempio e non va usato come fonte."]
    return "\n".join(lines)


# ---- the project in pieces, on any core ---------------------------------------------------------
#
# project.qde is written in pieces, each deflated on its own (kb.archive joins them): the head
# (users, codebook, variables, cases), the sources in runs of notes, and the tail (the pairs'
# notes, links, sets and graph). Each piece opens the public database itself, so the pieces can
# be written by worker processes at the same time; the texts of Sources/ go straight into zip
# fragments, never held all at once.

RUN = 50_000  # findings in a run of notes written as one piece (about two seconds' work)
COUNTS = ("sources", "selections", "codings", "codes", "cases", "selection_refs", "variables",
          "notes", "links", "sets", "codebook_sets", "vertices", "edges")


def _export(public_db: Path) -> tuple[sqlite3.Connection, Export]:
    conn = connect_read_only(public_db)
    try:
        return conn, Export(conn)
    except BaseException:
        conn.close()
        raise


def _piece(job: Callable, public_db: Path, *args) -> tuple:
    """``job(ex, *args)`` on the public database, its errors said as the export's."""
    conn = None
    try:
        conn, ex = _export(public_db)
        return job(ex, *args)
    except sqlite3.Error as exc:
        raise QdpxError(f"cannot read the public database: {exc}", public_db) from None
    except (QdpxError, XmlError) as exc:
        raise QdpxError(exc.message, public_db) from None
    finally:
        if conn is not None:
            conn.close()


def _head(ex: Export, part: Path, sources: bool) -> tuple[Part, dict[str, int]]:
    counts = dict.fromkeys(COUNTS, 0)
    out = DeflatedText(Deflater(part, last=False))
    xml = XmlWriter(out, "project")
    xml.start("Project", xmlns=PROJECT_NS, name=source_form(ex.project["title"]), origin=origin(),
              creatingUserGUID=ex.user, creationDateTime=ex.stamp)
    xml.start("Users")
    # The one user is the project: the knowledge base coded the findings, no person did.
    xml.empty("User", guid=ex.user, name=ex.project["id"], id=ex.project["id"])
    xml.end("Users")
    xml.start("CodeBook")
    xml.start("Codes")
    write_codes(xml, ex, ex.codes)
    xml.end("Codes")
    xml.end("CodeBook")
    counts["codes"] = sum(1 for _ in walk(ex.codes))
    _variables(xml, ex)
    counts["variables"] = len(SOURCE_VARIABLES) + len(CASE_VARIABLES)
    _cases(xml, ex, counts)
    if sources:
        xml.start("Sources")
    return out.close(), counts


def _run_of_sources(ex: Export, notes: list[dict], part: Path,
                    texts: Path) -> tuple[Part, Fragment, dict[str, int]]:
    counts = dict.fromkeys(COUNTS, 0)
    out = DeflatedText(Deflater(part, last=False))
    zw = ZipWriter(texts, ex.release, directory=False)
    _sources(XmlWriter(out, "project", depth=2), ex, notes, zw, counts)
    return out.close(), zw.close(), counts


def _tail(ex: Export, part: Path, texts: Path,
          sources: bool) -> tuple[Part, Fragment, dict[str, int]]:
    counts = dict.fromkeys(COUNTS, 0)
    out = DeflatedText(Deflater(part, last=True))
    zw = ZipWriter(texts, ex.release, directory=False)
    xml = XmlWriter(out, "project", depth=2 if sources else 1)
    if sources:
        xml.end("Sources")
    pairs = _pairs(ex)
    _notes(xml, ex, pairs, zw, counts)
    _links(xml, ex, pairs, counts)
    _sets(xml, ex, pairs, counts)
    _graph(xml, ex, pairs, counts)
    xml.text("Description", _description(ex))
    xml.end("Project")
    return out.close(), zw.close(), counts


def _codebook(ex: Export, path: Path, counts: dict[str, int]) -> str:
    with open(path, "w", encoding="utf-8", newline="\n") as fp:
        write_codebook(fp, ex, counts)
    return ex.release


def _runs(notes: list[dict]) -> list[list[dict]]:
    """The notes in runs of about ``RUN`` findings each, in order."""
    runs, size = [[]], 0
    for n in notes:
        if size >= RUN:
            runs.append([])
            size = 0
        runs[-1].append(n)
        size += n["size"]
    return [run for run in runs if run]


def codebook_path_for(qdpx_path: Path | str) -> Path:
    """``build/export/cotour.qdpx`` -> ``build/export/cotour-codebook.qdc``."""
    qdpx_path = Path(qdpx_path)
    return qdpx_path.with_name(f"{qdpx_path.stem}-codebook.qdc")


Submit = Callable[..., Future]


def export_qdpx(db_path: Path | str, out: Path | str = Path("build/export/cotour.qdpx"),
                codebook: Path | str | None = None, progress: Progress = _noop,
                submit: Submit | None = None) -> QdpxResult:
    """The public database of ``db_path`` -> the REFI-QDA project ``out`` and its codebook
    (``codebook``, default ``<out stem>-codebook.qdc`` beside it).

    Both are written to temporary files beside them and renamed into place only when both are
    whole: a failed export leaves the previous files as they were. The project's pieces are
    written by ``submit`` (an executor's), or, for a corpus of more than one run of notes, by
    worker processes on every core.
    """
    public_db = require_public(public_path_for(db_path))
    out = Path(out)
    codebook = Path(codebook) if codebook is not None else codebook_path_for(out)
    for path in (out, codebook):
        if path.is_dir():
            raise QdpxError("is a folder; name the file to write", path)
    if out.resolve() == codebook.resolve():
        raise QdpxError("the project and the codebook need two different files", out)
    for path in (out, codebook):
        path.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(out, "another 'cotour export qdpx' is writing this project; run this one "
                          "when it has finished"):
        remove_scratch(out)  # what a killed export left
        remove_scratch(codebook)
        with AtomicOutputs([out, codebook], scratch=("work",)) as outputs:
            work = outputs.scratch_path("work")
            work.mkdir()
            counts = _write(public_db, work, outputs.temporary(out),
                            outputs.temporary(codebook), submit, progress)
            # Renamed together, last, so both files are of the same export.
            outputs.commit()
    return QdpxResult(out, codebook, counts)


def _write(public_db: Path, work: Path, project: Path, codebook: Path, submit: Submit | None,
           progress: Progress) -> dict[str, int]:
    """The project and the codebook (their pieces in ``work``); the counts of what they hold."""
    notes = [dict(n) for n in _piece(lambda ex: list(ex.rows(_NOTES)), public_db)]
    names = source_names(notes)
    for n in notes:
        n["name"] = names[n["id"]]
    runs = _runs(notes)
    pool = None
    if submit is None and len(runs) > 1:  # a large corpus: on every core
        pool = ProcessPoolExecutor(min(len(runs) + 1, os.cpu_count() or 1),
                                   mp_context=get_context("forkserver"),
                                   initializer=end_with_run, initargs=(os.getpid(),))
        submit = pool.submit
    run = submit or (lambda fn, *args: fn(*args))
    try:
        tail = run(_piece, _tail, public_db, work / "tail", work / "tail.zip", bool(notes))
        head = run(_piece, _head, public_db, work / "head", bool(notes))
        pieces = [run(_piece, _run_of_sources, public_db, notes, work / f"{i}",
                      work / f"{i}.zip") for i, notes in enumerate(runs)]
        done, results = 0, []
        for piece, some in zip(pieces, runs):
            results.append(piece.result() if isinstance(piece, Future) else piece)
            done += len(some)
            progress("esportazione REFI-QDA", done, len(notes))
        head = head.result() if isinstance(head, Future) else head
        tail = tail.result() if isinstance(tail, Future) else tail
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    counts = dict.fromkeys(COUNTS, 0)
    for piece_counts in [head[-1], tail[-1]] + [r[-1] for r in results]:
        for k, v in piece_counts.items():
            counts[k] += v
    release = _piece(_codebook, public_db, codebook, counts)
    zw = ZipWriter(project, release)
    for _, texts, _ in results + [tail]:
        zw.add_fragment(texts)
    zw.add_part("project.qde", joined([head[0]] + [r[0] for r in results] + [tail[0]]))
    zw.close()
    return counts
