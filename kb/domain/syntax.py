"""The notes' syntax: finding headings, ``[[mentions]]``, ``#tags``, list items, and the keys that
match names and make stable ids.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata

from markdown_it import MarkdownIt

from .text import fold
from .vocabulary import FINDING_KINDS

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
