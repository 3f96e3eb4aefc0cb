"""Word documents -> meeting notes in the canonical Markdown of ``data/notes/``.

pandoc reads the .docx (styles, numbering, nesting, tables, bold and italics) into its JSON tree;
this module writes that tree as the Markdown that :mod:`kb.normalise` reads, fills the front
matter from the arguments and the document's properties, and then reads the new note as
``cotour check`` does, so staff see what was recognised before they build.

The Markdown writer is :mod:`kb.importer.markdown` (why our own: see there).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote

import yaml

from ..diagnostics import (
    ERROR,
    WARNING,
    CotourError,
    Diagnostic,
    Diagnostics,
    did_you_mean,
)
from ..domain.syntax import MENTION, heading_kind, match_key, near_heading, slugify
from ..domain.vocabulary import (
    FINDING_KIND,
    FINDING_KIND_IDS,
    NOTE_KIND_IDS,
    PUBLIC,
    SOURCE,
    VISIBILITY_IDS,
    WORKING_TABLE,
)
from ..normalise import normalise
from ..normalise.model import OrganisationIndex
from ..outputs import Progress, _noop
from ..ingest.entries import read_events
from ..ingest.files import read_bytes, zip_problem
from ..ingest.notes import split_front_matter
from ..ingest.records import RawNote
from ..ingest.source import read_source
from .markdown import (
    MarkdownWriter, bold_heading, unwrap, inline_text, nest_lists, node_content, node_type,
)

# Bounds of one conversion: what the document may unpack to, pandoc's heap and its time.
MAX_DOCX_UNPACKED = 64 << 20
PANDOC_HEAP_MB = 1024
PANDOC_SECONDS = 60

# pandoc's JSON tree changed shape for tables in API 1.21 (pandoc 2.10); older ones are refused.
MIN_PANDOC_API = (1, 21)
PANDOC_INSTALL = ("install it with 'sudo apt-get install pandoc' (Debian/Ubuntu) "
                  "or from https://pandoc.org/installing.html, then run the command again")
# Authors that programs, not people, write into a document's properties.
GENERIC_AUTHORS = {"", "python-docx", "microsoft office user", "utente", "user", "autore",
                   "author", "administrator", "amministratore", "windows user", "utente di windows"}
SLUG_LENGTH = 60


# --------------------------------------------------------------------------- errors


class ImportFailed(CotourError):
    """A Word document could not be imported."""


class PandocMissingError(ImportFailed):
    pass


class DocxError(ImportFailed):
    """The file is not a readable .docx."""


class UnknownEventError(ImportFailed):
    pass


class TargetExistsError(ImportFailed):
    pass


# --------------------------------------------------------------------------- results


@dataclass
class Conversion:
    """A Word document as a note: front matter values and the Markdown body."""

    title: str | None
    authors: list[str]
    created: str | None  # ISO date the file was created (not the meeting's date)
    body: str
    warnings: list[tuple[int, str]]  # (line of the body, message); line 0: the whole document


@dataclass
class ImportResult:
    """What became of one Word document."""

    source: Path
    path: Path | None = None  # the note written, None when the import failed
    meta: dict = field(default_factory=dict)
    error: ImportFailed | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)  # of the new note only
    findings: dict[str, int] = field(default_factory=dict)  # kind -> count, in FINDING_KINDS order
    mentions: dict[str, str] = field(default_factory=dict)  # organisation id -> role
    possible_mentions: list[tuple[str, int]] = field(default_factory=list)  # (org id, line)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == WARNING]

    @property
    def unresolved(self) -> list[Diagnostic]:
        """The names that matched no organisation, each with its suggestion."""
        return [d for d in self.errors if d.message.startswith("unknown organisation")]


# --------------------------------------------------------------------------- reading the .docx


def pandoc_path() -> str:
    path = shutil.which("pandoc")
    if path is None:
        raise PandocMissingError(f"pandoc is not installed (it converts Word files): {PANDOC_INSTALL}")
    return path


def pandoc_tree(docx: Path) -> dict:
    """pandoc's JSON tree of a .docx, with each paragraph's Word style kept (``+styles``)."""
    unreadable = Diagnostics()
    raw = read_bytes(docx, unreadable)
    if raw is None:
        raise DocxError(f"{docx}: {unreadable.items[0].message}")
    # A .docx is a zip archive: a 100 KB one can unpack to gigabytes, and pandoc would hold
    # them all. Its real unpacked size is measured first, then pandoc runs with a heap cap
    # (GHC's runtime: +RTS -M) and a time limit.
    problem = zip_problem(raw, MAX_DOCX_UNPACKED)
    if problem:
        raise DocxError(f"{docx}: not a readable Word document ({problem}); save it from Word "
                        "as .docx ('Word Document'), not .doc or .odt")
    try:
        run = subprocess.run(
            [pandoc_path(), "+RTS", f"-M{PANDOC_HEAP_MB}m", "-RTS",
             "--from", "docx+styles", "--to", "json", str(docx)],
            capture_output=True, timeout=PANDOC_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise DocxError(f"{docx}: pandoc took more than {PANDOC_SECONDS} s to read it") from None
    if b"Heap exhausted" in run.stderr:
        raise DocxError(f"{docx}: pandoc needed more than {PANDOC_HEAP_MB} MB of memory to read "
                        "it; is it really a note?")
    if run.returncode != 0:
        lines = run.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else "pandoc failed"
        raise DocxError(f"{docx}: not a readable Word document ({reason}); save it from Word "
                        "as .docx ('Word Document'), not .doc or .odt")
    tree = json.loads(run.stdout)
    api = tuple(tree.get("pandoc-api-version", [0, 0])[:2])
    if api < MIN_PANDOC_API:
        raise PandocMissingError(f"pandoc is too old (API {'.'.join(map(str, api))}; 2.11 or newer "
                                 f"is needed): {PANDOC_INSTALL}")
    return tree


def core_properties(docx: Path) -> tuple[str | None, str | None, str | None]:
    """``(title, author, created date)`` from the document's properties (File > Info in Word)."""
    import docx as python_docx  # imported here: only the importer needs it

    try:
        props = python_docx.Document(str(docx)).core_properties
    except Exception as exc:  # python-docx raises zip, XML and value errors alike
        raise DocxError(f"{docx}: not a readable Word document ({exc}); save it from Word as .docx") from None
    title = (props.title or "").strip() or None
    author = (props.author or "").strip()
    author = None if author.casefold() in GENERIC_AUTHORS else author
    created = props.created.date().isoformat() if isinstance(props.created, datetime) else None
    return title, author, created


@dataclass
class Review:
    """What Word keeps beside the text, which pandoc reads as if it were not there."""

    changes: int = 0  # tracked insertions, deletions and moves not yet accepted or rejected
    comments: int = 0
    linked_images: list[str] = field(default_factory=list)  # the linked files' names


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# The parts whose text becomes the note (footnotes and endnotes: the note's footnotes).
TEXT_PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")
_INCLUDE_PICTURE = re.compile(r'INCLUDEPICTURE\s+(?:\\[a-z]\s+)*(?:"([^"]+)"|(\S+))', re.I)


def review_marks(docx: Path) -> Review:
    """The tracked changes, comments and linked (not embedded) images of a .docx, read from
    its XML parts (after :func:`pandoc_tree` has bounded the archive's size)."""
    import zipfile

    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    review = Review()
    try:
        with zipfile.ZipFile(docx) as package:
            names = set(package.namelist())

            def part(name):
                return etree.fromstring(package.read(name), parser) if name in names else None

            for name in TEXT_PARTS:
                root = part(name)
                if root is None:
                    continue
                review.changes += sum(1 for tag in ("ins", "del", "moveFrom", "moveTo")
                                      for _ in root.iter(f"{_W}{tag}"))
                rels = part(name.replace("word/", "word/_rels/") + ".rels")
                external = {} if rels is None else {
                    r.get("Id"): r.get("Target") for r in rels.iter(f"{_PACKAGE_RELS}Relationship")
                    if r.get("TargetMode") == "External" and r.get("Type", "").endswith("/image")}
                # DrawingML (<a:blip r:link>), VML (<v:imagedata r:id>) and the field
                # INCLUDEPICTURE that Word writes for Insert > Picture > Link to File.
                for element in root.iter():
                    if element.get(f"{_R}embed"):
                        continue  # embedded too ("Insert and Link"): pandoc has the picture
                    for attribute in (f"{_R}link", f"{_R}id"):
                        target = external.get(element.get(attribute))
                        if target:
                            review.linked_images.append(target)
                for text in root.iter(f"{_W}instrText"):
                    match = _INCLUDE_PICTURE.search(text.text or "")
                    if match:
                        review.linked_images.append(match.group(1) or match.group(2))
            comments = part("word/comments.xml")
            if comments is not None:
                review.comments = sum(1 for _ in comments.iter(f"{_W}comment"))
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError) as exc:
        raise DocxError(f"{docx}: not a readable Word document ({exc}); save it from Word as "
                        ".docx") from None
    # The file's name only: a linked path often holds a person's folder (C:/Users/nome).
    shown = [unquote(re.split(r"[\\/]+", t.rstrip("/\\"))[-1]) or t for t in review.linked_images]
    review.linked_images = list(dict.fromkeys(shown))
    return review


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def meta_texts(value) -> list[str]:
    """The plain texts of a metadata value (pandoc puts Title, Author... paragraphs there)."""
    if value is None:
        return []
    if node_type(value) == "MetaInlines":
        return [inline_text(node_content(value))]
    if node_type(value) == "MetaBlocks":
        return [inline_text(b["c"]) for b in node_content(value) if node_type(b) in ("Para", "Plain")]
    if node_type(value) == "MetaList":
        return [text for v in node_content(value) for text in meta_texts(v)]
    return [str(node_content(value))]


def convert(docx: Path | str) -> Conversion:
    """Read a Word document into a note's title, authors and Markdown body."""
    docx = Path(docx)
    tree = pandoc_tree(docx)
    core_title, core_author, created = core_properties(docx)
    writer = MarkdownWriter()
    meta = tree.get("meta", {})

    title = " ".join(meta_texts(meta.get("title"))) or core_title
    authors = [a for a in [core_author] if a]
    for name in meta_texts(meta.get("author")):
        if name and name.casefold() not in {a.casefold() for a in authors}:
            authors.append(name)

    blocks = nest_lists(unwrap(tree.get("blocks", [])))
    # Paragraphs styled Subtitle, Date or Abstract leave the body for pandoc's metadata: back
    # they go, at the top, so nothing is lost.
    top = []
    for key in ("subtitle", "date", "abstract"):
        value = meta.get(key)
        if value and node_type(value) == "MetaInlines":
            top.append({"t": "Para", "c": node_content(value)})
        elif value and node_type(value) == "MetaBlocks":
            top.extend(unwrap(node_content(value)))
    blocks = top + blocks

    # The level of the document's section headings becomes the note's ##: the level of its
    # finding headings if it has some, else its highest level.
    levels = [node_content(b)[0] for b in blocks if node_type(b) == "Header"]
    kind_levels = [node_content(b)[0] for b in blocks if node_type(b) == "Header" and heading_kind(inline_text(node_content(b)[2]))]
    shift = 2 - min(kind_levels or levels or [2])

    rendered: list[tuple[str, str | None]] = []  # (Markdown, a warning for its first line)
    section_kind = None
    for i, block in enumerate(blocks):
        warning = None
        if node_type(block) == "Header":
            level = min(6, max(1, node_content(block)[0] + shift))
            block = {"t": "Header", "c": [level, *node_content(block)[1:]]}
            if level <= 2:
                section_kind = heading_kind(inline_text(node_content(block)[2])) if level == 2 else None
        elif (text := bold_heading(block)) is not None:
            kind_heading = text if heading_kind(text) else near_heading(text)
            next_is_list = i + 1 < len(blocks) and node_type(blocks[i + 1]) in ("BulletList", "OrderedList")
            if kind_heading:
                # Promoted: the author meant a section, and its items must become findings.
                block = {"t": "Header", "c": [2, ["", [], []], [{"t": "Str", "c": text}]]}
                section_kind = heading_kind(text)
                warning = (f"bold paragraph '{text}' is not a Word heading: imported as the "
                           f"section heading '## {text}' (it looks like the finding heading "
                           f"'{kind_heading}'); in Word, give it a Heading style")
            elif section_kind and next_is_list:
                shown = FINDING_KIND[section_kind].label
                warning = (f"bold paragraph '{text}' inside the section '{shown}': the list under it "
                           f"is read as {shown}; if it opens a new section, give it a Heading "
                           "style in Word")
        markdown = writer.block(block)
        if markdown:
            rendered.append((markdown, warning))

    warnings, line = [], 1
    for markdown, warning in rendered:
        if warning:
            warnings.append((line, warning))
        line += markdown.count("\n") + 2
    body = "\n\n".join(m for m, _ in rendered)
    if writer.notes:
        body += "\n\n" + "\n\n".join(f"[^{n}]: {text}" for n, text in enumerate(writer.notes, 1))
    for what in dict.fromkeys(writer.lost):
        warnings.append((0, f"{what} of the Word document could not be kept in the note: "
                            "copy it by hand if it matters"))
    warnings += _review_warnings(review_marks(docx))
    return Conversion(title, authors, created, body.strip() + "\n", warnings)


def _review_warnings(review: Review) -> list[tuple[int, str]]:
    """What the Word document holds that the note leaves out: linked images, tracked changes
    and comments (where people's names sit)."""
    warnings = []
    for name in review.linked_images:
        warnings.append((0, f"image '{name}' is linked to the Word document, not embedded in "
                            "it: left out of the note (put it in data/assets/ if the report "
                            "needs it)"))
    if review.changes:
        warnings.append((0, f"the Word document has {plural(review.changes, 'tracked change')} "
                            "not yet accepted or rejected: imported as if all were accepted "
                            "(deleted text left out, who made each change not kept); accept "
                            "or reject them in Word (Revisione) and import again, so the note "
                            "says what its authors agreed"))
    if review.comments:
        warnings.append((0, f"the Word document has {plural(review.comments, 'comment')}: "
                            "comments and their authors are not imported; move what matters "
                            "into the text, delete them in Word and import again"))
    return warnings


# --------------------------------------------------------------------------- notes


def note_text(meta: dict, body: str) -> str:
    """A note file: YAML front matter, then the Markdown body."""
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{front}---\n{body}"


def note_name(title: str) -> str:
    """``<slug of the title>.md``, the slug cut at a word boundary."""
    slug = slugify(title)
    if len(slug) > SLUG_LENGTH:
        slug = slug[:SLUG_LENGTH].rsplit("-", 1)[0]
    return f"{slug}.md"


def _event_ids(data_dir: Path) -> list[str]:
    diags = Diagnostics()
    return [e.id for e in read_events(data_dir, diags)]


def import_docx(docx_files: Iterable[Path | str], event: str, data_dir: Path | str = "data",
                kind: str = WORKING_TABLE, visibility: str = PUBLIC, out: Path | str | None = None,
                progress: Progress = _noop) -> list[ImportResult]:
    """Import Word documents as notes of ``event``; never overwrites a note.

    Each document becomes ``<data>/notes/<event>/<slug of its title>.md`` (or ``out``: a file
    for one document, or a folder). A document that cannot be imported has its ``error`` set
    and the others go on. The new notes are then read as ``cotour check`` reads them: each
    result holds the diagnostics of its note, its findings by kind, the organisations it
    mentions and the organisation names it names without ``[[ ]]``.
    """
    docx_files = [Path(p) for p in docx_files]
    data_dir = Path(data_dir)
    pandoc_path()
    if kind not in NOTE_KIND_IDS:
        raise ImportFailed(f"invalid kind '{kind}'{did_you_mean(kind, NOTE_KIND_IDS)} "
                           f"(one of: {', '.join(NOTE_KIND_IDS)})")
    if visibility not in VISIBILITY_IDS:
        raise ImportFailed(f"invalid visibility '{visibility}' (one of: {', '.join(VISIBILITY_IDS)})")
    events = _event_ids(data_dir)
    if event not in events:
        known = f" (known events: {', '.join(events)})" if events else f" ({data_dir}/events.yaml lists none)"
        hint = did_you_mean(event, events)
        raise UnknownEventError(f"unknown event '{event}'{hint or known}")
    out = Path(out) if out is not None else None
    out_is_dir = out is not None and (out.is_dir() or str(out).endswith(("/", "\\")))
    if out is not None and not out_is_dir and len(docx_files) > 1:
        raise ImportFailed("--out names one note file: with several documents give a folder, "
                           "or leave it out")

    results = []
    total = len(docx_files)
    for done, docx in enumerate(docx_files):
        progress("importazione", done, total)
        result = ImportResult(docx)
        try:
            _import_one(result, event, data_dir, kind, visibility, out, out_is_dir)
        except ImportFailed as exc:
            result.error = exc
        results.append(result)
    progress("importazione", total, total)
    written = [r for r in results if r.path is not None]
    if written:
        progress("controllo", 0, 1)
        summarise(written, data_dir)
        progress("controllo", 1, 1)
    return results


def _import_one(result: ImportResult, event: str, data_dir: Path, kind: str, visibility: str,
                out: Path | None, out_is_dir: bool) -> None:
    conversion = convert(result.source)
    title, notices = conversion.title, []
    if not title:
        title = " ".join(result.source.stem.replace("_", " ").split())
        notices.append("the document has no title (neither a Title paragraph nor one in "
                       "File > Info): the file's name is used")
    meta = {"event": event, "title": title, "kind": kind}
    if conversion.authors:
        meta["rapporteur"] = conversion.authors[0] if len(conversion.authors) == 1 else conversion.authors
    meta["visibility"] = visibility
    if out is None:
        target = data_dir / "notes" / event / note_name(title)
    elif out_is_dir:
        target = out / note_name(title)
    else:
        target = out
    target.parent.mkdir(parents=True, exist_ok=True)
    text = note_text(meta, conversion.body)
    try:
        with open(target, "x", encoding="utf-8", newline="\n") as fp:  # "x": never overwrite
            fp.write(text)
    except FileExistsError:
        raise TargetExistsError(
            f"{target} already exists: a note is never overwritten; rename or remove it, "
            "or choose another file with --out") from None
    result.path, result.meta = target, meta
    body_line = text.count("\n", 0, text.index("\n---\n") + 1) + 2
    title_line = 1 + list(meta).index("title") + 1
    result.diagnostics = [Diagnostic(str(target), title_line, WARNING, m) for m in notices] + [
        Diagnostic(str(target), body_line + line - 1 if line else 1, WARNING, message)
        for line, message in conversion.warnings]


def summarise(results: list[ImportResult], data_dir: Path | str) -> None:
    """Read the new notes with the rest of ``data_dir`` as ``cotour check`` does, and fill in
    each result's diagnostics, findings, mentions and possible mentions."""
    diags = Diagnostics()
    source = read_source(Path(data_dir), diags)
    by_path = {Path(n.path).resolve(): n for n in source.notes}
    raws = {}
    for result in results:
        key = result.path.resolve()
        if key not in by_path:  # written outside data/notes: read it on its own
            text = result.path.read_text(encoding="utf-8")
            split = split_front_matter(text, str(result.path), diags)
            if split is None:
                continue
            raw = RawNote(result.path.as_posix(), str(result.path), result.meta["event"], *split)
            source.notes.append(raw)
            by_path[key] = raw
        raws[key] = by_path[key]
    model = normalise(source, diags)
    orgs = OrganisationIndex(source, Diagnostics())
    for result in results:
        raw = raws.get(result.path.resolve())
        mine = [d for d in diags.sorted() if Path(d.path).resolve() == result.path.resolve()]
        result.diagnostics = sorted(set(result.diagnostics) | set(mine),
                                    key=lambda d: (d.line, d.severity, d.message))
        if raw is None:
            continue
        findings = [f for f in model["findings"] if f["source_path"] == raw.rel_path]
        counts = {kind: sum(f["kind"] == kind for f in findings) for kind in FINDING_KIND_IDS}
        result.findings = {k: n for k, n in counts.items() if n}
        ids = {f["id"] for f in findings}
        for link in model["finding_organisations"]:
            if link["finding_id"] in ids and result.mentions.get(link["organisation_id"]) != SOURCE:
                result.mentions[link["organisation_id"]] = link["role"]
        result.possible_mentions = possible_mentions(raw.body, raw.body_line, orgs)


def possible_mentions(body: str, body_line: int, orgs: OrganisationIndex) -> list[tuple[str, int]]:
    """Organisations named in plain text, not as ``[[mentions]]``: ``(id, first line)``.

    Word users do not write ``[[ ]]``; these are the names worth turning into mentions."""
    keys = [(f" {key} ", org_id) for key, org_id in orgs.by_key.items() if len(key) >= 4]
    found: dict[str, int] = {}
    for n, line in enumerate(body.split("\n")):
        folded = f" {match_key(MENTION.sub(' ', line))} "
        for key, org_id in keys:
            if org_id not in found and key in folded:
                found[org_id] = body_line + n
    return sorted(found.items(), key=lambda item: (item[1], item[0]))
