"""What WeasyPrint 70 leaves out of a tagged PDF, added after it has written the file (pikepdf),
and what the report reads back from it.

- Every table header cell (``TH``) gets its ``Scope`` (``Column`` in a table's head, ``Row``
  in its body): WeasyPrint links cells to headers but writes no scope (PDF/UA, Matterhorn 15).
- Every link annotation gets its alternate description (``Contents``): its address, or that it
  leads elsewhere in the report (PDF/UA, Matterhorn 28).
- The archival edition (PDF/A-3a) lists each attached file once in the catalog's ``AF``
  (WeasyPrint adds every file twice) and keeps the PDF/UA identification beside the PDF/A
  one in its XMP metadata, with the extension schema PDF/A asks for.

The file is saved with its streams as WeasyPrint wrote them (new ones compressed) and an
identifier computed from its content,
so the same report still gives the same bytes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pikepdf

from ..outputs import ensure_room

# Room for qpdf's copy beside the PDF, beyond twice the PDF's size.
FINISH_MARGIN = 16 << 20

PDFUA_XMP = """<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">
<pdfuaid:part>1</pdfuaid:part>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
"""


def finish(path: Path, archival: bool = False) -> list[str]:
    """Complete the tagged PDF at ``path`` in place (see the module's description); return the
    font families it embeds (:func:`font_families`), read while it is open."""
    # qpdf aborts the whole process on a full disk when it writes a file itself (a C++
    # exception it cannot raise, leaving its scratch behind): refuse before starting when the
    # room is short, and write through a Python file, whose errors are Python exceptions.
    ensure_room(path.parent, 2 * path.stat().st_size + FINISH_MARGIN, "completing the PDF")
    finished = path.with_name(path.name.removesuffix(".tmp") + ".finish.tmp")
    try:
        with pikepdf.open(path) as doc:
            families = _families(doc)
            _scope_headers(doc)
            _describe_links(doc)
            if archival:
                _attachments_once(doc)
                _keep_pdfua_identification(doc)
            with open(finished, "wb") as out:
                doc.save(out, deterministic_id=True, compress_streams=True,
                         stream_decode_level=pikepdf.StreamDecodeLevel.none)
        os.replace(finished, path)
    finally:
        finished.unlink(missing_ok=True)
    return families


def _walk(element, parents=()):
    """Structure elements depth first, each with the types of its ancestors."""
    yield element, parents
    kids = element.get("/K")
    if kids is None:
        return
    if not isinstance(kids, pikepdf.Array):
        kids = [kids]
    own = parents + (str(element.get("/S", "")),)
    for kid in kids:
        if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/OBJR" and "/S" in kid:
            yield from _walk(kid, own)


def structure(doc):
    """Every structure element of ``doc`` with its ancestors' types, in reading order."""
    root = doc.Root.get("/StructTreeRoot")
    if root is None:
        return
    kids = root.get("/K")
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
        yield from _walk(kid)


def _scope_headers(doc) -> None:
    for element, parents in structure(doc):
        if element.get("/S") != "/TH":
            continue
        section = next((p for p in reversed(parents) if p in ("/THead", "/TBody", "/TFoot")), "")
        attributes = element.get("/A")
        if attributes is None:
            attributes = element.A = pikepdf.Dictionary(O=pikepdf.Name.Table)
        attributes.Scope = pikepdf.Name.Column if section == "/THead" else pikepdf.Name.Row


def _describe_links(doc) -> None:
    for page in doc.pages:
        for annot in page.get("/Annots") or []:
            if annot.get("/Subtype") != "/Link" or "/Contents" in annot:
                continue
            action = annot.get("/A")
            uri = str(action.get("/URI")) if action is not None and "/URI" in action else ""
            annot.Contents = pikepdf.String(f"Collegamento a {uri}" if uri
                                            else "Rimando a un’altra parte del rapporto")


def _attachments_once(doc) -> None:
    files = doc.Root.get("/AF")
    if files is None:
        return
    seen, once = set(), []
    for spec in files:
        key = spec.objgen
        if key not in seen:
            seen.add(key)
            once.append(spec)
    doc.Root.AF = pikepdf.Array(once)


def _keep_pdfua_identification(doc) -> None:
    stream = doc.Root.get("/Metadata")
    if stream is None:
        return
    xmp = stream.read_bytes().decode("utf-8")
    if "pdfuaid:part" in xmp:
        return
    xmp = re.sub(r"(</rdf:RDF>)", PDFUA_XMP.replace("\\", "\\\\") + r"\1", xmp, count=1)
    new = pikepdf.Stream(doc, xmp.encode("utf-8"))
    new.Type, new.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
    doc.Root.Metadata = doc.make_indirect(new)


def font_families(path: Path) -> list[str]:
    """The font families the PDF at ``path`` embeds, sorted: ``ABCDEF+Noto-Serif-Bold`` is
    Noto Serif."""
    with pikepdf.open(path) as doc:
        return _families(doc)


def _families(doc) -> list[str]:
    names = set()
    for font in _fonts(doc):
        base = str(font.get("/BaseFont", "")).lstrip("/")
        base = base.split("+", 1)[-1]
        base = re.sub(r"[-,](Regular|Bold|Italic|Oblique|BoldItalic|BoldOblique|Medium|Light)"
                      r"([-,]?(Italic|Oblique))?$", "", base)
        names.add(base.replace("-", " "))
    return sorted(n for n in names if n)


def _fonts(doc):
    """Every font object of the file (the pages' and the figures' own resources alike)."""
    for obj in doc.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font":
            yield obj
