"""The REFI-QDA codebook: its codes (a tree, in families) as the project's ``CodeBook`` and as
the codebook file (``.qdc``) that :mod:`kb.export.qdpx` writes beside the project."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Iterable

from .. import __version__
from .xml import XmlWriter

if TYPE_CHECKING:
    from .qdpx import Export

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"


@dataclass
class Code:
    key: str  # "kind/practice", "theme/spazi-condivisi", "mention/kilowatt", "group/temi"
    name: str
    colour: str | None
    codable: bool
    description: str | None = None
    children: list["Code"] = field(default_factory=list)


def walk(codes: Iterable[Code]) -> Iterable[Code]:
    for code in codes:
        yield code
        yield from walk(code.children)


def unique_names(groups: list[Code]) -> None:
    """QualCoder keeps one code of a name: a theme and an organisation of the same name would
    become one. A name met again gets its family in brackets."""
    seen: set[str] = set()
    for group in groups:
        for code in walk([group]):
            if code.name.casefold() in seen:
                code.name = f"{code.name} ({group.name.lower()})"
            seen.add(code.name.casefold())


def write_codes(xml: XmlWriter, ex: Export, codes: list[Code]) -> None:
    for code in codes:
        attrs = {"guid": ex.guid("code", code.key), "name": code.name,
                 "isCodable": "true" if code.codable else "false", "color": code.colour}
        if not code.description and not code.children:
            xml.empty("Code", **attrs)
            continue
        xml.start("Code", **attrs)
        if code.description:
            xml.text("Description", code.description)
        write_codes(xml, ex, code.children)
        xml.end("Code")


def write_codebook(fp: IO[str], ex: Export, counts: dict[str, int]) -> None:
    """The ``.qdc``: the project's codes (same GUIDs) and a Set per family of codes."""
    xml = XmlWriter(fp, "codebook")
    xml.start("CodeBook", xmlns=CODEBOOK_NS, origin=origin())
    xml.start("Codes")
    write_codes(xml, ex, ex.codes)
    xml.end("Codes")
    xml.start("Sets")
    counts["codebook_sets"] += code_family_sets(xml, ex, member_guid="guid")
    xml.end("Sets")
    xml.end("CodeBook")


def code_family_sets(xml: XmlWriter, ex: Export, member_guid: str) -> int:
    """A Set per family of codes (kinds, themes, organisations), its codes as members; how
    many. The codebook schema names a member's GUID ``guid``, the project schema
    ``targetGUID``."""
    for group in ex.codes:
        xml.start("Set", guid=ex.guid("set", group.key), name=group.name)
        if group.description:
            xml.text("Description", group.description)
        for code in walk(group.children):
            xml.empty("MemberCode", **{member_guid: ex.guid("code", code.key)})
        xml.end("Set")
    return len(ex.codes)


def origin() -> str:
    return f"Co?Tour knowledge base {__version__} (cotour export qdpx)"
