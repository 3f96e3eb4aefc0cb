"""What the cells and headers show: Italian labels, linked mentions, theme chips, labelled lists."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sqlite3
from collections import OrderedDict
from pathlib import Path

from datasette import hookimpl
from datasette.database import Results
from datasette.utils import tilde_encode
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup, escape

from ..domain import vocabulary
from ..domain.dictionary import TABLES, TABLES_BY_NAME
from ..domain.syntax import MENTION, NOT_TAG_SPANS, TAG, organisation_key
from ..store.public import PUBLIC_NAME

TEMPLATES = Path(__file__).with_name("templates")

STATIC = Path(__file__).with_name("static")

SEARCHABLE = tuple(t.name for t in TABLES if t.fts)

TYPED = "_cotour_search"  # must not start with "_search": Datasette reads those as searches

OFFSET = "_cotour_offset"  # the page of a search ordered by relevance

TABLE_PATH = re.compile(r"^/(?P<database>[^/.]+)/(?P<table>[^/.]+)(?:\.(?P<format>json|csv))?$")

FORMATS = {"json", "csv", "db"}

WRITE_PATHS = {"/-/login", "/-/logout"}

LOGIN_ROUTE = "/-/cotour-login"

log = logging.getLogger("kb.datasette")

# Columns holding JSON lists of ids, and the table the ids point to (the canned queries'
# columns too: they are named for what they hold).
ID_LISTS = {"themes": "themes", "shared_themes": "themes", "temi": "themes",
            "organisations": "organisations", "source_organisations": "organisations",
            "participants": "organisations", "organizzazioni": "organisations",
            "shared_events": "events", "evidence_findings": "findings", "risultati": "findings",
            "da_emergenti": "findings", "da_tradizionali": "findings"}

# The canned queries' id columns.
ID_COLUMNS = {"tema_id": "themes", "tappa_id": "events", "organizzazione_id": "organisations",
              "emergente_id": "organisations", "tradizionale_id": "organisations",
              "risultato_id": "findings", "iniziativa_id": "initiatives",
              "coppia_id": "hybrid_pairs"}

MARKDOWN = {(t.name, c.name) for t in TABLES for c in t.columns if c.markdown} | {
    ("findings_detail", "text"), (None, "testo")}

BOOLEANS = {(t.name, c.name) for t in TABLES for c in t.columns if c.type == "boolean"}

# Columns holding a vocabulary's codes (source, public, tappa…): shown as its Italian word.
_VOCABULARIES = (vocabulary.LEGAL_FORMS, vocabulary.PROFILES, vocabulary.EVENT_KINDS,
                 vocabulary.EVENT_STATUSES, vocabulary.NOTE_KINDS, vocabulary.VISIBILITIES,
                 vocabulary.INITIATIVE_STATUSES, vocabulary.ORGANISATION_ROLES,
                 vocabulary.EVIDENCE_ROLES)

VALUE_WORDS = {(t.name, c.name): {term.id: term.it for term in terms}
               for t in TABLES for c in t.columns if c.values and not c.fk
               for terms in _VOCABULARIES if vocabulary.ids(terms) == c.values}

VALUE_WORDS["findings", "source_profiles"] = VALUE_WORDS["organisations", "profile"]

# Other JSON lists of words (aliases, keywords…): shown as words.
JSON_TEXT_LISTS = {(t.name, c.name) for t in TABLES for c in t.columns
                   if c.type == "json" and c.name not in ID_LISTS}

# The dictionary describes a boolean as "1 se …": its header needs a name.
BOOLEAN_LABELS = {"is_cooperative": "Cooperativa", "mapped": "Dalla mappatura",
                  "realised": "Già avviata", "is_bridge": "Fa da ponte",
                  "illustrative": "Dati illustrativi"}


def short_label(text: str) -> str:
    """A dictionary description cut to a header: "Provincia (sigla)" -> "Provincia"."""
    return re.sub(r"\s*\([^)]*\)", "", text).split(": ", 1)[0]


def _column_labels() -> dict[tuple[str | None, str], str]:
    return {(table.name, column.name): BOOLEAN_LABELS.get(column.name) or short_label(column.it)
            for table in TABLES for column in table.columns}


COLUMN_LABELS = _column_labels()


def column_label(table: str | None, column: str, described: dict | None = None) -> str:
    """The Italian header of a column: the dictionary's label, or the start of its description
    in the metadata (a view's columns), or its name (a canned query's are Italian words)."""
    if (table, column) in COLUMN_LABELS:
        return COLUMN_LABELS[table, column]
    if described and described.get(column):
        return short_label(described[column].split(" — ")[0])
    if column == "rowid":
        return "Riga"
    words = column.removesuffix("_id").replace("_", " ")
    return (words[:1].upper() + words[1:]).replace("N ", "Numero di ", 1) \
        if words.startswith("n ") else words[:1].upper() + words[1:]


class Labels:
    """The names the interface shows for ids (themes, organisations, events…), read once per
    database: the served files never change."""

    TABLES = ("themes", "organisations", "events", "provinces", "finding_kinds", "initiatives",
              "notes")

    def __init__(self):
        self.names: dict[str, dict[str, str]] = {}
        self.organisation_keys: dict[str, str] = {}

    @classmethod
    async def load(cls, db) -> "Labels":
        labels = cls()
        for table in cls.TABLES:
            label = TABLES_BY_NAME[table].label_column
            rows = await db.execute(f"select id, [{label}] from [{table}]")
            labels.names[table] = {r[0]: r[1] for r in rows}
        for id_, name, aliases in await db.execute(
                "select id, name, aliases from organisations"):
            for alias in [id_, name, *json.loads(aliases or "[]")]:
                labels.organisation_keys.setdefault(organisation_key(alias), id_)
        return labels

    def label(self, table: str, id_) -> str:
        return self.names.get(table, {}).get(id_) or str(id_)


async def labels_for(datasette, database: str) -> Labels:
    cache = datasette.__dict__.setdefault("_cotour_labels", {})
    if database not in cache:
        cache[database] = await Labels.load(datasette.get_database(database))
    return cache[database]


@hookimpl(specname="startup")
def load_labels(datasette):
    """The public database's names read before the first visitor asks (a second or two at
    500,000 findings). A database they cannot be read from is left to the first page, which
    then shows the error, rather than keeping the server from starting."""
    async def inner():
        if PUBLIC_NAME in datasette.databases:
            try:
                labels = await labels_for(datasette, PUBLIC_NAME)
            except sqlite3.Error:
                return
            db = datasette.databases[PUBLIC_NAME]
            if not getattr(db, "_cotour_names_kept", False):
                names_from_memory(db, labels)
                db._cotour_names_kept = True

    return inner


# Datasette 0.65's question for the names of a foreign key's values (Datasette.expand_foreign_keys)
_NAMES_SQL = re.compile(r"^\s*select (?P<key>\S+), (?P<label>\S+)\s+from (?P<table>\S+)\s+"
                        r"where (?P=key) in \((?:\?(?:, )?)*\)\s*$")


def names_from_memory(db, labels: Labels) -> None:
    """``db.execute`` answering Datasette's look-up of the names of ids (a linked column's
    values, a facet's) from ``labels`` when it asks for the ids and label columns they hold:
    the same rows, without a trip to the SQL threads for each linked column of each page."""
    execute = db.execute

    async def execute_named(sql, params=None, *args, **kwargs):
        match = _NAMES_SQL.match(sql)
        if match and isinstance(params, list):
            table = match["table"].strip("[]")
            spec = TABLES_BY_NAME.get(table)
            if (table in labels.names and spec is not None and match["key"] == "id"
                    and match["label"].strip("[]") == spec.label_column):
                names = labels.names[table]
                return Results([(i, names[i]) for i in dict.fromkeys(params) if i in names],
                               False, [("id",), (spec.label_column,)])
        return await execute(sql, params, *args, **kwargs)

    db.execute = execute_named


def _link(datasette, database, table, id_, text, css="") -> str:
    # Kept: a page links the same few hundred names in every row, and they never change.
    links = datasette.__dict__.setdefault("_cotour_links", {})
    key = (database, table, id_, text, css)
    found = links.get(key)
    if found is None:
        href = escape(datasette.urls.row(database, table, tilde_encode(str(id_))))
        shown = f' class="{css}"' if css else ""
        found = f'<a{shown} href="{href}">{escape(text)}</a>'
        if len(links) >= 100_000:
            links.clear()
        links[key] = found
    return found


_TOKEN = f"cotour{secrets.token_hex(4)}t"

# Markdown as CommonMark with raw HTML off: a note's <script> or <img onerror> is shown as the
# text it is, never run; links keep markdown-it's check of their address (no javascript:).
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})

# Text in which CommonMark sees no markup: no character that opens inline markup or an entity,
# and no line that starts a block (heading, quote, list, rule, setext underline, code) or ends
# in a hard break.
_MARKUP = re.compile(r"[\\`*_\[\]<>!&~]")
_BLOCK_START = re.compile(r"^(?:[#>=+\-]|\d)")


def plain_paragraph(text: str) -> str | None:
    """The HTML CommonMark makes of ``text`` when it is one paragraph without markup (its lines,
    escaped, without the ``<p>``); None when markdown-it must read it. Most findings are plain
    sentences: parsing each costs more than the rest of its cell."""
    lines = text.split("\n")
    if _MARKUP.search(text) or not all(
            line and line == line.strip() and line.isprintable() and not _BLOCK_START.match(line)
            for line in lines):
        return None
    return escapeHtml(text)


def render_note_text(text: str, labels: Labels, datasette, database: str) -> Markup:
    """Note or finding text as the reader wrote it, rendered: mentions become the words written,
    linked to the organisation; tags become chips linked to the theme. The served files never
    change, so each text is rendered once."""
    cache = datasette.__dict__.setdefault("_cotour_rendered", OrderedDict())
    key = (database, text)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    pieces: list[str] = []

    def keep(html: str) -> str:
        pieces.append(html)
        return f"{_TOKEN}{len(pieces) - 1}x"

    def mention(match):
        source, name, shown = match.groups()
        name = name.strip()
        words = (shown or name.split("/")[-1]).strip()
        by_id = name in labels.names.get("organisations", {})
        org = name if by_id else labels.organisation_keys.get(organisation_key(name))
        if not org:
            return keep(str(escape(words)))
        if by_id and not shown:  # [[!kilowatt]]: an id is not words; the name is
            words = labels.label("organisations", org)
        title = "ha sollevato il punto" if source else "citata"
        return keep(_link(datasette, database, "organisations", org, words,
                          "cotour-mention cotour-source" if source else "cotour-mention")
                    .replace("<a ", f'<a title="{title}" ', 1))

    def tag(match):
        theme = match[1].lower()
        if theme not in labels.names.get("themes", {}):
            return keep(f'<span class="cotour-tag">{escape(match[1])}</span>')
        return keep(_link(datasette, database, "themes", theme,
                          labels.label("themes", theme), "cotour-tag"))

    marked = MENTION.sub(mention, text)
    out, start = [], 0
    for span in NOT_TAG_SPANS.finditer(marked):  # no tags inside links, addresses or code
        out += [TAG.sub(tag, marked[start:span.start()]), span[0]]
        start = span.end()
    marked = "".join(out) + TAG.sub(tag, marked[start:])
    html = plain_paragraph(marked)
    if html is None:
        html = _MARKDOWN.render(marked).strip()
        if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
            html = html[3:-4]  # one paragraph: no margins in a table's cell
    html = re.sub(f"{_TOKEN}(\\d+)x", lambda m: pieces[int(m[1])], html)
    cache[key] = rendered = Markup(html)
    if len(cache) > 50_000:
        cache.popitem(last=False)
    return rendered


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if value is None:
        return None
    if (table, column) in BOOLEANS and value in (0, 1):
        return Markup("sì" if value else "no")
    if not isinstance(value, str):
        return None
    words = VALUE_WORDS.get((table, column))
    if value == "[]" and (words or column in ID_LISTS or (table, column) in JSON_TEXT_LISTS):
        # An empty list shows as nothing, like a null (Datasette shows the raw "[]" when a
        # plugin's cell is empty text)
        return Markup("&nbsp;")
    if words and value in words:
        return words[value]
    if words and value.startswith("["):  # a list of codes
        try:
            return ", ".join(words.get(v, v) for v in json.loads(value))
        except (ValueError, TypeError, AttributeError):
            return None
    target = ID_COLUMNS.get(column) if table is None else None
    markdown = (table, column) in MARKDOWN
    id_list = column in ID_LISTS and value.startswith("[")
    if (table, column) in JSON_TEXT_LISTS and value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return None
        if isinstance(items, list) and all(isinstance(i, str) for i in items):
            return ", ".join(items)
        return None
    if not (target or markdown or id_list):
        return None

    def shown(labels: Labels):
        if target:
            return Markup(_link(datasette, database, target, value, value))
        if markdown:
            return render_note_text(value, labels, datasette, database)
        try:
            ids = json.loads(value)
        except ValueError:
            return None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return None
        where = ID_LISTS[column]
        return Markup('<ul class="cotour-list">' + "".join(
            f"<li>{_link(datasette, database, where, i, labels.label(where, i))}</li>"
            for i in ids) + "</ul>")

    loaded = datasette.__dict__.get("_cotour_labels", {}).get(database)
    if loaded is not None:  # the usual case: no coroutine a cell
        return shown(loaded)

    async def inner():
        return shown(await labels_for(datasette, database))

    return inner
