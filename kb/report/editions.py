"""The report's editable editions: its HTML -> OpenDocument (.odt) and Word (.docx), with pandoc.

The report's last step (``kb.report.write`` calls it): it takes the HTML that :mod:`kb.report`
renders for these editions
(the same chapters and prose as the PDF; the templates' ``editable`` variant changes only what
Word and LibreOffice need differently) and hands it to pandoc with the reference documents
kept in ``reports/templates/`` (styles, A4 page, header and page numbers). Charts are SVG in
the HTML; they go in as PNG at print resolution (``rsvg-convert``, Debian ``librsvg2-bin``), since
Word before 2016 and most other editors cannot show SVG. Every other image goes in as it is.

What pandoc 2.17 leaves out is put back: the alt text of images in OpenDocument (here), and the
row-header cells and footer rows of tables there (``editions.lua``, which also styles the themes'
tags inside findings).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from html import unescape
from pathlib import Path

from ..diagnostics import CotourError
from ..outputs import Progress, _noop
from .contents import (
    LayoutTimeout, fill_docx, fill_odt, laid_out_entries, place_docx, place_odt,
    rewrite_member,
)
from ..resources import REPORT_TEMPLATES

TEMPLATES = REPORT_TEMPLATES
REFERENCE = {"odt": TEMPLATES / "reference.odt", "docx": TEMPLATES / "reference.docx"}
FILTER = Path(__file__).resolve().parent / "editions.lua"
CONTENTS_TITLE = "Indice"
CONTENTS_DEPTH = 2
PRINT_DPI = 300
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)  # when the data give no date
DATA_URI = re.compile(r'src="data:(image/[\w.+-]+);base64,([A-Za-z0-9+/=\s]*)"')


class EditionsError(CotourError):
    pass


def write_editions(html: str | Path, odt_path: Path | str, docx_path: Path | str, *,
                   title: str, authors: list[str], lang: str = "it-IT", subtitle: str = "",
                   date: str = "", created: str = "", keywords: list[str] | str = (),
                   description: str = "", progress: Progress = _noop) -> list[str]:
    """Write the report's HTML (a string, or the path of a file) as ``odt_path`` and
    ``docx_path``; return the warnings.

    ``title``, ``subtitle``, ``authors`` and ``date`` (as shown) make the title page and,
    with ``lang``, ``keywords`` and ``description``, the documents' properties. ``created``
    (ISO date) is the documents' creation date and their files' time stamp, so the same input
    gives the same bytes. The paths are the caller's temporary files
    (:class:`kb.outputs.AtomicOutputs`), which it puts in place with the other editions.

    The contents get their page numbers from LibreOffice's layout; when LibreOffice takes
    longer than its limit (a report of thousands of pages) the contents are left for the
    reader's word processor to fill in, with a warning.
    """
    if isinstance(html, Path):
        html = html.read_text(encoding="utf-8")
    for tool, package in (("pandoc", "pandoc"), ("rsvg-convert", "librsvg2-bin")):
        if shutil.which(tool) is None:
            raise EditionsError(f"the editable editions need '{tool}': install the Debian "
                                f"package {package} (make system-deps)")
    stamp = _stamp(created)
    if isinstance(keywords, str):
        keywords = [k.strip() for k in keywords.split(",") if k.strip()]
    outputs = {"odt": Path(odt_path), "docx": Path(docx_path)}
    work = Path(tempfile.mkdtemp(prefix="cotour-editions-"))
    try:
        progress("edizioni modificabili", 0, 3)
        source, alts = _images_as_files(html, work)
        metadata = _metadata_args(work, title=title, subtitle=subtitle, author=authors,
                                  date=date, lang=lang, description=description,
                                  subject=description, keywords=list(keywords))
        progress("edizioni modificabili", 1, 3)
        written = {kind: work / f"edition.{kind}" for kind in outputs}
        with ThreadPoolExecutor(len(outputs)) as pool:  # the two pandoc processes at once
            runs = [pool.submit(_pandoc, source, written[kind], kind, metadata, stamp)
                    for kind in outputs]
            for run in runs:
                run.result()
        progress("edizioni modificabili", 2, 3)
        _mend_odt(written["odt"], alts, stamp)
        place_odt(written["odt"], CONTENTS_TITLE, stamp)
        place_docx(written["docx"], CONTENTS_TITLE, stamp)
        warnings = []
        try:
            laid_out = laid_out_entries([written["odt"], written["docx"]])
        except LayoutTimeout as error:
            laid_out = None
            warnings.append(f"{error}: their contents are left empty, for Word to fill in on "
                            "opening and LibreOffice with «Aggiorna indice»")
        if laid_out:  # the contents' own heading is no entry of them
            fill_odt(written["odt"], [e for e in laid_out[written["odt"]]
                                      if e[1] != CONTENTS_TITLE], stamp)
            fill_docx(written["docx"], [e for e in laid_out[written["docx"]]
                                        if e[1] != CONTENTS_TITLE], stamp)
        # The report's own temporaries, renamed with the rest by its AtomicOutputs.
        for kind, target in outputs.items():
            shutil.copyfile(written[kind], target)
        progress("edizioni modificabili", 3, 3)
        return warnings
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _stamp(created: str) -> datetime:
    if not created:
        return EPOCH
    try:
        day = datetime.fromisoformat(created)
    except ValueError:
        raise EditionsError(f"the release date {created!r} is not an ISO date (YYYY-MM-DD)")
    return day.replace(tzinfo=day.tzinfo or timezone.utc)


def _images_as_files(html: str, work: Path) -> tuple[Path, list[str]]:
    """The HTML with its ``data:`` images as files beside it (SVG as PNG), and the images'
    alt texts in document order.

    Files, not ``data:`` URIs, because pandoc's Word writer repeats an image's source as its
    name inside the document (megabytes of base64 for nothing)."""
    counter = iter(range(1, 1_000_000))

    def to_file(match: re.Match) -> str:
        kind, payload = match.group(1), match.group(2)
        try:
            data = base64.b64decode(payload, validate=False)
        except binascii.Error as exc:
            raise EditionsError(f"an image of the report is not valid base64: {exc}")
        n = next(counter)
        if kind == "image/svg+xml":
            name, size = f"immagine-{n}.png", _svg_size(data)
            (work / name).write_bytes(_svg_to_png(data))
            if size:  # the PNG's pixels are 300 dpi's: say how large the chart is
                return f'src="{name}" width="{size[0]}" height="{size[1]}"'
            return f'src="{name}"'
        extension = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}.get(kind, "bin")
        name = f"immagine-{n}.{extension}"
        (work / name).write_bytes(data)
        return f'src="{name}"'

    html = DATA_URI.sub(to_file, html)
    alts = [unescape(alt.group(1)) if (alt := re.search(r'\balt="([^"]*)"', tag)) else ""
            for tag in re.findall(r"<img\b[^>]*>", html)]
    source = work / "edition.html"
    source.write_text(html, encoding="utf-8")
    return source, alts


def _svg_size(svg: bytes) -> tuple[str, str] | None:
    """The width and height of an SVG with their unit (``420pt``), when it says them."""
    root = re.search(r"<svg\b[^>]*>", svg[:4000].decode("utf-8", "replace"))
    sizes = [re.search(rf'\s{attr}="([\d.]+(?:px|pt|mm|cm|in)?)"', root.group(0)) if root else None
             for attr in ("width", "height")]
    return (sizes[0].group(1), sizes[1].group(1)) if all(sizes) else None


def _svg_to_png(svg: bytes) -> bytes:
    done = subprocess.run(["rsvg-convert", "--format", "png",
                           "--dpi-x", str(PRINT_DPI), "--dpi-y", str(PRINT_DPI)],
                          input=svg, capture_output=True)
    if done.returncode:
        raise EditionsError(f"rsvg-convert could not convert a chart: "
                            f"{done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def _metadata_args(work: Path, keywords: list[str], **fields: str | list[str]) -> list[str]:
    """pandoc's options for the title page and the documents' properties. They override what
    the HTML's head says; the keywords go through a file, since given with ``--metadata``
    pandoc 2.17 writes them as empty strings (the editable HTML has no keywords of its own)."""
    args = []
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            if item:
                args += ["--metadata", f"{key}={item}"]
    (work / "keywords.json").write_text(json.dumps({"keywords": keywords}), encoding="utf-8")
    return args + ["--metadata-file", str(work / "keywords.json")]


def _pandoc(source: Path, out: Path, kind: str, metadata: list[str], stamp: datetime) -> None:
    # The contents: chapters and their sections, filled with their pages by kb.report.contents.
    args = ["pandoc", source.name, "--from", "html", "--to", kind, "--output", str(out),
            "--reference-doc", str(REFERENCE[kind]), "--lua-filter", str(FILTER), *metadata,
            "--toc", f"--toc-depth={CONTENTS_DEPTH}", "--metadata", f"toc-title={CONTENTS_TITLE}"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(stamp.timestamp()))}
    done = subprocess.run(args, cwd=source.parent, env=env, capture_output=True, text=True)
    if done.returncode:
        raise EditionsError(f"pandoc could not write the {kind.upper()} edition: "
                            f"{done.stderr.strip()}")


ODT_NS = {
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "svg": "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
}
CELL_STYLES = ("TableHeaderRowCell", "TableRowCell")  # defined in reference.odt


def _mend_odt(path: Path, alts: list[str], stamp: datetime) -> None:
    """Give each image of the ODT its alt text (``svg:title`` and ``svg:desc`` of its frame,
    what LibreOffice shows as Text Alternative and Description): pandoc 2.17 drops it. And
    give the table cells the borders of the reference document's cell styles: pandoc writes its
    own, without borders, into the document (and Writer reads cell styles only from there)."""
    from lxml import etree

    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info)) for info in zin.infolist()]
    content = next(data for info, data in entries if info.filename == "content.xml")
    root = etree.fromstring(content)
    frames = [f for f in root.iter(f"{{{ODT_NS['draw']}}}frame")
              if f.find("draw:image", ODT_NS) is not None]
    if len(frames) != len(alts):
        raise EditionsError(f"the ODT edition has {len(frames)} images where the report has "
                            f"{len(alts)}")
    for frame, alt in zip(frames, alts):
        if alt:
            for tag in ("title", "desc"):
                element = etree.SubElement(frame, f"{{{ODT_NS['svg']}}}{tag}")
                element.text = alt
    styles = etree.fromstring(next(data for info, data in entries
                                   if info.filename == "styles.xml"))
    automatic = root.find("office:automatic-styles", ODT_NS)
    for name in CELL_STYLES:
        ours = styles.find(f"office:styles/style:style[@style:name='{name}']", ODT_NS)
        for style in automatic.findall(f"style:style[@style:name='{name}']", ODT_NS):
            style[:] = [copy.deepcopy(child) for child in ours]
    rewrite_member(path, "content.xml",
                   etree.tostring(root, xml_declaration=True, encoding="UTF-8"), stamp)
