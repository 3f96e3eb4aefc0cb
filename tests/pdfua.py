"""Structural checks of a tagged PDF, read back with pikepdf: the Matterhorn Protocol's
conditions (PDF/UA-1) that can be tested without a validator. Every report the tests write is
checked with :func:`problems`."""

import re

import pikepdf

HEADINGS = re.compile(r"^/H([1-6])$")


def structure(doc):
    """(element, types of its ancestors) depth first, in reading order."""
    def walk(element, parents):
        yield element, parents
        kids = element.get("/K")
        if kids is None:
            return
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                yield from walk(kid, parents + (str(element.get("/S", "")),))

    root = doc.Root.StructTreeRoot
    kids = root.K
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
        yield from walk(kid, ())


def _descendants(element):
    kids = element.get("/K")
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []):
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid, ()
            yield from _descendants(kid)


def objr_targets(doc) -> set:
    """The objects (annotations) the structure tree refers to through OBJR entries."""
    found = set()

    def walk(element):
        kids = element.get("/K")
        if kids is None:
            return
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
            if isinstance(kid, pikepdf.Dictionary):
                if kid.get("/Type") == "/OBJR":
                    found.add(kid.Obj.objgen)
                elif "/S" in kid:
                    walk(kid)
    walk(doc.Root.StructTreeRoot)
    return found


def problems(path) -> list[str]:
    """What breaks PDF/UA's testable conditions in the PDF at ``path`` (empty: none)."""
    out = []
    with pikepdf.open(path) as doc:
        root = doc.Root
        if not str(root.get("/Lang", "")).strip():
            out.append("catalog: no /Lang")
        if not (root.get("/MarkInfo") and root.MarkInfo.get("/Marked")):
            out.append("catalog: not marked as tagged")
        prefs = root.get("/ViewerPreferences")
        if not (prefs and prefs.get("/DisplayDocTitle")):
            out.append("catalog: DisplayDocTitle is not set")
        with doc.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            if meta.get("pdfuaid:part") != "1":
                out.append("XMP: no PDF/UA identification (pdfuaid:part 1)")
            if not meta.get("dc:title"):
                out.append("XMP: no dc:title")
        previous = 0
        for element, parents in structure(doc):
            kind = str(element.get("/S"))
            heading = HEADINGS.match(kind)
            if heading:
                level = int(heading.group(1))
                if level > previous + 1:
                    out.append(f"heading H{level} follows H{previous} (a level skipped)")
                previous = level
            if kind == "/TH":
                scope = element.get("/A", {}).get("/Scope")
                if scope not in ("/Row", "/Column", "/Both"):
                    out.append(f"TH without Scope (inside {'/'.join(parents[-3:])})")
            if kind == "/Figure" and not str(element.get("/Alt", "")).strip():
                out.append("Figure without alternate text")
            if kind == "/L":
                kids = element.get("/K")
                kids = kids if isinstance(kids, pikepdf.Array) else [kids]
                kinds = {str(k.get("/S")) for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k}
                if kinds - {"/LI", "/L", "/Caption"}:
                    out.append(f"list holding {sorted(kinds - {'/LI', '/L', '/Caption'})}")
            if kind == "/Table" and not any(str(e.get("/S")) == "/TH" for e, _ in
                                            _descendants(element)):
                out.append("table without header cells")
        referenced = objr_targets(doc)
        for number, page in enumerate(doc.pages, 1):
            annots = page.get("/Annots") or []
            if annots and page.get("/Tabs") != "/S":
                out.append(f"page {number}: annotations but tab order is not /S")
            for annot in annots:
                if annot.get("/Subtype") != "/Link":
                    continue
                if annot.objgen not in referenced or "/StructParent" not in annot:
                    out.append(f"page {number}: a link annotation outside the structure tree")
                if not str(annot.get("/Contents", "")).strip():
                    out.append(f"page {number}: a link annotation without Contents")
        names = root.get("/Names")
        files = names.get("/EmbeddedFiles") if names is not None else None
        if files is not None:
            listed = [str(n) for n in files.Names[::2]]
            if len(listed) != len(set(listed)):
                out.append("embedded files: a name listed twice")
            af = [f.objgen for f in root.get("/AF", [])]
            if len(af) != len(set(af)):
                out.append(f"catalog AF lists {len(af)} entries for {len(set(af))} files")
    return sorted(set(out), key=out.index)
