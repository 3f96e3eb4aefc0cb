"""The contents of the editable editions, with their page numbers.

pandoc writes a table of contents into the ODT and the DOCX, but no entries: Word fills its
TOC field only when asked to update fields, LibreOffice never on opening. So LibreOffice lays
each edition out once (:data:`LAYOUT_SCRIPT`, run by the system's Python, which has its UNO
bridge), says on which page each entry falls, and the entries with their pages are written
into the contents as the field's last result: what Word and LibreOffice show on opening (Word
also refreshes it, the field being marked dirty). LibreOffice saves nothing, so the editions
stay byte-for-byte reproducible; the same document gives the same pages.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from ..diagnostics import CotourError

LAYOUT_SCRIPT = Path(__file__).with_name("libreoffice_contents.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-uno puts LibreOffice's bridge
LAYOUT_SECONDS = 180

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
FO = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
XLINK = "http://www.w3.org/1999/xlink"


class ContentsError(CotourError):
    pass


class LayoutTimeout(ContentsError):
    """LibreOffice did not finish laying the editions out in time (a very large report)."""


def _text(element) -> str:
    return "".join(element.itertext()).strip()


Entry = tuple[int, str, int]  # level, text, page


def laid_out_entries(paths: list[Path]) -> dict[Path, list[Entry]]:
    """Each document's contents as LibreOffice lays it out: ``(level, text, page)``."""
    if shutil.which("soffice") is None or not Path(SYSTEM_PYTHON).exists():
        raise ContentsError("the editable editions' contents need LibreOffice and its Python "
                            "bridge: install the Debian packages libreoffice-writer-nogui and "
                            "python3-uno (make system-deps)")
    # LibreOffice in a session of its own, so that a run past its time is ended whole: killing
    # only the script left soffice.bin laying out the documents on its own (seen at L).
    script = subprocess.Popen([SYSTEM_PYTHON, str(LAYOUT_SCRIPT), *map(str, paths)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        out, err = script.communicate(timeout=LAYOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(script.pid, signal.SIGKILL)
        script.communicate()
        raise LayoutTimeout(f"LibreOffice took more than {LAYOUT_SECONDS} s to lay out the "
                            "editable editions") from None
    except BaseException:
        os.killpg(script.pid, signal.SIGKILL)
        raise
    if script.returncode:
        raise ContentsError("LibreOffice could not lay out the editable editions: "
                            f"{(err or out).strip()[-300:]}")
    done = subprocess.CompletedProcess(script.args, script.returncode, out, err)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {Path(p): [tuple(e) for e in entries] for p, entries in found.items()}


def rewrite_member(path: Path, member: str, data: bytes, stamp: datetime) -> None:
    """``path`` with ``member`` replaced; every entry dated ``stamp``, in the same order."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info)) for info in zin.infolist()]
    date_time = stamp.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zout:
        for info, old in entries:
            method = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            zout.writestr(zipfile.ZipInfo(info.filename, date_time),
                          data if info.filename == member else old, method)
    path.write_bytes(buffer.getvalue())


def place_docx(path: Path, title: str, stamp: datetime) -> None:
    """pandoc's table of contents (at the document's start, with a title of its own) moved
    in place of the report's own heading ``title``, which becomes their title."""
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    ns = {"w": W}
    sdt = next((s for s in root.iter(f"{{{W}}}sdt")
                if s.find("w:sdtPr/w:docPartObj/w:docPartGallery", ns) is not None), None)
    heading = next((p for p in root.iter(f"{{{W}}}p")
                    if (s := p.find("w:pPr/w:pStyle", ns)) is not None
                    and s.get(f"{{{W}}}val") == "Heading1" and _text(p) == title), None)
    if sdt is None or heading is None:
        return
    # The contents take the heading's place, the heading taking that of their own title
    # paragraph: LibreOffice reads no contents without a paragraph before the field, and Word
    # and the outline see the same level-1 heading as before.
    content = sdt.find("w:sdtContent", ns)
    title_paragraph = next(p for p in content.findall("w:p", ns)
                           if p.find(".//w:instrText", ns) is None)
    sdt.getparent().remove(sdt)
    heading.addprevious(sdt)
    content.replace(title_paragraph, heading)
    rewrite_member(path, "word/document.xml",
             etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), stamp)


def place_odt(path: Path, title: str, stamp: datetime) -> None:
    """pandoc's table of contents moved under the report's own heading ``title``."""
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("content.xml"))
    toc = next(root.iter(f"{{{TEXT}}}table-of-content"), None)
    heading = next((h for h in root.iter(f"{{{TEXT}}}h")
                    if h.get(f"{{{TEXT}}}outline-level") == "1" and _text(h) == title), None)
    if toc is None or heading is None:
        return
    toc.getparent().remove(toc)
    heading.addnext(toc)
    rewrite_member(path, "content.xml", etree.tostring(root, xml_declaration=True, encoding="UTF-8"),
             stamp)


def _docx_anchors(root) -> dict[str, str]:
    """A heading's text -> its bookmark: one inside it, or the one just before it (the first
    heading of a text wins)."""
    anchors: dict[str, str] = {}
    for paragraph in root.iter(f"{{{W}}}p"):
        style = paragraph.find(f"{{{W}}}pPr/{{{W}}}pStyle")
        if style is None or not style.get(f"{{{W}}}val", "").startswith("Heading"):
            continue
        mark = paragraph.find(f".//{{{W}}}bookmarkStart")
        before = paragraph.getprevious()
        if mark is None and before is not None and before.tag == f"{{{W}}}bookmarkStart":
            mark = before
        if mark is not None:
            anchors.setdefault(" ".join(_text(paragraph).split()), mark.get(f"{{{W}}}name"))
    return anchors


def fill_docx(path: Path, entries: list[Entry], stamp: datetime) -> None:
    """The DOCX's TOC field with ``entries`` as its result (the field stays dirty: Word
    refreshes it on opening)."""
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    ns = {"w": W}
    body = root.find("w:body", ns)
    sect = body.find("w:sectPr", ns)
    width = 11906 - 1361 - 1134  # the reference document's A4 page and margins, in twips
    if sect is not None and sect.find("w:pgSz", ns) is not None:
        size, margins = sect.find("w:pgSz", ns), sect.find("w:pgMar", ns)
        width = int(size.get(f"{{{W}}}w")) - int(margins.get(f"{{{W}}}left")) \
            - int(margins.get(f"{{{W}}}right"))
    for sdt in root.iter(f"{{{W}}}sdt"):
        gallery = sdt.find("w:sdtPr/w:docPartObj/w:docPartGallery", ns)
        if gallery is None or gallery.get(f"{{{W}}}val") != "Table of Contents" or not entries:
            continue
        content = sdt.find("w:sdtContent", ns)
        field = next(p for p in content.findall("w:p", ns)
                     if p.find(".//w:instrText", ns) is not None)
        end = field.find(".//w:fldChar[@w:fldCharType='end']", ns)
        end.getparent().remove(end)
        anchors = _docx_anchors(root)
        paragraphs = []
        for level, text, page in entries:
            indent = f'<w:ind w:left="{(level - 1) * 360}"/>' if level > 1 else ""
            runs = (f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r><w:r><w:tab/></w:r>'
                    f'<w:r><w:t>{page}</w:t></w:r>')
            anchor = anchors.get(" ".join(text.split()))
            if anchor:
                runs = f'<w:hyperlink w:anchor="{escape(anchor)}" w:history="1">{runs}</w:hyperlink>'
            paragraphs.append(etree.fromstring(
                f'<w:p xmlns:w="{W}"><w:pPr><w:pStyle w:val="TOC{level}"/><w:tabs>'
                f'<w:tab w:val="right" w:leader="dot" w:pos="{width}"/></w:tabs>{indent}</w:pPr>'
                f'{runs}</w:p>'))
        # The field opens in the first entry's paragraph and closes in the last one's.
        for run in reversed(field.findall("w:r", ns)):
            paragraphs[0].insert(1, run)
        paragraphs[-1].append(etree.fromstring(
            f'<w:r xmlns:w="{W}"><w:fldChar w:fldCharType="end"/></w:r>'))
        position = list(content).index(field)
        content.remove(field)
        for offset, paragraph in enumerate(paragraphs):
            content.insert(position + offset, paragraph)
    rewrite_member(path, "word/document.xml",
             etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), stamp)


def fill_odt(path: Path, entries: list[Entry], stamp: datetime) -> None:
    """The ODT's table of contents with ``entries`` as its body, dotted to the page number."""
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("content.xml"))
        styles = etree.fromstring(z.read("styles.xml"))
    layout = styles.find(f".//{{{STYLE}}}page-layout-properties")
    width_mm = 210 - 24 - 20  # the reference document's A4 page and margins
    if layout is not None:
        mm = [float(layout.get(f"{{{FO}}}{k}", "0mm").removesuffix("mm"))
              for k in ("page-width", "margin-left", "margin-right")]
        if all(mm):
            width_mm = mm[0] - mm[1] - mm[2]
    automatic = root.find(f"{{{OFFICE}}}automatic-styles")
    for level in sorted({e[0] for e in entries}):
        automatic.append(etree.fromstring(
            f'<style:style xmlns:style="{STYLE}" xmlns:fo="{FO}" style:name="CotourContents{level}"'
            f' style:family="paragraph" style:parent-style-name="Contents_20_{level}">'
            f'<style:paragraph-properties fo:margin-left="{(level - 1) * 5}mm"><style:tab-stops>'
            f'<style:tab-stop style:position="{width_mm - (level - 1) * 5:g}mm" style:type="right"'
            f' style:leader-style="dotted" style:leader-text="."/></style:tab-stops>'
            f'</style:paragraph-properties></style:style>'))
    anchors: dict[str, str] = {}
    for heading in root.iter(f"{{{TEXT}}}h"):
        mark = heading.find(f".//{{{TEXT}}}bookmark-start")
        if mark is None:
            mark = heading.find(f".//{{{TEXT}}}bookmark")
        if mark is not None:
            anchors.setdefault(" ".join(_text(heading).split()), mark.get(f"{{{TEXT}}}name"))
    for toc in root.iter(f"{{{TEXT}}}table-of-content"):
        body = toc.find(f"{{{TEXT}}}index-body")
        if body is None:
            body = etree.SubElement(toc, f"{{{TEXT}}}index-body")
        for level, text, page in entries:
            inner = f"{escape(text)}<text:tab/>{page}"
            anchor = anchors.get(" ".join(text.split()))
            if anchor:
                inner = (f'<text:a xmlns:xlink="{XLINK}" xlink:type="simple" '
                         f'xlink:href="#{escape(anchor)}">{inner}</text:a>')
            body.append(etree.fromstring(
                f'<text:p xmlns:text="{TEXT}" text:style-name="CotourContents{level}">'
                f'{inner}</text:p>'))
    rewrite_member(path, "content.xml", etree.tostring(root, xml_declaration=True, encoding="UTF-8"),
             stamp)
