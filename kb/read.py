"""Read the files of ``data/`` into plain records that remember their source lines.

Nothing here touches a database. Each reader checks what can be checked inside its own file
(types, vocabularies, dates); references between files are checked in :mod:`kb.normalise`.
"""

from __future__ import annotations

import csv
import errno
import io
import math
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import Diagnostics, did_you_mean, excerpt
from .dictionary import TABLES_BY_NAME
from .vocabulary import (
    EVENT_KIND_IDS, EVENT_STATUS_IDS, INITIATIVE_STATUS_IDS, LEGAL_FORM_IDS, PROFILE_IDS,
    PROVINCE_IDS, REGION, REGION_BOX, SCHEDULED,
)

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# A release's version: it goes into file names (cotour-1.0.0.zip), so no '/' nor space.
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,39}")

# Fields of a note's front matter that name people: kept for staff, never published.
PERSONAL_FIELDS = ["facilitator", "rapporteur", "interviewees"]

# EU authority tables (publications office): the codes project.yaml may use.
# Data themes with their official labels, Italian and English (the DCAT record needs them).
EU_THEMES = {
    "AGRI": ("Agricoltura, pesca, silvicoltura e prodotti alimentari",
             "Agriculture, fisheries, forestry and food"),
    "ECON": ("Economia e finanze", "Economy and finance"),
    "EDUC": ("Istruzione, cultura e sport", "Education, culture and sport"),
    "ENER": ("Energia", "Energy"),
    "ENVI": ("Ambiente", "Environment"),
    "GOVE": ("Governo e settore pubblico", "Government and public sector"),
    "HEAL": ("Salute", "Health"),
    "INTR": ("Tematiche internazionali", "International issues"),
    "JUST": ("Giustizia, sistema giuridico e sicurezza pubblica",
             "Justice, legal system and public safety"),
    "REGI": ("Regioni e città", "Regions and cities"),
    "SOCI": ("Popolazione e società", "Population and society"),
    "TECH": ("Scienza e tecnologia", "Science and technology"),
    "TRAN": ("Trasporti", "Transport"),
}
EU_FREQUENCIES = [
    "ANNUAL", "ANNUAL_2", "ANNUAL_3", "BIENNIAL", "BIMONTHLY", "BIWEEKLY", "CONT", "DAILY",
    "DAILY_2", "HOURLY", "IRREG", "MONTHLY", "MONTHLY_2", "MONTHLY_3", "NEVER", "OP_DATPRO",
    "OTHER", "QUARTERLY", "TRIENNIAL", "UNKNOWN", "UPDATE_CONT", "WEEKLY", "WEEKLY_2",
    "WEEKLY_3", "QUADRENNIAL", "QUINQUENNIAL", "DECENNIAL", "BIDECENNIAL", "TRIDECENNIAL",
]



@dataclass(frozen=True)
class Licence:
    eu_code: str  # code in the EU licence authority table (publications office)
    title: str  # English title
    title_it: str  # Italian title
    url: str  # the licence's own page
    italian: str  # code in AgID's vocabulary, w3id.org/italia/controlled-vocabulary/licences
    licence_type: str  # its ADMS licence type (purl.org/adms/licencetype), what dct:type says


# SPDX identifier -> licence: the licences an open dataset of this project may carry.
LICENCES = {
    "CC-BY-4.0": Licence("CC_BY_4_0", "Creative Commons Attribution 4.0 International",
                         "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)",
                         "https://creativecommons.org/licenses/by/4.0/", "A21_CCBY40",
                         "Attribution"),
    "CC-BY-SA-4.0": Licence("CC_BYSA_4_0",
                            "Creative Commons Attribution-ShareAlike 4.0 International",
                            "Creative Commons Attribuzione – Condividi allo stesso modo 4.0 "
                            "Internazionale (CC BY-SA 4.0)",
                            "https://creativecommons.org/licenses/by-sa/4.0/", "A31_CCBYSA40",
                            "ViralEffect-ShareAlike"),
    "CC0-1.0": Licence("CC0", "Creative Commons CC0 1.0 Universal",
                       "Creative Commons CC0 1.0 Universale (pubblico dominio)",
                       "https://creativecommons.org/publicdomain/zero/1.0/", "A11_CCO10",
                       "PublicDomain"),
    "ODC-By-1.0": Licence("ODC_BY", "Open Data Commons Attribution License 1.0",
                          "Open Data Commons Attribution License 1.0",
                          "https://opendatacommons.org/licenses/by/1-0/", "A210_ODCBY",
                          "Attribution"),
    "ODbL-1.0": Licence("ODC_BL", "Open Data Commons Open Database License 1.0",
                        "Open Data Commons Open Database License 1.0",
                        "https://opendatacommons.org/licenses/odbl/1-0/", "A310_ODBL",
                        "ViralEffect-ShareAlike"),
    "PDDL-1.0": Licence("ODC_PDDL", "Open Data Commons Public Domain Dedication and License 1.0",
                        "Open Data Commons Public Domain Dedication and License 1.0",
                        "https://opendatacommons.org/licenses/pddl/1-0/", "A12_PDDL",
                        "PublicDomain"),
}

PROJECT_KEYS = {
    "title": True, "subtitle": False, "description": True, "keywords": False, "sources": False,
    "temporal": False, "spatial": False, "organisers": True, "publisher": True, "contact": False,
    "licence": True, "release_date": True, "version": False, "base_url": True,
    "dataset_id": False, "eu_theme": True, "frequency": True, "subjects": False, "doi": False,
    "illustrative": False,
}
# organisations.csv's columns, required or not: the table's, but for those the build adds.
ORGANISATION_COLUMNS = {c.name: c.required for c in TABLES_BY_NAME["organisations"].columns
                        if c.name not in ("is_cooperative", "province_istat", "source_line")}
# Free-text columns of organisations.csv: a cell starting with one of FORMULA_STARTS would
# run as a formula in a spreadsheet that opens the open dataset (CSV injection).
FORMULA_COLUMNS = ["name", "aliases", "sector", "municipality", "description"]
FORMULA_STARTS = ("=", "+", "-", "@")
# Control characters have no place in a cell (tab and line breaks aside): YAML refuses them too.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The staff texts the report knows (data/report/<name>.md): whole sections, or the reading
# that replaces the generated one under a chart.
REPORT_SECTIONS = ("introduzione", "conclusioni", "ringraziamenti")
REPORT_READINGS = {
    "mappatura-province": "Organizzazioni per provincia",
    "mappatura-forme-giuridiche": "Organizzazioni per forma giuridica",
    "mappatura-profili": "Cooperative e non, emergenti e tradizionali",
    "mappatura-temi": "Organizzazioni per tema",
    "tour": "Le tappe del tour",
    "sintesi-tipi": "Risultati per tipo e tappa",
    "sintesi-temi-province": "Temi per provincia",
    "sintesi-ricorrenze": "Pratiche e minacce ricorrenti",
    "sintesi-profili": "Emergenti e tradizionali a confronto",
    "iniziative": "Nuove iniziative",
    "ibridazioni-rete": "La rete delle organizzazioni",
}
REPORT_DOCUMENTS = (*REPORT_SECTIONS, *REPORT_READINGS)


# --------------------------------------------------------------------------- text and YAML


class LineDict(dict):
    """A YAML mapping that remembers its own line and the line of each key."""

    line: int = 1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LineList(list):
    """A YAML sequence that remembers its own line and the line of each item."""

    line: int = 1

    def __init__(self, *args):
        super().__init__(*args)
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if index < len(self.lines) else self.line


class _LineLoader(yaml.SafeLoader):
    pass


# Dates stay strings so an impossible date ("2015-02-30") becomes our diagnostic, with its line,
# rather than an exception from inside the YAML parser.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word, not a list or a mapping",
                key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result:
            loader.duplicate_keys.append((line, key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


# Only the types our files hold: text, numbers, yes/no, null, lists and mappings. A binary, a
# set, a timestamp or an ordered map written with an explicit tag (!!binary, !!set...) would
# otherwise reach the data as Python's text of a Python object.
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str")}
_LineLoader.yaml_constructors = {tag: c for tag, c in yaml.SafeLoader.yaml_constructors.items()
                                 if tag in _PLAIN_TAGS or tag is None}  # None: refuse
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)

# libyaml's parser (faster) with the same resolvers and line-keeping constructors.
# It is only trusted when it succeeds: on any error the pure-Python loader parses the text again,
# so that every diagnostic keeps its wording and line.
_CLineLoader = None
if getattr(yaml, "__with_libyaml__", False):
    class _CLineLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        pass

    _CLineLoader.yaml_implicit_resolvers = _LineLoader.yaml_implicit_resolvers
    _CLineLoader.yaml_constructors = dict(_LineLoader.yaml_constructors)
    _CLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_mapping)
    _CLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
                                 _construct_sequence)


def _load_fast(text: str) -> tuple[Any, list] | None:
    """``(data, duplicate keys)`` parsed by libyaml, or ``None`` if unavailable or in error."""
    if _CLineLoader is None:
        return None
    loader = _CLineLoader(text)
    try:
        loader.duplicate_keys = []
        return loader.get_single_data(), loader.duplicate_keys
    except RecursionError:
        raise
    except Exception:
        return None
    finally:
        loader.dispose()


# Deeper than this, a YAML value is no shape our files have (a theme is 2 levels deep).
MAX_YAML_DEPTH = 16


def _aliases(text: str) -> list[tuple[int, str]]:
    """``(line, alias)`` for each alias (``*name``) of a YAML text.

    Refused: no file of ours needs one, and nine nested aliases of nine make a billion values
    from 1 KB (an "alias bomb"). Only a text with an anchor (``&``) can hold one, and only such
    a text is scanned.
    """
    if "&" not in text:
        return []
    found = []
    try:
        for event in yaml.parse(text, Loader=_CLineLoader or _LineLoader):
            if isinstance(event, yaml.AliasEvent):
                found.append((event.start_mark.line + 1, event.anchor))
    except yaml.YAMLError:
        return []  # a syntax error: the loader reports it with its line
    return found


def _too_deep(data: Any) -> bool:
    """Whether ``data`` nests lists and mappings more than ``MAX_YAML_DEPTH`` levels (walked
    without recursion)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= MAX_YAML_DEPTH:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict)
                                                  else value))
    return False


def load_yaml(text: str, path: str, diags: Diagnostics) -> Any:
    """Parse YAML keeping line numbers; a syntax error becomes a diagnostic and ``None``.

    Bounded: aliases and values nested deeper than ``MAX_YAML_DEPTH`` are refused, so a few
    bytes cannot become gigabytes of values or a recursion without end.
    """
    aliases = _aliases(text)
    if aliases:
        for line, name in aliases:
            diags.error(path, line, f"YAML alias '*{excerpt(name)}': aliases are not accepted "
                                    "here; write the value out in full")
        return None
    try:
        data = _load(text, path, diags)
    except RecursionError:
        data = _TOO_DEEP
    if data is _TOO_DEEP or _too_deep(data):
        diags.error(path, 1, f"YAML values nested more than {MAX_YAML_DEPTH} levels deep: no "
                             "file of the data folder has that shape")
        return None
    return data


_TOO_DEEP = object()


def _load(text: str, path: str, diags: Diagnostics) -> Any:
    fast = _load_fast(text)
    if fast is not None:
        data, duplicate_keys = fast
        for line, key in duplicate_keys:
            diags.error(path, line, f"duplicate key '{excerpt(key)}'")
        return data
    loader = None
    try:
        loader = _LineLoader(text)  # its reader already refuses control characters
        loader.duplicate_keys = []
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        diags.error(path, line, f"YAML syntax error: {problem}")
        return None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        diags.error(path, line, f"YAML syntax error: character #x{exc.character:04x} is not allowed")
        return None
    except yaml.YAMLError as exc:
        diags.error(path, 1, f"YAML syntax error: {exc}")
        return None
    finally:
        if loader is not None:
            loader.dispose()
    for line, key in loader.duplicate_keys:
        diags.error(path, line, f"duplicate key '{excerpt(key)}'")
    return data


# The largest count a file may give (attendance): SQLite stores at most 2**63 - 1, and no
# meeting of this project had a million people.
MAX_COUNT = 1_000_000
# An input file larger than this is refused: the data of this project are text written by
# people, and a runaway file must not become unbounded memory.
MAX_FILE_BYTES = 64 << 20


def read_bytes(path: Path, diags: Diagnostics, shown: str | None = None) -> bytes | None:
    """The bytes of an input file, or ``None`` after a diagnostic saying why it cannot be read.

    Opened without blocking and checked to be a regular file before reading: a FIFO or a
    device among the data must never make a command wait for ever.
    """
    shown = shown or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        diags.error(shown, 1, _unreadable(path, exc))
        return None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            diags.error(shown, 1, "a folder where a file is expected")
            return None
        if not stat.S_ISREG(info.st_mode):
            diags.error(shown, 1, "not a regular file (a pipe or a device): it cannot be read "
                                  "as input")
            return None
        if info.st_size > MAX_FILE_BYTES:
            diags.error(shown, 1, f"file too large ({info.st_size:,} bytes; at most "
                                  f"{MAX_FILE_BYTES:,}): is it really this project's data?")
            return None
        with os.fdopen(fd, "rb", closefd=False) as fp:
            return fp.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        diags.error(shown, 1, _unreadable(path, exc))
        return None
    finally:
        os.close(fd)


def _unreadable(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return "a broken link: it points to a file that does not exist"
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot read the file: permission denied"
    if exc.errno == errno.ENOTDIR:
        return "file not found: a folder of its path is a file"
    if exc.errno == errno.EISDIR:
        return "a folder where a file is expected"
    if exc.errno == errno.ELOOP:
        return "a link that points to itself (a loop of links)"
    return f"cannot read the file: {(exc.strerror or str(exc)).lower()}"


def is_hidden(name: str) -> bool:
    """Hidden files and folders (``.bozza.md``, ``.git``, editors' swap files) are not input:
    never read, never in the build's digest."""
    return name.startswith(".")


def decode(raw: bytes, path: str, diags: Diagnostics) -> str | None:
    """UTF-8 text with the BOM dropped and line endings made ``\\n``; ``None`` if not UTF-8."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diags.error(
            path, line,
            f"not UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
        )
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- value checks


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "yes/no value"
    return {dict: "mapping", list: "list", float: "number", int: "number"}.get(
        type(value).__mro__[-2] if isinstance(value, (dict, list)) else type(value),
        type(value).__name__)


def text_problem(key: str, value: Any) -> str | None:
    """Why ``value`` cannot stand for the text of ``key`` as written, or ``None``.

    YAML reads ``yes`` as true and ``1.10`` as the number 1.1: turned back into text they
    would change silently, so they are refused with the way to write them.
    """
    if isinstance(value, (dict, list)):
        return f"'{key}' must be a text, not a {_kind(value)}"
    if isinstance(value, bool):
        return (f"'{key}' is read as a yes/no value, not a text: put it in quotes "
                f"({key}: \"...\")")
    if isinstance(value, float):
        return (f"'{key}' is read as a number ({excerpt(value)}), which may change how it is "
                f"written: put it in quotes ({key}: \"...\")")
    return None


class Fields:
    """Typed access to one YAML mapping, reporting problems at the offending key's line."""

    def __init__(self, mapping: LineDict, path: str, diags: Diagnostics):
        self.m = mapping
        self.path = path
        self.diags = diags

    def line(self, key: str) -> int:
        return self.m.line_of(key)

    def error(self, key: str, message: str) -> None:
        self.diags.error(self.path, self.line(key), message)

    def unknown_keys(self, allowed, what: str) -> None:
        for key in self.m:
            if key not in allowed:
                shown = excerpt(str(key))
                self.error(key, f"unknown key '{shown}' in {what}{did_you_mean(shown, allowed)}")

    def text(self, key: str, required: bool = False) -> str | None:
        value = self.m.get(key)
        if value is None or value == "":
            if required:
                self.diags.error(self.path, self.m.line, f"missing required key '{key}'")
            return None
        problem = text_problem(key, value)
        if problem:
            self.error(key, problem)
            return None
        return str(value).strip()

    def slug(self, key: str, required: bool = False) -> str | None:
        value = self.text(key, required)
        if value is not None and not SLUG.match(value):
            self.error(key, f"'{excerpt(value)}' is not a valid id: use lower-case letters, "
                            "digits and hyphens")
            return None
        return value

    def choice(self, key: str, choices: list[str], required: bool = False) -> str | None:
        value = self.text(key, required)
        if value is not None and value not in choices:
            self.error(
                key,
                f"invalid {key} '{excerpt(value)}'{did_you_mean(value[:100], choices)} "
                f"(one of: {', '.join(choices)})",
            )
            return None
        return value

    def date(self, key: str, required: bool = False) -> str | None:
        value = self.text(key, required)
        return check_date(value, self.path, self.line(key), self.diags) if value else None

    def integer(self, key: str, minimum: int = 0, maximum: int = MAX_COUNT) -> int | None:
        value = self.m.get(key)
        if value is None:
            return None
        if (isinstance(value, bool) or not isinstance(value, int)
                or not minimum <= value <= maximum):
            self.error(key, f"'{key}' must be a whole number from {minimum:,} to {maximum:,}, "
                            f"not '{excerpt(value)}'")
            return None
        return value

    def bilingual(self, key: str, required: bool = False) -> tuple[str | None, str | None]:
        """A plain Italian string or ``{it: ..., en: ...}``."""
        value = self.m.get(key)
        if isinstance(value, dict):
            inner = Fields(value, self.path, self.diags)
            inner.unknown_keys(["it", "en"], f"'{key}'")
            return inner.text("it", required=True), inner.text("en")
        return self.text(key, required), None

    def text_list(self, key: str, one: bool = False) -> list[str]:
        """A list of texts; with ``one``, a single text is taken as a list of one."""
        value = self.m.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            if one and text_problem(key, value) is None:
                return [str(value).strip()]
            if isinstance(value, str):
                self.error(key, f"'{key}' must be a list: write it as a list: "
                                f"[{excerpt(value)}]")
            else:
                self.error(key, f"'{key}' must be a list of texts, not a {_kind(value)}")
            return []
        items = []
        for i, item in enumerate(value):
            problem = text_problem(key, item)
            if problem:
                self.diags.error(self.path, value.line_of(i) if isinstance(value, LineList)
                                 else self.line(key), problem.replace(
                                     f"'{key}' must be", f"each item of '{key}' must be"))
            elif str(item).strip():
                items.append(str(item).strip())
        return items

    def slug_list(self, key: str) -> list[tuple[str, int]]:
        """A list of ids, each with its own line."""
        value = self.m.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            value = LineList([value])
            value.lines = [self.line(key)]
        items = []
        for i, item in enumerate(value):
            line = value.line_of(i) if isinstance(value, LineList) else self.line(key)
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                self.diags.error(self.path, line, f"'{key}' must list ids, not "
                                                  f"'{excerpt(item)}'")
                continue
            items.append((str(item).strip(), line))
        return items


def check_date(value: str, path: str, line: int, diags: Diagnostics) -> str | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        diags.error(path, line, f"invalid date '{value}': write it as YYYY-MM-DD")
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        diags.error(path, line, f"impossible date '{value}'")
        return None
    return value


# --------------------------------------------------------------------------- records


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


@dataclass
class Document:
    """Staff's own prose for the report (``data/report/<name>.md``)."""

    name: str
    text: str
    rel_path: str
    body_line: int = 1  # line of the file where ``text`` starts (after a front matter)
    # Personal names this text may publish on purpose, each with its line (see README).
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


# --------------------------------------------------------------------------- readers


def _read_text(data_dir: Path, rel: str, diags: Diagnostics, required: bool = True) -> str | None:
    path = data_dir / rel
    shown = str(path)
    if not os.path.lexists(path):
        if required:
            diags.error(shown, 1, "file not found")
        return None
    raw = read_bytes(path, diags, shown)
    return None if raw is None else decode(raw, shown, diags)


def _read_yaml(data_dir: Path, rel: str, diags: Diagnostics, required: bool = True) -> Any:
    text = _read_text(data_dir, rel, diags, required)
    return None if text is None else load_yaml(text, str(data_dir / rel), diags)


def _entries(data: Any, path: str, diags: Diagnostics, what: str) -> list[LineDict]:
    """The mappings of a YAML list file; anything else in it is an error."""
    if data is None:
        return []
    if not isinstance(data, list):
        diags.error(path, getattr(data, "line", 1), f"expected a list of {what}")
        return []
    entries = []
    for i, item in enumerate(data):
        if isinstance(item, LineDict):
            entries.append(item)
        else:
            diags.error(path, data.line_of(i), f"expected a {what[:-1]} (a mapping), not '{item}'")
    return entries


def _duplicates(items, path: str, diags: Diagnostics, what: str) -> None:
    seen: dict[str, int] = {}
    for item in items:
        if item.id in seen:
            diags.error(path, item.line, f"duplicate {what} id '{item.id}' (first at line {seen[item.id]})")
        else:
            seen[item.id] = item.line


def read_project(data_dir: Path, diags: Diagnostics) -> dict:
    rel = "project.yaml"
    path = str(data_dir / rel)
    text = _read_text(data_dir, rel, diags)
    if text is None:
        return {}
    errors = len(diags.errors)
    data = load_yaml(text, path, diags)
    if len(diags.errors) > errors:
        return {}
    if data is None:
        data = LineDict()  # an empty file: every required key is reported missing
    if not isinstance(data, LineDict):
        diags.error(path, 1, "project.yaml must be a mapping of keys")
        return {}
    f = Fields(data, path, diags)
    f.unknown_keys(PROJECT_KEYS, "project.yaml")
    for key, required in PROJECT_KEYS.items():
        if required and key not in data:
            diags.error(path, 1, f"missing required key '{key}'")
    p: dict[str, Any] = {}
    p["title"], p["title_en"] = f.bilingual("title")
    p["subtitle"] = f.text("subtitle")
    p["description"], p["description_en"] = f.bilingual("description")
    p["keywords"] = f.text_list("keywords")
    p["sources"] = []
    sources = data.get("sources") or []
    if not isinstance(sources, list):
        f.error("sources", "'sources' must be a list: [{title: ..., path: https://...}]")
        sources = []
    for i, src in enumerate(sources):
        line = sources.line_of(i) if isinstance(sources, LineList) else f.line("sources")
        if not isinstance(src, LineDict) or not src.get("title"):
            diags.error(path, line, "each source needs a 'title' (and a 'path')")
            continue
        sf = Fields(src, path, diags)
        sf.unknown_keys(["title", "path"], "a source")
        title = sf.text("title")
        if title:
            p["sources"].append({"title": title, "path": sf.text("path")})
    temporal = data.get("temporal")
    p["temporal_start"] = p["temporal_end"] = None
    if isinstance(temporal, LineDict):
        tf = Fields(temporal, path, diags)
        tf.unknown_keys(["start", "end"], "'temporal'")
        p["temporal_start"], p["temporal_end"] = tf.date("start"), tf.date("end")
    elif temporal is not None:
        f.error("temporal", "'temporal' must be a mapping {start: YYYY-MM-DD, end: YYYY-MM-DD}")
    spatial = data.get("spatial")
    p["spatial"] = p["spatial_geonames"] = None
    if isinstance(spatial, LineDict):
        sf = Fields(spatial, path, diags)
        sf.unknown_keys(["name", "geonames"], "'spatial'")
        p["spatial"], p["spatial_geonames"] = sf.text("name", True), sf.text("geonames")
        if p["spatial_geonames"] and not p["spatial_geonames"].isdigit():
            sf.error("geonames", f"geonames '{p['spatial_geonames']}' must be the place's GeoNames "
                                 "number (the digits of https://www.geonames.org/<number>)")
            p["spatial_geonames"] = None
    else:
        p["spatial"] = f.text("spatial")
    p["organisers"], p["organiser_ids"] = [], []
    organisers = data.get("organisers") or []
    if not isinstance(organisers, list):
        f.error("organisers", f"'organisers' must be a list: write it as a list: "
                              f"[{excerpt(str(organisers))}]")
        organisers = []
    for i, organiser in enumerate(organisers):
        if isinstance(organiser, LineDict):
            of = Fields(organiser, path, diags)
            of.unknown_keys(["name", "id"], "an organiser")
            name, identifier = of.text("name", True), of.text("id")
        else:
            problem = text_problem("organisers", organiser)
            if problem:
                diags.error(path, organisers.line_of(i), "each organiser is a name or "
                            f"{{name: ..., id: ...}}, not a {_kind(organiser)}"
                            if isinstance(organiser, list) else problem)
                continue
            name, identifier = str(organiser).strip(), None
        if name:
            p["organisers"].append(name)
            p["organiser_ids"].append(identifier)
    publisher = data.get("publisher")
    p["publisher_name"] = p["publisher_id"] = None
    if isinstance(publisher, LineDict):
        pf = Fields(publisher, path, diags)
        pf.unknown_keys(["name", "id"], "'publisher'")
        p["publisher_name"], p["publisher_id"] = pf.text("name", True), pf.text("id")
    elif publisher is not None:
        p["publisher_name"] = f.text("publisher")
    p["contact"] = f.text("contact")
    p["licence"] = f.text("licence")
    if p["licence"] and p["licence"] not in LICENCES:
        f.error("licence", f"licence '{excerpt(p['licence'])}' is not one of the SPDX identifiers with a "
                           f"code in the EU licence table{did_you_mean(p['licence'], LICENCES)} "
                           f"(one of: {', '.join(LICENCES)})")
    p["release_date"] = f.date("release_date")
    p["version"] = f.text("version")
    if p["version"] and not VERSION.fullmatch(p["version"]):
        f.error("version", f"version '{excerpt(p['version'])}' is not a version: use digits, "
                           "letters, '.', '-' or '_' (e.g. 1.0.0), at most 40 characters; it "
                           "names the open dataset's files")
        p["version"] = None
    p["base_url"] = f.text("base_url")
    if p["base_url"]:
        if not re.match(r"https?://", p["base_url"]):
            f.error("base_url", f"base_url '{excerpt(p['base_url'])}' must start with http:// "
                                "or https://")
        p["base_url"] = p["base_url"].rstrip("/")
    p["dataset_id"] = f.text("dataset_id")
    p["eu_theme"] = f.text_list("eu_theme", one=True)
    if "eu_theme" in data and not p["eu_theme"] and not isinstance(data["eu_theme"], str):
        f.error("eu_theme", f"'eu_theme' must give at least one EU data theme (one of: "
                            f"{', '.join(EU_THEMES)})")
    for code in p["eu_theme"]:
        if code not in EU_THEMES:
            f.error("eu_theme", f"unknown EU data theme '{excerpt(code)}'"
                                f"{did_you_mean(code[:100], EU_THEMES)}")
    p["frequency"] = f.choice("frequency", EU_FREQUENCIES)
    p["subjects"] = []
    for subject, line in f.slug_list("subjects"):
        if subject.isdigit():
            p["subjects"].append(subject)
        else:
            diags.error(path, line, f"subject '{subject}' must be a EuroVoc concept's number "
                                    "(the digits of http://eurovoc.europa.eu/<number>)")
    p["doi"] = f.text("doi")
    if p["doi"] and not DOI.match(p["doi"]):
        f.error("doi", f"doi '{p['doi']}' is not a DOI (10.<registrant>/<suffix>, without "
                       "https://doi.org/)")
    illustrative = data.get("illustrative", False)
    if not isinstance(illustrative, bool):
        f.error("illustrative", "'illustrative' must be true or false")
        illustrative = False
    p["illustrative"] = illustrative
    if not illustrative:  # an example may keep example values; a real release may not
        for key, message in placeholders(p):
            f.error(key, f"{message} (or set 'illustrative: true')")
    return p


DOI = re.compile(r"^10\.\d{4,9}/\S+$")
# Domains reserved for examples (RFC 2606, RFC 6761).
EXAMPLE_HOST = re.compile(r"(^|[@.])(example\.(com|net|org|edu)|[^@/]*\.(example|test|invalid)"
                          r"|localhost)$", re.I)


def _host(address: str) -> str:
    """The host of a URL or the domain of an e-mail address."""
    address = re.sub(r"^(https?://|mailto:)", "", address.strip(), flags=re.I)
    return re.split(r"[/:?#]", address.rsplit("@", 1)[-1], maxsplit=1)[0]


def valid_organisation_code(code: str) -> bool:
    """Whether ``code`` can be an Italian organisation's identifier: a codice fiscale or partita
    IVA of 11 digits with its check digit right (not all zeros), a person-style codice fiscale of
    16 characters with its check letter right, or an IPA code (lower-case letters, digits and
    ``_``, starting with a letter; only the form can be checked offline).
    """
    if re.fullmatch(r"\d{11}", code):
        if set(code) == {"0"}:
            return False
        odd = sum(int(d) for d in code[0:10:2])
        even = sum(2 * int(d) - 9 * (int(d) > 4) for d in code[1:10:2])
        return (10 - (odd + even) % 10) % 10 == int(code[10])
    if re.fullmatch(r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]", code.upper()):
        return _cf_check_letter(code.upper()[:15]) == code.upper()[15]
    return bool(re.fullmatch(r"[a-z][a-z0-9_]{1,29}", code))


# The codice fiscale's check letter: characters in odd positions (1st, 3rd, ...) and in even ones
# have their own values (DM 23/12/1976).
_CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
           24, 23]


def _cf_check_letter(first15: str) -> str:
    total = 0
    for i, ch in enumerate(first15):
        n = int(ch) if ch.isdigit() else ord(ch) - ord("A")
        total += _CF_ODD[n] if i % 2 == 0 else n
    return chr(ord("A") + total % 26)


def placeholders(project: dict) -> list[tuple[str, str]]:
    """What in the project's metadata is a placeholder, as (project.yaml key, message): addresses
    in the domains reserved for examples, a publisher or organiser identifier that is no IPA
    code, codice fiscale or partita IVA. An illustrative dataset may carry them (the release says
    so); a real release may not.
    """
    found = []
    for key in ("base_url", "contact"):
        if project.get(key) and EXAMPLE_HOST.search(_host(project[key])):
            found.append((key, f"{key} '{project[key]}' is an example address"))
    for source in project.get("sources") or []:
        if source.get("path") and EXAMPLE_HOST.search(_host(source["path"])):
            found.append(("sources", f"source '{source['path']}' is an example address"))
    identifier = project.get("publisher_id")
    if not identifier:
        found.append(("publisher", "the publisher has no id (its IPA code, or its codice fiscale "
                                   "or partita IVA)"))
    elif not valid_organisation_code(identifier):
        found.append(("publisher", f"publisher id '{identifier}' is neither an IPA code nor a "
                                   "codice fiscale or partita IVA with a right check digit"))
    for name, identifier in zip(project.get("organisers") or [],
                                project.get("organiser_ids") or []):
        if not identifier:
            found.append(("organisers", f"organiser '{name}' has no id (its IPA code, or its "
                                        "codice fiscale or partita IVA)"))
        elif not valid_organisation_code(identifier):
            found.append(("organisers", f"organiser id '{identifier}' of '{name}' is neither an "
                                        "IPA code nor a codice fiscale or partita IVA with a "
                                        "right check digit"))
    return found


def read_themes(data_dir: Path, diags: Diagnostics) -> list[Theme]:
    rel = "themes.yaml"
    path = str(data_dir / rel)
    themes = []
    for entry in _entries(_read_yaml(data_dir, rel, diags), path, diags, "themes"):
        f = Fields(entry, path, diags)
        f.unknown_keys(["id", "label", "description", "parent"], "a theme")
        theme_id = f.slug("id", required=True)
        label, label_en = f.bilingual("label", required=True)
        description, description_en = f.bilingual("description")
        if theme_id is None or label is None:
            continue
        themes.append(Theme(theme_id, label, label_en, description, description_en,
                            f.slug("parent"), f.line("id"), f.line("parent")))
    _duplicates(themes, path, diags, "theme")
    return themes


class _Located:
    """Diagnostics that name a spreadsheet cell range too: ``... (Mappatura!R12)``."""

    def __init__(self, diags: Diagnostics, where: str):
        self.diags, self.where = diags, where

    def error(self, path: str, line: int, message: str) -> None:
        self.diags.error(path, line, f"{message}{self.where}")

    def warning(self, path: str, line: int, message: str) -> None:
        self.diags.warning(path, line, f"{message}{self.where}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return str(int(value))  # a year typed in a number cell
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


def _csv_rows(text: str, path: str, diags: Diagnostics) -> list[tuple[int, list[str]]]:
    """``(line, values)`` for each record of a CSV text; a quoted field may span lines.

    A record the csv module cannot read is an error at its line, and nothing after it is
    read: its fields cannot be told apart.
    """
    # A cell may be as long as a file may be: the csv module's default limit (128 KiB, which
    # some libraries raise at import) would refuse a long description, or not, by accident.
    if csv.field_size_limit() < MAX_FILE_BYTES:
        csv.field_size_limit(MAX_FILE_BYTES)
    reader = csv.reader(io.StringIO(text))
    rows, start = [], 1
    try:
        for values in reader:
            rows.append((start, values))
            start = reader.line_num + 1
    except csv.Error as exc:
        diags.error(path, start, f"unreadable CSV record ({excerpt(str(exc))}); the rows after it "
                                 "are not read")
    return rows


# A zip archive (a spreadsheet, a Word file) may unpack to at most this much: a 100 KB "zip
# bomb" unpacks to gigabytes.
MAX_UNPACKED_BYTES = 256 << 20
MAX_MEMBERS = 10_000


def zip_problem(raw: bytes, limit: int = MAX_UNPACKED_BYTES) -> str | None:
    """Why the zip archive ``raw`` must not be opened, or ``None``.

    Every member is inflated here, in blocks, counting what it really gives (a member's
    declared size can lie) and stopping past ``limit``: a reader trusting the archive could
    otherwise be made to fill the memory.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                return f"the archive holds {len(members):,} files (at most {MAX_MEMBERS:,})"
            declared = sum(m.file_size for m in members)
            if declared > limit:
                return (f"the archive unpacks to {declared:,} bytes (at most {limit:,}): "
                        "refused, it may be a zip bomb")
            total = 0
            for member in members:
                with archive.open(member) as fp:
                    while block := fp.read(1 << 20):
                        total += len(block)
                        if total > limit:
                            return (f"the archive unpacks to more than {limit:,} bytes: "
                                    "refused, it may be a zip bomb")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            zlib.error, ValueError) as exc:
        return f"a damaged archive ({excerpt(str(exc))})"
    return None


XLSX_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"}


def _xlsx_rows(path: Path, shown: str, diags: Diagnostics):
    """``(row number, values, sheet name)`` for each row of the first sheet of a workbook.

    What a spreadsheet can hide is an error, at its cell: a formula saved without its value
    (a file written by a program, never opened in a spreadsheet), an error value, merged
    cells (the value is in the first cell only, the others read as empty).
    """
    import openpyxl  # only needed for spreadsheets
    from openpyxl.utils import get_column_letter

    raw = read_bytes(path, diags, shown)
    if raw is None:
        return []
    problem = zip_problem(raw)
    if problem:
        diags.error(shown, 1, f"cannot read the spreadsheet: {problem}")
        return []
    try:
        values = openpyxl.load_workbook(io.BytesIO(raw), data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(raw), data_only=False)
    except Exception as exc:  # openpyxl raises many types for a broken file
        diags.error(shown, 1, f"cannot read the spreadsheet: {excerpt(str(exc))}")
        return []
    if not values.worksheets:
        return []
    sheet, formula_sheet = values.worksheets[0], formulas.worksheets[0]
    for merged in sorted(formula_sheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        diags.error(shown, merged.min_row, f"merged cells {merged.coord}: only the first holds "
                                           f"the value, the others would be empty; unmerge them "
                                           f"({sheet.title}!R{merged.min_row})")
    rows = []
    for n, (cells, formula_cells) in enumerate(zip(sheet.iter_rows(),
                                                   formula_sheet.iter_rows()), 1):
        for cell, formula in zip(cells, formula_cells):
            where = f"{get_column_letter(formula.column)}{n}"
            if formula.data_type == "f" and cell.value is None:
                diags.error(shown, n, f"cell {where}: a formula without a saved value "
                                      f"({excerpt(str(formula.value))}); open the file in a "
                                      f"spreadsheet and save it, or paste the values "
                                      f"({sheet.title}!R{n})")
            elif cell.data_type == "e" or cell.value in XLSX_ERRORS:
                diags.error(shown, n, f"cell {where}: the error value {cell.value}: fix the "
                                      f"formula or write the value ({sheet.title}!R{n})")
        rows.append((n, [_cell(c.value) for c in cells], sheet.title))
    return rows


def read_organisations(data_dir: Path, diags: Diagnostics) -> list[Organisation]:
    """The phase-1 mapping from organisations.csv, or from organisations.xlsx (first sheet)."""
    csv_path, xlsx_path = data_dir / "organisations.csv", data_dir / "organisations.xlsx"
    if os.path.lexists(csv_path) and os.path.lexists(xlsx_path):
        diags.error(str(xlsx_path), 1, "both organisations.csv and organisations.xlsx exist: keep one")
        return []
    if os.path.lexists(xlsx_path):
        path = str(xlsx_path)
        records = _xlsx_rows(xlsx_path, path, diags)
    else:
        path = str(csv_path)
        text = _read_text(data_dir, "organisations.csv", diags)
        if text is None:
            return []
        records = [(line, values, None) for line, values in _csv_rows(text, path, diags)]
    if not records:
        diags.error(path, 1, "empty file: a header row is required")
        return []
    _, header, sheet = records[0]
    header = [h.strip() for h in header]
    while header and not header[-1]:
        header.pop()  # spreadsheets often carry empty trailing columns
    where = (lambda n: f" ({sheet}!R{n})") if sheet else (lambda n: "")
    for n, column in enumerate(header):
        if column not in ORGANISATION_COLUMNS:
            diags.error(path, 1, f"unknown column '{excerpt(column)}'"
                                 f"{did_you_mean(column[:100], ORGANISATION_COLUMNS)}{where(1)}")
        elif column in header[:n]:
            diags.error(path, 1, f"column '{column}' appears twice: keep one (the values of one "
                                 f"would be lost){where(1)}")
    for column, required in ORGANISATION_COLUMNS.items():
        if required and column not in header:
            diags.error(path, 1, f"missing required column '{column}'{where(1)}")
    organisations = []
    for line, values, _ in records[1:]:
        if not any(v.strip() for v in values):
            continue
        located = _Located(diags, where(line)) if sheet else diags
        extra = values[len(header):]
        if len(values) < len(header) and not sheet or any(v.strip() for v in extra):
            located.error(path, line, f"row has {len(values)} fields, the header has {len(header)}")
            continue
        row = {h: v.strip() for h, v in zip(header, values + [""] * len(header))}
        org = _organisation(row, path, line, located)
        if org:
            organisations.append(org)
    _duplicates(organisations, path, diags, "organisation")
    return organisations


def _organisation(row: dict, path: str, line: int, diags) -> Organisation | None:
    def choice(column, choices):
        value = row.get(column) or None
        if value is None:
            if ORGANISATION_COLUMNS[column]:
                diags.error(path, line, f"missing {column}")
            return None
        if value not in choices:
            diags.error(path, line, f"invalid {column} '{excerpt(value)}'"
                                    f"{did_you_mean(value[:100], choices)} "
                                    f"(one of: {', '.join(choices)})")
            return None
        return value

    org_id = row.get("id") or ""
    if not SLUG.match(org_id):
        diags.error(path, line, f"'{excerpt(org_id)}' is not a valid id: use lower-case letters, "
                                "digits and hyphens")
        return None
    for column, value in row.items():
        control = CONTROL.search(value)
        if control:
            diags.error(path, line, f"{column} '{excerpt(value)}' holds the control character "
                                    f"U+{ord(control.group()):04X}: remove it")
            row[column] = CONTROL.sub("", value)
    for column in FORMULA_COLUMNS:
        value = row.get(column) or ""
        if value[:1] in FORMULA_STARTS:
            diags.warning(path, line, f"{column} '{excerpt(value)}' starts with '{value[0]}': a "
                                      "spreadsheet opening the open dataset's CSV would run it "
                                      "as a formula; kept as written")
    name = row.get("name") or None
    if not name:
        diags.error(path, line, f"organisation '{org_id}' has no name")
    website = row.get("website") or None
    if website and not re.match(r"https?://[^\s/]+\.[^\s]+$", website):
        diags.error(path, line, f"website '{excerpt(website)}' is not an http(s) URL")
        website = None
    founded = None
    if row.get("founded"):
        if re.fullmatch(r"\d{4}", row["founded"]) and 1800 <= int(row["founded"]) <= date.today().year:
            founded = int(row["founded"])
        else:
            diags.error(path, line, f"founded '{excerpt(row['founded'])}' is not a year")
    coords: dict[str, float | None] = {"lat": None, "lon": None}
    for axis in coords:
        raw = row.get(axis) or ""
        if raw:
            try:
                coords[axis] = float(raw.replace(",", "."))
            except ValueError:
                diags.error(path, line, f"{axis} '{excerpt(raw)}' is not a decimal number")
                continue
            limit = 90 if axis == "lat" else 180
            if not math.isfinite(coords[axis]) or abs(coords[axis]) > limit:
                diags.error(path, line, f"{axis} '{excerpt(raw)}' is not a coordinate: give "
                                        f"decimal degrees from -{limit} to {limit}")
                coords[axis] = None
    if (row.get("lat") and coords["lat"] is None) or (row.get("lon") and coords["lon"] is None):
        coords = {"lat": None, "lon": None}  # an error above: the pair goes with it
    elif bool(row.get("lat")) != bool(row.get("lon")):
        diags.warning(path, line, "lat and lon go together: give both or neither (coordinates ignored)")
        coords = {"lat": None, "lon": None}
    elif coords["lat"] is not None and coords["lon"] is not None:
        if any(not lo <= coords[axis] <= hi for axis, (lo, hi) in REGION_BOX.items()):
            diags.warning(path, line, f"coordinates {coords['lat']}, {coords['lon']} lie outside "
                                      f"{REGION[0]} (lat and lon swapped?)")
    mapped_raw = (row.get("mapped") or "yes").lower()
    if mapped_raw not in ("yes", "no"):
        diags.error(path, line, f"mapped must be 'yes' or 'no', not '{excerpt(row['mapped'])}'")
    return Organisation(
        id=org_id,
        name=name or org_id,
        aliases=[a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()],
        legal_form=choice("legal_form", LEGAL_FORM_IDS),
        profile=choice("profile", PROFILE_IDS),
        sector=row.get("sector") or None,
        province=choice("province", PROVINCE_IDS),
        municipality=row.get("municipality") or None,
        website=website,
        founded=founded,
        lat=coords["lat"],
        lon=coords["lon"],
        themes=[t.strip() for t in (row.get("themes") or "").split(";") if t.strip()],
        description=row.get("description") or None,
        mapped=mapped_raw != "no",
        line=line,
    )


def read_events(data_dir: Path, diags: Diagnostics) -> list[Event]:
    rel = "events.yaml"
    path = str(data_dir / rel)
    events = []
    keys = ["id", "city", "province", "date", "kind", "status", "venue", "attendance",
            "programme", "hosts"]
    for entry in _entries(_read_yaml(data_dir, rel, diags), path, diags, "events"):
        f = Fields(entry, path, diags)
        f.unknown_keys(keys, "an event")
        event_id = f.slug("id", required=True)
        status = f.choice("status", EVENT_STATUS_IDS, required=True)
        event_date = f.date("date")
        if event_date is None and "date" not in entry and status != SCHEDULED:
            diags.error(path, entry.line, f"missing required key 'date' (only a '{SCHEDULED}' event may lack one)")
        persons = organisations = None
        attendance = entry.get("attendance")
        if isinstance(attendance, LineDict):
            af = Fields(attendance, path, diags)
            af.unknown_keys(["persons", "organisations"], "'attendance'")
            persons, organisations = af.integer("persons"), af.integer("organisations")
        elif attendance is not None:
            f.error("attendance", "'attendance' must be a mapping {persons: N, organisations: N}")
        if event_id is None:
            continue
        events.append(Event(
            id=event_id,
            city=f.text("city", required=True),
            province=f.choice("province", PROVINCE_IDS, required=True),
            date=event_date,
            kind=f.choice("kind", EVENT_KIND_IDS, required=True),
            status=status,
            venue=f.text("venue"),
            attendance_persons=persons,
            attendance_organisations=organisations,
            programme=f.text("programme"),
            hosts=f.slug_list("hosts"),
            line=f.line("id"),
        ))
    _duplicates(events, path, diags, "event")
    return events


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


@dataclass(frozen=True)
class NoteFile:
    """A note file found in ``data/notes/<event-id>/``, not read yet."""

    path: Path
    rel_path: str  # relative to the data folder, with forward slashes
    folder: str  # the event folder it lives in


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


def read_initiatives(data_dir: Path, diags: Diagnostics) -> list[Initiative]:
    rel = "initiatives.yaml"
    path = str(data_dir / rel)
    initiatives = []
    data = _read_yaml(data_dir, rel, diags, required=False)
    keys = ["id", "title", "description", "status", "organisations", "themes", "born_from"]
    for entry in _entries(data, path, diags, "initiatives"):
        f = Fields(entry, path, diags)
        f.unknown_keys(keys, "an initiative")
        initiative_id = f.slug("id", required=True)
        if initiative_id is None:
            continue
        initiatives.append(Initiative(
            id=initiative_id,
            title=f.text("title", required=True),
            description=f.text("description"),
            status=f.choice("status", INITIATIVE_STATUS_IDS, required=True),
            organisations=f.slug_list("organisations"),
            themes=f.slug_list("themes"),
            born_from=f.slug_list("born_from"),
            line=f.line("id"),
        ))
    _duplicates(initiatives, path, diags, "initiative")
    return initiatives


def document_files(data_dir: Path, diags: Diagnostics) -> list[Path]:
    """The staff texts of ``data/report/`` (``.md``), sorted; other files are reported."""
    report_dir = data_dir / "report"
    if not os.path.lexists(report_dir):
        return []
    if not report_dir.is_dir():
        diags.error(str(report_dir), 1, "'report' must be a folder of .md texts")
        return []
    files = []
    for entry in _listing(report_dir, diags):
        path = Path(entry.path)
        if path.suffix != ".md":
            diags.warning(str(path), 1, "not a report text (.md): file ignored")
        elif not SLUG.match(path.stem):
            diags.error(str(path), 1, f"'{excerpt(path.stem)}' is not a valid name: use "
                                      "lower-case letters, digits and hyphens")
        else:
            files.append(path)
    return files


def read_documents(data_dir: Path, diags: Diagnostics) -> list[Document]:
    """The staff texts; one may start with a front matter whose only key is ``allow_names``,
    the personal names it publishes on purpose (an acknowledgement)."""
    documents = []
    for path in document_files(data_dir, diags):
        raw = read_bytes(path, diags)
        text = None if raw is None else decode(raw, str(path), diags)
        if text is None:
            continue
        rel = path.relative_to(data_dir).as_posix()
        body_line, allowed = 1, []
        if re.match(r"---[ \t]*\n", text):
            split = split_front_matter(text, str(path), diags)
            if split is None:
                continue
            meta, text, body_line = split
            f = Fields(meta, str(path), diags)
            f.unknown_keys(["allow_names"], "a staff text's front matter")
            names = f.text_list("allow_names")
            lines = meta.get("allow_names")
            allowed = [(name, lines.line_of(i) if isinstance(lines, LineList) else f.line(
                "allow_names")) for i, name in enumerate(names)]
        body_line += text[:len(text) - len(text.lstrip())].count("\n")  # stripped below
        documents.append(Document(path.stem, text.strip() + "\n", rel, body_line, allowed))
    return documents


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
